"""MS-OXOMSG: Transport ROPs (MS-OXCROPS 2.2.7.1 - 2.2.7.9).

Layouts from MS-OXCROPS 2.2.7; flag and enumeration names from MS-OXOMSG 2.2 and, for
MessageFlags, MS-OXCMSG 2.2.1.6.
"""

from construct import If, Int8ul, Int16ul, Int32ul, Rebuild, len_, this

from ..core import AsciiZ, BoundedArray, Enum, Flags, Remaining, sized_field, struct
from ..errorcodes import ErrorCode
from ..oxcdata import FolderID, MessageID, TaggedPropertyValue
from .base import RopDef

# MS-OXOMSG 2.2.3.1.1 SubmitFlags (None is 0x00)
SUBMIT_FLAGS = {"PreProcess": 0x01, "NeedsSpooler": 0x02}
# MS-OXOMSG 2.2.5.3 (RopSpoolerLockMessage, the section MS-OXCROPS 2.2.7.5 points to) LockState
LOCK_STATES = {0x00: "lstLock", 0x01: "lstUnlock", 0x02: "lstFinished"}
# MS-OXCMSG 2.2.1.6 PidTagMessageFlags (MessageFlags of RopTransportNewMail)
MESSAGE_FLAGS = {
    "mfRead": 0x00000001, "mfUnmodified": 0x00000002, "mfSubmitted": 0x00000004, "mfUnsent": 0x00000008,
    "mfHasAttach": 0x00000010, "mfFromMe": 0x00000020, "mfFAI": 0x00000040, "mfResend": 0x00000080,
    "mfNotifyRead": 0x00000100, "mfNotifyUnread": 0x00000200, "mfEverRead": 0x00000400,
    "mfInternet": 0x00002000, "mfUntrusted": 0x00008000,
}


# 2.2.7.1 RopSubmitMessage (0x32)
RopSubmitMessageRequest = struct(
    "MS-OXCROPS 2.2.7.1.1 RopSubmitMessage ROP Request Buffer (SubmitFlags: MS-OXOMSG 2.2.3.1.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "SubmitFlags" / Flags(Int8ul, SUBMIT_FLAGS),
)

