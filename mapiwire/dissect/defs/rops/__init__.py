"""All ROPs, one module per spec document, merged into `ROP_BY_ID` (MS-OXCROPS 2.2.2).

Each module ends with a `ROPS` list of `RopDef`; this package checks at import that no RopId is
defined twice.
"""

from __future__ import annotations

from . import oxcfold, oxcfxics, oxcmsg, oxcnotif, oxcperm, oxcprpt, oxcrops, oxcstor, oxctabl, oxomsg, oxorule
from .base import RopDef

# the per-document modules, in MS-OXCROPS section order
MODULES = [oxcstor, oxcfold, oxctabl, oxcmsg, oxomsg, oxcprpt, oxcperm, oxorule, oxcfxics, oxcnotif, oxcrops]


def _merge() -> dict[int, RopDef]:
    merged: dict[int, RopDef] = {}
    for module in MODULES:
        for rop in module.ROPS:
            assert rop.rop_id not in merged, f"RopId {rop.rop_id:#04x} defined twice"
            merged[rop.rop_id] = rop
    return merged


ROP_BY_ID: dict[int, RopDef] = _merge()
