"""Rewriting what the live server hands out, by parse → edit → build (REPLAY.md 2.8, 4.5-4.10).

Everything is done on the values the dissector's definitions parse and built again with the
same definitions: an Execute's RopBuffer is de-XORed and decompressed by `ExtendedBuffer`, edited
as plain ROP values, and re-framed with the recorded RPC_HEADER_EXT flags on build
(MS-OXCRPC 3.1.4.1.1.1). What is mapped, recorded → live, each kind with a policy
("map": replace when known, keep when not; "keep": never touch; "fail": a recorded value with
no live counterpart stops the replay):

- handle: Server object handles in the ServerObjectHandleTable (MS-OXCROPS 2.2.1, 3.2.5.1),
  learned from the recorded and live response tables at the same index, dropped on RopRelease;
- id: Folder and Message IDs (MS-OXCDATA 2.2.1.1-2) wherever they appear as structures, and
  as PtypInteger64 values of the id properties (PidTagFolderId, PidTagMid, ...) in rows;
- long_term_id: LongTermIDs (MS-OXCDATA 2.2.1.3.1, MS-OXCSTOR 3.2.5.8);
- mid: NSPI Minimal Entry IDs (MS-OXNSPI 2.2.9.1; values below 0x10 are positions, not ids);
- bookmark: table bookmarks (MS-OXCROPS 2.2.5.11 RopCreateBookmark);
- server_guid: the address book server's GUID (Bind ServerGuid, MS-OXCMAPIHTTP 2.2.5.1.2), which
  with a MId makes an EphemeralEntryID (MS-OXNSPI 2.2.9.2), rewritten wherever one appears as a
  structure or as a 32-byte binary value.
Ids, long-term ids, MIds and the server GUID are shared by the sessions of one replay (a MId the
address book session learned is used in the mailbox session's recipients); handles and bookmarks
belong to their session.

Each is learned by position: the recorded response and the live response of the same step are
walked side by side and every pair of values of a kind at the same place is one mapping; the rows
of a table are paired by their name column (display name, subject) when they have one, so a
mailbox with more or other rows still maps the recorded ones.
Identity (`--as-user`) swaps the recorded user's DN, its organization prefix and its mailbox
address for the live ones in every string of a request and in the request target.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Callable, Protocol
from urllib.parse import unquote

from ..dissect.context import NO_HANDLE
from ..dissect.defs.addressbook import EphemeralEntryID
from ..dissect.defs.core import GuidValue, build, parse
from ..dissect.defs.mapihttp import BODIES
from ..dissect.defs.oxcdata import tag_value
from .plan import SessionPlan, Step

KINDS = ("handle", "id", "long_term_id", "mid", "bookmark", "server_guid")
SHARED_KINDS = ("id", "long_term_id", "mid", "server_guid")  # the same across the sessions of a replay
POLICIES = ("map", "keep", "fail")

# MS-OXPROPS: properties whose PtypInteger64 value is a Folder ID or Message ID
ID_PROPERTY_IDS = {0x6748: "PidTagFolderId", 0x6749: "PidTagParentFolderId", 0x674A: "PidTagMid"}
NAME_PROPERTY_IDS = {0x3001: "PidTagDisplayName", 0x0037: "PidTagSubject"}  # rows paired by these
MID_FIELDS = {"MinimalIds", "MinimalId", "MinimalId1", "MinimalId2", "CurrentRec", "ExplicitTable", "MId"}
EPHEMERAL_ENTRY_ID_SIZE = 32  # MS-OXNSPI 2.2.9.2, IDType 0x87
MID_SIGNALS = 0x10  # MS-OXNSPI 2.2.9.1: Minimal Entry IDs below 0x10 are positions/signals
SKIP_KEYS = {"RPC_HEADER_EXT", "AuxiliaryBuffer", "AuxiliaryBufferSize"}

ROP_RELEASE = 0x01
# MS-OXCROPS ROPs that change or send data: not sent without --allow-writes
WRITE_ROPS = {
    0x0A: "RopSetProperties", 0x0B: "RopDeleteProperties", 0x0C: "RopSaveChangesMessage",
    0x11: "RopSetMessageReadFlag", 0x1C: "RopCreateFolder", 0x1D: "RopDeleteFolder", 0x1E: "RopDeleteMessages",
    0x20: "RopSetMessageStatus", 0x24: "RopDeleteAttachment", 0x25: "RopSaveChangesAttachment",
    0x26: "RopSetReceiveFolder", 0x2D: "RopWriteStream", 0x2F: "RopSetStreamSize", 0x30: "RopSetSearchCriteria",
    0x32: "RopSubmitMessage", 0x33: "RopMoveCopyMessages", 0x34: "RopAbortSubmit", 0x35: "RopMoveFolder",
    0x36: "RopCopyFolder", 0x39: "RopCopyTo", 0x3A: "RopCopyToStream", 0x40: "RopModifyPermissions",
    0x41: "RopModifyRules", 0x47: "RopSetSpooler", 0x48: "RopSpoolerLockMessage", 0x4A: "RopTransportSend",
    0x51: "RopTransportNewMail", 0x54: "RopFastTransferDestinationPutBuffer",
    0x57: "RopUpdateDeferredActionMessages", 0x58: "RopEmptyFolder", 0x5D: "RopCommitStream",
    0x64: "RopWritePerUserInformation", 0x66: "RopSetReadFlags", 0x67: "RopCopyProperties",
    0x72: "RopSynchronizationImportMessageChange", 0x73: "RopSynchronizationImportHierarchyChange",
    0x74: "RopSynchronizationImportDeletes", 0x78: "RopSynchronizationImportMessageMove",
    0x79: "RopSetPropertiesNoReplicate", 0x7A: "RopDeletePropertiesNoReplicate",
    0x80: "RopSynchronizationImportReadStateChanges", 0x90: "RopWriteAndCommitStream",
    0x91: "RopHardDeleteMessages", 0x92: "RopHardDeleteMessagesAndSubfolders",
    0x93: "RopSetLocalReplicaMidsetDeleted", 0x9D: "RopFastTransferDestinationPutBufferExtended",
    0xA3: "RopWriteStreamExtended",
}
WRITE_REQUEST_TYPES = {"ModProps", "ModLinkAtt"}  # MS-OXCMAPIHTTP 2.2.5.10, 2.2.5.11: address book writes


class RewriteError(Exception):
    """A recorded value the policy says must be mapped has no live counterpart."""

    def __init__(self, kind: str, value, where: str):
        super().__init__(f"{kind} {value!r} at {where} has no live value (policy fail)")
        self.kind, self.value, self.where = kind, value, where


def writes_in(step: Step) -> list[str]:
    """Names of what in this step changes or sends data (empty: read-only)."""
    if step.request_type in WRITE_REQUEST_TYPES:
        return [step.request_type]
    return [WRITE_ROPS[int(r["RopId"])] for r in step.request_rops if int(r.get("RopId", 0)) in WRITE_ROPS]


# Identity ---------------------------------------------------------------------------------------


def _org_prefix(dn: str) -> str:
    lowered = dn.lower()
    at = lowered.find("/cn=")
    return dn[:at] if at > 0 else dn


@dataclass
class Identity:
    """Replay a capture under another mailbox (`--as-user`): the recorded user DN (Connect
    UserDn, RopLogon Essdn, address book DNs), its organization prefix and its mailbox address
    (the MailboxId of the request target) become the live ones."""

    recorded_dn: str
    live_dn: str
    recorded_mailbox: str | None = None
    live_mailbox: str | None = None

    @classmethod
    def parse(cls, spec: str, recorded_dn: str, recorded_mailbox: str | None) -> "Identity":
        """`DN` or `MAILBOX=DN` (e.g. `alice@mapiwire.test=/o=mapiwire/.../cn=Recipients/cn=alice`)."""
        mailbox, sep, dn = spec.partition("=/")
        if sep:
            return cls(recorded_dn, "/" + dn, recorded_mailbox, mailbox)
        return cls(recorded_dn, spec, recorded_mailbox, None)

    def pairs(self) -> list[tuple[str, str]]:
        out = [(self.recorded_dn, self.live_dn)]
        old_prefix, new_prefix = _org_prefix(self.recorded_dn), _org_prefix(self.live_dn)
        if old_prefix and old_prefix.lower() != new_prefix.lower():
            out.append((old_prefix, new_prefix))
        if self.recorded_mailbox and self.live_mailbox:
            out.append((self.recorded_mailbox, self.live_mailbox))
        return out

    def substitute(self, text: str) -> str:
        """`text` with the recorded identity swapped; another spelling of the recorded user's DN
        (the address book's "/o=Org/cn=Recipients/cn=alias") becomes the live DN."""
        lowered = text.lower()
        alias = self.recorded_dn.lower().rpartition("/cn=")[2]
        if lowered.startswith("/o=") and alias and lowered.endswith("/cn=" + alias) \
                and _org_root(lowered) == _org_root(self.recorded_dn.lower()):
            return self.live_dn
        for old, new in self.pairs():
            text = _replace_ci(text, old, new)
        return text


def _org_root(dn: str) -> str:
    """"/o=contoso" of "/o=contoso/ou=.../cn=...": the organization part of a DN (MS-OXOABK 2.2.1.1)."""
    return dn.split("/")[1] if dn.count("/") > 1 else dn


def _replace_ci(text: str, old: str, new: str) -> str:
    if not old:
        return text
    lowered, needle = text.lower(), old.lower()
    out, start = [], 0
    while True:
        at = lowered.find(needle, start)
        if at < 0:
            break
        out.append(text[start:at] + new)
        start = at + len(old)
    return "".join(out) + text[start:] if out else text


def recorded_mailbox(plan: SessionPlan) -> str | None:
    """The MailboxId of the plan's request target (MS-OXCMAPIHTTP 2.2.1), if any."""
    for step in plan.steps:
        target = step.exchange.request.target
        if "mailboxid=" in target.lower():
            at = target.lower().index("mailboxid=") + len("mailboxid=")
            return unquote(target[at:].split("&")[0])
    return None


# The typed hook ---------------------------------------------------------------------------------


@dataclass
class RequestEdit:
    """What a hook gets before a request is built: it may edit `value` in place or replace it
    (the parsed request body, as the definitions parse it; None for a request without a body).
    `step` is the recorded step, `maps` the session's recorded → live maps."""

    step: Step
    request_type: str
    value: object
    maps: "Maps"


class Hook(Protocol):
    def __call__(self, edit: RequestEdit) -> None: ...


def load_hook(spec: str) -> Hook:
    """`module:function` or `path/to/file.py:function`."""
    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise ValueError(f"hook {spec!r}: expected MODULE:FUNCTION or FILE.py:FUNCTION")
    if where.endswith(".py"):
        module_spec = importlib.util.spec_from_file_location("mapiwire_replay_hook", where)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"hook {spec!r}: cannot load {where}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(where)
    hook = getattr(module, name, None)
    if not callable(hook):
        raise ValueError(f"hook {spec!r}: {name} is not a function of {where}")
    return hook


# Value walks ------------------------------------------------------------------------------------


def _id_key(value) -> int | None:
    """A Folder/Message ID structure as the PtypInteger64 it is on the wire (MS-OXCDATA 2.2.1.1)."""
    if isinstance(value, dict) and set(value) >= {"ReplicaId", "GlobalCounter"} and "DatabaseGuid" not in value:
        counter = bytes(value["GlobalCounter"])
        if len(counter) == 6:
            return int.from_bytes(int(value["ReplicaId"]).to_bytes(2, "little") + counter, "little")
    return None


def _set_id(value: dict, key: int) -> None:
    raw = key.to_bytes(8, "little")
    value["ReplicaId"] = int.from_bytes(raw[:2], "little")
    value["GlobalCounter"] = raw[2:]


def _ltid_key(value) -> tuple | None:
    if isinstance(value, dict) and set(value) >= {"DatabaseGuid", "GlobalCounter", "Pad"}:
        return (str(value["DatabaseGuid"]).upper(), bytes(value["GlobalCounter"]))
    return None


def _is_id_tag(tag) -> bool:
    return _tag_id(tag) in ID_PROPERTY_IDS


@dataclass
class Maps:
    """recorded → live values of one session, with a policy per kind."""

    policies: dict[str, str] = field(default_factory=lambda: dict.fromkeys(KINDS, "map"))
    handle: dict = field(default_factory=dict)
    id: dict = field(default_factory=dict)
    long_term_id: dict = field(default_factory=dict)
    mid: dict = field(default_factory=dict)
    bookmark: dict = field(default_factory=dict)
    server_guid: dict = field(default_factory=dict)
    unmapped: list[dict] = field(default_factory=list)  # what "map" left as recorded
    edits: int = 0  # values replaced so far (ids, handles, identity strings ...): 0 new means unchanged
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))  # values replaced

    def new_context(self) -> None:
        """A new Session Context: handles and bookmarks die with the old one (MS-OXCMAPIHTTP
        3.2.5.6); ids, long-term ids and MIds belong to the store and stay valid."""
        self.handle.clear()
        self.bookmark.clear()

    def add(self, kind: str, recorded, live) -> None:
        if recorded is None or live is None:
            return
        table = getattr(self, kind)
        if len(table) < 1_000_000:
            table[recorded] = live

    def look(self, kind: str, recorded, where: str, note: bool = True):
        """The live value for a recorded one, per the kind's policy (`note`: an unknown value is
        worth listing; a GUID that merely is not the recorded server's is not)."""
        policy = self.policies.get(kind, "map")
        if policy == "keep":
            return recorded
        table = getattr(self, kind)
        if recorded in table:
            live = table[recorded]
            if live != recorded:
                self.counts[kind] += 1
                self.edits += 1
            return live
        if not note:
            return recorded
        if policy == "fail":
            raise RewriteError(kind, recorded, where)
        note = {"kind": kind, "value": _show(recorded), "where": where}
        if len(self.unmapped) < 1000 and note not in self.unmapped:
            self.unmapped.append(note)
        return recorded

    def summary(self) -> dict:
        return {kind: {"known": len(getattr(self, kind)), "replaced": self.counts[kind],
                       "policy": self.policies.get(kind, "map")} for kind in KINDS}


