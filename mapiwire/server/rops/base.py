"""What every ROP handler module uses: the handler registry, RopError, the error codes.

A handler is `def handler(session, rop, ctx) -> dict`: it gets the parsed request ROP (a
construct Container with the spec's field names) and the Execute's `Context`, and returns the
response fields after RopId, the handle index and ReturnValue (MS-OXCROPS 2.2.1: the success
response buffer); it raises `RopError(code)` to answer with the ROP's failure layout instead.
A handler may put "ReturnValue" in its answer for the layouts that keep their body on a
warning (MS-OXCPRPT 2.2.12.2 ecWarnWithErrors) or on failure (PartialCompletion ROPs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

# MS-OXCDATA 2.4 error codes the handlers answer with
EC_ERROR = 0x80004005
EC_NOT_SUPPORTED = 0x80040102
EC_NOT_FOUND = 0x8004010F
EC_INVALID_PARAM = 0x80070057
EC_NULL_OBJECT = 0x000004B9
EC_OBJECT_DELETED = 0x8004010A
EC_MAX_OBJS_EXCEEDED = 0x000004DE
EC_LOGIN_PERM = 0x000003F2
EC_LOGIN_FAILURE = 0x80040111
EC_UNKNOWN_USER = 0x000003EB
EC_ACCESS_DENIED = 0x80070005
EC_DUPLICATE_NAME = 0x80040604
EC_INVALID_BOOKMARK = 0x80040405
EC_STREAM_SIZE_ERROR = 0x80030070
EC_WARN_WITH_ERRORS = 0x00040380
EC_MAPI_OOM = 0x8007000E  # MS-OXCPRPT 3.2.5.1: a value over PropertySizeLimit
EC_NO_RECEIVE_FOLDER = 0x00000463
EC_DST_NULL_OBJECT = 0x00000503
EC_RPC_FORMAT = 0x000004B6
EC_QUOTA_EXCEEDED = 0x000004D9
EC_TOO_BIG = 0x80040305


class RopError(Exception):
    """Answer this ROP with its failure response and this ReturnValue."""

    def __init__(self, code: int):
        super().__init__(f"{code:#010x}")
        self.code = code


class OutOfRoom(Exception):
    """The response of this ROP does not fit what is left of MaxRopOut (MS-OXCROPS 2.2.15.1);
    raised by a handler before it changes anything, so the ROP can be sent again."""

    def __init__(self, size_needed: int):
        super().__init__(size_needed)
        self.size_needed = size_needed


@dataclass
class Context:
    """One Execute's working state: the ServerObjectHandleTable being filled and the bytes left
    for this ROP's response."""

    handles: list[int]
    room: int


HANDLERS: dict[int, Callable] = {}


def handler(rop_id: int):
    """Register the decorated function as the handler of `rop_id`."""
    def register(function: Callable) -> Callable:
        assert rop_id not in HANDLERS, f"two handlers for RopId {rop_id:#04x}"
        HANDLERS[rop_id] = function
        return function
    return register
