"""The in-memory mailbox store behind `mapiwire serve` (issue 7, scope 5).

A `Store` holds the organization, its users and one `Mailbox` per user: folders (the 13 special
folders of RopLogon, MS-OXCSTOR 2.2.1.1.3, and the usual IPM folders), messages with their
properties, recipients and attachments, and the per-mailbox named-property map (MS-OXCPRPT
2.2.12: ids from 0x8000 up). Ids are MS-OXCDATA 2.2.1.1 Folder/Message IDs (a 2-byte ReplicaId
and a 6-byte big-endian GlobalCounter) kept as the 64-bit integer PidTagFolderId / PidTagMid
carry; long-term ids pair the GlobalCounter with the mailbox's REPLGUID (MS-OXCDATA 2.2.1.3.1).

Properties are stored by property id with their type (`Props`). Changes go through the
mailbox (`save_message`, `delete_message`, `move_message`, ...), which tells the mailbox's
listeners (its MailboxSessions, for RopNotify) what happened. The store is shared by all the
server's sessions; `Store.lock` serialises them.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable

from ..dissect.defs.core import build
from ..dissect.defs.oxcdata import FolderEntryID, MessageEntryID
from ..dissect.defs.props import PROPERTY_NAMES, PROPERTY_TAG_NAMES, PROPERTY_TYPES_OF


def _tags() -> dict[str, int]:
    """MS-OXPROPS canonical PidTag name -> 32-bit property tag (the generated tables of props.py)."""
    tags = {name: (prop_id << 16) | PROPERTY_TYPES_OF[prop_id]
            for prop_id, name in PROPERTY_NAMES.items() if prop_id in PROPERTY_TYPES_OF and prop_id < 0x8000}
    tags.update({name: tag for tag, name in PROPERTY_TAG_NAMES.items()})
    return tags


log = logging.getLogger(__name__)
TAG = _tags()  # TAG["PidTagSubject"] == 0x0037001F

PT_UNSPECIFIED, PT_STRING8, PT_UNICODE, PT_BINARY = 0x0000, 0x001E, 0x001F, 0x0102
STRING_TYPES = (PT_STRING8, PT_UNICODE)
PS_PUBLIC_STRINGS = "{00020329-0000-0000-C000-000000000046}"
MAPI_STORE_PROVIDER = "{C2B1E9D4-6A2B-4F3C-9E8D-7A6B5C4D3E2F}"  # fixed for the product, ProviderUID of entry ids
NAMED_ID_FIRST, NAMED_ID_LAST = 0x8000, 0xFFFE  # MS-OXPROPS 1.3.1
MAX_NAMED_PER_MAILBOX = 4096
MAX_MESSAGES_PER_MAILBOX = 20000  # what one mailbox may hold: memory stays bounded
MAX_FOLDERS_PER_MAILBOX = 2000
FILETIME_EPOCH = 116_444_736_000_000_000  # 1970-01-01 as a FILETIME (MS-DTYP 2.3.3)

# MS-OXCSTOR 2.2.1.1.3: the 13 FolderIds of a private mailbox logon, in order: (name, parent index, class)
SPECIAL_FOLDERS = (
    ("Root", None, None), ("Deferred Action", 0, None), ("Spooler Queue", 0, None),
    ("Top of Information Store", 0, None), ("Inbox", 3, "IPF.Note"), ("Outbox", 3, "IPF.Note"),
    ("Sent Items", 3, "IPF.Note"), ("Deleted Items", 3, "IPF.Note"), ("Common Views", 0, None),
    ("Schedule", 0, None), ("Finder", 0, None), ("Views", 0, None), ("Shortcuts", 0, None),
)
ROOT, IPM_SUBTREE, INBOX, OUTBOX, SENT_ITEMS, DELETED_ITEMS = 0, 3, 4, 5, 6, 7
# the other folders a new Exchange mailbox has under the IPM subtree (MS-OXOSFLD 2.2.2)
IPM_FOLDERS = (("Drafts", "IPF.Note"), ("Calendar", "IPF.Appointment"), ("Contacts", "IPF.Contact"),
               ("Tasks", "IPF.Task"), ("Notes", "IPF.StickyNote"), ("Journal", "IPF.Journal"),
               ("Junk Email", "IPF.Note"))
# MS-OXOSFLD 2.2.3: the entry ids of these folders are properties of the Root folder and the Inbox
SPECIAL_FOLDER_ENTRY_IDS = {"Drafts": "PidTagIpmDraftsEntryId", "Calendar": "PidTagIpmAppointmentEntryId",
                            "Contacts": "PidTagIpmContactEntryId", "Tasks": "PidTagIpmTaskEntryId",
                            "Notes": "PidTagIpmNoteEntryId", "Journal": "PidTagIpmJournalEntryId"}
# MS-OXCSTOR 2.2.1.2 receive folders: message class prefix -> special folder index
RECEIVE_FOLDERS = {"": INBOX, "IPM": INBOX, "REPORT.IPM": INBOX, "IPC": ROOT}

# MS-OXCMSG 2.2.1.6 PidTagMessageFlags bits
MF_READ, MF_UNMODIFIED, MF_SUBMITTED, MF_UNSENT, MF_HAS_ATTACH, MF_FROM_ME = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
RECIPIENT_TO, RECIPIENT_CC, RECIPIENT_BCC = 0x01, 0x02, 0x03  # MS-OXCMSG 2.2.3.1.2


class QuotaExceeded(Exception):
    """The mailbox holds as many messages or folders as it may (answered ecQuotaExceeded)."""


def filetime(seconds: float | None = None) -> int:
    """A FILETIME for a Unix time (now when None)."""
    return FILETIME_EPOCH + int((time.time() if seconds is None else seconds) * 10_000_000)


# Ids (MS-OXCDATA 2.2.1) ---------------------------------------------------------------------------

def make_id(replica: int, counter: int) -> int:
    """The 64-bit value of a Folder/Message ID: ReplicaId (2 bytes LE) then GlobalCounter (6 bytes BE)."""
    return int.from_bytes(replica.to_bytes(2, "little") + counter.to_bytes(6, "big"), "little")


def id_struct(value: int) -> dict:
    """A 64-bit id as the FolderID / MessageID structure value the definitions build."""
    data = value.to_bytes(8, "little")
    return {"ReplicaId": int.from_bytes(data[:2], "little"), "GlobalCounter": data[2:]}


def id_value(struct) -> int:
    """A parsed FolderID / MessageID structure as its 64-bit value."""
    return int.from_bytes(int(struct["ReplicaId"]).to_bytes(2, "little") + bytes(struct["GlobalCounter"]), "little")


def global_counter(value: int) -> bytes:
    return value.to_bytes(8, "little")[2:]


# Properties ----------------------------------------------------------------------------------------

def value_size(value) -> int:
    """What one property value counts toward PidTagMessageSize (MS-OXCMSG 2.2.1.7): a string's
    UTF-16 bytes and terminator, binary's bytes, 8 per fixed-size value (and per non-string
    value of a multi-valued property)."""
    if isinstance(value, str):
        return 2 * len(value) + 2
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(value, list):
        return sum(2 * len(v) + 2 if isinstance(v, str) else 8 for v in value)
    return 8


_ATOMIC = frozenset((str, bytes, int, float, bool, type(None)))  # what copy.deepcopy returns as it is


class Props:
    """Property values by property id, each with its type (MS-OXCDATA 2.9, 2.11). `size`, the sum
    of their `value_size`, is kept up to date by `set` and `delete` (the only ways to change them),
    so a message's size costs no walk over its values."""

    __slots__ = ("values", "size")

    def __init__(self, values: dict[int, tuple[int, object]] | None = None):
        self.values = dict(values or {})
        self.size = sum(value_size(value) for _, value in self.values.values())

    def set(self, tag: int, value) -> None:
        old = self.values.get(tag >> 16)
        if old is not None:
            self.size -= value_size(old[1])
        self.values[tag >> 16] = (tag & 0xFFFF, value)
        self.size += value_size(value)

    def delete(self, tag: int) -> bool:
        old = self.values.pop(tag >> 16, None)
        if old is None:
            return False
        self.size -= value_size(old[1])
        return True

    def tags(self) -> list[int]:
        return [(pid << 16) | ptype for pid, (ptype, _) in self.values.items()]

    def copy(self) -> "Props":
        """An independent copy, as deepcopy makes it: values that can change in place (lists,
        parsed structures) are copied, the immutable ones (deepcopy's atomic types) shared."""
        clone = Props.__new__(Props)
        clone.values = {prop_id: (ptype, value if type(value) in _ATOMIC else copy.deepcopy(value))
                        for prop_id, (ptype, value) in self.values.items()}
        clone.size = self.size
        return clone


