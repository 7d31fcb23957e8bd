"""The Server objects a session's handles name (MS-OXCROPS 1.3.2) and the properties each shows.

Stored properties come from the store's `Props`; the ones the store computes (ids, counts,
sizes, entry ids, display lists) are added here, per object kind (MS-OXCFOLD 2.2.2.2,
MS-OXCMSG 2.2.1, 2.2.2). Messages and attachments are opened as working copies that
RopSaveChangesMessage / RopSaveChangesAttachment commit (MS-OXCMSG 3.2.5.3).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from ..store import (MF_HAS_ATTACH, MF_READ, MISSING, PT_BINARY, PT_UNICODE, RECIPIENT_BCC, RECIPIENT_CC,
                     RECIPIENT_TO, TAG, Attachment, Folder, Mailbox, Message, Props, convert,
                     convertible)
from .base import EC_OBJECT_DELETED, RopError


@dataclass
class LogonObject:
    mailbox: Mailbox
    logon_id: int
    flags: int


@dataclass
class FolderObject:
    mailbox: Mailbox
    fid: int

    @property
    def folder(self) -> Folder:
        folder = self.mailbox.folders.get(self.fid)
        if folder is None:
            raise RopError(EC_OBJECT_DELETED)
        return folder


@dataclass
class MessageObject:
    """An open message: `message` is the working copy, committed by RopSaveChangesMessage."""

    mailbox: Mailbox
    message: Message
    is_new: bool
    writable: bool
    submitted: bool = False


@dataclass
class AttachmentObject:
    """An open attachment: a working copy that RopSaveChangesAttachment puts into `parent`'s message."""

    parent: MessageObject
    attachment: Attachment
    writable: bool


@dataclass
class StreamObject:
    """An open property stream (MS-OXCPRPT 2.2.14): the bytes, the position, the owner to commit to."""

    owner: object
    tag: int
    data: bytearray
    writable: bool
    position: int = 0
    dirty: bool = False


@dataclass
class NotificationObject:
    """A RopRegisterNotification subscription (MS-OXCNOTIF 2.2.1.2.1)."""

    mailbox: Mailbox
    logon_id: int
    types: int
    folder_id: int | None  # None: the whole store
    message_id: int | None


@dataclass
class TableObject:
    table: object  # tables.Table
    logon_id: int


# Properties -----------------------------------------------------------------------------------------

def _count_unread(folder: Folder) -> int:
    return sum(1 for m in folder.messages.values() if not _flags(m) & MF_READ)


def _flags(message: Message) -> int:
    return int(message.props.values.get(0x0E07, (0, 0))[1])


def _display_list(message: Message, recipient_type: int) -> str:
    return "; ".join(str(r.props.values.get(0x3001, (0, ""))[1]) for r in message.recipients
                     if r.recipient_type == recipient_type)


def _message_size(message: Message) -> int:
    """MS-OXCMSG 2.2.1.7 PidTagMessageSize: the message's, its recipients' and attachments' values."""
    return (message.props.size + sum(r.props.size for r in message.recipients)
            + sum(a.props.size for a in message.attachments.values()))


FOLDER_COMPUTED = {
    TAG["PidTagFolderId"]: lambda mb, f: f.fid,
    TAG["PidTagParentFolderId"]: lambda mb, f: f.parent_id or 0,
    TAG["PidTagContentCount"]: lambda mb, f: len(f.messages),
    TAG["PidTagContentUnreadCount"]: lambda mb, f: _count_unread(f),
    TAG["PidTagSubfolders"]: lambda mb, f: bool(f.children),
    TAG["PidTagFolderType"]: lambda mb, f: 0 if f.parent_id is None else 1,  # MS-OXCFOLD 2.2.2.2.1.2
    TAG["PidTagEntryId"]: lambda mb, f: mb.folder_entry_id(f.fid),
    TAG["PidTagParentEntryId"]: lambda mb, f: mb.folder_entry_id(f.parent_id or f.fid),
    TAG["PidTagRecordKey"]: lambda mb, f: mb.folder_entry_id(f.fid),
    TAG["PidTagSourceKey"]: lambda mb, f: mb.source_key(f.fid),
    TAG["PidTagParentSourceKey"]: lambda mb, f: mb.source_key(f.parent_id) if f.parent_id else b"",
    TAG["PidTagInstanceKey"]: lambda mb, f: f.fid.to_bytes(8, "little"),
    TAG["PidTagMessageSize"]: lambda mb, f: sum(_message_size(m) for m in f.messages.values()),
}

