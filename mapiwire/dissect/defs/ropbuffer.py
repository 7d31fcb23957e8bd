"""ROP input and output buffers: RopSize, RopsList, ServerObjectHandleTable (MS-OXCROPS 2.2.1).

`RopList` is the named custom construct that walks the ROPs back to back, each selected by its
RopId in `rops.ROP_BY_ID`.

State: a response ROP reads what it needs from `this._params.request_rop`, a Container of its
request ROP's fields (the request's RopsList is handed over as the `request_rops` parse param)
plus keys the decoding context adds before the response is parsed:
  `_columns`     property tags of the row values in this response (RopGetPropertiesSpecific:
                 its request's tags; RopQueryRows/FindRow/ExpandRow/RopNotify: the table's
                 columns from an earlier RopSetColumns), None when unknown;
  `_logon_flags` LogonFlags of the logon the ROP works under, None when unknown.
Unsolicited responses (RopNotify ...) get what the `notify_state(handle)` param returns for
their NotificationHandle. A request ROP whose layout depends on its logon being private
(RopWritePerUserInformation, RopSetMessageReadFlag) reads `this._params.private_logon`.
"""

from __future__ import annotations

from bisect import bisect_left

import construct as c
from construct import Construct, Int16ul

from .budget import BudgetExceeded
from .core import U32List, remaining, report, sized_field, struct

ROP_LOGON = 0xFE

# Response-only ROPs that answer no request of their own (MS-OXCROPS 2.2.2).
UNSOLICITED = {0x2A: "RopNotify", 0x6E: "RopPending", 0xF9: "RopBackoff", 0xFF: "RopBufferTooSmall"}


class RopList(Construct):
    """MS-OXCROPS 2.2.1 RopsList: ROP request or response buffers back to back.

    An unknown RopId or a ROP that does not decode ends the list with an item
    `{"RopId": n, "RopName": name, "Undecoded": rest}` and an `errors` entry; build writes
    such an item's bytes back as they were.
    """

    def __init__(self, direction: str):
        super().__init__()
        assert direction in ("request", "response")
        self.direction = direction

    def _parse(self, stream, context, path):
        from .rops import ROP_BY_ID

        params = context._params
        state = _State(params, self.direction)
        budget = params.get("budget")
        items = c.ListContainer()
        while remaining(stream):
            start = stream.tell()
            head = stream.read(6)
            stream.seek(start)
            rop_id = head[0]
            rop = ROP_BY_ID.get(rop_id)
            item_path = f"{path} -> RopsList[{len(items)}]"
            if budget is not None:
                try:
                    budget.take("rops", 1, item_path)
                except BudgetExceeded as exc:
                    report(context, item_path, _message(exc), start)
                    items.append(c.Container(RopId=rop_id, RopName=rop.name if rop else None, Undecoded=stream.read()))
                    break
            definition = None
            if rop is not None:
                if self.direction == "request":
                    state.before_request(head)
                    definition = rop.request
                else:
                    handle = int.from_bytes(head[1:5], "little") if len(head) >= 5 else None
                    state.before_response(rop_id, handle)
                    if len(head) == 6 and rop.has_return_value:
                        definition = rop.response_shape(int.from_bytes(head[2:6], "little"))
                    else:
                        definition = rop.response
            name = rop.name if rop is not None else None
            if definition is None:
                what = f"unknown RopId {rop_id:#04x}" if rop is None else f"{rop.name} has no {self.direction} buffer"
                report(context, item_path, what, start)
                items.append(c.Container(RopId=rop_id, RopName=name, Undecoded=stream.read()))
                break
            try:
                value = definition._parsereport(stream, context, f"{item_path} -> {name}")
            except Exception as exc:  # errors are data: any failure inside one ROP ends the list
                report(context, f"{item_path} -> {name}", _message(exc), stream.tell())
                stream.seek(start)
                items.append(c.Container(RopId=rop_id, RopName=name, Undecoded=stream.read()))
                break
            state.after(value)
            items.append(c.Container(RopId=value["RopId"], RopName=name,
                                     **{k: v for k, v in value.items() if k != "RopId"}))
        state.done()
        return items

    def _build(self, obj, stream, context, path):
        from .rops import ROP_BY_ID

        state = _State(context._params, self.direction)
        for i, item in enumerate(obj):
            if "Undecoded" in item:
                data = item["Undecoded"]
                stream.write(bytes.fromhex(data) if isinstance(data, str) else bytes(data))
                continue
            rop_id = int(item["RopId"])
            rop = ROP_BY_ID[rop_id]
            if self.direction == "request":
                state.before_request(bytes((rop_id, int(item.get("LogonId", 0)))))
                definition = rop.request
            else:
                state.before_response(rop_id, item.get("NotificationHandle"))
                definition = rop.response_shape(int(item.get("ReturnValue", 0)))
            definition._build(item, stream, context, f"{path} -> RopsList[{i}]")
            state.after(item)
        state.done()
        return obj


