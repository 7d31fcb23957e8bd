"""MailboxSession: the ROP side of one mailbox session context (server-contract.md).

`execute` runs a request's RopsList in order (MS-OXCROPS 3.2.5.1) against the session's own
handle table (a handle from another session is unknown here: ecNullObject), and returns the
response RopsList and ServerObjectHandleTable. A failed ROP answers with its failure layout and
processing goes on (MS-OXCROPS 3.2.5.1), except a ROP that does not decode (nothing after it
can be read). A ROP without a handler answers ecNotSupported. When the next response would not
fit MaxRopOut, RopBufferTooSmall carries the unprocessed requests (MS-OXCROPS 2.2.15.1, 3.2.5.1).
Queued RopNotify responses (MS-OXCNOTIF 2.2.1.4.1) go after the responses while there is room.
"""

from __future__ import annotations

import collections
import functools
import logging
from typing import Callable

import construct as c

from ...dissect.defs.core import build
from ...dissect.defs.ropbuffer import RopList
from ...dissect.defs.rops import ROP_BY_ID
from ..store import Event, QuotaExceeded, Store, User
from . import oxcfold, oxcmsg, oxcnotif, oxcprpt, oxcstor, oxctabl, oxomsg  # noqa: F401 (register handlers)
from .base import (EC_ERROR, EC_MAX_OBJS_EXCEEDED, EC_NOT_SUPPORTED, EC_NULL_OBJECT, EC_QUOTA_EXCEEDED, EC_RPC_FORMAT,
                   HANDLERS, Context, OutOfRoom, RopError)
from .objects import LogonObject, NotificationObject, StreamObject, TableObject

log = logging.getLogger(__name__)

NO_HANDLE = 0xFFFFFFFF
ROP_RELEASE, ROP_LOGON, ROP_NOTIFY, ROP_BUFFER_TOO_SMALL = 0x01, 0xFE, 0x2A, 0xFF
RPC_HEADER_EXT_SIZE = 8  # MS-OXCRPC 2.2.2.1: MaxRopOut bounds the RopBuffer, header included
MAX_ROP_SIZE = 0xFFFF  # RopSize is 16 bits (MS-OXCROPS 2.2.1)
INDEX_FIELDS = ("InputHandleIndex", "OutputHandleIndex", "SourceHandleIndex", "ResponseHandleIndex")


def _response_layout(rop_id: int):
    definition = ROP_BY_ID[rop_id].response
    while not hasattr(definition, "subcons"):
        definition = next(iter(definition.cases.values()))
    return definition


@functools.lru_cache(maxsize=256)
def _index_field(rop_id: int) -> str:
    """The name of a response's second field: the handle index it echoes."""
    return _response_layout(rop_id).subcons[1].name


