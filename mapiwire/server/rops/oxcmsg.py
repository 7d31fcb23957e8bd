"""MS-OXCMSG handlers: message and attachment ROPs (MS-OXCROPS 2.2.6).

A message is opened as a working copy (`MessageObject.message`); RopSaveChangesMessage stores
it. Attachments are working copies of the open message's attachments; RopSaveChangesAttachment
puts them back into the message (MS-OXCMSG 3.2.5.3, 3.2.5.15).
"""

from __future__ import annotations

from ..fixture import address_props
from ..store import (MF_READ, MF_UNSENT, TAG, Attachment, Message, Props, Recipient, filetime,
                     id_struct, id_value)
from ...dissect.defs.oxcdata import tag_container, tag_value
from .base import EC_ACCESS_DENIED, EC_NOT_FOUND, EC_NULL_OBJECT, EC_OBJECT_DELETED, RopError, handler
from .objects import AttachmentObject, FolderObject, LogonObject, MessageObject, TableObject, View
from .tables import Table, property_row

KEEP_OPEN_READ_ONLY, KEEP_OPEN_READ_WRITE = 0x01, 0x02  # MS-OXCMSG 2.2.3.3.1 SaveFlags
READ_WRITE = 0x01  # MS-OXCMSG 2.2.3.1.1 / 2.2.3.12.1: ReadWrite (BestAccess 0x03 includes it)
CLEAR_READ = 0x04  # MS-OXCMSG 2.2.3.10.1 rfClearReadFlag
GENERATE_RECEIPT_ONLY = 0x10
CLEAR_NOTIFY = 0x20 | 0x40
UNICODE_CODE_PAGE = 0x0FFF  # MS-OXCMSG 2.2.3.1.1 CodePageId: strings in Unicode
MAX_RECIPIENTS = 500
MAX_ATTACHMENTS = 200
# The columns of RecipientRow.RecipientProperties this server answers with (MS-OXCMSG 2.2.3.1.2)
RECIPIENT_COLUMNS = [TAG["PidTagObjectType"], TAG["PidTagDisplayType"], TAG["PidTagSmtpAddress"],
                     TAG["PidTagRecipientDisplayName"]]
# MS-OXCDATA 2.8.3.1 RecipientFlags
TYPE_X500, TYPE_SMTP, TYPE_MASK = 0x1, 0x3, 0x7
FLAG_E, FLAG_D, FLAG_T, FLAG_U, FLAG_O = 0x0008, 0x0010, 0x0020, 0x0200, 0x8000


def _folder_mailbox(session, ctx, rop):
    obj = session.get(ctx, rop)
    if not isinstance(obj, (LogonObject, FolderObject)):
        raise RopError(EC_NULL_OBJECT)
    return obj.mailbox


def _message(session, ctx, rop, field: str = "InputHandleIndex") -> MessageObject:
    return session.get(ctx, rop, field, kind=MessageObject)


def _typed_string(value) -> dict:
    """MS-OXCDATA 2.11.7 TypedString: Empty for "", else Unicode."""
    return {"StringType": 0x01, "String": None} if not value else {"StringType": 0x04, "String": value}


def recipient_row(view: View) -> dict:
    """MS-OXCDATA 2.8.3.2 RecipientRow of a stored recipient: X500 for the store's users, SMTP otherwise."""
    props = view.props.values
    address_type = props.get(TAG["PidTagAddressType"] >> 16, (0, "SMTP"))[1]
    name = props.get(TAG["PidTagDisplayName"] >> 16, (0, ""))[1]
    email = props.get(TAG["PidTagEmailAddress"] >> 16, (0, ""))[1]
    row = {"DisplayName": name, "TransmittableDisplayName": name, "RecipientColumnCount": len(RECIPIENT_COLUMNS),
           "RecipientProperties": property_row(view, RECIPIENT_COLUMNS)}
    if address_type == "EX":
        row.update({"RecipientFlags": TYPE_X500 | FLAG_D | FLAG_T | FLAG_U, "AddressPrefixUsed": 0,
                    "DisplayType": 0, "X500DN": email})
    else:
        row.update({"RecipientFlags": TYPE_SMTP | FLAG_E | FLAG_D | FLAG_T | FLAG_U, "EmailAddress": email})
    return row


