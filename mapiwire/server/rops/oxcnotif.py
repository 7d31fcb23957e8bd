"""MS-OXCNOTIF: RopRegisterNotification (MS-OXCROPS 2.2.14.1) and the RopNotify values that
store events turn into (MS-OXCNOTIF 2.2.1.4.1.2 NotificationData, 3.2.5)."""

from __future__ import annotations

from ..store import MISSING, TAG, Event, id_struct, id_value
from .base import EC_INVALID_PARAM, EC_NOT_FOUND, EC_NULL_OBJECT, RopError, handler
from .objects import FolderObject, LogonObject, NotificationObject, View
from .tables import property_row

# MS-OXCNOTIF 2.2.1.2.1.1 NotificationTypes / 2.2.1.4.1.2 NotificationFlags
NEW_MAIL, OBJECT_CREATED, OBJECT_DELETED, OBJECT_MODIFIED, TABLE_MODIFIED = 0x0002, 0x0004, 0x0008, 0x0010, 0x0100
KNOWN_TYPES = 0x0002 | 0x0004 | 0x0008 | 0x0010 | 0x0020 | 0x0040 | 0x0080 | 0x0100 | 0x0400
ON_MESSAGE = 0x8000  # the M flag: the event is on a message
NO_TAGS = 0xFFFF  # TagCount: the changed properties are not listed
# MS-OXCNOTIF 2.2.1.4.1.2 TableEventType
TABLE_ROW_ADDED, TABLE_ROW_DELETED, TABLE_ROW_MODIFIED = 0x0003, 0x0004, 0x0005
NO_NOTIFICATIONS = 0x10  # MS-OXCFOLD 2.2.1.14.1 TableFlags NoNotifications
EVENT_TYPES = {"new_mail": NEW_MAIL, "created": OBJECT_CREATED, "deleted": OBJECT_DELETED,
               "modified": OBJECT_MODIFIED}
ZERO_ID = {"ReplicaId": 0, "GlobalCounter": bytes(6)}


@handler(0x29)
def rop_register_notification(session, rop, ctx) -> dict:
    """MS-OXCNOTIF 2.2.1.2.1 RopRegisterNotification: a subscription on the whole store or on one
    folder (or one message in it) of the logon's mailbox; events of the chosen types become
    RopNotify responses on the returned handle."""
    obj = session.get(ctx, rop)
    if not isinstance(obj, (LogonObject, FolderObject)):
        raise RopError(EC_NULL_OBJECT)
    types = int(rop["NotificationTypes"])
    if not types or types & ~KNOWN_TYPES:
        raise RopError(EC_INVALID_PARAM)
    folder_id = message_id = None
    if not rop["WantWholeStore"]:
        folder_id = id_value(rop["FolderId"])
        message_id = id_value(rop["MessageId"]) or None
        if folder_id not in obj.mailbox.folders:
            raise RopError(EC_NOT_FOUND)
    session.put(ctx, rop, NotificationObject(obj.mailbox, int(rop["LogonId"]), types, folder_id, message_id))
    return {}


def object_notification(subscription: NotificationObject, event: Event) -> dict | None:
    """The NotificationData an event means for a subscription, or None (not its type, folder or message)."""
    bit = EVENT_TYPES[event.kind]
    if event.mailbox is not subscription.mailbox or not subscription.types & bit:
        return None
    if subscription.folder_id is not None and event.folder_id != subscription.folder_id:
        return None
    if subscription.message_id is not None and event.message_id != subscription.message_id:
        return None
    data = {"NotificationFlags": bit | ON_MESSAGE, "FolderId": id_struct(event.folder_id),
            "MessageId": id_struct(event.message_id)}
    if bit in (OBJECT_CREATED, OBJECT_MODIFIED):
        data["TagCount"] = NO_TAGS
    if bit == NEW_MAIL:
        message = event.mailbox.folders[event.folder_id].messages.get(event.message_id)
        view = View(event.mailbox, message) if message is not None else None
        flags = view.get(TAG["PidTagMessageFlags"]) if view else 0
        message_class = view.get(TAG["PidTagMessageClass"]) if view else "IPM.Note"
        data.update({"MessageFlags": 0 if flags is MISSING else flags, "UnicodeFlag": 1,
                     "MessageClass": "IPM.Note" if message_class is MISSING else message_class})
    return data


def table_notification(obj, event: Event) -> dict | None:
    """A TableModified NotificationData (TableRowAdded / Modified / Deleted) for a contents table
    of the event's folder that has columns and was not opened with NoNotifications."""
    table = obj.table
    if (table.kind != "contents" or event.mailbox is not table.mailbox or event.folder_id != table.source
            or table.flags & NO_NOTIFICATIONS or table.columns is None or event.kind == "new_mail"):
        return None
    flags = TABLE_MODIFIED | ON_MESSAGE
    if event.kind == "deleted":
        return {"NotificationFlags": flags, "TableEventType": TABLE_ROW_DELETED,
                "TableRowFolderID": id_struct(event.folder_id), "TableRowMessageID": id_struct(event.message_id),
                "TableRowInstance": 0}
    rows = table.rows()
    index = table.index_of(rows, event.message_id)
    if index is None:  # restricted out
        return None
    before = rows[index - 1].item if index else None
    return {"NotificationFlags": flags,
            "TableEventType": TABLE_ROW_ADDED if event.kind == "created" else TABLE_ROW_MODIFIED,
            "TableRowFolderID": id_struct(event.folder_id), "TableRowMessageID": id_struct(event.message_id),
            "TableRowInstance": 0,
            "InsertAfterTableRowFolderID": id_struct(before.folder_id) if before else ZERO_ID,
            "InsertAfterTableRowID": id_struct(before.mid) if before else ZERO_ID,
            "InsertAfterTableRowInstance": 0,
            "TableRowData": property_row(rows[index], table.column_tags)}