MESSAGE_COMPUTED = {
    TAG["PidTagMid"]: lambda mb, m: m.mid,
    TAG["PidTagInstID"]: lambda mb, m: m.mid,
    TAG["PidTagInstanceNum"]: lambda mb, m: 0,
    TAG["PidTagParentFolderId"]: lambda mb, m: m.folder_id,
    TAG["PidTagFolderId"]: lambda mb, m: m.folder_id,
    TAG["PidTagEntryId"]: lambda mb, m: mb.message_entry_id(m.folder_id, m.mid),
    TAG["PidTagParentEntryId"]: lambda mb, m: mb.folder_entry_id(m.folder_id),
    TAG["PidTagRecordKey"]: lambda mb, m: mb.message_entry_id(m.folder_id, m.mid),
    TAG["PidTagSourceKey"]: lambda mb, m: mb.source_key(m.mid),
    TAG["PidTagParentSourceKey"]: lambda mb, m: mb.source_key(m.folder_id),
    TAG["PidTagInstanceKey"]: lambda mb, m: m.mid.to_bytes(8, "little"),
    TAG["PidTagMessageSize"]: lambda mb, m: _message_size(m),
    TAG["PidTagHasAttachments"]: lambda mb, m: bool(m.attachments),
    TAG["PidTagRead"]: lambda mb, m: bool(_flags(m) & MF_READ),
    TAG["PidTagDisplayTo"]: lambda mb, m: _display_list(m, RECIPIENT_TO),
    TAG["PidTagDisplayCc"]: lambda mb, m: _display_list(m, RECIPIENT_CC),
    TAG["PidTagDisplayBcc"]: lambda mb, m: _display_list(m, RECIPIENT_BCC),
    TAG["PidTagMessageFlags"]: lambda mb, m: (_flags(m) & ~MF_HAS_ATTACH) | (MF_HAS_ATTACH if m.attachments else 0),
}

ATTACHMENT_COMPUTED = {
    TAG["PidTagAttachSize"]: lambda mb, a: a.props.size,
    TAG["PidTagAttachNumber"]: lambda mb, a: a.number,
}


class View:
    """The properties of one store item as a client sees them: stored plus computed."""

    __slots__ = ("mailbox", "item", "computed", "extra")

    def __init__(self, mailbox: Mailbox, item, extra: dict | None = None):
        self.mailbox = mailbox
        self.item = item
        self.computed = COMPUTED.get(type(item), {})  # property id -> (tag, compute)
        self.extra = extra or {}  # row-only values (PidTagDepth, PidTagRowid ...): tag -> value

    @property
    def props(self) -> Props:
        return self.item.props

    def get(self, tag: int):
        """The value for `tag` (converted to its type), or MISSING."""
        if tag in self.extra:
            return self.extra[tag]
        computed = self.computed.get(tag >> 16)
        if computed is not None:  # computed only when it can be given in the type asked for
            if not convertible(computed[0] & 0xFFFF, tag & 0xFFFF):
                return MISSING
            return computed[1](self.mailbox, self.item)
        stored = self.props.values.get(tag >> 16)
        if stored is None:
            return MISSING
        return convert(stored[0], stored[1], tag & 0xFFFF)

    def typed(self, tag: int) -> tuple[int, object]:
        """(type, value) for a tag whose type may be PtypUnspecified; (0, MISSING) when absent."""
        if tag & 0xFFFF:
            return tag & 0xFFFF, self.get(tag)
        computed = self.computed.get(tag >> 16)
        if computed is not None:
            return computed[0] & 0xFFFF, computed[1](self.mailbox, self.item)
        stored = self.props.values.get(tag >> 16)
        return (stored[0], stored[1]) if stored else (0, MISSING)

    def tags(self) -> list[int]:
        stored = self.props.tags()
        known = {t >> 16 for t in stored}
        return stored + [tag for prop_id, (tag, _) in self.computed.items() if prop_id not in known]