MISSING = object()


def convertible(stored_type: int, wanted_type: int) -> bool:
    """Whether a value of `stored_type` can be given as `wanted_type`: the same type,
    PtypUnspecified (the stored type), or the other string type."""
    return wanted_type in (stored_type, PT_UNSPECIFIED) or (stored_type in STRING_TYPES and wanted_type in STRING_TYPES)


def convert(stored_type: int, value, wanted_type: int):
    """The stored value in the type a client asks for (see `convertible`); MISSING when it cannot
    be given in that type."""
    return value if convertible(stored_type, wanted_type) else MISSING


# Objects --------------------------------------------------------------------------------------------

@dataclass
class User:
    """A fixture user (server-contract.md): `extra` holds the fixture's other keys."""

    alias: str
    display_name: str
    smtp: str
    password: str
    dn: str
    extra: dict = field(default_factory=dict)


@dataclass
class Recipient:
    """One recipient row of a message (MS-OXCMSG 2.2.1.4 recipient properties)."""

    row_id: int
    recipient_type: int
    props: Props


@dataclass
class Attachment:
    """One attachment (MS-OXCMSG 2.2.2) with its PidTagAttachNumber."""

    number: int
    props: Props


@dataclass
class Message:
    """A message: its properties, recipients and attachments (MS-OXCMSG 2.2.1)."""

    mid: int
    folder_id: int
    props: Props
    recipients: list[Recipient] = field(default_factory=list)
    attachments: dict[int, Attachment] = field(default_factory=dict)
    next_attachment: int = 0
    associated: bool = False

    def clone(self) -> "Message":
        """An independent copy (a working copy, a moved, copied or delivered message): its own
        Props, recipients and attachments; the other fields are scalars."""
        return dataclasses.replace(
            self, props=self.props.copy(),
            recipients=[dataclasses.replace(r, props=r.props.copy()) for r in self.recipients],
            attachments={n: dataclasses.replace(a, props=a.props.copy()) for n, a in self.attachments.items()})


