"""Request and response bodies of the mailbox endpoint, and the registry of all 24 request types.

MS-OXCMAPIHTTP 2.2.4 (mailbox: Connect, Execute, Disconnect, NotificationWait), 2.2.6 (PING,
no body). The address book bodies (2.2.5) live in `addressbook.py`. Every response body starts
with StatusCode: 0 selects the success layout, anything else the failure layout
(StatusCode, AuxiliaryBufferSize, AuxiliaryBuffer), as each request type's section says.
"""

from __future__ import annotations

from construct import Int32ul

from .addressbook import ADDRESS_BOOK
from .body import BodyDef, aux, failure
from .core import AsciiZ, Flags, UnicodeZ, sized_field, struct
from .ropbuffer import RopInputBuffer, RopOutputBuffer
from .rpcext import ExtendedBuffer
from .errorcodes import ErrorCode
from .locales import CodePage, Lcid


CONNECT_FLAGS = {"Admin": 0x00000001, "NoPublicFolders": 0x00008000}

# 2.2.4.1 Connect -----------------------------------------------------------------------------

ConnectRequest = struct(
    "MS-OXCMAPIHTTP 2.2.4.1.1 Connect Request Type Request Body",
    "UserDn" / AsciiZ,
    "Flags" / Flags(Int32ul, CONNECT_FLAGS),
    "DefaultCodePage" / CodePage,
    "LcidSort" / Lcid,
    "LcidString" / Lcid,
    *aux(),
)

ConnectSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.4.1.2 Connect Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "PollsMax" / Int32ul,
    "RetryCount" / Int32ul,
    "RetryDelay" / Int32ul,
    "DnPrefix" / AsciiZ,
    "DisplayName" / UnicodeZ,
    *aux(),
)

ConnectFailure = failure("MS-OXCMAPIHTTP 2.2.4.1.3 Connect Request Type Failure Response Body")

# 2.2.4.2 Execute -----------------------------------------------------------------------------

EXECUTE_FLAGS = {"NoCompression": 0x00000001, "NoXorMagic": 0x00000002, "Chain": 0x00000004}

ExecuteRequest = struct(
    "MS-OXCMAPIHTTP 2.2.4.2.1 Execute Request Type Request Body",
    "Flags" / Flags(Int32ul, EXECUTE_FLAGS),
    *sized_field("RopBufferSize", Int32ul, "RopBuffer", ExtendedBuffer(RopInputBuffer)),
    "MaxRopOut" / Int32ul,
    *aux(),
)

ExecuteSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.4.2.2 Execute Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "Flags" / Int32ul,
    *sized_field("RopBufferSize", Int32ul, "RopBuffer", ExtendedBuffer(RopOutputBuffer)),
    *aux(),
)

ExecuteFailure = failure("MS-OXCMAPIHTTP 2.2.4.2.3 Execute Request Type Failure Response Body")

# 2.2.4.3 Disconnect --------------------------------------------------------------------------

DisconnectRequest = struct(
    "MS-OXCMAPIHTTP 2.2.4.3.1 Disconnect Request Type Request Body",
    *aux(),
)

DisconnectSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.4.3.2 Disconnect Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *aux(),
)

DisconnectFailure = failure("MS-OXCMAPIHTTP 2.2.4.3.3 Disconnect Request Type Failure Response Body")

# 2.2.4.4 NotificationWait --------------------------------------------------------------------

NotificationWaitRequest = struct(
    "MS-OXCMAPIHTTP 2.2.4.4.1 NotificationWait Request Type Request Body",
    "Flags" / Int32ul,
    *aux(),
)

NotificationWaitSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.4.4.2 NotificationWait Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "EventPending" / Flags(Int32ul, {"NotificationPending": 0x00000001}),
    *aux(),
)

NotificationWaitFailure = failure("MS-OXCMAPIHTTP 2.2.4.4.3 NotificationWait Request Type Failure Response Body")


# Registry ------------------------------------------------------------------------------------


MAILBOX = [
    BodyDef("Connect", "emsmdb", "MS-OXCMAPIHTTP 2.2.4.1", ConnectRequest, ConnectSuccess, ConnectFailure),
    BodyDef("Execute", "emsmdb", "MS-OXCMAPIHTTP 2.2.4.2", ExecuteRequest, ExecuteSuccess, ExecuteFailure),
    BodyDef("Disconnect", "emsmdb", "MS-OXCMAPIHTTP 2.2.4.3", DisconnectRequest, DisconnectSuccess, DisconnectFailure),
    BodyDef("NotificationWait", "emsmdb", "MS-OXCMAPIHTTP 2.2.4.4", NotificationWaitRequest,
            NotificationWaitSuccess, NotificationWaitFailure),
    BodyDef("PING", "both", "MS-OXCMAPIHTTP 2.2.6", None, None, None),
]


BODIES: dict[str, BodyDef] = {b.request_type: b for b in MAILBOX + ADDRESS_BOOK}
BODIES_LOWER = {name.lower(): body for name, body in BODIES.items()}
