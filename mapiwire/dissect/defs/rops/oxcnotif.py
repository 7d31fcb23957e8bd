"""MS-OXCNOTIF: Notification ROPs (MS-OXCROPS 2.2.14.1 - 2.2.14.3).

Buffers from MS-OXCROPS 2.2.14; the NotificationData structure and the flag names from
MS-OXCNOTIF 2.2.1. RopNotify and RopPending are response-only and carry no ReturnValue.

State: a TableModified notification's TableRowData follows the columns of the table the
notification is for (its last RopSetColumns, MS-OXCNOTIF 2.2.1.4.1.2); the decoding context hands
them over as `this._params.request_rop._columns` (ropbuffer.py `notify_state`).
"""

from construct import If, IfThenElse, Int8ul, Int16ul, Int32ul, this

from ..core import AsciiZ, BoundedArray, Enum, Flags, SizeOf, Sized, UnicodeZ, struct
from ..errorcodes import ErrorCode
from ..oxcdata import FolderID, MessageID, PropertyRow, PropertyTag
from .base import RopDef

# MS-OXCNOTIF 2.2.1.2.1.1 NotificationTypes
NOTIFICATION_TYPES = {
    "NewMail": 0x0002, "ObjectCreated": 0x0004, "ObjectDeleted": 0x0008, "ObjectModified": 0x0010,
    "ObjectMoved": 0x0020, "ObjectCopied": 0x0040, "SearchComplete": 0x0080, "TableModified": 0x0100,
    "Extended": 0x0400,
}

# MS-OXCNOTIF 2.2.1.4.1.2 NotificationFlags: the NotificationType (low 12 bits, one of the types
# above) and the T/U/S/M flags (high 4 bits) that say which data fields are present.
NOTIFICATION_FLAGS = {
    **{name: bit for name, bit in NOTIFICATION_TYPES.items() if name != "Extended"},
    "T": 0x1000, "U": 0x2000, "S": 0x4000, "M": 0x8000,
}

# MS-OXCNOTIF 2.2.1.4.1.2 TableEventType (2.2.1.1.1 TableModified event types)
TABLE_EVENT_TYPES = {
    0x0001: "TableChanged", 0x0003: "TableRowAdded", 0x0004: "TableRowDeleted",
    0x0005: "TableRowModified", 0x0007: "TableRestrictionChanged",
}

# 2.2.14.1 RopRegisterNotification (0x29)

RopRegisterNotificationRequest = struct(
    "MS-OXCROPS 2.2.14.1.1 RopRegisterNotification ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "NotificationTypes" / Flags(Int16ul, NOTIFICATION_TYPES),  # MS-OXCNOTIF 2.2.1.2.1.1
    "Reserved" / If((this.NotificationTypes & 0x0400) != 0, Int8ul),  # only with Extended
    "WantWholeStore" / Int8ul,
    "FolderId" / If(this.WantWholeStore == 0, FolderID),
    "MessageId" / If(this.WantWholeStore == 0, MessageID),
)

