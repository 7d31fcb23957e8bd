"""What each Server object handle is: the folder, table, message... a ROP acted on.

MS-OXCROPS 1.3.1 and 3.1.4.1: a ROP names its input object by an index into the request's
ServerObjectHandleTable, and a ROP that opens or creates an object puts the new object's handle
at its OutputHandleIndex of the response's table. `ObjectTable` follows this through a session:
for every ROP of an Execute it adds `InputObject` (and, for a ROP that made an object,
`OutputObject`) to the request and response ROPs, and `NotificationObject` to a RopNotify, each `{"Handle", "Kind", ["Name"],
["FolderId"], ["MessageId"], ...}`. Folder names come from RopLogon's special folders
(MS-OXCSTOR 2.2.1.1.3 / 2.2.1.1.4), RopGetReceiveFolder and the rows of hierarchy tables; ids are shown as
`ReplicaId-GlobalCounter` in hex (`1-1D`, MS-OXCDATA 2.2.1.1).

It also checks that each response ROP carries its request's handle index (MS-OXCROPS 2.2.1:
the response's InputHandleIndex / OutputHandleIndex are the request's).
"""

from __future__ import annotations

from .defs.oxcdata import tag_value
from .defs.ropbuffer import RequestIndex
from .defs.rops.ropids import ROP_IDS

NO_HANDLE = 0xFFFFFFFF
MAX_OBJECTS = 10_000  # per session; the oldest goes first
ROP_RELEASE, ROP_LOGON, ROP_GET_RECEIVE_FOLDER, ROP_NOTIFY, ROP_QUERY_ROWS = 0x01, 0xFE, 0x27, 0x2A, 0x15
PID_TAG_FOLDER_ID, PID_TAG_DISPLAY_NAME, PID_TAG_DISPLAY_NAME_8 = 0x67480014, 0x3001001F, 0x3001001E

# MS-OXCSTOR 2.2.1.1.3: the 13 FolderIds of a private mailbox logon, in order
PRIVATE_FOLDERS = ("Mailbox Root", "Deferred Action", "Spooler Queue", "IPM Subtree", "Inbox", "Outbox",
                   "Sent Items", "Deleted Items", "Common Views", "Schedule", "Search", "Views", "Shortcuts")
# MS-OXCSTOR 2.2.1.1.4: the FolderIds of a public folders logon (the last three are empty)
PUBLIC_FOLDERS = ("Public Folders Root", "IPM Subtree", "Non-IPM Subtree", "EFORMS REGISTRY", "Free/Busy Data",
                  "Offline Address Book Data", "EFORMS Registry (local)", "Local Site's Free/Busy Data",
                  "Local Site's Offline Address Book Data", "NNTP Newsgroups")

# The object a ROP makes at its OutputHandleIndex (MS-OXCROPS 2.2.3 - 2.2.14)
OUTPUT_KINDS = {
    "RopLogon": "logon", "RopOpenFolder": "folder", "RopCreateFolder": "folder",
    "RopGetHierarchyTable": "hierarchy table", "RopGetContentsTable": "contents table",
    "RopOpenMessage": "message", "RopCreateMessage": "message", "RopOpenEmbeddedMessage": "embedded message",
    "RopGetAttachmentTable": "attachment table", "RopOpenAttachment": "attachment",
    "RopCreateAttachment": "attachment", "RopOpenStream": "stream", "RopCloneStream": "stream",
    "RopRegisterNotification": "notification subscription", "RopGetPermissionsTable": "permissions table",
    "RopGetRulesTable": "rules table", "RopFastTransferSourceCopyTo": "fast transfer source",
    "RopFastTransferSourceCopyProperties": "fast transfer source",
    "RopFastTransferSourceCopyMessages": "fast transfer source",
    "RopFastTransferSourceCopyFolder": "fast transfer source",
    "RopFastTransferDestinationConfigure": "fast transfer destination",
    "RopSynchronizationConfigure": "synchronization source",
    "RopSynchronizationOpenCollector": "synchronization collector",
    "RopSynchronizationGetTransferState": "fast transfer source",
    "RopSynchronizationImportMessageChange": "message",
}
KIND_BY_ID = {rop_id: OUTPUT_KINDS[name] for rop_id, (name, _) in ROP_IDS.items() if name in OUTPUT_KINDS}
UNKNOWN_OBJECT = {"Kind": "object (opened before the capture)"}
TABLE_PARENT = ("hierarchy table", "contents table", "attachment table", "permissions table", "rules table")


