"""MS-OXCPRPT: Property ROPs (MS-OXCROPS 2.2.8.1 - 2.2.8.13) and Stream ROPs (2.2.9.1 - 2.2.9.13).

Layouts are MS-OXCROPS'; flag and enumeration names come from MS-OXCPRPT 2.2.
Responses whose MS-OXCROPS section is a single "Response Buffer" (RopReadStream, RopWriteStream,
RopWriteStreamExtended, RopWriteAndCommitStream, RopCopyToStream) keep their fields whatever the
ReturnValue, so their RopDef uses the response as the failure shape too.
"""

from construct import If, Int8ul, Int16ul, Int32ul, Int64ul, Rebuild, len_, this

from ..core import BoundedArray, Enum, Flags, Guid, HexBytes, SizeOf, Sized, sized_field, struct
from ..errorcodes import ErrorCode
from ..oxcdata import PropertyName, PropertyProblem, PropertyRow, PropertyTag, TaggedPropertyValue
from .base import RopDef

EC_WARN_WITH_ERRORS = 0x00040380  # MS-OXCDATA 2.4.2: some names could not be mapped, body present
EC_DST_NULL_OBJECT = 0x00000503  # MS-OXCDATA 2.4.1: the destination handle index is not valid
BYTE_COUNT_SENTINEL = 0xBABE  # MS-OXCROPS 2.2.9.2.1: MaximumByteCount follows

COPY_FLAGS = {"Move": 0x01, "NoOverwrite": 0x02}  # MS-OXCPRPT 2.2.10.1, 2.2.11.1
QUERY_FLAGS = {"NoStrings": 0x01, "NoIds": 0x02}  # MS-OXCPRPT 2.2.9.1
OPEN_MODE_FLAGS = {0x00: "ReadOnly", 0x01: "ReadWrite", 0x02: "Create"}  # MS-OXCPRPT 2.2.14.1
ORIGIN = {0x00: "Beginning", 0x01: "Current", 0x02: "End"}  # MS-OXCPRPT 2.2.21.1


# 2.2.8.1 RopGetPropertyIdsFromNames (0x56)
RopGetPropertyIdsFromNamesRequest = struct(
    "MS-OXCROPS 2.2.8.1.1 RopGetPropertyIdsFromNames ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "Flags" / Int8ul * "MS-OXCPRPT 2.2.12.1: 0x02 creates an entry for each name not mapped yet, else 0x00",
    "PropertyNameCount" / Rebuild(Int16ul, len_(this.PropertyNames)),
    "PropertyNames" / BoundedArray(this.PropertyNameCount, PropertyName),
)

RopGetPropertyIdsFromNamesResponse = struct(
    "MS-OXCROPS 2.2.8.1.2 RopGetPropertyIdsFromNames ROP Success Response Buffer "
    "(also the ecWarnWithErrors layout, MS-OXCPRPT 2.2.12.2: unmapped names get PropertyId 0x0000)",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyIdCount" / Rebuild(Int16ul, len_(this.PropertyIds)),
    "PropertyIds" / BoundedArray(this.PropertyIdCount, Int16ul),
)

# 2.2.8.2 RopGetNamesFromPropertyIds (0x55)
RopGetNamesFromPropertyIdsRequest = struct(
    "MS-OXCROPS 2.2.8.2.1 RopGetNamesFromPropertyIds ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "PropertyIdCount" / Rebuild(Int16ul, len_(this.PropertyIds)),
    "PropertyIds" / BoundedArray(this.PropertyIdCount, Int16ul),
)

RopGetNamesFromPropertyIdsResponse = struct(
    "MS-OXCROPS 2.2.8.2.2 RopGetNamesFromPropertyIds ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyNameCount" / Rebuild(Int16ul, len_(this.PropertyNames)),
    "PropertyNames" / BoundedArray(this.PropertyNameCount, PropertyName),
)

