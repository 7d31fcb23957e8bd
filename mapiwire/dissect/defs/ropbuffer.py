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
Unsolicited responses (RopNotify ...) get what `notify_state` hands them for their handle.
"""

from __future__ import annotations

import construct as c
from construct import Construct, Int16ul

from .core import U32List, remaining, report, sized_field, struct

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
        request_rops = params.get("request_rops") if self.direction == "response" else None
        cursor = 0
        items = c.ListContainer()
        while remaining(stream):
            start = stream.tell()
            rop_id = stream.read(1)[0]
            stream.seek(start)
            rop = ROP_BY_ID.get(rop_id)
            item_path = f"{path} -> RopsList[{len(items)}]"
            definition = None
            if rop is not None:
                if self.direction == "request":
                    definition = rop.request
                else:
                    request_rop, cursor = pair(request_rops, rop_id, cursor)
                    if request_rop is None and rop_id in UNSOLICITED and params.get("notify_state"):
                        request_rop = params["notify_state"](stream, start)
                    params["request_rop"] = request_rop if request_rop is not None else UNKNOWN_REQUEST
                    if remaining(stream) >= 6 and rop.has_return_value:
                        header = stream.read(6)
                        stream.seek(start)
                        definition = rop.response_shape(int.from_bytes(header[2:6], "little"))
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
            items.append(c.Container(RopId=value["RopId"], RopName=name,
                                     **{k: v for k, v in value.items() if k != "RopId"}))
        params["request_rop"] = None
        return items

    def _build(self, obj, stream, context, path):
        from .rops import ROP_BY_ID

        for i, item in enumerate(obj):
            if "Undecoded" in item:
                data = item["Undecoded"]
                stream.write(bytes.fromhex(data) if isinstance(data, str) else bytes(data))
                continue
            rop = ROP_BY_ID[int(item["RopId"])]
            if self.direction == "request":
                definition = rop.request
            else:
                definition = rop.response_shape(int(item.get("ReturnValue", 0)))
            definition._build(item, stream, context, f"{path} -> RopsList[{i}]")
        return obj


def pair(request_rops, rop_id: int, cursor: int):
    """The request ROP a response with `rop_id` answers: the next one of that RopId from
    `cursor` on (responses come in request order; requests without a response are passed)."""
    if not request_rops or rop_id in UNSOLICITED:
        return None, cursor
    for i in range(cursor, len(request_rops)):
        if request_rops[i].get("RopId") == rop_id:
            return request_rops[i], i + 1
    return None, cursor


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