def copy_value(value):
    """A copy of a parsed value deep enough to edit: dicts and lists copied, leaves (ints with
    names, bytes, strings, GUIDs) shared, being immutable."""
    if isinstance(value, dict):
        return type(value)((k, copy_value(v)) for k, v in value.items())
    if isinstance(value, list):
        return type(value)(copy_value(v) for v in value)
    return value


def _show(value) -> str:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, int):
        return hex(value)
    return str(value)


def learn_values(maps: Maps, recorded, live, name: str = "", columns=None) -> None:
    """Walk a recorded and a live value side by side; every pair of ids, long-term ids, MIds,
    bookmarks at the same place becomes a mapping."""
    rec_id, live_id = _id_key(recorded), _id_key(live)
    if rec_id is not None and live_id is not None:
        maps.add("id", rec_id, live_id)
        return
    rec_lt, live_lt = _ltid_key(recorded), _ltid_key(live)
    if rec_lt is not None and live_lt is not None:
        maps.add("long_term_id", rec_lt, live_lt)
        return
    if isinstance(recorded, dict) and isinstance(live, dict):
        if columns and "ValueArray" in recorded and "ValueArray" in live:
            _learn_row(maps, recorded["ValueArray"], live["ValueArray"], columns)
            return
        skip = set()
        if _address_book_rows(recorded) and _address_book_rows(live):
            _learn_address_book_rows(maps, recorded, live)
            skip = {"MinimalIds", "RowData"}
        for key, value in recorded.items():
            if key.startswith("_") or key in SKIP_KEYS or key not in live or key in skip:
                continue
            if key == "RowData":
                rows_rec = value if isinstance(value, list) else [value]
                rows_live = live[key] if isinstance(live[key], list) else [live[key]]
                for a, b in pair_rows(rows_rec, rows_live, columns):
                    learn_values(maps, a, b, key, columns)
                continue
            learn_values(maps, value, live[key], key, columns)
    elif isinstance(recorded, list) and isinstance(live, list):
        for a, b in zip(recorded, live):
            learn_values(maps, a, b, name, columns)
    elif name in MID_FIELDS and isinstance(recorded, int) and isinstance(live, int):
        if recorded >= MID_SIGNALS and live >= MID_SIGNALS:
            maps.add("mid", int(recorded), int(live))
    elif name == "Bookmark" and isinstance(recorded, (bytes, bytearray)) and isinstance(live, (bytes, bytearray)):
        maps.add("bookmark", bytes(recorded), bytes(live))
    elif name == "ServerGuid" and isinstance(recorded, GuidValue) and isinstance(live, GuidValue):
        maps.add("server_guid", recorded, live)


