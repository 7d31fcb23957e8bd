"""MS-OXCMSG: Message and Attachment ROPs (MS-OXCROPS 2.2.6.1 - 2.2.6.18).

Layouts from MS-OXCROPS 2.2.6; flag and enumeration names from MS-OXCMSG 2.2.3.

State: recipient rows are RecipientRow structures (MS-OXCDATA 2.8.3) whose property values
follow a column set. RopOpenMessage, RopReloadCachedInformation and RopOpenEmbeddedMessage
carry their own RecipientColumns; RopModifyRecipients carries them in the request; the rows of
RopReadRecipients follow the message's recipient columns, which the decoding context hands over
as `request_rop._columns`. RopSetMessageReadFlag's request has a ClientData field only under a
public folders logon, so it reads the parse param `private_logon` that RopList sets for each
request ROP from the LogonFlags (MS-OXCSTOR 2.2.1.1.1) of the logon its LogonId names. An
unknown logon (capture started after RopLogon) reads as private, by far the common case.
"""

from construct import Bytes, If, Int8ul, Int16ul, Int32ul, Rebuild, len_, this

from ..core import BoundedArray, Enum, Flags, sized_field, struct
from ..errorcodes import ErrorCode
from ..locales import CodePageId
from ..oxcdata import FolderID, MessageID, PropertyTag, RecipientRow, TypedString
from .base import RopDef


# MS-OXCMSG 2.2.3.1.1 OpenModeFlags of RopOpenMessage (ReadOnly is 0x00)
OPEN_MODE_FLAGS = {"ReadWrite": 0x01, "BestAccess": 0x03, "OpenSoftDeleted": 0x04}
# MS-OXCMSG 2.2.3.1.2 RecipientType: a type, possibly ORed with the resend flags 0x10 / 0x80
RECIPIENT_TYPES = {0x01: "Primary", 0x02: "Cc", 0x03: "Bcc"}
# MS-OXCMSG 2.2.3.3.1 SaveFlags (RopSaveChangesMessage, RopSaveChangesAttachment)
SAVE_FLAGS = {"KeepOpenReadOnly": 0x01, "KeepOpenReadWrite": 0x02, "ForceSave": 0x04}
# MS-OXCMSG 2.2.3.8.1 MessageStatusFlags: the bits of PidTagMessageStatus, MS-OXCMSG 2.2.1.8 (all three)
MESSAGE_STATUS_FLAGS = {"msInConflict": 0x00000800, "msRemoteDownload": 0x00001000, "msRemoteDelete": 0x00002000}
# MS-OXCMSG 2.2.3.10.1 ReadFlags (RopSetReadFlags; RopSetMessageReadFlag's 2.2.3.11.1 has the same
# values; rfDefault is 0x00, rfReserved 0x0A is the spec's own two-bit value)
READ_FLAGS = {
    "rfSuppressReceipt": 0x01, "rfReserved": 0x0A, "rfClearReadFlag": 0x04, "rfGenerateReceiptOnly": 0x10,
    "rfClearNotifyRead": 0x20, "rfClearNotifyUnread": 0x40,
}
# MS-OXCMSG 2.2.3.12.1 OpenAttachmentFlags (ReadOnly is 0x00)
OPEN_ATTACHMENT_FLAGS = {"ReadWrite": 0x01, "BestAccess": 0x03}
# MS-OXCMSG 2.2.3.16.1 OpenModeFlags of RopOpenEmbeddedMessage (ReadOnly is 0x00)
OPEN_EMBEDDED_FLAGS = {"ReadWrite": 0x01, "Create": 0x02}
# MS-OXCMSG 2.2.3.17.1 TableFlags of RopGetAttachmentTable (Standard is 0x00)
ATTACHMENT_TABLE_FLAGS = {"Unicode": 0x40}


# 2.2.6.1 RopOpenMessage (0x03)
RopOpenMessageRequest = struct(
    "MS-OXCROPS 2.2.6.1.1 RopOpenMessage ROP Request Buffer (OpenModeFlags: MS-OXCMSG 2.2.3.1.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "CodePageId" / CodePageId,
    "FolderId" / FolderID,
    "OpenModeFlags" / Flags(Int8ul, OPEN_MODE_FLAGS),
    "MessageId" / MessageID,
)

