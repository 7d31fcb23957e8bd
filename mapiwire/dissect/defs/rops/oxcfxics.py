"""MS-OXCFXICS: Fast Transfer ROPs (MS-OXCROPS 2.2.12.1 - 2.2.12.9) and Incremental Change
Synchronization ROPs (2.2.13.1 - 2.2.13.13).

Layouts are MS-OXCROPS'; flag and enumeration names come from MS-OXCFXICS 2.2.3. The FastTransfer
stream itself (MS-OXCFXICS 2.2.4: TransferData, TransferBuffer, StreamData) is kept as raw bytes.
The RopFastTransferDestinationPutBuffer(Extended) and RopFastTransferSourceGetBuffer responses are a
single "Response Buffer" in MS-OXCROPS: their fields are there whatever the ReturnValue (a failed
download reports TransferStatus Error, MS-OXCFXICS 2.2.3.1.1.5.2), except that a
RopFastTransferSourceGetBuffer answered with ecServerBusy (0x00000480) carries only BackoffTime.
"""

from construct import Array, Bytes, GreedyRange, If, Int8ul, Int16ul, Int32ul, Rebuild, len_, this

from ..core import BoundedArray, Enum, Flags, Guid, HexBytes, SizeOf, Sized, sized_field, struct
from ..errorcodes import ErrorCode
from ..oxcdata import FolderID, LongTermID, MessageID, PropertyTag, Restriction, TaggedPropertyValue
from .base import RopDef

EC_SERVER_BUSY = 0x00000480  # MS-OXCDATA 2.4.1: BackoffTime instead of the transfer fields (MS-OXCFXICS 3.3.5.9.1)
BUFFER_SIZE_SENTINEL = 0xBABE  # MS-OXCFXICS 2.2.3.1.1.5.1: MaximumBufferSize follows

# MS-OXCFXICS 2.2.3.1.1.1.2 (SendOptions of every RopFastTransferSourceCopy* and RopSynchronizationConfigure)
SEND_OPTIONS = {"Unicode": 0x01, "UseCpid": 0x02, "ForUpload": 0x03, "RecoverMode": 0x04, "ForceUnicode": 0x08,
                "PartialItem": 0x10, "Reserved1": 0x20, "Reserved2": 0x40}
COPY_TO_COPY_FLAGS = {"Move": 0x00000001, "Unused1": 0x00000002, "Unused2": 0x00000004, "Unused3": 0x00000008,
                      "Unused4": 0x00000200, "Unused5": 0x00000400, "BestBody": 0x00002000}  # 2.2.3.1.1.1.1
COPY_PROPERTIES_COPY_FLAGS = {"Move": 0x01, "Unused1": 0x02, "Unused2": 0x04, "Unused3": 0x08}  # 2.2.3.1.1.2.1
COPY_MESSAGES_COPY_FLAGS = {"Move": 0x01, "Unused1": 0x02, "Unused2": 0x04, "Unused3": 0x08, "BestBody": 0x10,
                            "SendEntryId": 0x20}  # 2.2.3.1.1.3.1
COPY_FOLDER_COPY_FLAGS = {"Move": 0x01, "Unused1": 0x02, "Unused2": 0x04, "Unused3": 0x08,
                          "CopySubfolders": 0x10}  # 2.2.3.1.1.4.1
TRANSFER_STATUS = {0x0000: "Error", 0x0001: "Partial", 0x0002: "NoRoom", 0x0003: "Done"}  # 2.2.3.1.1.5.2
SOURCE_OPERATION = {0x01: "CopyTo", 0x02: "CopyProperties", 0x03: "CopyMessages", 0x04: "CopyFolder"}  # 2.2.3.1.2.1.1
DESTINATION_CONFIGURE_COPY_FLAGS = {"Move": 0x01}  # 2.2.3.1.2.1.1
SYNCHRONIZATION_TYPE = {0x01: "Contents", 0x02: "Hierarchy"}  # 2.2.3.2.1.1.1
SYNCHRONIZATION_FLAGS = {"Unicode": 0x0001, "NoDeletions": 0x0002, "IgnoreNoLongerInScope": 0x0004,
                         "ReadState": 0x0008, "FAI": 0x0010, "Normal": 0x0020, "OnlySpecifiedProperties": 0x0080,
                         "NoForeignIdentifiers": 0x0100, "Reserved": 0x1000, "BestBody": 0x2000,
                         "IgnoreSpecifiedOnFAI": 0x4000, "Progress": 0x8000}  # 2.2.3.2.1.1.1