def pair_rows(recorded: list, live: list, columns) -> list[tuple]:
    """Recorded and live rows of the same table, paired by their name column (PidTagDisplayName,
    PidTagSubject: REPLAY.md 4.8 "by name path") when the columns have one, else by position.
    A recorded row whose name has no single live match is left unpaired."""
    at = next((i for i, tag in enumerate(columns or ()) if _tag_id(tag) in NAME_PROPERTY_IDS), None)
    if at is None:
        return list(zip(recorded, live))
    by_name: dict = {}
    for row in live:
        by_name.setdefault(_row_name(row, at), []).append(row)
    pairs = []
    for row in recorded:
        matches = by_name.get(_row_name(row, at), [])
        if len(matches) == 1:
            pairs.append((row, matches[0]))
    return pairs


def _tag_id(tag) -> int | None:
    try:
        return tag_value(tag) >> 16
    except (TypeError, KeyError, ValueError):
        return None


def _row_name(row, at: int):
    cells = row.get("ValueArray") if isinstance(row, dict) else None
    if not cells or at >= len(cells):
        return None
    value = _cell(cells[at])
    return value if isinstance(value, str) else None


def _address_book_rows(value: dict) -> bool:
    """An address book answer with MinimalIds beside their rows (GetMatches, MS-OXCMAPIHTTP 2.2.5.5.2)."""
    return (isinstance(value.get("MinimalIds"), list) and isinstance(value.get("RowData"), list)
            and isinstance(value.get("Columns"), dict) and len(value["MinimalIds"]) == len(value["RowData"]))