class MailboxSession:
    """ROP-side state of one mailbox session context (handles, logons, tables, notification registrations)."""

    def __init__(self, store: Store, user: User, *, max_handles: int = 1024, max_rows: int = 1000,
                 max_stream: int = 8 << 20, max_notifications: int = 512):
        self.store = store
        self.user = user
        self.mailbox = store.mailbox(user)
        self.max_handles = max_handles
        self.max_rows = max_rows
        self.max_stream = max_stream
        self.objects: dict[int, object] = {}
        self._next_handle = 0x100
        self.pending: collections.deque = collections.deque(maxlen=max_notifications)
        self._sent_columns: dict[int, list] = {}
        self.on_event: Callable[[], None] | None = None
        self.closed = False
        self.mailbox.listeners.add(self._on_store_event)

    # the contract ------------------------------------------------------------------------------

    def execute(self, rops: list, handles: list[int], max_rop_out: int) -> tuple[list, list[int]]:
        """Run the ROPs; see the module docstring. Never raises on bad input.

        Each ROP runs with room left for a RopBufferTooSmall that would hand back the requests
        after it, so that one always fits when a later response does not."""
        with self.store.lock:
            table = [int(h) & 0xFFFFFFFF for h in handles]
            overhead = RPC_HEADER_EXT_SIZE + 2 + 4 * len(table)
            left = min(int(max_rop_out), MAX_ROP_SIZE) - overhead
            reserves = _reserves(rops)
            ctx = Context(handles=table, room=left)
            responses: list = []
            self._sent_columns = {}
            for i, rop in enumerate(rops):
                rop_id = int(rop.get("RopId", -1))
                if rop_id == ROP_RELEASE:
                    self._release(rop, ctx)
                    continue
                rop.setdefault("_columns", None)
                rop.setdefault("_logon_flags", self._logon_flags(rop))
                ctx.room = left - reserves[i]
                value, stop = self._run(rop_id, rop, ctx)
                if value is None:
                    break
                if value["RopId"] == ROP_BUFFER_TOO_SMALL:
                    size = value["SizeNeeded"]
                else:
                    built = self._built(value, rop)
                    if built is None:  # our own response would not build: answer ecError instead
                        value = self._failure(rop_id, rop, EC_ERROR)
                        built = self._built(value, rop)
                    value = built or value
                    size = len(built.built) if built is not None else 0
                if value["RopId"] == ROP_BUFFER_TOO_SMALL or size > ctx.room:
                    needed = overhead + size + reserves[i]
                    responses.append({"RopId": ROP_BUFFER_TOO_SMALL, "SizeNeeded": min(needed, MAX_ROP_SIZE),
                                      "RequestBuffers": [_request_only(r) for r in rops[i:]]})
                    break
                left -= size
                responses.append(value)
                if stop:
                    break
            ctx.room = left
            responses += self._notifications(ctx)
            return responses, table

    def events_pending(self) -> bool:
        return bool(self.pending)

    def close(self) -> None:
        """The context is gone: release every object and registration."""
        with self.store.lock:
            self.mailbox.listeners.discard(self._on_store_event)
            self.objects.clear()
            self.pending.clear()
            self.closed = True

    def notify_state(self, handle: int) -> c.Container:
        """What a RopNotify for `handle` builds and parses with (ropbuffer.py `notify_state`):
        the columns of the table it reports on."""
        columns = self._sent_columns.get(handle)
        if columns is None:
            obj = self.objects.get(handle)
            columns = obj.table.columns if isinstance(obj, TableObject) else None
        return c.Container(_columns=columns, _logon_flags=None)

    # handles -------------------------------------------------------------------------------------

    def get(self, ctx: Context, rop, field: str = "InputHandleIndex", kind=None):
        """The object the handle at `rop[field]` names; ecNullObject when there is none here."""
        index = rop.get(field)
        if index is None or not 0 <= int(index) < len(ctx.handles):
            raise RopError(EC_NULL_OBJECT)
        obj = self.objects.get(ctx.handles[int(index)])
        if obj is None or (kind is not None and not isinstance(obj, kind)):
            raise RopError(EC_NULL_OBJECT)
        return obj

    def put(self, ctx: Context, rop, obj, field: str = "OutputHandleIndex") -> int:
        """Give `obj` a new handle in the slot `rop[field]` of the handle table."""
        index = int(rop.get(field, -1))
        if not 0 <= index < len(ctx.handles):
            raise RopError(EC_NULL_OBJECT)
        if len(self.objects) >= self.max_handles:
            raise RopError(EC_MAX_OBJS_EXCEEDED)
        self._next_handle = self._next_handle % 0x7FFFFFFF + 1
        while self._next_handle in self.objects:
            self._next_handle += 1
        self.objects[self._next_handle] = obj
        ctx.handles[index] = self._next_handle
        return self._next_handle

    def check_output(self, ctx: Context, rop, field: str = "OutputHandleIndex") -> None:
        """Fail before doing anything when the output slot or the handle budget would refuse."""
        index = int(rop.get(field, -1))
        if not 0 <= index < len(ctx.handles):
            raise RopError(EC_NULL_OBJECT)
        if len(self.objects) >= self.max_handles:
            raise RopError(EC_MAX_OBJS_EXCEEDED)

    def _logon_flags(self, rop) -> int | None:
        if int(rop.get("RopId", -1)) == ROP_LOGON:
            return int(rop.get("LogonFlags", 0))
        for obj in self.objects.values():
            if isinstance(obj, LogonObject) and obj.logon_id == rop.get("LogonId"):
                return obj.flags
        return None

    def _release(self, rop, ctx: Context) -> None:
        """MS-OXCROPS 2.2.15.3 RopRelease: no response; an unknown handle is ignored."""
        index = rop.get("InputHandleIndex")
        if index is None or not 0 <= int(index) < len(ctx.handles):
            return
        obj = self.objects.pop(ctx.handles[int(index)], None)
        if isinstance(obj, StreamObject) and obj.dirty:
            oxcprpt.commit_stream(obj)
        if isinstance(obj, (TableObject, NotificationObject)):
            handle = ctx.handles[int(index)]
            self.pending = collections.deque((n for n in self.pending if n["NotificationHandle"] != handle),
                                             maxlen=self.pending.maxlen)

    # one ROP ---------------------------------------------------------------------------------------

    def _run(self, rop_id: int, rop, ctx: Context) -> tuple[dict | None, bool]:
        """(response value, stop after it). None: nothing can be answered (unknown RopId)."""
        rop_def = ROP_BY_ID.get(rop_id)
        if rop_def is None or rop_def.response is None or not rop_def.has_return_value:
            return None, True
        if "Undecoded" in rop:  # a known ROP whose request does not decode: the rest is unreadable
            return self._failure(rop_id, self._undecoded_indexes(rop_def, rop), EC_RPC_FORMAT), True
        function = HANDLERS.get(rop_id)
        if function is None:
            return self._failure(rop_id, rop, EC_NOT_SUPPORTED), False
        try:
            fields = function(self, rop, ctx)
        except RopError as error:
            return self._failure(rop_id, rop, error.code), False
        except QuotaExceeded:
            return self._failure(rop_id, rop, EC_QUOTA_EXCEEDED), False
        except OutOfRoom as error:
            return {"RopId": ROP_BUFFER_TOO_SMALL, "SizeNeeded": error.size_needed}, True
        except Exception:  # a handler bug must not take the session down: ecError, logged
            log.exception("%s failed", rop_def.name)
            return self._failure(rop_id, rop, EC_ERROR), False
        value = {"RopId": rop_id, **self._indexes(rop_id, rop), "ReturnValue": 0}
        value.update(fields)
        return value, False

    @staticmethod
    def _indexes(rop_id: int, rop) -> dict:
        name = _index_field(rop_id)
        return {name: int(rop.get(name, 0))}

    @staticmethod
    def _undecoded_indexes(rop_def, rop) -> dict:
        """The handle index fields of a request that did not decode, read from its first bytes
        (they are one byte each, at their place in the request layout)."""
        data = rop["Undecoded"]
        data = bytes.fromhex(data) if isinstance(data, str) else bytes(data)
        names = [sc.name for sc in rop_def.request.subcons]
        out = {"RopId": rop_def.rop_id}
        for name in INDEX_FIELDS:
            if name in names and names.index(name) < len(data):
                out[name] = data[names.index(name)]
        return out

    def _failure(self, rop_id: int, rop, code: int) -> dict:
        """The ROP's failure response (RopDef.response_shape): header, ReturnValue, and zeros
        for the fields that layout keeps (PartialCompletion, DestHandleIndex ...)."""
        shape = ROP_BY_ID[rop_id].response_shape(code)
        value = {"RopId": rop_id, "ReturnValue": code}
        for sc in shape.subcons[1:]:
            if sc.name in ("ReturnValue", None) or sc.name.startswith("_"):
                continue
            if sc.name in rop:
                value[sc.name] = int(rop[sc.name])
            elif sc.name in ("Data",):
                value[sc.name] = b""
            elif sc.name == "DataSize":
                continue
            else:
                value.setdefault(sc.name, 0)
        return value

    @staticmethod
    def _built(value: dict, rop) -> BuiltResponse | None:
        """The response with the bytes it builds to with its request; None when it does not build."""
        rop_id = value["RopId"]
        shape = ROP_BY_ID[rop_id].response_shape(int(value.get("ReturnValue", 0)))
        try:
            return BuiltResponse(value, build(shape, value, request_rop=rop))
        except Exception:
            log.exception("response of RopId %#04x does not build", rop_id)
            return None

    # notifications ---------------------------------------------------------------------------------

    def _notifications(self, ctx: Context) -> list:
        out = []
        while self.pending:
            value = self.pending[0]
            columns = value.get("_columns")
            state = c.Container(_columns=columns, _logon_flags=None)
            try:
                size = len(build(ROP_BY_ID[ROP_NOTIFY].response, _public(value), request_rop=state))
            except Exception:
                log.exception("RopNotify does not build")
                self.pending.popleft()
                continue
            if size > ctx.room:
                break
            ctx.room -= size
            self.pending.popleft()
            if columns is not None:
                self._sent_columns[value["NotificationHandle"]] = columns
            out.append(_public(value))
        return out

    def _on_store_event(self, event: Event) -> None:
        """Queue the RopNotify responses an event means for this session (MS-OXCNOTIF 2.2.1.4.1)."""
        if self.closed:
            return
        before = len(self.pending)
        for handle, obj in list(self.objects.items()):
            if isinstance(obj, NotificationObject):
                value = oxcnotif.object_notification(obj, event)
                if value is not None:
                    self.pending.append({"RopId": ROP_NOTIFY, "NotificationHandle": handle,
                                         "LogonId": obj.logon_id, "NotificationData": value})
            elif isinstance(obj, TableObject):
                value = oxcnotif.table_notification(obj, event)
                if value is not None:
                    self.pending.append({"RopId": ROP_NOTIFY, "NotificationHandle": handle,
                                         "LogonId": obj.logon_id, "NotificationData": value,
                                         "_columns": obj.table.columns})
        if len(self.pending) != before and self.on_event is not None:
            self.on_event()