OpenRecipientRow = struct(
    "MS-OXCROPS 2.2.6.1.2.1 OpenRecipientRow Structure (RecipientType: MS-OXCMSG 2.2.3.1.2; "
    "the row follows the RecipientColumns of the response that holds it)",
    "RecipientType" / Enum(Int8ul, RECIPIENT_TYPES),
    "CodePageId" / CodePageId,
    "Reserved" / Int16ul,
    *sized_field("RecipientRowSize", Int16ul, "RecipientRow", RecipientRow(this._._.RecipientColumns)),
)

# What RopOpenMessage, RopReloadCachedInformation and RopOpenEmbeddedMessage return about the
# message after their own header fields (MS-OXCROPS 2.2.6.1.2, 2.2.6.7.2, 2.2.6.16.2).
MESSAGE_INFORMATION = (
    "HasNamedProperties" / Int8ul,
    "SubjectPrefix" / TypedString,
    "NormalizedSubject" / TypedString,
    "RecipientCount" / Int16ul,
    "ColumnCount" / Rebuild(Int16ul, len_(this.RecipientColumns)),
    "RecipientColumns" / BoundedArray(this.ColumnCount, PropertyTag),
    "RowCount" / Rebuild(Int8ul, len_(this.RecipientRows)),
    "RecipientRows" / BoundedArray(this.RowCount, OpenRecipientRow, min_size=7),
)

RopOpenMessageResponse = struct(
    "MS-OXCROPS 2.2.6.1.2 RopOpenMessage ROP Success Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    *MESSAGE_INFORMATION,
)

# 2.2.6.2 RopCreateMessage (0x06)
RopCreateMessageRequest = struct(
    "MS-OXCROPS 2.2.6.2.1 RopCreateMessage ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "CodePageId" / CodePageId,
    "FolderId" / FolderID,
    "AssociatedFlag" / Int8ul,
)

RopCreateMessageResponse = struct(
    "MS-OXCROPS 2.2.6.2.2 RopCreateMessage ROP Success Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "HasMessageId" / Int8ul,
    "MessageId" / If(this.HasMessageId != 0, MessageID),
)

# 2.2.6.3 RopSaveChangesMessage (0x0C)
RopSaveChangesMessageRequest = struct(
    "MS-OXCROPS 2.2.6.3.1 RopSaveChangesMessage ROP Request Buffer (SaveFlags: MS-OXCMSG 2.2.3.3.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "ResponseHandleIndex" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "SaveFlags" / Flags(Int8ul, SAVE_FLAGS),
)

RopSaveChangesMessageResponse = struct(
    "MS-OXCROPS 2.2.6.3.2 RopSaveChangesMessage ROP Success Response Buffer",
    "RopId" / Int8ul,
    "ResponseHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "InputHandleIndex" / Int8ul,
    "MessageId" / MessageID,
)

# 2.2.6.4 RopRemoveAllRecipients (0x0D)
RopRemoveAllRecipientsRequest = struct(
    "MS-OXCROPS 2.2.6.4.1 RopRemoveAllRecipients ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "Reserved" / Int32ul,
)