def _learn_address_book_rows(maps: Maps, recorded: dict, live: dict) -> None:
    """MinimalIds[i] is the object of RowData[i]: pair the rows by name, then their MIds."""
    columns = recorded["Columns"].get("PropertyTags") or []
    by_row = {id(row): mid for row, mid in zip(live["RowData"], live["MinimalIds"])}
    recorded_by_row = {id(row): mid for row, mid in zip(recorded["RowData"], recorded["MinimalIds"])}
    for a, b in pair_rows(recorded["RowData"], live["RowData"], columns):
        rec, got = recorded_by_row[id(a)], by_row[id(b)]
        if rec >= MID_SIGNALS and got >= MID_SIGNALS:
            maps.add("mid", int(rec), int(got))


def _learn_row(maps: Maps, recorded: list, live: list, columns: list) -> None:
    for tag, a, b in zip(columns, recorded, live):
        if _is_id_tag(tag):
            a, b = _cell(a), _cell(b)
            if isinstance(a, int) and isinstance(b, int):
                maps.add("id", int(a), int(b))


def _cell(value):
    return value.get("PropertyValue") if isinstance(value, dict) else value


def rewrite_value(value, maps: Maps, identity: Identity | None, name: str = "", where: str = "") -> object:
    """The request value with every recorded id, long-term id, MId and bookmark replaced by its
    live counterpart (per policy) and identity strings swapped. Edits dicts in place; returns
    the (possibly new) value for leaves."""
    key = _id_key(value)
    if key is not None:
        live = maps.look("id", key, where)
        if live != key:
            _set_id(value, live)
        return value
    lt = _ltid_key(value)
    if lt is not None:
        live = maps.look("long_term_id", lt, where)
        if live != lt:
            value["DatabaseGuid"] = GuidValue(live[0].strip("{}"))
            value["GlobalCounter"] = live[1]
        return value
    if isinstance(value, dict):
        if "PropertyTag" in value and _is_id_tag(value["PropertyTag"]):
            for slot in ("PropertyValue", "Value"):
                if isinstance(value.get(slot), int):
                    value[slot] = maps.look("id", int(value[slot]), f"{where}.{slot}")
        for k in list(value):
            if k.startswith("_") or k in SKIP_KEYS:
                continue
            value[k] = rewrite_value(value[k], maps, identity, k, f"{where}.{k}" if where else k)
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = rewrite_value(item, maps, identity, name, f"{where}[{i}]")
        return value
    if name in MID_FIELDS and isinstance(value, int) and not isinstance(value, bool) and value >= MID_SIGNALS:
        return maps.look("mid", int(value), where)
    if name == "Bookmark" and isinstance(value, (bytes, bytearray)):
        return maps.look("bookmark", bytes(value), where)
    if name == "ProviderUID" and isinstance(value, GuidValue):
        return maps.look("server_guid", value, where, note=False)
    if isinstance(value, (bytes, bytearray)) and len(value) == EPHEMERAL_ENTRY_ID_SIZE and value[0] == 0x87:
        return _ephemeral_entry_id(bytes(value), maps, where)
    if isinstance(value, str) and identity is not None:
        swapped = identity.substitute(value)
        if swapped != value:
            maps.edits += 1
        return swapped
    return value