def id_text(value) -> str | None:
    """A Folder ID / Message ID (MS-OXCDATA 2.2.1.1/2.2.1.2) as `ReplicaId-GlobalCounter` in hex."""
    if not isinstance(value, dict) or "ReplicaId" not in value or "GlobalCounter" not in value:
        return None
    counter = value["GlobalCounter"]
    if isinstance(counter, (bytes, bytearray)):
        counter = int.from_bytes(counter, "big")
    return f"{int(value['ReplicaId']):X}-{int(counter):X}"


def describe(obj: dict | None) -> str:
    """`folder Inbox (1-1D)`, `contents table of folder Inbox (1-1D)`: an object as the text shows it."""
    if not obj:
        return "unknown object"
    text = obj.get("Kind", "object")
    if obj.get("Name"):
        text += f" {obj['Name']}"
    ids = [obj[k] for k in ("FolderId", "MessageId") if obj.get(k)]
    if "AttachmentNumber" in obj:
        ids.append(f"#{obj['AttachmentNumber']}")
    if obj.get("PropertyName") or "PropertyTag" in obj:
        ids.append(obj.get("PropertyName") or f"0x{obj['PropertyTag']:08X}")
    if ids:
        text += f" ({', '.join(ids)})"
    if obj.get("Of"):
        text += " of " + describe(obj["Of"])
    return text