SYNCHRONIZATION_EXTRA_FLAGS = {"Eid": 0x00000001, "MessageSize": 0x00000002, "Cn": 0x00000004,
                               "OrderByDeliveryTime": 0x00000008}  # 2.2.3.2.1.1.1
IMPORT_FLAG = {"Associated": 0x10, "FailOnConflict": 0x40}  # 2.2.3.2.4.2.1
IMPORT_DELETE_FLAGS = {"Hierarchy": 0x01, "HardDelete": 0x02}  # 2.2.3.2.4.5.1


# 2.2.12.1 RopFastTransferDestinationConfigure (0x53)
RopFastTransferDestinationConfigureRequest = struct(
    "MS-OXCROPS 2.2.12.1.1 RopFastTransferDestinationConfigure ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "SourceOperation" / Enum(Int8ul, SOURCE_OPERATION) * "MS-OXCFXICS 2.2.3.1.2.1.1",
    "CopyFlags" / Flags(Int8ul, DESTINATION_CONFIGURE_COPY_FLAGS) * "MS-OXCFXICS 2.2.3.1.2.1.1",
)

RopFastTransferDestinationConfigureResponse = struct(
    "MS-OXCROPS 2.2.12.1.2 RopFastTransferDestinationConfigure ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.12.2 RopFastTransferDestinationPutBuffer (0x54)
RopFastTransferDestinationPutBufferRequest = struct(
    "MS-OXCROPS 2.2.12.2.1 RopFastTransferDestinationPutBuffer ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("TransferDataSize", Int16ul, "TransferData", HexBytes()),
)

RopFastTransferDestinationPutBufferResponse = struct(
    "MS-OXCROPS 2.2.12.2.2 RopFastTransferDestinationPutBuffer ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "TransferStatus" / Enum(Int16ul, TRANSFER_STATUS) * "MS-OXCFXICS 2.2.3.1.2.2.2 (clients ignore it)",
    "InProgressCount" / Int16ul,
    "TotalStepCount" / Int16ul,
    "Reserved" / Int8ul,
    "BufferUsedSize" / Int16ul,
)

# 2.2.12.3 RopFastTransferDestinationPutBufferExtended (0x9D)
RopFastTransferDestinationPutBufferExtendedRequest = struct(
    "MS-OXCROPS 2.2.12.3.1 RopFastTransferDestinationPutBufferExtended ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("TransferDataSize", Int16ul, "TransferData", HexBytes()),
)

RopFastTransferDestinationPutBufferExtendedResponse = struct(
    "MS-OXCROPS 2.2.12.3.2 RopFastTransferDestinationPutBufferExtended ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "TransferStatus" / Enum(Int16ul, TRANSFER_STATUS) * "MS-OXCFXICS 2.2.3.1.2.3.2 (clients ignore it)",
    "InProgressCount" / Int32ul,
    "TotalStepCount" / Int32ul,
    "Reserved" / Int8ul,
    "BufferUsedSize" / Int16ul,
)

# 2.2.12.4 RopFastTransferSourceGetBuffer (0x4E)
RopFastTransferSourceGetBufferRequest = struct(
    "MS-OXCROPS 2.2.12.4.1 RopFastTransferSourceGetBuffer ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "BufferSize" / Int16ul,
    "MaximumBufferSize" / If(this.BufferSize == BUFFER_SIZE_SENTINEL, Int16ul),
)

RopFastTransferSourceGetBufferResponse = struct(
    "MS-OXCROPS 2.2.12.4.2 RopFastTransferSourceGetBuffer ROP Response Buffer "
    "(any ReturnValue but 0x00000480)",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "TransferStatus" / Enum(Int16ul, TRANSFER_STATUS) * "MS-OXCFXICS 2.2.3.1.1.5.2",
    "InProgressCount" / Int16ul,
    "TotalStepCount" / Int16ul,
    "Reserved" / Int8ul,
    *sized_field("TransferBufferSize", Int16ul, "TransferBuffer", HexBytes()),
)

RopFastTransferSourceGetBufferServerBusyResponse = struct(
    "MS-OXCROPS 2.2.12.4.2 RopFastTransferSourceGetBuffer ROP Response Buffer with ReturnValue "
    "0x00000480 (ecServerBusy): BackoffTime, milliseconds to wait (MS-OXCFXICS 3.3.5.9.1), "
    "and none of the transfer fields",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "BackoffTime" / Int32ul,
)

# 2.2.12.5 RopFastTransferSourceCopyFolder (0x4C)
RopFastTransferSourceCopyFolderRequest = struct(
    "MS-OXCROPS 2.2.12.5.1 RopFastTransferSourceCopyFolder ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "CopyFlags" / Flags(Int8ul, COPY_FOLDER_COPY_FLAGS) * "MS-OXCFXICS 2.2.3.1.1.4.1",
    "SendOptions" / Flags(Int8ul, SEND_OPTIONS) * "MS-OXCFXICS 2.2.3.1.1.1.2",
)

RopFastTransferSourceCopyFolderResponse = struct(
    "MS-OXCROPS 2.2.12.5.2 RopFastTransferSourceCopyFolder ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.12.6 RopFastTransferSourceCopyMessages (0x4B)
RopFastTransferSourceCopyMessagesRequest = struct(
    "MS-OXCROPS 2.2.12.6.1 RopFastTransferSourceCopyMessages ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "MessageIdCount" / Rebuild(Int16ul, len_(this.MessageIds)),
    "MessageIds" / BoundedArray(this.MessageIdCount, MessageID),
    "CopyFlags" / Flags(Int8ul, COPY_MESSAGES_COPY_FLAGS) * "MS-OXCFXICS 2.2.3.1.1.3.1",
    "SendOptions" / Flags(Int8ul, SEND_OPTIONS) * "MS-OXCFXICS 2.2.3.1.1.1.2",
)

RopFastTransferSourceCopyMessagesResponse = struct(
    "MS-OXCROPS 2.2.12.6.2 RopFastTransferSourceCopyMessages ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.12.7 RopFastTransferSourceCopyTo (0x4D)
RopFastTransferSourceCopyToRequest = struct(
    "MS-OXCROPS 2.2.12.7.1 RopFastTransferSourceCopyTo ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "Level" / Int8ul * "MS-OXCFXICS 2.2.3.1.1.1.1: 0x00 copies descendant subobjects, nonzero excludes them",
    "CopyFlags" / Flags(Int32ul, COPY_TO_COPY_FLAGS) * "MS-OXCFXICS 2.2.3.1.1.1.1",
    "SendOptions" / Flags(Int8ul, SEND_OPTIONS) * "MS-OXCFXICS 2.2.3.1.1.1.2",
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopFastTransferSourceCopyToResponse = struct(
    "MS-OXCROPS 2.2.12.7.2 RopFastTransferSourceCopyTo ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.12.8 RopFastTransferSourceCopyProperties (0x69)
RopFastTransferSourceCopyPropertiesRequest = struct(
    "MS-OXCROPS 2.2.12.8.1 RopFastTransferSourceCopyProperties ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "Level" / Int8ul * "MS-OXCFXICS 2.2.3.1.1.2.1: 0x00 copies descendant subobjects, nonzero excludes them",
    "CopyFlags" / Flags(Int8ul, COPY_PROPERTIES_COPY_FLAGS) * "MS-OXCFXICS 2.2.3.1.1.2.1",
    "SendOptions" / Flags(Int8ul, SEND_OPTIONS) * "MS-OXCFXICS 2.2.3.1.1.1.2",
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopFastTransferSourceCopyPropertiesResponse = struct(
    "MS-OXCROPS 2.2.12.8.2 RopFastTransferSourceCopyProperties ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.12.9 RopTellVersion (0x86)
RopTellVersionRequest = struct(
    "MS-OXCROPS 2.2.12.9.1 RopTellVersion ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "Version" / Array(3, Int16ul) * "the other server's version, three 16-bit words as in MS-OXCRPC 3.1.4.1.3.1",
)

RopTellVersionResponse = struct(
    "MS-OXCROPS 2.2.12.9.2 RopTellVersion ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.1 RopSynchronizationConfigure (0x70)
RopSynchronizationConfigureRequest = struct(
    "MS-OXCROPS 2.2.13.1.1 RopSynchronizationConfigure ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "SynchronizationType" / Enum(Int8ul, SYNCHRONIZATION_TYPE) * "MS-OXCFXICS 2.2.3.2.1.1.1",
    "SendOptions" / Flags(Int8ul, SEND_OPTIONS) * "MS-OXCFXICS 2.2.3.1.1.1.2",
    "SynchronizationFlags" / Flags(Int16ul, SYNCHRONIZATION_FLAGS) * "MS-OXCFXICS 2.2.3.2.1.1.1",
    *sized_field("RestrictionDataSize", Int16ul, "RestrictionData",
                 If(this.RestrictionDataSize != 0, Restriction())),
    "SynchronizationExtraFlags" / Flags(Int32ul, SYNCHRONIZATION_EXTRA_FLAGS) * "MS-OXCFXICS 2.2.3.2.1.1.1",
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopSynchronizationConfigureResponse = struct(
    "MS-OXCROPS 2.2.13.1.2 RopSynchronizationConfigure ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.2 RopSynchronizationImportMessageChange (0x72)
RopSynchronizationImportMessageChangeRequest = struct(
    "MS-OXCROPS 2.2.13.2.1 RopSynchronizationImportMessageChange ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "ImportFlag" / Flags(Int8ul, IMPORT_FLAG) * "MS-OXCFXICS 2.2.3.2.4.2.1",
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, TaggedPropertyValue),
)

RopSynchronizationImportMessageChangeResponse = struct(
    "MS-OXCROPS 2.2.13.2.2 RopSynchronizationImportMessageChange ROP Success Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "MessageId" / MessageID,
)

# 2.2.13.3 RopSynchronizationImportReadStateChanges (0x80)
MessageReadState = struct(
    "MS-OXCROPS 2.2.13.3.1.1 MessageReadState Structure",
    *sized_field("MessageIdSize", Int16ul, "MessageId", HexBytes()),
    "MarkAsRead" / Int8ul,
)

RopSynchronizationImportReadStateChangesRequest = struct(
    "MS-OXCROPS 2.2.13.3.1 RopSynchronizationImportReadStateChanges ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("MessageReadStateSize", Int16ul, "MessageReadStates", GreedyRange(MessageReadState)),
)

RopSynchronizationImportReadStateChangesResponse = struct(
    "MS-OXCROPS 2.2.13.3.2 RopSynchronizationImportReadStateChanges ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.4 RopSynchronizationImportHierarchyChange (0x73)
RopSynchronizationImportHierarchyChangeRequest = struct(
    "MS-OXCROPS 2.2.13.4.1 RopSynchronizationImportHierarchyChange ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "HierarchyValueCount" / Rebuild(Int16ul, len_(this.HierarchyValues)),
    "HierarchyValues" / BoundedArray(this.HierarchyValueCount, TaggedPropertyValue),
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, TaggedPropertyValue),
)

RopSynchronizationImportHierarchyChangeResponse = struct(
    "MS-OXCROPS 2.2.13.4.2 RopSynchronizationImportHierarchyChange ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "FolderId" / FolderID,
)

# 2.2.13.5 RopSynchronizationImportDeletes (0x74)
RopSynchronizationImportDeletesRequest = struct(
    "MS-OXCROPS 2.2.13.5.1 RopSynchronizationImportDeletes ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "ImportDeleteFlags" / Flags(Int8ul, IMPORT_DELETE_FLAGS) * "MS-OXCFXICS 2.2.3.2.4.5.1",
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, TaggedPropertyValue),
)

RopSynchronizationImportDeletesResponse = struct(
    "MS-OXCROPS 2.2.13.5.2 RopSynchronizationImportDeletes ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.6 RopSynchronizationImportMessageMove (0x78)
RopSynchronizationImportMessageMoveRequest = struct(
    "MS-OXCROPS 2.2.13.6.1 RopSynchronizationImportMessageMove ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("SourceFolderIdSize", Int32ul, "SourceFolderId", HexBytes()),
    *sized_field("SourceMessageIdSize", Int32ul, "SourceMessageId", HexBytes()),
    *sized_field("PredecessorChangeListSize", Int32ul, "PredecessorChangeList", HexBytes()),
    *sized_field("DestinationMessageIdSize", Int32ul, "DestinationMessageId", HexBytes()),
    *sized_field("ChangeNumberSize", Int32ul, "ChangeNumber", HexBytes()),
)

RopSynchronizationImportMessageMoveResponse = struct(
    "MS-OXCROPS 2.2.13.6.2 RopSynchronizationImportMessageMove ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "MessageId" / MessageID,
)

# 2.2.13.7 RopSynchronizationOpenCollector (0x7E)
RopSynchronizationOpenCollectorRequest = struct(
    "MS-OXCROPS 2.2.13.7.1 RopSynchronizationOpenCollector ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
    "IsContentsCollector" / Int8ul,
)

RopSynchronizationOpenCollectorResponse = struct(
    "MS-OXCROPS 2.2.13.7.2 RopSynchronizationOpenCollector ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.8 RopSynchronizationGetTransferState (0x82)
RopSynchronizationGetTransferStateRequest = struct(
    "MS-OXCROPS 2.2.13.8.1 RopSynchronizationGetTransferState ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul, "OutputHandleIndex" / Int8ul,
)

RopSynchronizationGetTransferStateResponse = struct(
    "MS-OXCROPS 2.2.13.8.2 RopSynchronizationGetTransferState ROP Response Buffer",
    "RopId" / Int8ul, "OutputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.9 RopSynchronizationUploadStateStreamBegin (0x75)
RopSynchronizationUploadStateStreamBeginRequest = struct(
    "MS-OXCROPS 2.2.13.9.1 RopSynchronizationUploadStateStreamBegin ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "StateProperty" / PropertyTag,
    "TransferBufferSize" / Int32ul,
)

RopSynchronizationUploadStateStreamBeginResponse = struct(
    "MS-OXCROPS 2.2.13.9.2 RopSynchronizationUploadStateStreamBegin ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.10 RopSynchronizationUploadStateStreamContinue (0x76)
RopSynchronizationUploadStateStreamContinueRequest = struct(
    "MS-OXCROPS 2.2.13.10.1 RopSynchronizationUploadStateStreamContinue ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    *sized_field("StreamDataSize", Int32ul, "StreamData", HexBytes()),
)

RopSynchronizationUploadStateStreamContinueResponse = struct(
    "MS-OXCROPS 2.2.13.10.2 RopSynchronizationUploadStateStreamContinue ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.11 RopSynchronizationUploadStateStreamEnd (0x77)
RopSynchronizationUploadStateStreamEndRequest = struct(
    "MS-OXCROPS 2.2.13.11.1 RopSynchronizationUploadStateStreamEnd ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
)

RopSynchronizationUploadStateStreamEndResponse = struct(
    "MS-OXCROPS 2.2.13.11.2 RopSynchronizationUploadStateStreamEnd ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.12 RopSetLocalReplicaMidsetDeleted (0x93)
LongTermIdRange = struct(
    "MS-OXCROPS 2.2.13.12.1.1 LongTermIdRange Structure",
    "MinLongTermId" / LongTermID,
    "MaxLongTermId" / LongTermID,
)

# DataSize counts LongTermIdRangeCount (4 bytes) and LongTermIdRanges: a Sized with bias 4.
RopSetLocalReplicaMidsetDeletedRequest = struct(
    "MS-OXCROPS 2.2.13.12.1 RopSetLocalReplicaMidsetDeleted ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "DataSize" / SizeOf(Int16ul, "LongTermIdRanges", bias=4),
    "LongTermIdRangeCount" / Rebuild(Int32ul, len_(this.LongTermIdRanges)),
    "LongTermIdRanges" / Sized(this.DataSize - 4, BoundedArray(this.LongTermIdRangeCount, LongTermIdRange),
                               "LongTermIdRanges", Int16ul, bias=4),
)

RopSetLocalReplicaMidsetDeletedResponse = struct(
    "MS-OXCROPS 2.2.13.12.2 RopSetLocalReplicaMidsetDeleted ROP Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
)

# 2.2.13.13 RopGetLocalReplicaIds (0x7F)
RopGetLocalReplicaIdsRequest = struct(
    "MS-OXCROPS 2.2.13.13.1 RopGetLocalReplicaIds ROP Request Buffer",
    "RopId" / Int8ul, "LogonId" / Int8ul, "InputHandleIndex" / Int8ul,
    "IdCount" / Int32ul,
)

RopGetLocalReplicaIdsResponse = struct(
    "MS-OXCROPS 2.2.13.13.2 RopGetLocalReplicaIds ROP Success Response Buffer",
    "RopId" / Int8ul, "InputHandleIndex" / Int8ul, "ReturnValue" / ErrorCode,
    "ReplGuid" / Guid,
    "GlobalCount" / Bytes(6) * "the first of the IdCount reserved global counter values (MS-OXCDATA 2.2.1.1)",
)


ROPS: list[RopDef] = [
    RopDef(0x53, "RopFastTransferDestinationConfigure", "MS-OXCROPS 2.2.12.1",
           request=RopFastTransferDestinationConfigureRequest, response=RopFastTransferDestinationConfigureResponse),
    RopDef(0x54, "RopFastTransferDestinationPutBuffer", "MS-OXCROPS 2.2.12.2",
           request=RopFastTransferDestinationPutBufferRequest, response=RopFastTransferDestinationPutBufferResponse,
           failure=RopFastTransferDestinationPutBufferResponse),
    RopDef(0x9D, "RopFastTransferDestinationPutBufferExtended", "MS-OXCROPS 2.2.12.3",
           request=RopFastTransferDestinationPutBufferExtendedRequest,
           response=RopFastTransferDestinationPutBufferExtendedResponse,
           failure=RopFastTransferDestinationPutBufferExtendedResponse),
    RopDef(0x4E, "RopFastTransferSourceGetBuffer", "MS-OXCROPS 2.2.12.4",
           request=RopFastTransferSourceGetBufferRequest, response=RopFastTransferSourceGetBufferResponse,
           failure=RopFastTransferSourceGetBufferResponse,
           error_shapes={EC_SERVER_BUSY: RopFastTransferSourceGetBufferServerBusyResponse}),
    RopDef(0x4C, "RopFastTransferSourceCopyFolder", "MS-OXCROPS 2.2.12.5",
           request=RopFastTransferSourceCopyFolderRequest, response=RopFastTransferSourceCopyFolderResponse),
    RopDef(0x4B, "RopFastTransferSourceCopyMessages", "MS-OXCROPS 2.2.12.6",
           request=RopFastTransferSourceCopyMessagesRequest, response=RopFastTransferSourceCopyMessagesResponse),
    RopDef(0x4D, "RopFastTransferSourceCopyTo", "MS-OXCROPS 2.2.12.7",
           request=RopFastTransferSourceCopyToRequest, response=RopFastTransferSourceCopyToResponse),
    RopDef(0x69, "RopFastTransferSourceCopyProperties", "MS-OXCROPS 2.2.12.8",
           request=RopFastTransferSourceCopyPropertiesRequest, response=RopFastTransferSourceCopyPropertiesResponse),
    RopDef(0x86, "RopTellVersion", "MS-OXCROPS 2.2.12.9", request=RopTellVersionRequest,
           response=RopTellVersionResponse),
    RopDef(0x70, "RopSynchronizationConfigure", "MS-OXCROPS 2.2.13.1",
           request=RopSynchronizationConfigureRequest, response=RopSynchronizationConfigureResponse),
    RopDef(0x72, "RopSynchronizationImportMessageChange", "MS-OXCROPS 2.2.13.2",
           request=RopSynchronizationImportMessageChangeRequest,
           response=RopSynchronizationImportMessageChangeResponse),
    RopDef(0x80, "RopSynchronizationImportReadStateChanges", "MS-OXCROPS 2.2.13.3",
           request=RopSynchronizationImportReadStateChangesRequest,
           response=RopSynchronizationImportReadStateChangesResponse),
    RopDef(0x73, "RopSynchronizationImportHierarchyChange", "MS-OXCROPS 2.2.13.4",
           request=RopSynchronizationImportHierarchyChangeRequest,
           response=RopSynchronizationImportHierarchyChangeResponse),
    RopDef(0x74, "RopSynchronizationImportDeletes", "MS-OXCROPS 2.2.13.5",
           request=RopSynchronizationImportDeletesRequest, response=RopSynchronizationImportDeletesResponse),
    RopDef(0x78, "RopSynchronizationImportMessageMove", "MS-OXCROPS 2.2.13.6",
           request=RopSynchronizationImportMessageMoveRequest, response=RopSynchronizationImportMessageMoveResponse),
    RopDef(0x7E, "RopSynchronizationOpenCollector", "MS-OXCROPS 2.2.13.7",
           request=RopSynchronizationOpenCollectorRequest, response=RopSynchronizationOpenCollectorResponse),
    RopDef(0x82, "RopSynchronizationGetTransferState", "MS-OXCROPS 2.2.13.8",
           request=RopSynchronizationGetTransferStateRequest, response=RopSynchronizationGetTransferStateResponse),
    RopDef(0x75, "RopSynchronizationUploadStateStreamBegin", "MS-OXCROPS 2.2.13.9",
           request=RopSynchronizationUploadStateStreamBeginRequest,
           response=RopSynchronizationUploadStateStreamBeginResponse),
    RopDef(0x76, "RopSynchronizationUploadStateStreamContinue", "MS-OXCROPS 2.2.13.10",
           request=RopSynchronizationUploadStateStreamContinueRequest,
           response=RopSynchronizationUploadStateStreamContinueResponse),
    RopDef(0x77, "RopSynchronizationUploadStateStreamEnd", "MS-OXCROPS 2.2.13.11",
           request=RopSynchronizationUploadStateStreamEndRequest,
           response=RopSynchronizationUploadStateStreamEndResponse),
    RopDef(0x93, "RopSetLocalReplicaMidsetDeleted", "MS-OXCROPS 2.2.13.12",
           request=RopSetLocalReplicaMidsetDeletedRequest, response=RopSetLocalReplicaMidsetDeletedResponse),
    RopDef(0x7F, "RopGetLocalReplicaIds", "MS-OXCROPS 2.2.13.13", request=RopGetLocalReplicaIdsRequest,
           response=RopGetLocalReplicaIdsResponse),
]