class BuiltResponse(dict):
    """A response value (equal to the plain dict) that keeps the bytes it builds to with its
    request in `built`: the session builds each response once to know its size, and the Execute
    response reuses those bytes (server/emsmdb.py) instead of building it again."""

    __slots__ = ("built",)

    def __init__(self, value: dict, built: bytes):
        super().__init__(value)
        self.built = built


def _reserves(rops: list) -> list[int]:
    """For each ROP, the size of a RopBufferTooSmall handing back the requests after it
    (MS-OXCROPS 2.2.15.1: RopId, SizeNeeded, the requests as they were sent); 0 for the last."""
    reserves, after = [0] * len(rops), 0
    for i in range(len(rops) - 1, 0, -1):
        after += _request_size(rops[i])
        reserves[i - 1] = 3 + after
    return reserves


def _request_size(rop) -> int:
    fixed = _fixed_request_size(rop.get("RopId"))
    if fixed is not None and "Undecoded" not in rop and all(name in rop for name in fixed[1]):
        return fixed[0]
    try:
        return len(build(RopList("request"), [_request_only(rop)]))
    except Exception:  # a request that does not build again: count its bytes if it has them
        return len(rop.get("Undecoded") or b"") or 64


@functools.lru_cache(maxsize=256)
def _fixed_request_size(rop_id) -> tuple[int, tuple[str, ...]] | None:
    """(size, field names) of a request layout without a variable part (RopRelease, RopOpenFolder,
    RopQueryRows ...), from the definition's own sizeof: such a request is not built again to be
    measured. None for the others (strings, arrays, layouts that depend on the logon)."""
    rop = ROP_BY_ID.get(rop_id) if isinstance(rop_id, int) else None
    if rop is None or rop.request is None:
        return None
    try:
        size = rop.request.sizeof()
        layout = rop.request
        while not hasattr(layout, "subcons"):
            layout = layout.subcon
    except Exception:
        return None
    return size, tuple(sc.name for sc in layout.subcons if sc.name and not sc.name.startswith("_"))


def _public(value: dict) -> dict:
    return {k: v for k, v in value.items() if not k.startswith("_")}


def _request_only(rop) -> dict:
    """A request ROP as RopBufferTooSmall hands it back (without the keys this module added)."""
    return {k: v for k, v in rop.items() if not k.startswith("_")}