class ObjectTable:
    """Server object handles of one session -> what they are (see the module docstring)."""

    def __init__(self):
        self.objects: dict[int, dict] = {}  # server handle -> object
        self.folder_names: dict[str, str] = {}  # "1-1D" -> "Inbox"

    def annotate(self, rops: list, response_rops: list, request_handles: list, response_handles: list) -> list[dict]:
        """Add InputObject / OutputObject to the ROPs of one Execute and learn the objects it made;
        return the problems found (a response whose handle index is not its request's), each
        `{"index": i, "error": ...}` with i the response ROP's position."""
        problems = []
        made: dict[int, dict] = {}  # output handle index -> object made earlier in this request
        answered: dict[int, tuple[int, dict]] = {}
        requests = RequestIndex(rops)
        cursor = 0
        for i, response in enumerate(response_rops):
            if "Undecoded" in response:
                continue
            if response.get("RopId") == ROP_NOTIFY and response.get("NotificationHandle") is not None:
                target = self.objects.get(int(response["NotificationHandle"]))  # MS-OXCROPS 2.2.14.2
                if target is not None:
                    response["NotificationObject"] = _ordered(target)
            request, cursor = requests.pair(response.get("RopId"), cursor)
            if request is not None:
                answered[id(request)] = (i, response)
        for request in rops:
            if "Undecoded" in request:
                continue
            i, response = answered.get(id(request), (None, None))
            if response is not None:
                problems += self._check_index(request, response, i)
            self._annotate_one(request, response, request_handles, response_handles, made)
        self._bound()
        return problems

    def _annotate_one(self, request, response, request_handles, response_handles, made) -> None:
        rop_id = request.get("RopId")
        index = request.get("InputHandleIndex")
        source = None
        if index is not None:
            handle = _handle(request_handles, index)
            source = self.objects.get(handle) if handle is not None else made.get(index)
            if source is None and handle is None:
                handle = _handle(response_handles, index)
            if handle is not None or source is not None:
                shown = {"Handle": handle} if handle is not None else {}
                shown.update(source or UNKNOWN_OBJECT)
                if handle is not None:
                    shown["Handle"] = handle
                _set(request, response, "InputObject", shown if handle is not None else _ordered(shown))
        if rop_id == ROP_RELEASE:
            self.objects.pop(_handle(request_handles, index), None)
            return
        if response is None or response.get("ReturnValue"):
            return
        if rop_id == ROP_LOGON:
            self._learn_logon(response)
        elif rop_id == ROP_QUERY_ROWS and source is not None and source.get("Kind") == "hierarchy table":
            self._learn_rows(response.get("RowData"))
        elif rop_id == ROP_GET_RECEIVE_FOLDER:
            folder = id_text(response.get("FolderId"))
            if folder and folder not in self.folder_names:
                self.folder_names[folder] = f"receive folder of {request.get('MessageClass') or 'all classes'}"
        kind = KIND_BY_ID.get(rop_id)
        out_index = request.get("OutputHandleIndex")
        if kind is None or out_index is None:
            return
        obj = self._made(kind, request, response, source)
        handle = _handle(response_handles, out_index)
        if handle is not None:
            obj["Handle"] = handle
            self.objects.pop(handle, None)
            self.objects[handle] = obj
        made[out_index] = obj
        _set(request, response, "OutputObject", _ordered(obj))

    def _made(self, kind: str, request: dict, response: dict, source: dict | None) -> dict:
        obj = {"Kind": kind}
        if kind == "logon":
            obj["Name"] = "private mailbox" if int(request.get("LogonFlags", 0)) & 0x01 else "public folders"
        folder = id_text(request.get("FolderId")) or id_text(response.get("FolderId"))
        if kind == "folder":
            obj["Name"] = request.get("DisplayName") or self.folder_names.get(folder)
            obj["FolderId"] = folder
        if "message" in kind:
            obj["FolderId"] = folder
            obj["MessageId"] = id_text(request.get("MessageId")) or id_text(response.get("MessageId"))
        if kind == "attachment":
            obj["AttachmentNumber"] = request.get("AttachmentID", response.get("AttachmentID"))
        if kind == "stream" and request.get("PropertyTag") is not None:
            obj["PropertyTag"] = tag_value(request["PropertyTag"])
        if source is not None and (kind in TABLE_PARENT or kind in ("attachment", "stream", "embedded message")
                                   or kind.startswith(("fast transfer", "synchronization"))):
            obj["Of"] = {k: v for k, v in source.items() if k not in ("Handle",)}
        return {k: v for k, v in obj.items() if v is not None}

    def _learn_logon(self, response: dict) -> None:
        names = PRIVATE_FOLDERS if int(response.get("LogonFlags", 0)) & 0x01 else PUBLIC_FOLDERS
        for name, folder in zip(names, response.get("FolderIds") or ()):
            text = id_text(folder)
            if text and text != "0-0":
                self.folder_names[text] = name

    def _learn_rows(self, rows) -> None:
        """Folder names from hierarchy table rows that carry PidTagFolderId and PidTagDisplayName
        (MS-OXCFOLD 2.2.2.2.1.4; the id as a PtypInteger64: ReplicaId then GlobalCounter, MS-OXCDATA 2.2.1.1)."""
        for row in rows or ():
            values = {tag_value(v["PropertyTag"]): v.get("PropertyValue") for v in (row or {}).get("ValueArray") or ()
                      if isinstance(v, dict) and "PropertyTag" in v}
            folder, name = values.get(PID_TAG_FOLDER_ID), values.get(PID_TAG_DISPLAY_NAME) or values.get(PID_TAG_DISPLAY_NAME_8)
            if isinstance(folder, int) and isinstance(name, str) and 0 <= folder < 1 << 64:
                raw = folder.to_bytes(8, "little")
                self.folder_names[f"{int.from_bytes(raw[:2], 'little'):X}-{int.from_bytes(raw[2:], 'big'):X}"] = name

    @staticmethod
    def _check_index(request: dict, response: dict, i: int) -> list[dict]:
        for field in ("OutputHandleIndex", "InputHandleIndex"):
            if field in response and field in request:
                if response[field] != request[field]:
                    return [{"index": i, "error": f"{field} {response[field]} is not its request's "
                                                  f"{request[field]} (MS-OXCROPS 2.2.1)"}]
                return []
        return []

    def _bound(self) -> None:
        while len(self.objects) > MAX_OBJECTS:
            self.objects.pop(next(iter(self.objects)))
        while len(self.folder_names) > MAX_OBJECTS:
            self.folder_names.pop(next(iter(self.folder_names)))


def _handle(handles: list, index) -> int | None:
    if index is None or not 0 <= index < len(handles):
        return None
    value = handles[index]
    return None if value == NO_HANDLE else int(value)


def _ordered(obj: dict) -> dict:
    """Handle first, then what the object is (a new dict: what the record shows is not the table's)."""
    if "Handle" not in obj:
        return obj
    ordered = {"Handle": obj["Handle"]}
    ordered.update(obj)  # Handle keeps its first place
    return ordered


def _set(request: dict, response: dict | None, key: str, value: dict) -> None:
    request[key] = value
    if response is not None:
        response[key] = value
