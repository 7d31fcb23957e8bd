"""Per-session decoding state (DESIGN.md principle 3), one forward pass.

A `DecodingContext` lives as long as a MAPI session (keyed by its context cookie). Before an
Execute response is parsed, `annotate()` gives each request ROP the state its response needs
(`_columns`, `_logon_flags`: the contract in defs/ropbuffer.py); after it, `learn()` records
what later exchanges need: the columns set on each table (by server object handle), the
LogonFlags of each LogonId, named-property ids, and forgets released handles.
"""

from __future__ import annotations

from array import array

import construct as c

from .defs.oxcdata import tag_value

from .objects import ObjectTable
from .render import property_name_of

MAX_STATE = 262_144  # units of state one session keeps (a table column 1, see _COST); oldest dropped first
NO_HANDLE = 0xFFFFFFFF  # placeholder in a request's ServerObjectHandleTable (MS-OXCROPS 2.2.1)

ROP_RELEASE = 0x01
ROP_GET_PROPERTIES_SPECIFIC = 0x07
ROP_SET_COLUMNS = 0x12
ROP_QUERY_ROWS = 0x15
ROP_FIND_ROW = 0x4F
ROP_EXPAND_ROW = 0x59
ROP_GET_PROPERTY_IDS_FROM_NAMES = 0x56
ROP_GET_NAMES_FROM_PROPERTY_IDS = 0x55
ROP_QUERY_NAMED_PROPERTIES = 0x5F
WARN_WITH_ERRORS = 0x00040380  # MS-OXCDATA 2.4.2 ecWarnWithErrors: some names not mapped, ids present
NAMED_ID_FLOOR = 0x8000  # MS-OXPROPS 1.3.1: named property ids are 0x8000 - 0xFFFE
ROP_LOGON = 0xFE
ROP_OPEN_MESSAGE = 0x03
ROP_READ_RECIPIENTS = 0x0F
ROP_RELOAD_CACHED_INFORMATION = 0x10
ROP_OPEN_EMBEDDED_MESSAGE = 0x46
TABLE_ROW_ROPS = (ROP_QUERY_ROWS, ROP_FIND_ROW, ROP_EXPAND_ROW)
# ROPs whose response states a message's RecipientColumns, and the index of the message's handle
RECIPIENT_COLUMN_ROPS = {ROP_OPEN_MESSAGE: "OutputHandleIndex", ROP_OPEN_EMBEDDED_MESSAGE: "OutputHandleIndex",
                         ROP_RELOAD_CACHED_INFORMATION: "InputHandleIndex"}
# ROPs whose request and response are paired to learn from (learn())
PAIRED_ROPS = frozenset((*RECIPIENT_COLUMN_ROPS, ROP_GET_PROPERTY_IDS_FROM_NAMES, ROP_GET_NAMES_FROM_PROPERTY_IDS,
                         ROP_QUERY_NAMED_PROPERTIES))