def _ephemeral_entry_id(data: bytes, maps: Maps, where: str) -> bytes:
    """A binary EphemeralEntryID (a PidTagEntryId value, MS-OXNSPI 2.2.9.2) with its server GUID
    and MId mapped, parsed and built with the address book definition."""
    try:
        value = parse(EphemeralEntryID, data)
    except Exception:  # 32 bytes that are not an EphemeralEntryID stay as they are
        return data
    if value.ProviderUID not in maps.server_guid:
        return data
    value.ProviderUID = maps.look("server_guid", value.ProviderUID, where)
    value.MId = maps.look("mid", int(value.MId), f"{where}.MId") if value.MId >= MID_SIGNALS else value.MId
    return build(EphemeralEntryID, value)


def _learn_response(maps: Maps, step: Step, live_value, live_rops: list) -> None:
    """learn_values over a step's recorded and live responses; Execute: ROP by ROP, each with
    the columns of the request ROP it answers."""
    if step.request_type != "Execute":
        learn_values(maps, step.response_value, live_value)
        return
    cursor = 0
    for recorded, live in zip(step.response_rops, live_rops):
        if recorded.get("RopId") != live.get("RopId"):
            break
        request_rop, cursor = _paired_request(step.request_rops, int(recorded["RopId"]), cursor)
        columns = request_rop.get("_columns") if request_rop is not None else None
        learn_values(maps, recorded, live, columns=columns)