@dataclass
class Folder:
    """A folder: properties, subfolders (ids, in creation order) and messages by id."""

    fid: int
    parent_id: int | None
    props: Props
    children: list[int] = field(default_factory=list)
    messages: dict[int, Message] = field(default_factory=dict)


@dataclass
class Event:
    """What changed in a mailbox, for notifications (MS-OXCNOTIF 2.2.1.4.1.2 NotificationType)."""

    kind: str  # "created", "modified", "deleted", "new_mail"
    mailbox: "Mailbox"
    folder_id: int
    message_id: int | None = None


class Mailbox:
    """One user's private mailbox: folders, messages, named properties, ids."""

    replica_id = 1

    def __init__(self, store: "Store", user: User):
        self.store = store
        self.user = user
        self.mailbox_guid = uuid.uuid5(uuid.NAMESPACE_URL, f"mapiwire:mailbox:{user.alias}")
        self.repl_guid = uuid.uuid5(uuid.NAMESPACE_URL, f"mapiwire:replguid:{user.alias}")
        self.counter = 0
        self.message_count = 0
        self.folders: dict[int, Folder] = {}
        self.special: list[int] = []  # the 13 ids of MS-OXCSTOR 2.2.1.1.3
        self.named_ids: dict[tuple, int] = {}  # (GUID, LID or name) -> property id
        self.named_names: dict[int, dict] = {}  # property id -> PropertyName value
        self.listeners: set[Callable[[Event], None]] = set()
        self._create_standard_folders()
        self.receive_folders = {prefix: self.special[index] for prefix, index in RECEIVE_FOLDERS.items()}

    def emit(self, event: Event) -> None:
        """Tell every listener; one that fails is logged and does not stop the others."""
        for listener in list(self.listeners):
            try:
                listener(event)
            except Exception:
                log.exception("mailbox listener failed on %s", event.kind)

    # ids
    def allocate_id(self) -> int:
        self.counter += 1
        return make_id(self.replica_id, self.counter)

    def long_term_id(self, value: int) -> dict | None:
        """MS-OXCDATA 2.2.1.3.1 LongTermID of an id of this mailbox (None: not ours)."""
        if value & 0xFFFF != self.replica_id:
            return None
        return {"DatabaseGuid": self.repl_guid, "GlobalCounter": global_counter(value), "Pad": 0}

    def id_from_long_term(self, long_term) -> int | None:
        if uuid.UUID(str(long_term["DatabaseGuid"])) != self.repl_guid:
            return None
        return id_value({"ReplicaId": self.replica_id, "GlobalCounter": long_term["GlobalCounter"]})

    def source_key(self, value: int) -> bytes:
        """MS-OXCFXICS 2.2.1.2.5 PidTagSourceKey: an XID, the REPLGUID and the 6-byte GlobalCounter."""
        return self.repl_guid.bytes_le + global_counter(value)

    def folder_entry_id(self, fid: int) -> bytes:
        """MS-OXCDATA 2.2.4.1 Folder EntryID."""
        return build(FolderEntryID, {"Flags": 0, "ProviderUID": self.mailbox_guid, "FolderType": 0x0001,
                                     "DatabaseGuid": self.repl_guid, "GlobalCounter": global_counter(fid),
                                     "Pad": 0})

    def message_entry_id(self, fid: int, mid: int) -> bytes:
        """MS-OXCDATA 2.2.4.2 Message EntryID."""
        return build(MessageEntryID, {
            "Flags": 0, "ProviderUID": self.mailbox_guid, "MessageType": 0x0007,
            "FolderDatabaseGuid": self.repl_guid, "FolderGlobalCounter": global_counter(fid), "Pad1": 0,
            "MessageDatabaseGuid": self.repl_guid, "MessageGlobalCounter": global_counter(mid), "Pad2": 0})

    # folders
    def _create_standard_folders(self) -> None:
        for name, parent, container_class in SPECIAL_FOLDERS:
            parent_id = None if parent is None else self.special[parent]
            self.special.append(self.create_folder(parent_id, name, container_class=container_class).fid)
        for name, container_class in IPM_FOLDERS:
            folder = self.create_folder(self.special[IPM_SUBTREE], name, container_class=container_class)
            if name in SPECIAL_FOLDER_ENTRY_IDS:
                for holder in (ROOT, INBOX):
                    self.folders[self.special[holder]].props.set(TAG[SPECIAL_FOLDER_ENTRY_IDS[name]],
                                                                 self.folder_entry_id(folder.fid))

    def create_folder(self, parent_id: int | None, name: str, *, comment: str = "",
                      container_class: str | None = "IPF.Note") -> Folder:
        if len(self.folders) >= MAX_FOLDERS_PER_MAILBOX:
            raise QuotaExceeded()
        folder = Folder(self.allocate_id(), parent_id, Props())
        folder.props.set(TAG["PidTagDisplayName"], name)
        if comment:
            folder.props.set(TAG["PidTagComment"], comment)
        if container_class:
            folder.props.set(TAG["PidTagContainerClass"], container_class)
        folder.props.set(TAG["PidTagCreationTime"], filetime())
        folder.props.set(TAG["PidTagLastModificationTime"], filetime())
        self.folders[folder.fid] = folder
        if parent_id is not None:
            self.folders[parent_id].children.append(folder.fid)
        return folder

    def find_folder(self, parent_id: int, name: str) -> Folder | None:
        for child in self.folders[parent_id].children:
            folder = self.folders[child]
            if str(folder.props.values.get(0x3001, (0, ""))[1]).lower() == name.lower():
                return folder
        return None

    def folder_by_path(self, path: str) -> Folder | None:
        """A folder by its display names from the IPM subtree down: "Inbox/Projects"."""
        folder = self.folders[self.special[IPM_SUBTREE]]
        for part in filter(None, path.split("/")):
            folder = self.find_folder(folder.fid, part)
            if folder is None:
                return None
        return folder

    def delete_folder(self, fid: int) -> None:
        folder = self.folders.pop(fid)
        self.message_count -= len(folder.messages)
        for child in list(folder.children):
            self.delete_folder(child)
        if folder.parent_id in self.folders:
            self.folders[folder.parent_id].children.remove(fid)

    def receive_folder(self, message_class: str) -> tuple[int, str]:
        """MS-OXCSTOR 3.2.5.2: the folder of the longest matching message class prefix (compared
        case-insensitively), and that prefix as it was set."""
        wanted = message_class.upper()
        best = ""
        for prefix in self.receive_folders:
            upper = prefix.upper()
            if (wanted == upper or wanted.startswith(upper + ".") or not prefix) and len(prefix) >= len(best):
                best = prefix
        fid = self.receive_folders[best]
        return (fid if fid in self.folders else self.special[INBOX]), best

    def set_receive_folder(self, message_class: str, fid: int | None) -> None:
        """MS-OXCSTOR 3.2.5.3: a class's receive folder; None puts back the default (none for other classes)."""
        for key in [k for k in self.receive_folders if k.upper() == message_class.upper()]:
            del self.receive_folders[key]
        default = next((k for k in RECEIVE_FOLDERS if k == message_class.upper()), None)
        if fid is not None:
            self.receive_folders[message_class] = fid
        elif default is not None:
            self.receive_folders[default] = self.special[RECEIVE_FOLDERS[default]]

    def move_folder(self, fid: int, parent_id: int, name: str) -> None:
        """Reparent (and rename) a folder (MS-OXCFOLD 3.2.5.7); the caller checked the names."""
        folder = self.folders[fid]
        self.folders[folder.parent_id].children.remove(fid)
        self.folders[parent_id].children.append(fid)
        folder.parent_id = parent_id
        folder.props.set(TAG["PidTagDisplayName"], name)

    def copy_folder(self, fid: int, parent_id: int, name: str, recursive: bool) -> Folder:
        """A copy with new ids of a folder, its messages and, when recursive, its subfolders (MS-OXCFOLD 3.2.5.8)."""
        source = self.folders[fid]
        copy_ = self.create_folder(parent_id, name, container_class=None)
        copy_.props = source.props.copy()
        copy_.props.set(TAG["PidTagDisplayName"], name)
        for message in list(source.messages.values()):
            duplicate = message.clone()
            duplicate.mid, duplicate.folder_id = self.allocate_id(), copy_.fid
            self.save_message(duplicate)
        if recursive:
            for child in list(source.children):
                child_name = self.folders[child].props.values[TAG["PidTagDisplayName"] >> 16][1]
                self.copy_folder(child, copy_.fid, child_name, recursive)
        return copy_

    def is_within(self, fid: int, ancestor: int) -> bool:
        """True when `fid` is `ancestor` or below it."""
        while fid is not None:
            if fid == ancestor:
                return True
            fid = self.folders[fid].parent_id
        return False

    # messages
    def save_message(self, message: Message) -> None:
        """Store a new or changed message in its folder and tell the listeners."""
        folder = self.folders[message.folder_id]
        created = message.mid not in folder.messages
        if created and self.message_count >= MAX_MESSAGES_PER_MAILBOX:
            raise QuotaExceeded()
        self.message_count += created
        message.props.set(TAG["PidTagLastModificationTime"], filetime())
        folder.messages[message.mid] = message
        self.emit(Event("created" if created else "modified", self, message.folder_id, message.mid))

    def deliver(self, message: Message) -> None:
        """A message arrives in the receive folder of its class (MS-OXOMSG 3.2.5.1 submit, delivered
        here; MS-OXCSTOR 3.2.5.2), the Inbox unless set otherwise."""
        message_class = message.props.values.get(TAG["PidTagMessageClass"] >> 16, (0, "IPM.Note"))[1]
        message.folder_id = self.receive_folder(str(message_class))[0]
        self.save_message(message)
        self.emit(Event("new_mail", self, message.folder_id, message.mid))

    def delete_message(self, folder_id: int, mid: int) -> bool:
        folder = self.folders.get(folder_id)
        if folder is None or folder.messages.pop(mid, None) is None:
            return False
        self.message_count -= 1
        self.emit(Event("deleted", self, folder_id, mid))
        return True

    def move_message(self, source_id: int, mid: int, target_id: int, *, copy_only: bool) -> bool:
        source, target = self.folders.get(source_id), self.folders.get(target_id)
        if source is None or target is None or mid not in source.messages:
            return False
        message = source.messages[mid].clone()
        message.mid = self.allocate_id() if copy_only or source_id != target_id else mid
        message.folder_id = target_id
        if not copy_only:
            self.delete_message(source_id, mid)
        self.save_message(message)
        return True

    # named properties (MS-OXCPRPT 2.2.12, 3.2.5.9)
    @staticmethod
    def name_key(name) -> tuple:
        guid = "{" + str(uuid.UUID(str(name["GUID"]).strip("{}"))).upper() + "}"
        return (guid, int(name["LID"])) if int(name["Kind"]) == 0x00 else (guid, str(name["Name"]))

    def named_id(self, name, create: bool) -> int:
        """The property id of a PropertyName (MS-OXCDATA 2.6.1); 0 when unknown and not created."""
        if int(name["Kind"]) not in (0x00, 0x01):
            return 0
        key = self.name_key(name)
        prop_id = self.named_ids.get(key)
        if prop_id is None and create and len(self.named_ids) < MAX_NAMED_PER_MAILBOX:
            prop_id = NAMED_ID_FIRST + len(self.named_ids)
            self.named_ids[key] = prop_id
            self.named_names[prop_id] = ({"Kind": 0x00, "GUID": key[0], "LID": key[1]} if isinstance(key[1], int)
                                         else {"Kind": 0x01, "GUID": key[0], "Name": key[1]})
        return prop_id or 0