def view_of(obj) -> View | None:
    """The property view of an open object (None: the object has no properties)."""
    if isinstance(obj, FolderObject):
        return View(obj.mailbox, obj.folder)
    if isinstance(obj, MessageObject):
        return View(obj.mailbox, obj.message)
    if isinstance(obj, AttachmentObject):
        return View(obj.parent.mailbox, obj.attachment)
    if isinstance(obj, LogonObject):
        return View(obj.mailbox, _store_properties(obj.mailbox))
    return None


class _StoreItem:
    """The logon object's properties (MS-OXCSTOR 2.2.2: PidTagDisplayName, PidTagMailboxOwnerName ...)."""

    def __init__(self, props: Props):
        self.props = props


STORE_COMPUTED = {
    TAG["PidTagMessageSizeExtended"]: lambda mb, s: sum(_message_size(m) for f in mb.folders.values()
                                                        for m in f.messages.values()),
}


_STORE_ITEMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Mailbox -> its logon object's _StoreItem


def _store_properties(mailbox: Mailbox) -> _StoreItem:
    """The logon object's stored properties, made once per mailbox: they derive from what never
    changes (the owner, the mailbox GUID, the Root folder) and no ROP may write them (MS-OXCPRPT
    3.2.5.4: a logon is read-only here)."""
    item = _STORE_ITEMS.get(mailbox)
    if item is None:
        item = _STORE_ITEMS[mailbox] = _new_store_properties(mailbox)
    return item


def _new_store_properties(mailbox: Mailbox) -> _StoreItem:
    props = Props()
    props.set(TAG["PidTagDisplayName"], f"Mailbox - {mailbox.user.display_name}")
    props.set(TAG["PidTagMailboxOwnerName"], mailbox.user.display_name)
    props.set(TAG["PidTagUserEntryId"], mailbox.folder_entry_id(mailbox.special[0]))
    props.set(TAG["PidTagRecordKey"], mailbox.mailbox_guid.bytes_le)
    # STORE_ENTRYID_UNIQUE | STORE_MODIFY_OK | STORE_UNICODE_OK (MS-OXCSTOR 2.2.2.1.1.1 PidTagStoreSupportMask)
    props.set(TAG["PidTagStoreSupportMask"], 0x00000001 | 0x00000010 | 0x00040000)
    return _StoreItem(props)


def _by_id(computed: dict) -> dict:
    """{property id: (tag, compute)} of a table of computed properties."""
    return {tag >> 16: (tag, compute) for tag, compute in computed.items()}


# the computed properties of each kind of store item, by property id
COMPUTED = {Folder: _by_id(FOLDER_COMPUTED), Message: _by_id(MESSAGE_COMPUTED),
            Attachment: _by_id(ATTACHMENT_COMPUTED), _StoreItem: _by_id(STORE_COMPUTED)}


def stream_bytes(value, ptype: int) -> bytes:
    """A property's value as the bytes of its stream (MS-OXCPRPT 2.2.14: strings without the null)."""
    if ptype == PT_UNICODE:
        return str(value).encode("utf-16-le", "surrogatepass")
    if ptype == PT_BINARY:
        return bytes(value)
    return str(value).encode("latin-1", "replace")


def stream_value(data: bytes, ptype: int):
    if ptype == PT_UNICODE:
        return data[: len(data) // 2 * 2].decode("utf-16-le", "replace")
    if ptype == PT_BINARY:
        return bytes(data)
    return data.decode("latin-1")


__all__ = ["MISSING", "AttachmentObject", "FolderObject", "LogonObject", "MessageObject", "NotificationObject",
           "StreamObject", "TableObject", "View", "stream_bytes", "stream_value", "view_of"]