class _State:
    """What one walk of a RopsList hands each ROP through the parse/build params.

    Requests: `private_logon` (True/False/None) for the ROP's LogonId, from the
    `logons` param (LogonId -> LogonFlags, kept by the decoding context) and any RopLogon earlier in
    same list. Responses: `request_rop`, the paired request ROP (`UNKNOWN_REQUEST` when the
    request is not known); unsolicited ROPs get `notify_state(handle)` instead.
    """

    def __init__(self, params, direction: str):
        self.params = params
        self.direction = direction
        self.cursor = 0
        self.requests = RequestIndex.of(params) if direction == "response" else None
        self.logon_flags = dict(params.get("logons") or {})

    def before_request(self, head: bytes) -> None:
        flags = self.logon_flags.get(head[1]) if len(head) > 1 else None
        self.params["private_logon"] = None if flags is None else bool(flags & 0x01)

    def before_response(self, rop_id: int, handle) -> None:
        request_rop, self.cursor = self.requests.pair(rop_id, self.cursor)
        if request_rop is None and rop_id in UNSOLICITED and self.params.get("notify_state") and handle is not None:
            request_rop = self.params["notify_state"](handle)
        self.params["request_rop"] = request_rop if request_rop is not None else UNKNOWN_REQUEST

    def after(self, value) -> None:
        if self.direction == "request" and value.get("RopId") == ROP_LOGON:
            self.logon_flags[value.get("LogonId")] = int(value.get("LogonFlags", 0))

    def done(self) -> None:
        self.params["request_rop"] = None
        self.params["private_logon"] = None


class RequestIndex:
    """The request ROPs by RopId, so that each response finds its request without a scan.

    MS-OXCROPS 3.2.5.1/3.2.5.2: the server processes the requests in RopsList order and returns
    the responses in the order it processed them; RopRelease has no response (3.2.5.3) and a
    failed ROP can end the processing early, so the request a response answers is the next one
    with its RopId after the previous pair. Positions are sorted: a bisect finds it.
    """

    def __init__(self, request_rops):
        self.rops = request_rops or []
        self._positions: dict[int, list[int]] | None = None

    @property
    def positions(self) -> dict[int, list[int]]:
        """RopId -> the positions of its requests, made when a response first needs them."""
        if self._positions is None:
            self._positions = {}
            for i, rop in enumerate(self.rops):
                self._positions.setdefault(rop.get("RopId"), []).append(i)
        return self._positions

    @classmethod
    def of(cls, params) -> RequestIndex:
        """The index of the `request_rops` param, built once per list and kept in the params
        (a packed response parses one RopsList per payload against the same requests)."""
        request_rops = params.get("request_rops")
        cached = params.get("_request_index")
        if cached is None or cached[0] is not request_rops:
            cached = params["_request_index"] = (request_rops, cls(request_rops))
        return cached[1]

    def pair(self, rop_id: int, cursor: int):
        """(request ROP, new cursor) for a response with `rop_id`: the first request of that
        RopId at or after `cursor`, else (None, cursor)."""
        if rop_id in UNSOLICITED:
            return None, cursor
        if cursor < len(self.rops) and self.rops[cursor].get("RopId") == rop_id:  # the usual case: in order
            return self.rops[cursor], cursor + 1
        positions = self.positions.get(rop_id)
        if not positions:
            return None, cursor
        k = bisect_left(positions, cursor)
        if k == len(positions):
            return None, cursor
        return self.rops[positions[k]], positions[k] + 1


def _message(exc: Exception) -> str:
    if isinstance(exc, (AttributeError, KeyError)):
        return f"needs request state that is not known ({exc})"
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


# What a response sees when its request is not in the capture: state keys present, all None.
UNKNOWN_REQUEST = c.Container(_columns=None, _logon_flags=None)


RopInputBuffer = struct(
    "MS-OXCROPS 2.2.1 ROP Input Buffer",
    *sized_field("RopSize", Int16ul, "RopsList", RopList("request"), bias=2),
    "ServerObjectHandleTable" / U32List(),
)

RopOutputBuffer = struct(
    "MS-OXCROPS 2.2.1 ROP Output Buffer",
    *sized_field("RopSize", Int16ul, "RopsList", RopList("response"), bias=2),
    "ServerObjectHandleTable" / U32List(),
)