RopSubmitMessageResponse = struct(
    "MS-OXCROPS 2.2.7.1.2 RopSubmitMessage ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.7.2 RopAbortSubmit (0x34)
RopAbortSubmitRequest = struct(
    "MS-OXCROPS 2.2.7.2.1 RopAbortSubmit ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "FolderId" / FolderID,
    "MessageId" / MessageID,
)

RopAbortSubmitResponse = struct(
    "MS-OXCROPS 2.2.7.2.2 RopAbortSubmit ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.7.3 RopGetAddressTypes (0x49)
RopGetAddressTypesRequest = struct(
    "MS-OXCROPS 2.2.7.3.1 RopGetAddressTypes ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopGetAddressTypesResponse = struct(
    "MS-OXCROPS 2.2.7.3.2 RopGetAddressTypes ROP Success Response Buffer "
    "(AddressTypeSize bytes holding AddressTypeCount null-terminated ASCII strings)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "AddressTypeCount" / Rebuild(Int16ul, len_(this.AddressTypes)),
    *sized_field("AddressTypeSize", Int16ul, "AddressTypes", BoundedArray(this.AddressTypeCount, AsciiZ)),
)

# 2.2.7.4 RopSetSpooler (0x47)
RopSetSpoolerRequest = struct(
    "MS-OXCROPS 2.2.7.4.1 RopSetSpooler ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopSetSpoolerResponse = struct(
    "MS-OXCROPS 2.2.7.4.2 RopSetSpooler ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.7.5 RopSpoolerLockMessage (0x48)
RopSpoolerLockMessageRequest = struct(
    "MS-OXCROPS 2.2.7.5.1 RopSpoolerLockMessage ROP Request Buffer (LockState: MS-OXOMSG 2.2.5.3)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "MessageId" / MessageID,
    "LockState" / Enum(Int8ul, LOCK_STATES),
)

RopSpoolerLockMessageResponse = struct(
    "MS-OXCROPS 2.2.7.5.2 RopSpoolerLockMessage ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.7.6 RopTransportSend (0x4A)
RopTransportSendRequest = struct(
    "MS-OXCROPS 2.2.7.6.1 RopTransportSend ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopTransportSendResponse = struct(
    "MS-OXCROPS 2.2.7.6.2 RopTransportSend ROP Success Response Buffer (PropertyValueCount is read "
    "whatever NoPropertiesReturned says: the figure marks it optional but names no condition)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "NoPropertiesReturned" / Int8ul,
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, TaggedPropertyValue, min_size=4),
)

# 2.2.7.7 RopTransportNewMail (0x51)
RopTransportNewMailRequest = struct(
    "MS-OXCROPS 2.2.7.7.1 RopTransportNewMail ROP Request Buffer (MessageFlags: MS-OXCMSG 2.2.1.6)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "MessageId" / MessageID,
    "FolderId" / FolderID,
    "MessageClass" / AsciiZ,
    "MessageFlags" / Flags(Int32ul, MESSAGE_FLAGS),
)

RopTransportNewMailResponse = struct(
    "MS-OXCROPS 2.2.7.7.2 RopTransportNewMail ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.7.8 RopGetTransportFolder (0x6D)
RopGetTransportFolderRequest = struct(
    "MS-OXCROPS 2.2.7.8.1 RopGetTransportFolder ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopGetTransportFolderResponse = struct(
    "MS-OXCROPS 2.2.7.8.2 RopGetTransportFolder ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "FolderId" / FolderID,
)

# 2.2.7.9 RopOptionsData (0x6F)
RopOptionsDataRequest = struct(
    "MS-OXCROPS 2.2.7.9.1 RopOptionsData ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "AddressType" / AsciiZ,
    "WantWin32" / Int8ul,
)

RopOptionsDataResponse = struct(
    "MS-OXCROPS 2.2.7.9.2 RopOptionsData ROP Success Response Buffer (HelpFileName only when HelpFileSize != 0)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "Reserved" / Int8ul,
    *sized_field("OptionsInfoSize", Int16ul, "OptionsInfo", Remaining),
    *sized_field("HelpFileSize", Int16ul, "HelpFile", Remaining),
    "HelpFileName" / If(this.HelpFileSize != 0, AsciiZ),
)


ROPS: list[RopDef] = [
    RopDef(0x32, "RopSubmitMessage", "MS-OXCROPS 2.2.7.1",
           request=RopSubmitMessageRequest, response=RopSubmitMessageResponse),
    RopDef(0x34, "RopAbortSubmit", "MS-OXCROPS 2.2.7.2",
           request=RopAbortSubmitRequest, response=RopAbortSubmitResponse),
    RopDef(0x49, "RopGetAddressTypes", "MS-OXCROPS 2.2.7.3",
           request=RopGetAddressTypesRequest, response=RopGetAddressTypesResponse),
    RopDef(0x47, "RopSetSpooler", "MS-OXCROPS 2.2.7.4",
           request=RopSetSpoolerRequest, response=RopSetSpoolerResponse),
    RopDef(0x48, "RopSpoolerLockMessage", "MS-OXCROPS 2.2.7.5",
           request=RopSpoolerLockMessageRequest, response=RopSpoolerLockMessageResponse),
    RopDef(0x4A, "RopTransportSend", "MS-OXCROPS 2.2.7.6",
           request=RopTransportSendRequest, response=RopTransportSendResponse),
    RopDef(0x51, "RopTransportNewMail", "MS-OXCROPS 2.2.7.7",
           request=RopTransportNewMailRequest, response=RopTransportNewMailResponse),
    RopDef(0x6D, "RopGetTransportFolder", "MS-OXCROPS 2.2.7.8",
           request=RopGetTransportFolderRequest, response=RopGetTransportFolderResponse),
    RopDef(0x6F, "RopOptionsData", "MS-OXCROPS 2.2.7.9",
           request=RopOptionsDataRequest, response=RopOptionsDataResponse),
]