class Store:
    """The organization, its users and their mailboxes (server-contract.md)."""

    def __init__(self, organization: dict, users: list[User]):
        self.organization = organization
        self.users = users
        self.mailboxes: dict[str, Mailbox] = {u.alias.lower(): Mailbox(self, u) for u in users}
        self.lock = threading.RLock()

    @classmethod
    def load(cls, path: str | None = None) -> "Store":
        """The store seeded from a fixture JSON file (None: the packaged fixture)."""
        from .fixture import load_fixture

        return load_fixture(path)

    def user(self, name: str) -> User | None:
        """A user by alias, SMTP address, EssDN or DOMAIN\\alias, case-insensitively."""
        wanted = (name or "").strip().lower()
        if "\\" in wanted:
            wanted = wanted.rsplit("\\", 1)[1]
        for user in self.users:
            if wanted in (user.alias.lower(), user.smtp.lower(), user.dn.lower()):
                return user
        return None

    def mailbox(self, user: User | str) -> Mailbox | None:
        found = self.user(user) if isinstance(user, str) else user
        return self.mailboxes.get(found.alias.lower()) if found is not None else None

    def resolve_recipients(self, addresses: Iterable[str]) -> list[Mailbox]:
        """The mailboxes of this store among the given addresses (SMTP, EssDN or alias)."""
        found = []
        for address in addresses:
            mailbox = self.mailbox(address) if address else None
            if mailbox is not None and mailbox not in found:
                found.append(mailbox)
        return found
