"""MS-OXCROPS: Other ROPs (MS-OXCROPS 2.2.15.1 - 2.2.15.3).

RopBufferTooSmall and RopBackoff are response-only and carry no ReturnValue (MS-OXCROPS 3.1.5.1);
RopBufferTooSmall hands back the requests it did not process, decoded as request ROPs.
RopRelease has a request and no response (MS-OXCROPS 3.2.5.3).
"""

from construct import Int8ul, Int16ul, Int32ul, Rebuild, len_, this

from ..core import BoundedArray, Enum, HexBytes, sized_field, struct
from ..ropbuffer import RopList
from .base import RopDef
from .ropids import ROP_IDS

# RopIdBackoff names the ROP a backoff applies to: the RopId table's names.
ROP_NAMES = {rop_id: name for rop_id, (name, _) in ROP_IDS.items()}

# 2.2.15.1 RopBufferTooSmall (0xFF)

RopBufferTooSmallResponse = struct(
    "MS-OXCROPS 2.2.15.1.1 RopBufferTooSmall ROP Response Buffer",
    "RopId" / Int8ul,
    "SizeNeeded" / Int16ul,
    "RequestBuffers" / RopList("request"),  # the ROP requests not processed: the rest of the RopsList
)

# 2.2.15.2 RopBackoff (0xF9)

BackoffRop = struct(
    "MS-OXCROPS 2.2.15.2.1.1 BackoffRop Structure",
    "RopIdBackoff" / Enum(Int8ul, ROP_NAMES),
    "Duration" / Int32ul,
)

RopBackoffResponse = struct(
    "MS-OXCROPS 2.2.15.2.1 RopBackoff ROP Response Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "Duration" / Int32ul,
    "BackoffRopCount" / Rebuild(Int8ul, len_(this.BackoffRopData)),
    "BackoffRopData" / BoundedArray(this.BackoffRopCount, BackoffRop),
    *sized_field("AdditionalDataSize", Int16ul, "AdditionalData", HexBytes()),
)

# 2.2.15.3 RopRelease (0x01)

RopReleaseRequest = struct(
    "MS-OXCROPS 2.2.15.3.1 RopRelease ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

ROPS = [
    RopDef(0xFF, "RopBufferTooSmall", "MS-OXCROPS 2.2.15.1", response=RopBufferTooSmallResponse,
           has_return_value=False),
    RopDef(0xF9, "RopBackoff", "MS-OXCROPS 2.2.15.2", response=RopBackoffResponse, has_return_value=False),
    RopDef(0x01, "RopRelease", "MS-OXCROPS 2.2.15.3", request=RopReleaseRequest),
]