class _PairRecorder(Maps):
    """Maps that only list what they are told: (kind, recorded, live) in order."""

    def __init__(self):
        super().__init__()
        self.pairs: list[tuple] = []

    def add(self, kind: str, recorded, live) -> None:
        if recorded is not None and live is not None:
            self.pairs.append((kind, recorded, live))


def _paired_request(request_rops: list, rop_id: int, cursor: int):
    """The request ROP a response answers: the next of its RopId (responses keep request order,
    MS-OXCROPS 3.2.5.2)."""
    for i in range(cursor, len(request_rops)):
        if request_rops[i].get("RopId") == rop_id:
            return request_rops[i], i + 1
    return None, cursor


def _rewrite_handles(value, maps) -> None:
    """Execute: the ServerObjectHandleTable's recorded handles -> live (MS-OXCROPS 2.2.1)."""
    buffer = value.get("RopBuffer")
    payloads = buffer.get("Payloads", [buffer]) if isinstance(buffer, dict) else []
    for payload in payloads:
        table = payload.get("ServerObjectHandleTable")
        if table is None:
            continue
        for i, handle in enumerate(table):
            if handle != NO_HANDLE:
                table[i] = maps.look("handle", int(handle), f"Execute.ServerObjectHandleTable[{i}]")


class _SiteRecorder(Maps):
    """Maps that know nothing and change nothing: a rewrite through it lists every lookup it would
    make, as (kind, recorded value, worth a note when unknown)."""

    def __init__(self):
        super().__init__()
        self.sites: list[tuple] = []
        self.server_guid = _Everything()  # every EphemeralEntryID's GUID and MId get looked up

    def look(self, kind: str, recorded, where: str, note: bool = True):
        self.sites.append((kind, recorded, note))
        return recorded


class _Everything(dict):
    def __contains__(self, key) -> bool:
        return True


def rewrite_sites(step: Step) -> list[tuple]:
    """Every lookup the rewrite of `step` makes (without identity or hook), from a walk of a
    copy of its request through maps that change nothing."""
    recorder = _SiteRecorder()
    value = copy_value(step.request_value)
    if step.request_type == "Execute":
        _rewrite_handles(value, recorder)
    rewrite_value(value, recorder, None, where=step.request_type)
    return recorder.sites