RopRegisterNotificationResponse = struct(
    "MS-OXCROPS 2.2.14.1.2 RopRegisterNotification ROP Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.14.2 RopNotify (0x2A)

# The conditions of MS-OXCNOTIF 2.2.1.4.1.2, as `this` expressions over NotificationFlags.
_TYPE = this.NotificationFlags & 0x0FFF  # NotificationType
_M = (this.NotificationFlags & 0x8000) != 0  # the event is on a message
# TableEventType is None (so these are false) when the notification is not TableModified
_ROW_EVENT = (this.TableEventType == 0x0003) | (this.TableEventType == 0x0004) | (this.TableEventType == 0x0005)
_ROW_DATA_EVENT = (this.TableEventType == 0x0003) | (this.TableEventType == 0x0005)
_NOT_TABLE = (_TYPE != 0x0100) & (_TYPE != 0x0400)
_MOVED_OR_COPIED = (_TYPE == 0x0020) | (_TYPE == 0x0040)
_CREATED_OR_MODIFIED = (_TYPE == 0x0004) | (_TYPE == 0x0010)
# ParentFolderId: created/deleted/moved/copied, on a message in a search folder (S and M set)
# or on a folder (neither set)
_PARENT = (((_TYPE == 0x0004) | (_TYPE == 0x0008) | _MOVED_OR_COPIED)
           & (((this.NotificationFlags & 0xC000) == 0xC000) | ((this.NotificationFlags & 0xC000) == 0)))

NotificationData = struct(
    "MS-OXCNOTIF 2.2.1.4.1.2 NotificationData Structure",
    "NotificationFlags" / Flags(Int16ul, NOTIFICATION_FLAGS),
    "TableEventType" / If(_TYPE == 0x0100, Enum(Int16ul, TABLE_EVENT_TYPES)),
    "TableRowFolderID" / If(_ROW_EVENT, FolderID),
    "TableRowMessageID" / If(_M & _ROW_EVENT, MessageID),
    "TableRowInstance" / If(_M & _ROW_EVENT, Int32ul),
    "InsertAfterTableRowFolderID" / If(_ROW_DATA_EVENT, FolderID),
    "InsertAfterTableRowID" / If(_M & _ROW_DATA_EVENT, MessageID),
    "InsertAfterTableRowInstance" / If(_M & _ROW_DATA_EVENT, Int32ul),
    "TableRowDataSize" / If(_ROW_DATA_EVENT, SizeOf(Int16ul, "TableRowData")),
    # a PropertyRow in the table's columns (its last RopSetColumns)
    "TableRowData" / If(_ROW_DATA_EVENT, Sized(this.TableRowDataSize, PropertyRow(this._params.request_rop._columns),
                                               "TableRowData", Int16ul)),
    "FolderId" / If(_NOT_TABLE, FolderID),
    "MessageId" / If(_NOT_TABLE & _M, MessageID),
    "ParentFolderId" / If(_PARENT, FolderID),
    "OldFolderId" / If(_MOVED_OR_COPIED, FolderID),
    "OldMessageId" / If(_MOVED_OR_COPIED & _M, MessageID),
    "OldParentFolderId" / If(_MOVED_OR_COPIED & ((this.NotificationFlags & 0x8000) == 0), FolderID),
    "TagCount" / If(_CREATED_OR_MODIFIED, Int16ul),
    "Tags" / If(_CREATED_OR_MODIFIED & (this.TagCount != 0) & (this.TagCount != 0xFFFF),
                BoundedArray(this.TagCount, PropertyTag)),
    "TotalMessageCount" / If((this.NotificationFlags & 0x1000) != 0, Int32ul),
    "UnreadMessageCount" / If((this.NotificationFlags & 0x2000) != 0, Int32ul),
    "MessageFlags" / If(_TYPE == 0x0002, Int32ul),  # PidTagMessageFlags, MS-OXCMSG 2.2.1.6
    "UnicodeFlag" / If(_TYPE == 0x0002, Int8ul),
    "MessageClass" / If(_TYPE == 0x0002, IfThenElse(this.UnicodeFlag != 0, UnicodeZ, AsciiZ)),
)

RopNotifyResponse = struct(
    "MS-OXCROPS 2.2.14.2.1 RopNotify ROP Response Buffer",
    "RopId" / Int8ul,
    "NotificationHandle" / Int32ul,  # a Server object handle, not an index
    "LogonId" / Int8ul,
    "NotificationData" / NotificationData,
)

# 2.2.14.3 RopPending (0x6E)

RopPendingResponse = struct(
    "MS-OXCROPS 2.2.14.3.1 RopPending ROP Response Buffer",
    "RopId" / Int8ul,
    "SessionIndex" / Int16ul,
)

ROPS = [
    RopDef(0x29, "RopRegisterNotification", "MS-OXCROPS 2.2.14.1", request=RopRegisterNotificationRequest,
           response=RopRegisterNotificationResponse),
    RopDef(0x2A, "RopNotify", "MS-OXCROPS 2.2.14.2", response=RopNotifyResponse, has_return_value=False),
    RopDef(0x6E, "RopPending", "MS-OXCROPS 2.2.14.3", response=RopPendingResponse, has_return_value=False),
]