# 2.2.8.3 RopGetPropertiesSpecific (0x07)
RopGetPropertiesSpecificRequest = struct(
    "MS-OXCROPS 2.2.8.3.1 RopGetPropertiesSpecific ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "PropertySizeLimit" / Int16ul,
    "WantUnicode" / Int16ul,
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopGetPropertiesSpecificResponse = struct(
    "MS-OXCROPS 2.2.8.3.2 RopGetPropertiesSpecific ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "RowData" / PropertyRow(this._params.request_rop._columns) * "values in the order of the request's PropertyTags",
)

# 2.2.8.4 RopGetPropertiesAll (0x08)
RopGetPropertiesAllRequest = struct(
    "MS-OXCROPS 2.2.8.4.1 RopGetPropertiesAll ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "PropertySizeLimit" / Int16ul,
    "WantUnicode" / Int16ul,
)

RopGetPropertiesAllResponse = struct(
    "MS-OXCROPS 2.2.8.4.2 RopGetPropertiesAll ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, TaggedPropertyValue),
)

# 2.2.8.5 RopGetPropertiesList (0x09)
RopGetPropertiesListRequest = struct(
    "MS-OXCROPS 2.2.8.5.1 RopGetPropertiesList ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
)

RopGetPropertiesListResponse = struct(
    "MS-OXCROPS 2.2.8.5.2 RopGetPropertiesList ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

# 2.2.8.6 RopSetProperties (0x0A)
# PropertyValueSize counts PropertyValueCount (2 bytes) and PropertyValues: a Sized with bias 2.
RopSetPropertiesRequest = struct(
    "MS-OXCROPS 2.2.8.6.1 RopSetProperties ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "PropertyValueSize" / SizeOf(Int16ul, "PropertyValues", bias=2),
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / Sized(this.PropertyValueSize - 2, BoundedArray(this.PropertyValueCount, TaggedPropertyValue),
                             "PropertyValues", Int16ul, bias=2),
)

RopSetPropertiesResponse = struct(
    "MS-OXCROPS 2.2.8.6.2 RopSetProperties ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyProblemCount" / Rebuild(Int16ul, len_(this.PropertyProblems)),
    "PropertyProblems" / BoundedArray(this.PropertyProblemCount, PropertyProblem),
)

# 2.2.8.7 RopSetPropertiesNoReplicate (0x79)
RopSetPropertiesNoReplicateRequest = struct(
    "MS-OXCROPS 2.2.8.7.1 RopSetPropertiesNoReplicate ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "PropertyValueSize" / SizeOf(Int16ul, "PropertyValues", bias=2),
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / Sized(this.PropertyValueSize - 2, BoundedArray(this.PropertyValueCount, TaggedPropertyValue),
                             "PropertyValues", Int16ul, bias=2),
)

RopSetPropertiesNoReplicateResponse = struct(
    "MS-OXCROPS 2.2.8.7.2 RopSetPropertiesNoReplicate ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyProblemCount" / Rebuild(Int16ul, len_(this.PropertyProblems)),
    "PropertyProblems" / BoundedArray(this.PropertyProblemCount, PropertyProblem),
)

# 2.2.8.8 RopDeleteProperties (0x0B)
RopDeletePropertiesRequest = struct(
    "MS-OXCROPS 2.2.8.8.1 RopDeleteProperties ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopDeletePropertiesResponse = struct(
    "MS-OXCROPS 2.2.8.8.2 RopDeleteProperties ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyProblemCount" / Rebuild(Int16ul, len_(this.PropertyProblems)),
    "PropertyProblems" / BoundedArray(this.PropertyProblemCount, PropertyProblem),
)

# 2.2.8.9 RopDeletePropertiesNoReplicate (0x7A)
RopDeletePropertiesNoReplicateRequest = struct(
    "MS-OXCROPS 2.2.8.9.1 RopDeletePropertiesNoReplicate ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopDeletePropertiesNoReplicateResponse = struct(
    "MS-OXCROPS 2.2.8.9.2 RopDeletePropertiesNoReplicate ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyProblemCount" / Rebuild(Int16ul, len_(this.PropertyProblems)),
    "PropertyProblems" / BoundedArray(this.PropertyProblemCount, PropertyProblem),
)

# 2.2.8.10 RopQueryNamedProperties (0x5F)
RopQueryNamedPropertiesRequest = struct(
    "MS-OXCROPS 2.2.8.10.1 RopQueryNamedProperties ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "QueryFlags" / Flags(Int8ul, QUERY_FLAGS) * "MS-OXCPRPT 2.2.9.1",
    "HasGuid" / Int8ul,
    "PropertyGuid" / If(this.HasGuid != 0, Guid),
)

RopQueryNamedPropertiesResponse = struct(
    "MS-OXCROPS 2.2.8.10.2 RopQueryNamedProperties ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "IdCount" / Rebuild(Int16ul, len_(this.PropertyIds)),
    "PropertyIds" / BoundedArray(this.IdCount, Int16ul),
    "PropertyNames" / BoundedArray(this.IdCount, PropertyName),
)

# 2.2.8.11 RopCopyProperties (0x67)
RopCopyPropertiesRequest = struct(
    "MS-OXCROPS 2.2.8.11.1 RopCopyProperties ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "SourceHandleIndex" / Int8ul, "DestHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "CopyFlags" / Flags(Int8ul, COPY_FLAGS) * "MS-OXCPRPT 2.2.10.1",
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopCopyPropertiesResponse = struct(
    "MS-OXCROPS 2.2.8.11.2 RopCopyProperties ROP Success Response Buffer",
    "RopId" / Int8ul, "SourceHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyProblemCount" / Rebuild(Int16ul, len_(this.PropertyProblems)),
    "PropertyProblems" / BoundedArray(this.PropertyProblemCount, PropertyProblem),
)

RopCopyPropertiesNullDestinationFailureResponse = struct(
    "MS-OXCROPS 2.2.8.11.3 RopCopyProperties ROP Null Destination Failure Response Buffer",
    "RopId" / Int8ul, "SourceHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "DestHandleIndex" / Int32ul,
)

# 2.2.8.12 RopCopyTo (0x39)
RopCopyToRequest = struct(
    "MS-OXCROPS 2.2.8.12.1 RopCopyTo ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "SourceHandleIndex" / Int8ul, "DestHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "WantSubObjects" / Int8ul,
    "CopyFlags" / Flags(Int8ul, COPY_FLAGS) * "MS-OXCPRPT 2.2.11.1",
    "ExcludedTagCount" / Rebuild(Int16ul, len_(this.ExcludedTags)),
    "ExcludedTags" / BoundedArray(this.ExcludedTagCount, PropertyTag),
)

RopCopyToResponse = struct(
    "MS-OXCROPS 2.2.8.12.2 RopCopyTo ROP Success Response Buffer",
    "RopId" / Int8ul, "SourceHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "PropertyProblemCount" / Rebuild(Int16ul, len_(this.PropertyProblems)),
    "PropertyProblems" / BoundedArray(this.PropertyProblemCount, PropertyProblem),
)

RopCopyToNullDestinationFailureResponse = struct(
    "MS-OXCROPS 2.2.8.12.3 RopCopyTo ROP Null Destination Failure Response Buffer",
    "RopId" / Int8ul, "SourceHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "DestHandleIndex" / Int32ul,
)

# 2.2.8.13 RopProgress (0x50)
RopProgressRequest = struct(
    "MS-OXCROPS 2.2.8.13.1 RopProgress ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "WantCancel" / Int8ul,
)

RopProgressResponse = struct(
    "MS-OXCROPS 2.2.8.13.2 RopProgress ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "LogonId" / Int8ul,
    "CompletedTaskCount" / Int32ul,
    "TotalTaskCount" / Int32ul,
)

# 2.2.9.1 RopOpenStream (0x2B)
RopOpenStreamRequest = struct(
    "MS-OXCROPS 2.2.9.1.1 RopOpenStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "PropertyTag" / PropertyTag,
    "OpenModeFlags" / Enum(Int8ul, OPEN_MODE_FLAGS) * "MS-OXCPRPT 2.2.14.1",
)

RopOpenStreamResponse = struct(
    "MS-OXCROPS 2.2.9.1.2 RopOpenStream ROP Success Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "StreamSize" / Int32ul,
)

# 2.2.9.2 RopReadStream (0x2C)
RopReadStreamRequest = struct(
    "MS-OXCROPS 2.2.9.2.1 RopReadStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "ByteCount" / Int16ul,
    "MaximumByteCount" / If(this.ByteCount == BYTE_COUNT_SENTINEL, Int32ul),
)

RopReadStreamResponse = struct(
    "MS-OXCROPS 2.2.9.2.2 RopReadStream ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    *sized_field("DataSize", Int16ul, "Data", HexBytes()),
)

# 2.2.9.3 RopWriteStream (0x2D)
RopWriteStreamRequest = struct(
    "MS-OXCROPS 2.2.9.3.1 RopWriteStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("DataSize", Int16ul, "Data", HexBytes()),
)

RopWriteStreamResponse = struct(
    "MS-OXCROPS 2.2.9.3.2 RopWriteStream ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "WrittenSize" / Int16ul,
)

# 2.2.9.4 RopWriteStreamExtended (0xA3)
RopWriteStreamExtendedRequest = struct(
    "MS-OXCROPS 2.2.9.4.1 RopWriteStreamExtended ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("DataSize", Int16ul, "Data", HexBytes()),
)

RopWriteStreamExtendedResponse = struct(
    "MS-OXCROPS 2.2.9.4.2 RopWriteStreamExtended ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "WrittenSize" / Int32ul,
)

# 2.2.9.5 RopCommitStream (0x5D)
RopCommitStreamRequest = struct(
    "MS-OXCROPS 2.2.9.5.1 RopCommitStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
)

RopCommitStreamResponse = struct(
    "MS-OXCROPS 2.2.9.5.2 RopCommitStream ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.9.6 RopGetStreamSize (0x5E)
RopGetStreamSizeRequest = struct(
    "MS-OXCROPS 2.2.9.6.1 RopGetStreamSize ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
)

RopGetStreamSizeResponse = struct(
    "MS-OXCROPS 2.2.9.6.2 RopGetStreamSize ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "StreamSize" / Int32ul,
)

# 2.2.9.7 RopSetStreamSize (0x2F)
RopSetStreamSizeRequest = struct(
    "MS-OXCROPS 2.2.9.7.1 RopSetStreamSize ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "StreamSize" / Int64ul,
)

RopSetStreamSizeResponse = struct(
    "MS-OXCROPS 2.2.9.7.2 RopSetStreamSize ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.9.8 RopSeekStream (0x2E)
RopSeekStreamRequest = struct(
    "MS-OXCROPS 2.2.9.8.1 RopSeekStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "Origin" / Enum(Int8ul, ORIGIN) * "MS-OXCPRPT 2.2.21.1",
    "Offset" / Int64ul,
)

RopSeekStreamResponse = struct(
    "MS-OXCROPS 2.2.9.8.2 RopSeekStream ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "NewPosition" / Int64ul,
)

# 2.2.9.9 RopCopyToStream (0x3A)
RopCopyToStreamRequest = struct(
    "MS-OXCROPS 2.2.9.9.1 RopCopyToStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "SourceHandleIndex" / Int8ul, "DestHandleIndex" / Int8ul,
    "ByteCount" / Int64ul,
)

RopCopyToStreamResponse = struct(
    "MS-OXCROPS 2.2.9.9.2 RopCopyToStream ROP Response Buffer (every ReturnValue but 0x00000503)",
    "RopId" / Int8ul, "SourceHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "ReadByteCount" / Int64ul,
    "WrittenByteCount" / Int64ul,
)

RopCopyToStreamNullDestinationFailureResponse = struct(
    "MS-OXCROPS 2.2.9.9.3 RopCopyToStream ROP Null Destination Failure Response Buffer",
    "RopId" / Int8ul, "SourceHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "DestHandleIndex" / Int32ul,
    "ReadByteCount" / Int64ul,
    "WrittenByteCount" / Int64ul,
)

# 2.2.9.10 RopLockRegionStream (0x5B)
RopLockRegionStreamRequest = struct(
    "MS-OXCROPS 2.2.9.10.1 RopLockRegionStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "RegionOffset" / Int64ul,
    "RegionSize" / Int64ul,
    "LockFlags" / Int32ul * "MS-OXCPRPT 2.2.24.1: 0x00000001 others may read, any other value locks reads too",
)

RopLockRegionStreamResponse = struct(
    "MS-OXCROPS 2.2.9.10.2 RopLockRegionStream ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.9.11 RopUnlockRegionStream (0x5C)
RopUnlockRegionStreamRequest = struct(
    "MS-OXCROPS 2.2.9.11.1 RopUnlockRegionStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "RegionOffset" / Int64ul,
    "RegionSize" / Int64ul,
    "LockFlags" / Int32ul * "MS-OXCPRPT 2.2.25.1: the value the region was locked with",
)

RopUnlockRegionStreamResponse = struct(
    "MS-OXCROPS 2.2.9.11.2 RopUnlockRegionStream ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.9.12 RopWriteAndCommitStream (0x90)
RopWriteAndCommitStreamRequest = struct(
    "MS-OXCROPS 2.2.9.12.1 RopWriteAndCommitStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("DataSize", Int16ul, "Data", HexBytes()),
)

RopWriteAndCommitStreamResponse = struct(
    "MS-OXCROPS 2.2.9.12.2 RopWriteAndCommitStream ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "WrittenSize" / Int16ul,
)

# 2.2.9.13 RopCloneStream (0x3B)
RopCloneStreamRequest = struct(
    "MS-OXCROPS 2.2.9.13.1 RopCloneStream ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
)

RopCloneStreamResponse = struct(
    "MS-OXCROPS 2.2.9.13.2 RopCloneStream ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)


ROPS: list[RopDef] = [
    RopDef(0x56, "RopGetPropertyIdsFromNames", "MS-OXCROPS 2.2.8.1", request=RopGetPropertyIdsFromNamesRequest,
           response=RopGetPropertyIdsFromNamesResponse,
           error_shapes={EC_WARN_WITH_ERRORS: RopGetPropertyIdsFromNamesResponse}),
    RopDef(0x55, "RopGetNamesFromPropertyIds", "MS-OXCROPS 2.2.8.2", request=RopGetNamesFromPropertyIdsRequest,
           response=RopGetNamesFromPropertyIdsResponse),
    RopDef(0x07, "RopGetPropertiesSpecific", "MS-OXCROPS 2.2.8.3", request=RopGetPropertiesSpecificRequest,
           response=RopGetPropertiesSpecificResponse),
    RopDef(0x08, "RopGetPropertiesAll", "MS-OXCROPS 2.2.8.4", request=RopGetPropertiesAllRequest,
           response=RopGetPropertiesAllResponse),
    RopDef(0x09, "RopGetPropertiesList", "MS-OXCROPS 2.2.8.5", request=RopGetPropertiesListRequest,
           response=RopGetPropertiesListResponse),
    RopDef(0x0A, "RopSetProperties", "MS-OXCROPS 2.2.8.6", request=RopSetPropertiesRequest,
           response=RopSetPropertiesResponse),
    RopDef(0x79, "RopSetPropertiesNoReplicate", "MS-OXCROPS 2.2.8.7", request=RopSetPropertiesNoReplicateRequest,
           response=RopSetPropertiesNoReplicateResponse),
    RopDef(0x0B, "RopDeleteProperties", "MS-OXCROPS 2.2.8.8", request=RopDeletePropertiesRequest,
           response=RopDeletePropertiesResponse),
    RopDef(0x7A, "RopDeletePropertiesNoReplicate", "MS-OXCROPS 2.2.8.9",
           request=RopDeletePropertiesNoReplicateRequest, response=RopDeletePropertiesNoReplicateResponse),
    RopDef(0x5F, "RopQueryNamedProperties", "MS-OXCROPS 2.2.8.10", request=RopQueryNamedPropertiesRequest,
           response=RopQueryNamedPropertiesResponse),
    RopDef(0x67, "RopCopyProperties", "MS-OXCROPS 2.2.8.11", request=RopCopyPropertiesRequest,
           response=RopCopyPropertiesResponse,
           error_shapes={EC_DST_NULL_OBJECT: RopCopyPropertiesNullDestinationFailureResponse}),
    RopDef(0x39, "RopCopyTo", "MS-OXCROPS 2.2.8.12", request=RopCopyToRequest, response=RopCopyToResponse,
           error_shapes={EC_DST_NULL_OBJECT: RopCopyToNullDestinationFailureResponse}),
    RopDef(0x50, "RopProgress", "MS-OXCROPS 2.2.8.13", request=RopProgressRequest, response=RopProgressResponse),
    RopDef(0x2B, "RopOpenStream", "MS-OXCROPS 2.2.9.1", request=RopOpenStreamRequest, response=RopOpenStreamResponse),
    RopDef(0x2C, "RopReadStream", "MS-OXCROPS 2.2.9.2", request=RopReadStreamRequest, response=RopReadStreamResponse,
           failure=RopReadStreamResponse),
    RopDef(0x2D, "RopWriteStream", "MS-OXCROPS 2.2.9.3", request=RopWriteStreamRequest,
           response=RopWriteStreamResponse, failure=RopWriteStreamResponse),
    RopDef(0xA3, "RopWriteStreamExtended", "MS-OXCROPS 2.2.9.4", request=RopWriteStreamExtendedRequest,
           response=RopWriteStreamExtendedResponse, failure=RopWriteStreamExtendedResponse),
    RopDef(0x5D, "RopCommitStream", "MS-OXCROPS 2.2.9.5", request=RopCommitStreamRequest,
           response=RopCommitStreamResponse),
    RopDef(0x5E, "RopGetStreamSize", "MS-OXCROPS 2.2.9.6", request=RopGetStreamSizeRequest,
           response=RopGetStreamSizeResponse),
    RopDef(0x2F, "RopSetStreamSize", "MS-OXCROPS 2.2.9.7", request=RopSetStreamSizeRequest,
           response=RopSetStreamSizeResponse),
    RopDef(0x2E, "RopSeekStream", "MS-OXCROPS 2.2.9.8", request=RopSeekStreamRequest, response=RopSeekStreamResponse),
    RopDef(0x3A, "RopCopyToStream", "MS-OXCROPS 2.2.9.9", request=RopCopyToStreamRequest,
           response=RopCopyToStreamResponse, failure=RopCopyToStreamResponse,
           error_shapes={EC_DST_NULL_OBJECT: RopCopyToStreamNullDestinationFailureResponse}),
    RopDef(0x5B, "RopLockRegionStream", "MS-OXCROPS 2.2.9.10", request=RopLockRegionStreamRequest,
           response=RopLockRegionStreamResponse),
    RopDef(0x5C, "RopUnlockRegionStream", "MS-OXCROPS 2.2.9.11", request=RopUnlockRegionStreamRequest,
           response=RopUnlockRegionStreamResponse),
    RopDef(0x90, "RopWriteAndCommitStream", "MS-OXCROPS 2.2.9.12", request=RopWriteAndCommitStreamRequest,
           response=RopWriteAndCommitStreamResponse, failure=RopWriteAndCommitStreamResponse),
    RopDef(0x3B, "RopCloneStream", "MS-OXCROPS 2.2.9.13", request=RopCloneStreamRequest,
           response=RopCloneStreamResponse),
]
