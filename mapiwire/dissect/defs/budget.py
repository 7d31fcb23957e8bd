"""The decoding budget of one body: no more work and output than the protocol lets a body carry.

A few kilobytes of LZ77 can stand for megabytes of ROPs; the budget stops the decoding where a
body goes past what MS-OXCRPC allows an extended buffer (3.1.4.1.1 / 3.1.4.2.1: a payload MUST
NOT exceed 32 KB; 3.1.4.2.1.2.2: at most 96 packed payloads; 3.1.4.2 pcbOut / MS-OXCMAPIHTTP
2.2.4.2.1 MaxRopOut: a ROP output buffer of at most 0x40000 bytes):

- `plain`: decompressed payload bytes, 96 x 32 KB;
- `rops`: ROPs, as many as one 32 KB buffer holds of the smallest ROP (RopRelease, 3 bytes);
- `values`: decoded list items (property values, tags, rows), one per byte of the largest
  output buffer (a PtypNull value takes no byte of its own, so bytes alone do not bound them).

The parse param `budget` carries one `Budget` per body. Past a limit the rest is kept undecoded
with an `errors` entry "decoding budget: ..." at its offset, and no later payload is decompressed.
"""

from __future__ import annotations

import construct as c

PAYLOAD_LIMIT = 0x8000  # MS-OXCRPC 3.1.4.2.1: bytes of one payload
PAYLOADS_LIMIT = 96  # MS-OXCRPC 3.1.4.2.1.2.2: packed payloads in one buffer
MAX_PLAIN = PAYLOADS_LIMIT * PAYLOAD_LIMIT
MAX_ROPS = PAYLOAD_LIMIT // 3
MAX_VALUES = 0x40000  # MS-OXCRPC 3.1.4.2 pcbOut, MS-OXCMAPIHTTP MaxRopOut


class BudgetExceeded(c.ConstructError):
    """A body asks for more than its decoding budget."""


class Budget:
    """What is left of one body's budget; `exhausted` once any part ran out."""

    __slots__ = ("limits", "left", "exhausted", "noted")

    def __init__(self, plain: int = MAX_PLAIN, rops: int = MAX_ROPS, values: int = MAX_VALUES):
        self.limits = {"plain": plain, "rops": rops, "values": values}
        self.left = dict(self.limits)
        self.exhausted = False
        self.noted = False  # the payloads skipped once it ran out have their errors entry

    def take(self, kind: str, amount: int, path: str = "") -> None:
        """Spend `amount` of `kind` ("plain", "rops", "values"); BudgetExceeded past the limit."""
        left = self.left[kind] - amount
        if left < 0:
            self.exhausted = True
            self.left[kind] = 0
            raise BudgetExceeded(f"decoding budget: more than {self.limits[kind]} {_NAMES[kind]} in one body; "
                                 "the rest is not decoded", path=path)
        self.left[kind] = left


_NAMES = {"plain": "decompressed bytes", "rops": "ROPs", "values": "decoded values"}


def budget_of(context) -> Budget | None:
    """The body's budget from the parse params, None when parsing without one."""
    params = context.get("_params") if context is not None else None
    return params.get("budget") if params is not None else None
