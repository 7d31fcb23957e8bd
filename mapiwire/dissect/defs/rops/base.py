"""What every ROP module declares with: the `RopDef` registry entry and the generic response shape.

MS-OXCROPS 2.2.1 (ROP input and output buffers), 2.2.2 (RopId table). A response starts with
RopId, an InputHandleIndex or OutputHandleIndex and ReturnValue; the rest of its layout is
present only on success (ReturnValue 0), except the shapes a ROP lists in `error_shapes`
(MS-OXCROPS says which: RopLogon redirect, GetPropertyIdsFromNames warnings, ...) and the
response-only ROPs without ReturnValue (RopNotify, RopPending, RopBackoff, RopBufferTooSmall).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import construct as c
from construct import Construct


@dataclass
class RopDef:
    """One RopId: its name, section, request and success-response definitions.

    `error_shapes` maps a ReturnValue to the layout used for it; every other non-zero value
    uses `failure`, by default the first three fields of `response` (RopId, handle index,
    ReturnValue). `response` may be a `Switch` on request state (RopLogon: LogonFlags).
    `has_return_value=False` marks the response-only ROPs that carry none.
    """

    rop_id: int
    name: str
    ref: str
    request: Construct | None = None
    response: Construct | None = None
    error_shapes: dict[int, Construct] = field(default_factory=dict)
    has_return_value: bool = True

    failure: Construct | None = None

    def __post_init__(self):
        if self.failure is None and self.response is not None and self.has_return_value:
            success = self.response
            while not hasattr(success, "subcons"):  # a Switch on request state: take its first case
                success = next(iter(success.cases.values()))
            self.failure = c.Struct(*success.subcons[:3]) * f"{self.ref} (failure)"

    def response_shape(self, return_value: int) -> Construct | None:
        """The definition that a response with this ReturnValue is laid out by."""
        if not self.has_return_value or return_value == 0:
            return self.response
        return self.error_shapes.get(return_value, self.failure)