class DecodingContext:
    """What one session has said so far that later decodes depend on."""

    def __init__(self, key: str):
        self.key = key
        self.columns: dict[int, list] = {}  # server object handle of a table -> its columns
        self.recipient_columns: dict[int, list] = {}  # server object handle of a message -> its RecipientColumns
        self.logon_flags: dict[int, int] = {}  # LogonId -> LogonFlags
        self.named: dict[int, str] = {}  # property id >= 0x8000 -> the name of its PropertyName (MS-OXCDATA 2.6.1)
        self.cost = 0  # state kept, in the units of _COST: at most MAX_STATE
        self.dropped = 0  # entries forgotten to stay within MAX_STATE since the last drop_note()
        self.objects = ObjectTable()  # server object handle -> what it is (folder Inbox, its contents table, ...)

    # before the response -----------------------------------------------------------------

    def annotate(self, rops: list, handles: list[int]) -> None:
        """Give each request ROP the `_columns` / `_logon_flags` its response will need."""
        by_index: dict[int, list] = {}  # columns set earlier in this same request, by handle index
        for rop in rops:
            if "Undecoded" in rop:
                continue
            rop_id = rop.get("RopId")
            logon_id = rop.get("LogonId")
            if rop_id == ROP_LOGON:
                self.logon_flags[logon_id] = int(rop.get("LogonFlags", 0))
            rop["_logon_flags"] = self.logon_flags.get(logon_id)
            rop["_columns"] = None
            index = rop.get("InputHandleIndex")
            if rop_id == ROP_SET_COLUMNS:
                by_index[index] = rop.get("PropertyTags")
            elif rop_id in TABLE_ROW_ROPS:
                columns = by_index.get(index)
                if columns is None:
                    columns = self.columns.get(_handle(handles, index))
                rop["_columns"] = columns
            elif rop_id == ROP_GET_PROPERTIES_SPECIFIC:
                rop["_columns"] = rop.get("PropertyTags")
            elif rop_id == ROP_READ_RECIPIENTS:
                rop["_columns"] = self.recipient_columns.get(_handle(handles, index))

    def notify_state(self, handle: int) -> c.Container:
        """State for an unsolicited RopNotify: the columns of the table its NotificationHandle
        (a server object handle, MS-OXCROPS 2.2.14.2) names."""
        return c.Container(_columns=self.columns.get(handle), _logon_flags=None)

    # after the response ------------------------------------------------------------------

    def learn(self, rops: list, response_rops: list, request_handles: list[int],
              response_handles: list[int]) -> None:
        """Remember what this Execute established: table columns by the server handles the
        response returned, named properties, released handles."""
        present = set()  # the ids of PAIRED_ROPS in this request: the pairs below are only looked for then
        for rop in rops:
            rop_id = rop.get("RopId")
            if rop_id in PAIRED_ROPS:
                present.add(rop_id)
            if "Undecoded" in rop:
                continue
            index = rop.get("InputHandleIndex")
            if rop_id == ROP_SET_COLUMNS:
                handle = _handle(response_handles, index) or _handle(request_handles, index)
                if handle is not None and rop.get("PropertyTags") is not None:
                    tags = array("I", (tag_value(t) & 0xFFFFFFFF for t in rop["PropertyTags"]))  # compact
                    self._keep("columns", handle, tags)
            elif rop_id == ROP_RELEASE:
                handle = _handle(request_handles, index)
                self._forget("columns", handle)
                self._forget("recipient_columns", handle)
        if not present:
            return
        for request, response in _pairs_any(rops, response_rops, [r for r in RECIPIENT_COLUMN_ROPS if r in present]):
            handle = _handle(response_handles, request.get(RECIPIENT_COLUMN_ROPS[request["RopId"]]))
            if handle is not None and response.get("RecipientColumns") is not None:
                self._keep("recipient_columns", handle, response["RecipientColumns"])
        if ROP_GET_PROPERTY_IDS_FROM_NAMES in present:
            for request, response in _pairs(rops, response_rops, ROP_GET_PROPERTY_IDS_FROM_NAMES, WARN_WITH_ERRORS):
                self._name_ids(response.get("PropertyIds"), request.get("PropertyNames"))
        if ROP_GET_NAMES_FROM_PROPERTY_IDS in present:
            for request, response in _pairs(rops, response_rops, ROP_GET_NAMES_FROM_PROPERTY_IDS):
                self._name_ids(request.get("PropertyIds"), response.get("PropertyNames"))
        if ROP_QUERY_NAMED_PROPERTIES in present:
            for _, response in _pairs(rops, response_rops, ROP_QUERY_NAMED_PROPERTIES):
                self._name_ids(response.get("PropertyIds"), response.get("PropertyNames"))

    def _name_ids(self, prop_ids, names) -> None:
        """Map named-property ids (0x8000 and up) to the names of their PropertyName structures
        (render.named_property_name, resolved once here rather than at each use), pairwise; an id
        of 0x0000 (a name the server could not map, MS-OXCPRPT 2.2.12.2) or a Kind 0xFF name is skipped."""
        for prop_id, name in zip(prop_ids or (), names or ()):
            if int(prop_id) >= NAMED_ID_FLOOR and name is not None and name.get("Kind") in (0x00, 0x01):
                self._keep("named", int(prop_id), property_name_of(name))

    # bounds (README: bad input never eats memory) -------------------------------------------

    def _keep(self, table: str, key, value) -> None:
        """Store `value` under `key` in `table`, then drop the oldest entries past MAX_STATE."""
        self._forget(table, key)
        getattr(self, table)[key] = value
        self.cost += _cost(table, value)
        for name in _COST:  # tables in the order they give way: the largest entries first
            entries = getattr(self, name)
            while self.cost > MAX_STATE and entries:
                self._forget(name, next(iter(entries)))
                self.dropped += 1

    def _forget(self, table: str, key) -> None:
        value = getattr(self, table).pop(key, None)
        if value is not None:
            self.cost -= _cost(table, value)

    def drop_note(self) -> dict | None:
        """An `errors` entry saying what the bound made this session forget since the last call."""
        if not self.dropped:
            return None
        note = {"where": "session", "error": f"session state over its bound ({MAX_STATE} units): {self.dropped} "
                "earlier entries (table columns, recipient columns, named properties) forgotten"}
        self.dropped = 0
        return note


# What an entry of each table costs against MAX_STATE: a compact table column (4 bytes) is 1 unit,
# parsed structures (recipient columns, property names) weigh about as much as 32 and 64 columns.
_COST = {"columns": 1, "recipient_columns": 32, "named": 64}


def _cost(table: str, value) -> int:
    return _COST[table] * (len(value) if table != "named" else 1)


def _handle(handles: list[int], index) -> int | None:
    if index is None or not 0 <= index < len(handles):
        return None
    value = handles[index]
    return None if value == NO_HANDLE else value


def _pairs_any(rops, response_rops, rop_ids):
    """(request, successful response) of the ROPs with these ids, in order."""
    for rop_id in rop_ids:
        yield from _pairs(rops, response_rops, rop_id)


def _pairs(rops, response_rops, rop_id, *also_good: int):
    """(request, response) of the ROPs with this id, paired in order, where the response succeeded
    (ReturnValue 0, or one of `also_good`)."""
    requests = [r for r in rops if r.get("RopId") == rop_id]
    responses = [r for r in response_rops if r.get("RopId") == rop_id]
    for request, response in zip(requests, responses):
        if not response.get("ReturnValue") or response.get("ReturnValue") in also_good:
            yield request, response