def message_information(mailbox, message: Message) -> dict:
    """What RopOpenMessage answers about the message (MS-OXCROPS 2.2.6.1.2)."""
    props = message.props.values
    rows = [{"RecipientType": r.recipient_type, "CodePageId": UNICODE_CODE_PAGE, "Reserved": 0,
             "RecipientRow": recipient_row(View(mailbox, r))} for r in message.recipients[:255]]
    return {"HasNamedProperties": int(any(pid >= 0x8000 for pid in props)),
            "SubjectPrefix": _typed_string(props.get(TAG["PidTagSubjectPrefix"] >> 16, (0, ""))[1]),
            "NormalizedSubject": _typed_string(props.get(TAG["PidTagNormalizedSubject"] >> 16, (0, ""))[1]),
            "RecipientCount": len(message.recipients),
            "RecipientColumns": [tag_container(t) for t in RECIPIENT_COLUMNS], "RecipientRows": rows}


@handler(0x03)
def rop_open_message(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.1 RopOpenMessage: FolderId + MessageId; ReadWrite or BestAccess make it writable."""
    mailbox = _folder_mailbox(session, ctx, rop)
    folder = mailbox.folders.get(id_value(rop["FolderId"]))
    message = folder.messages.get(id_value(rop["MessageId"])) if folder else None
    if message is None:
        raise RopError(EC_NOT_FOUND)
    writable = bool(int(rop["OpenModeFlags"]) & READ_WRITE)
    working = message.clone()
    session.put(ctx, rop, MessageObject(mailbox, working, is_new=False, writable=writable))
    return message_information(mailbox, working)


@handler(0x10)
def rop_reload_cached_information(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.7 RopReloadCachedInformation: RopOpenMessage's answer for the open message."""
    message = _message(session, ctx, rop)
    return message_information(message.mailbox, message.message)


@handler(0x06)
def rop_create_message(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.2 RopCreateMessage: a new unsent message in the folder (stored on save);
    its id is given now (HasMessageId)."""
    mailbox = _folder_mailbox(session, ctx, rop)
    fid = id_value(rop["FolderId"])
    if fid not in mailbox.folders:
        raise RopError(EC_NOT_FOUND)
    session.check_output(ctx, rop)
    message = Message(mailbox.allocate_id(), fid, Props(), associated=bool(rop["AssociatedFlag"]))
    now = filetime()
    message.props.set(TAG["PidTagMessageClass"], "IPM.Note")
    message.props.set(TAG["PidTagMessageFlags"], MF_READ | MF_UNSENT)
    message.props.set(TAG["PidTagImportance"], 1)
    message.props.set(TAG["PidTagCreationTime"], now)
    message.props.set(TAG["PidTagLastModificationTime"], now)
    session.put(ctx, rop, MessageObject(mailbox, message, is_new=True, writable=True))
    return {"HasMessageId": 1, "MessageId": id_struct(message.mid)}


@handler(0x0C)
def rop_save_changes_message(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.3 RopSaveChangesMessage: the working copy becomes the stored message; with
    KeepOpenReadOnly the message stays open for reading only. A full mailbox is ecQuotaExceeded."""
    obj = _message(session, ctx, rop)
    if not obj.writable:
        raise RopError(EC_ACCESS_DENIED)
    folder = obj.mailbox.folders.get(obj.message.folder_id)
    if folder is None or (not obj.is_new and obj.message.mid not in folder.messages):
        raise RopError(EC_OBJECT_DELETED)  # the folder or the stored message went meanwhile
    subject = obj.message.props.values.get(TAG["PidTagSubject"] >> 16)
    if subject is not None and TAG["PidTagNormalizedSubject"] >> 16 not in obj.message.props.values:
        obj.message.props.set(TAG["PidTagNormalizedSubject"], subject[1])
    obj.mailbox.save_message(obj.message.clone())
    obj.is_new = False
    if int(rop["SaveFlags"]) & 0x03 == KEEP_OPEN_READ_ONLY:
        obj.writable = False
    return {"InputHandleIndex": int(rop["InputHandleIndex"]), "MessageId": id_struct(obj.message.mid)}


@handler(0x0D)
def rop_remove_all_recipients(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.4 RopRemoveAllRecipients."""
    obj = _message(session, ctx, rop)
    if not obj.writable:
        raise RopError(EC_ACCESS_DENIED)
    obj.message.recipients.clear()
    return {}


@handler(0x0E)
def rop_modify_recipients(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.5 RopModifyRecipients: each row replaces the recipient with its RowId, or
    removes it when the row is empty; the row's properties follow the request's columns."""
    obj = _message(session, ctx, rop)
    if not obj.writable:
        raise RopError(EC_ACCESS_DENIED)
    columns = [tag_value(t) for t in rop["RecipientColumns"]]
    recipients = {r.row_id: r for r in obj.message.recipients}
    for row in rop["RecipientRows"]:
        row_id = int(row["RowId"])
        recipients.pop(row_id, None)
        if row["RecipientRow"] is None:
            continue
        if len(recipients) >= MAX_RECIPIENTS:
            raise RopError(0x00000505)  # ecTooManyRecips
        recipients[row_id] = _recipient(session.store, row_id, int(row["RecipientType"]), row["RecipientRow"],
                                        columns)
    obj.message.recipients = [recipients[k] for k in sorted(recipients)]
    return {}


def _recipient(store, row_id: int, recipient_type: int, row, columns: list[int]) -> Recipient:
    """A Recipient from a RecipientRow (MS-OXCDATA 2.8.3.2) and its property values."""
    flags = int(row["RecipientFlags"])
    address = row.get("X500DN") if flags & TYPE_MASK == TYPE_X500 else row.get("EmailAddress")
    props = address_props(store, address or row.get("DisplayName") or "")
    if row.get("DisplayName"):
        props.set(TAG["PidTagDisplayName"], row["DisplayName"])
    values = row["RecipientProperties"]["ValueArray"]
    for tag, item in zip(columns, values):
        if item.get("Flag", 0) == 0 and tag & 0xFFFF not in (0x0000, 0x000A):
            props.set(tag, item["PropertyValue"])
    props.set(TAG["PidTagRecipientType"], recipient_type)
    props.set(TAG["PidTagRowid"], row_id)
    return Recipient(row_id, recipient_type, props)


@handler(0x0F)
def rop_read_recipients(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.6 RopReadRecipients: the recipients from RowId on (at most 255 a time)."""
    obj = _message(session, ctx, rop)
    rop["_columns"] = [tag_container(t) for t in RECIPIENT_COLUMNS]
    start = int(rop["RowId"])
    chosen = [r for r in obj.message.recipients if r.row_id >= start][:255]
    if not chosen:
        raise RopError(EC_NOT_FOUND)
    return {"RecipientRows": [{"RowId": r.row_id, "RecipientType": r.recipient_type, "CodePageId": UNICODE_CODE_PAGE,
                               "Reserved": 0, "RecipientRow": recipient_row(View(obj.mailbox, r))}
                              for r in chosen]}


def _set_read(message: Message, flags: int) -> bool:
    """Apply ReadFlags (MS-OXCMSG 2.2.3.10.1) to PidTagMessageFlags; True when mfRead changed."""
    if flags & (GENERATE_RECEIPT_ONLY | CLEAR_NOTIFY):
        return False
    current = int(message.props.values.get(TAG["PidTagMessageFlags"] >> 16, (0, 0))[1])
    wanted = current & ~MF_READ if flags & CLEAR_READ else current | MF_READ
    message.props.set(TAG["PidTagMessageFlags"], wanted)
    return wanted != current


@handler(0x11)
def rop_set_message_read_flag(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.11 RopSetMessageReadFlag: the read state changes in the store at once (no
    save needed). ReadStatusChanged with its ClientData is for public folders logons; a private
    mailbox answers 0."""
    obj = _message(session, ctx, rop)
    flags = int(rop["ReadFlags"])
    _set_read(obj.message, flags)
    folder = obj.mailbox.folders.get(obj.message.folder_id)
    stored = folder.messages.get(obj.message.mid) if folder else None
    if stored is not None and _set_read(stored, flags):
        obj.mailbox.save_message(stored)
    return {"ReadStatusChanged": 0}


@handler(0x66)
def rop_set_read_flags(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.10 RopSetReadFlags: on the listed messages of the folder (all when none)."""
    folder = session.get(ctx, rop, kind=FolderObject)
    messages = folder.folder.messages
    ids = [id_value(m) for m in rop["MessageIds"]] or list(messages)
    missing = 0
    for mid in ids:
        message = messages.get(mid)
        if message is None:
            missing += 1
        elif _set_read(message, int(rop["ReadFlags"])):
            folder.mailbox.save_message(message)
    return {"PartialCompletion": int(missing > 0)}


def _folder_message(session, ctx, rop):
    folder = session.get(ctx, rop, kind=FolderObject)
    message = folder.folder.messages.get(id_value(rop["MessageId"]))
    if message is None:
        raise RopError(EC_NOT_FOUND)
    return folder, message


@handler(0x20)
def rop_set_message_status(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.8 RopSetMessageStatus: the masked bits of PidTagMessageStatus change at once
    (no save); the answer is the status before."""
    _, message = _folder_message(session, ctx, rop)
    before = int(message.props.values.get(TAG["PidTagMessageStatus"] >> 16, (0, 0))[1])
    mask = int(rop["MessageStatusMask"])
    message.props.set(TAG["PidTagMessageStatus"], (before & ~mask) | (int(rop["MessageStatusFlags"]) & mask))
    return {"MessageStatusFlags": before}


@handler(0x1F)
def rop_get_message_status(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.9 RopGetMessageStatus: PidTagMessageStatus of a message of the folder."""
    _, message = _folder_message(session, ctx, rop)
    return {"MessageStatusFlags": int(message.props.values.get(TAG["PidTagMessageStatus"] >> 16, (0, 0))[1])}


# Attachments ----------------------------------------------------------------------------------------

@handler(0x21)
def rop_get_attachment_table(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.17 RopGetAttachmentTable: the open message's attachments."""
    obj = _message(session, ctx, rop)
    table = Table(obj.mailbox, "attachments", obj, int(rop["TableFlags"]))
    session.put(ctx, rop, TableObject(table, int(rop["LogonId"])))
    return {}


@handler(0x22)
def rop_open_attachment(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.12 RopOpenAttachment: by AttachmentID (PidTagAttachNumber)."""
    obj = _message(session, ctx, rop)
    attachment = obj.message.attachments.get(int(rop["AttachmentID"]))
    if attachment is None:
        raise RopError(EC_NOT_FOUND)
    writable = bool(int(rop["OpenAttachmentFlags"]) & READ_WRITE) and obj.writable
    session.put(ctx, rop, AttachmentObject(obj, Attachment(attachment.number, attachment.props.copy()),
                                           writable=writable))
    return {}


@handler(0x23)
def rop_create_attachment(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.13 RopCreateAttachment: a new attachment number on a writable message."""
    obj = _message(session, ctx, rop)
    if not obj.writable:
        raise RopError(EC_ACCESS_DENIED)
    if len(obj.message.attachments) >= MAX_ATTACHMENTS:
        raise RopError(0x000004DD)  # ecShutoffQuotaExceeded
    session.check_output(ctx, rop)
    number = obj.message.next_attachment
    obj.message.next_attachment += 1
    attachment = Attachment(number, Props())
    attachment.props.set(TAG["PidTagAttachNumber"], number)
    attachment.props.set(TAG["PidTagRenderingPosition"], -1)
    session.put(ctx, rop, AttachmentObject(obj, attachment, writable=True))
    return {"AttachmentID": number}


@handler(0x24)
def rop_delete_attachment(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.14 RopDeleteAttachment (the message keeps the change until it is saved)."""
    obj = _message(session, ctx, rop)
    if not obj.writable:
        raise RopError(EC_ACCESS_DENIED)
    if obj.message.attachments.pop(int(rop["AttachmentID"]), None) is None:
        raise RopError(EC_NOT_FOUND)
    return {}


@handler(0x25)
def rop_save_changes_attachment(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.15 RopSaveChangesAttachment: the attachment goes into the open message."""
    obj = session.get(ctx, rop, kind=AttachmentObject)
    if not obj.writable:
        raise RopError(EC_ACCESS_DENIED)
    saved = Attachment(obj.attachment.number, obj.attachment.props.copy())
    obj.parent.message.attachments[saved.number] = saved
    return {}


@handler(0x52)
def rop_get_valid_attachments(session, rop, ctx) -> dict:
    """MS-OXCMSG 3.2.5.18 RopGetValidAttachments: the attachment numbers of the open message."""
    obj = _message(session, ctx, rop)
    return {"AttachmentIdArray": sorted(obj.message.attachments)}

