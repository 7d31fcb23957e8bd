"""All ROPs, one module per spec document, merged into `ROP_BY_ID` (MS-OXCROPS 2.2.2).

Each module ends with a `ROPS` list of `RopDef`; this package checks at import that no RopId is
defined twice and that every RopId of the spec's table (`ropids.ROP_IDS`) is defined, with the
table's name and section, unless it is listed in `NOT_IMPLEMENTED`.
"""

from __future__ import annotations

from . import oxcfold, oxcfxics, oxcmsg, oxcnotif, oxcperm, oxcprpt, oxcrops, oxcstor, oxctabl, oxomsg, oxorule
from .base import RopDef
from .ropids import REQUEST_ONLY, RESPONSE_ONLY, ROP_IDS

NOT_IMPLEMENTED: tuple[int, ...] = ()  # RopIds of the table deliberately left out (none)

# the per-document modules, in MS-OXCROPS section order
MODULES = [oxcstor, oxcfold, oxctabl, oxcmsg, oxomsg, oxcprpt, oxcperm, oxorule, oxcfxics, oxcnotif, oxcrops]


def _merge() -> dict[int, RopDef]:
    merged: dict[int, RopDef] = {}
    for module in MODULES:
        for rop in module.ROPS:
            assert rop.rop_id not in merged, f"RopId {rop.rop_id:#04x} defined twice"
            merged[rop.rop_id] = rop
    return merged


def _check(merged: dict[int, RopDef]) -> None:
    for rop_id, (name, section) in ROP_IDS.items():
        if rop_id in NOT_IMPLEMENTED:
            continue
        rop = merged.get(rop_id)
        assert rop is not None, f"{name} ({rop_id:#04x}, {section}) is not defined"
        assert (rop.name, rop.ref) == (name, section), f"{rop_id:#04x}: {rop.name} {rop.ref} != {name} {section}"
        assert (rop.request is None) == (rop_id in RESPONSE_ONLY), f"{name}: request buffer"
        assert (rop.response is None) == (rop_id in REQUEST_ONLY), f"{name}: response buffer"
    extra = set(merged) - set(ROP_IDS)
    assert not extra, f"RopIds not in the spec's table: {sorted(extra)}"


ROP_BY_ID: dict[int, RopDef] = _merge()
_check(ROP_BY_ID)