RopRemoveAllRecipientsResponse = struct(
    "MS-OXCROPS 2.2.6.4.2 RopRemoveAllRecipients ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.6.5 RopModifyRecipients (0x0E)
ModifyRecipientRow = struct(
    "MS-OXCROPS 2.2.6.5.1.1 ModifyRecipientRow Structure (RecipientRow absent when RecipientRowSize "
    "is 0: the row is deleted; it follows the request's RecipientColumns)",
    "RowId" / Int32ul,
    "RecipientType" / Enum(Int8ul, RECIPIENT_TYPES),
    *sized_field("RecipientRowSize", Int16ul, "RecipientRow",
                 If(this.RecipientRowSize != 0, RecipientRow(this._._.RecipientColumns))),
)

RopModifyRecipientsRequest = struct(
    "MS-OXCROPS 2.2.6.5.1 RopModifyRecipients ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ColumnCount" / Rebuild(Int16ul, len_(this.RecipientColumns)),
    "RecipientColumns" / BoundedArray(this.ColumnCount, PropertyTag),
    "RowCount" / Rebuild(Int16ul, len_(this.RecipientRows)),
    "RecipientRows" / BoundedArray(this.RowCount, ModifyRecipientRow, min_size=7),
)

RopModifyRecipientsResponse = struct(
    "MS-OXCROPS 2.2.6.5.2 RopModifyRecipients ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.6.6 RopReadRecipients (0x0F)
RopReadRecipientsRequest = struct(
    "MS-OXCROPS 2.2.6.6.1 RopReadRecipients ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "RowId" / Int32ul,
    "Reserved" / Int16ul,
)

ReadRecipientRow = struct(
    "MS-OXCROPS 2.2.6.6.2.1 ReadRecipientRow Structure (the row follows the message's recipient "
    "columns: request_rop._columns)",
    "RowId" / Int32ul,
    "RecipientType" / Enum(Int8ul, RECIPIENT_TYPES),
    "CodePageId" / CodePageId,
    "Reserved" / Int16ul,
    *sized_field("RecipientRowSize", Int16ul, "RecipientRow", RecipientRow(this._params.request_rop._columns)),
)

RopReadRecipientsResponse = struct(
    "MS-OXCROPS 2.2.6.6.2 RopReadRecipients ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "RowCount" / Rebuild(Int8ul, len_(this.RecipientRows)),
    "RecipientRows" / BoundedArray(this.RowCount, ReadRecipientRow, min_size=11),
)

# 2.2.6.7 RopReloadCachedInformation (0x10)
RopReloadCachedInformationRequest = struct(
    "MS-OXCROPS 2.2.6.7.1 RopReloadCachedInformation ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "Reserved" / Int16ul,
)

RopReloadCachedInformationResponse = struct(
    "MS-OXCROPS 2.2.6.7.2 RopReloadCachedInformation ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    *MESSAGE_INFORMATION,
)

# 2.2.6.8 RopSetMessageStatus (0x20)
RopSetMessageStatusRequest = struct(
    "MS-OXCROPS 2.2.6.8.1 RopSetMessageStatus ROP Request Buffer (MessageStatusFlags: MS-OXCMSG 2.2.3.8.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "MessageId" / MessageID,
    "MessageStatusFlags" / Flags(Int32ul, MESSAGE_STATUS_FLAGS),
    "MessageStatusMask" / Flags(Int32ul, MESSAGE_STATUS_FLAGS),
)

RopSetMessageStatusResponse = struct(
    "MS-OXCROPS 2.2.6.8.2 RopSetMessageStatus ROP Success Response Buffer (the flags before the change)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "MessageStatusFlags" / Flags(Int32ul, MESSAGE_STATUS_FLAGS),
)

# 2.2.6.9 RopGetMessageStatus (0x1F)
RopGetMessageStatusRequest = struct(
    "MS-OXCROPS 2.2.6.9.1 RopGetMessageStatus ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "MessageId" / MessageID,
)

RopGetMessageStatusResponse = struct(
    "MS-OXCROPS 2.2.6.9.2 RopGetMessageStatus ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "MessageStatusFlags" / Flags(Int32ul, MESSAGE_STATUS_FLAGS),
)

# 2.2.6.10 RopSetReadFlags (0x66)
RopSetReadFlagsRequest = struct(
    "MS-OXCROPS 2.2.6.10.1 RopSetReadFlags ROP Request Buffer (ReadFlags: MS-OXCMSG 2.2.3.10.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "WantAsynchronous" / Int8ul,
    "ReadFlags" / Flags(Int8ul, READ_FLAGS),
    "MessageIdCount" / Rebuild(Int16ul, len_(this.MessageIds)),
    "MessageIds" / BoundedArray(this.MessageIdCount, MessageID),
)

RopSetReadFlagsResponse = struct(
    "MS-OXCROPS 2.2.6.10.2 RopSetReadFlags ROP Response Buffer (any ReturnValue)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PartialCompletion" / Int8ul,
)

# 2.2.6.11 RopSetMessageReadFlag (0x11)
RopSetMessageReadFlagRequest = struct(
    "MS-OXCROPS 2.2.6.11.1 RopSetMessageReadFlag ROP Request Buffer (ReadFlags: MS-OXCMSG 2.2.3.11.1; "
    "ClientData only when the logon's LogonFlags lack Private: parse param private_logon)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "ResponseHandleIndex" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReadFlags" / Flags(Int8ul, READ_FLAGS),
    "ClientData" / If(this._params.private_logon == False, Bytes(24)),  # noqa: E712 (None: unknown)
)

RopSetMessageReadFlagResponse = struct(
    "MS-OXCROPS 2.2.6.11.2 RopSetMessageReadFlag ROP Success Response Buffer",
    "RopId" / Int8ul,
    "ResponseHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "ReadStatusChanged" / Int8ul,
    "LogonId" / If(this.ReadStatusChanged != 0, Int8ul),
    "ClientData" / If(this.ReadStatusChanged != 0, Bytes(24)),
)

# 2.2.6.12 RopOpenAttachment (0x22)
RopOpenAttachmentRequest = struct(
    "MS-OXCROPS 2.2.6.12.1 RopOpenAttachment ROP Request Buffer (OpenAttachmentFlags: MS-OXCMSG 2.2.3.12.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "OpenAttachmentFlags" / Flags(Int8ul, OPEN_ATTACHMENT_FLAGS),
    "AttachmentID" / Int32ul,
)

RopOpenAttachmentResponse = struct(
    "MS-OXCROPS 2.2.6.12.2 RopOpenAttachment ROP Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.6.13 RopCreateAttachment (0x23)
RopCreateAttachmentRequest = struct(
    "MS-OXCROPS 2.2.6.13.1 RopCreateAttachment ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
)

RopCreateAttachmentResponse = struct(
    "MS-OXCROPS 2.2.6.13.2 RopCreateAttachment ROP Success Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "AttachmentID" / Int32ul,
)

# 2.2.6.14 RopDeleteAttachment (0x24)
RopDeleteAttachmentRequest = struct(
    "MS-OXCROPS 2.2.6.14.1 RopDeleteAttachment ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "AttachmentID" / Int32ul,
)

RopDeleteAttachmentResponse = struct(
    "MS-OXCROPS 2.2.6.14.2 RopDeleteAttachment ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.6.15 RopSaveChangesAttachment (0x25)
RopSaveChangesAttachmentRequest = struct(
    "MS-OXCROPS 2.2.6.15.1 RopSaveChangesAttachment ROP Request Buffer (SaveFlags: MS-OXCMSG 2.2.3.3.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "ResponseHandleIndex" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "SaveFlags" / Flags(Int8ul, SAVE_FLAGS),
)

RopSaveChangesAttachmentResponse = struct(
    "MS-OXCROPS 2.2.6.15.2 RopSaveChangesAttachment ROP Response Buffer",
    "RopId" / Int8ul,
    "ResponseHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.6.16 RopOpenEmbeddedMessage (0x46)
RopOpenEmbeddedMessageRequest = struct(
    "MS-OXCROPS 2.2.6.16.1 RopOpenEmbeddedMessage ROP Request Buffer (OpenModeFlags: MS-OXCMSG 2.2.3.16.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "CodePageId" / CodePageId,
    "OpenModeFlags" / Flags(Int8ul, OPEN_EMBEDDED_FLAGS),
)

RopOpenEmbeddedMessageResponse = struct(
    "MS-OXCROPS 2.2.6.16.2 RopOpenEmbeddedMessage ROP Success Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "Reserved" / Int8ul,
    "MessageId" / MessageID,
    *MESSAGE_INFORMATION,
)

# 2.2.6.17 RopGetAttachmentTable (0x21)
RopGetAttachmentTableRequest = struct(
    "MS-OXCROPS 2.2.6.17.1 RopGetAttachmentTable ROP Request Buffer (TableFlags: MS-OXCMSG 2.2.3.17.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "TableFlags" / Flags(Int8ul, ATTACHMENT_TABLE_FLAGS),
)

RopGetAttachmentTableResponse = struct(
    "MS-OXCROPS 2.2.6.17.2 RopGetAttachmentTable ROP Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.6.18 RopGetValidAttachments (0x52)
RopGetValidAttachmentsRequest = struct(
    "MS-OXCROPS 2.2.6.18.1 RopGetValidAttachments ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopGetValidAttachmentsResponse = struct(
    "MS-OXCROPS 2.2.6.18.2 RopGetValidAttachments ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "AttachmentIdCount" / Rebuild(Int16ul, len_(this.AttachmentIdArray)),
    "AttachmentIdArray" / BoundedArray(this.AttachmentIdCount, Int32ul),
)


ROPS: list[RopDef] = [
    RopDef(0x03, "RopOpenMessage", "MS-OXCROPS 2.2.6.1",
           request=RopOpenMessageRequest, response=RopOpenMessageResponse),
    RopDef(0x06, "RopCreateMessage", "MS-OXCROPS 2.2.6.2",
           request=RopCreateMessageRequest, response=RopCreateMessageResponse),
    RopDef(0x0C, "RopSaveChangesMessage", "MS-OXCROPS 2.2.6.3",
           request=RopSaveChangesMessageRequest, response=RopSaveChangesMessageResponse),
    RopDef(0x0D, "RopRemoveAllRecipients", "MS-OXCROPS 2.2.6.4",
           request=RopRemoveAllRecipientsRequest, response=RopRemoveAllRecipientsResponse),
    RopDef(0x0E, "RopModifyRecipients", "MS-OXCROPS 2.2.6.5",
           request=RopModifyRecipientsRequest, response=RopModifyRecipientsResponse),
    RopDef(0x0F, "RopReadRecipients", "MS-OXCROPS 2.2.6.6",
           request=RopReadRecipientsRequest, response=RopReadRecipientsResponse),
    RopDef(0x10, "RopReloadCachedInformation", "MS-OXCROPS 2.2.6.7",
           request=RopReloadCachedInformationRequest, response=RopReloadCachedInformationResponse),
    RopDef(0x20, "RopSetMessageStatus", "MS-OXCROPS 2.2.6.8",
           request=RopSetMessageStatusRequest, response=RopSetMessageStatusResponse),
    RopDef(0x1F, "RopGetMessageStatus", "MS-OXCROPS 2.2.6.9",
           request=RopGetMessageStatusRequest, response=RopGetMessageStatusResponse),
    RopDef(0x66, "RopSetReadFlags", "MS-OXCROPS 2.2.6.10",
           request=RopSetReadFlagsRequest, response=RopSetReadFlagsResponse, failure=RopSetReadFlagsResponse),
    RopDef(0x11, "RopSetMessageReadFlag", "MS-OXCROPS 2.2.6.11",
           request=RopSetMessageReadFlagRequest, response=RopSetMessageReadFlagResponse),
    RopDef(0x22, "RopOpenAttachment", "MS-OXCROPS 2.2.6.12",
           request=RopOpenAttachmentRequest, response=RopOpenAttachmentResponse),
    RopDef(0x23, "RopCreateAttachment", "MS-OXCROPS 2.2.6.13",
           request=RopCreateAttachmentRequest, response=RopCreateAttachmentResponse),
    RopDef(0x24, "RopDeleteAttachment", "MS-OXCROPS 2.2.6.14",
           request=RopDeleteAttachmentRequest, response=RopDeleteAttachmentResponse),
    RopDef(0x25, "RopSaveChangesAttachment", "MS-OXCROPS 2.2.6.15",
           request=RopSaveChangesAttachmentRequest, response=RopSaveChangesAttachmentResponse),
    RopDef(0x46, "RopOpenEmbeddedMessage", "MS-OXCROPS 2.2.6.16",
           request=RopOpenEmbeddedMessageRequest, response=RopOpenEmbeddedMessageResponse),
    RopDef(0x21, "RopGetAttachmentTable", "MS-OXCROPS 2.2.6.17",
           request=RopGetAttachmentTableRequest, response=RopGetAttachmentTableResponse),
    RopDef(0x52, "RopGetValidAttachments", "MS-OXCROPS 2.2.6.18",
           request=RopGetValidAttachmentsRequest, response=RopGetValidAttachmentsResponse),
]