# The rewriter of one session ---------------------------------------------------------------------


@dataclass
class Rewritten:
    """A request ready to send: its body and the MailboxId of its target (MS-OXCMAPIHTTP 2.2.1)."""

    body: bytes
    mailbox_id: str | None
    value: object


class Rewriter:
    """Turns recorded requests of one session into live ones and learns from live responses."""

    def __init__(self, plan: SessionPlan, *, policies: dict[str, str] | None = None,
                 identity: Identity | None = None, hook: Callable[[RequestEdit], None] | None = None,
                 shared: dict[str, dict] | None = None):
        self.plan = plan
        self.maps = Maps(policies={**dict.fromkeys(KINDS, "map"), **(policies or {})},
                         **{kind: table for kind, table in (shared or {}).items() if kind in SHARED_KINDS})
        self.identity = identity
        self.hook = hook

    def request(self, step: Step) -> Rewritten:
        """Parse → edit → build of the step's recorded request."""
        mailbox = self.mailbox
        body_def = BODIES.get(step.request_type)
        if body_def is None or body_def.request is None or step.request_value is None:
            edit = RequestEdit(step, step.request_type, None, self.maps)
            if self.hook is not None:
                self.hook(edit)
            return Rewritten(step.exchange.request.body, mailbox, None)
        if self.hook is None and self.identity is None and self._unchanged(step):
            return Rewritten(step.exchange.request.body, mailbox, step.request_value)
        value = copy_value(step.request_value)
        edits = self.maps.edits
        if step.request_type == "Execute":
            _rewrite_handles(value, self.maps)
        rewrite_value(value, self.maps, self.identity, where=step.request_type)
        if self.hook is None and self.maps.edits == edits:  # nothing to change: the recorded bytes as they are
            return Rewritten(step.exchange.request.body, mailbox, value)
        edit = RequestEdit(step, step.request_type, value, self.maps)
        if self.hook is not None:
            self.hook(edit)
        body = build(body_def.request, edit.value, logons=step.logons)
        return Rewritten(body, mailbox, edit.value)

    def _unchanged(self, step: Step) -> bool:
        """Whether the rewrite would leave the step as recorded without a note: every value it
        would look up is kept by policy, mapped to itself, or not worth a note when unknown. Then
        the recorded bytes go as they are, without copying and walking the value."""
        if step.rewrite_sites is None:
            step.rewrite_sites = rewrite_sites(step)
        maps = self.maps
        for kind, recorded, note in step.rewrite_sites:
            if maps.policies.get(kind, "map") == "keep":
                continue
            table = getattr(maps, kind)
            if recorded in table:
                if table[recorded] != recorded:
                    return False
            elif note:
                return False
        return True

    @property
    def mailbox(self) -> str | None:
        """The MailboxId to send: the recorded one, or the live user's under `--as-user`."""
        recorded = recorded_mailbox(self.plan)
        if self.identity is not None and self.identity.live_mailbox:
            return self.identity.live_mailbox
        return recorded

    def learn(self, step: Step, live_value, live_rops: list, live_handles: list) -> None:
        """After a live response: map recorded handles, ids and the rest to the live ones."""
        if step.response_value is None or live_value is None:
            return
        if step.request_type == "Execute":
            for recorded, live in zip(step.response_handles, live_handles):
                if recorded != NO_HANDLE and live != NO_HANDLE:
                    self.maps.add("handle", int(recorded), int(live))
        if live_value is step.response_value:  # the recorded answer itself (scheduler: the same bytes)
            if step.same_response_pairs is None:
                recorder = _PairRecorder()
                _learn_response(recorder, step, live_value, live_rops)
                step.same_response_pairs = recorder.pairs
            for kind, recorded, live in step.same_response_pairs:
                self.maps.add(kind, recorded, live)
        else:
            _learn_response(self.maps, step, live_value, live_rops)
        for rop in step.request_rops:
            if rop.get("RopId") == ROP_RELEASE:
                index = rop.get("InputHandleIndex")
                if index is not None and 0 <= index < len(step.request_handles):
                    self.maps.handle.pop(int(step.request_handles[index]), None)
