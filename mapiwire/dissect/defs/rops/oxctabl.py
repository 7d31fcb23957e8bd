"""MS-OXCTABL: Table ROPs (MS-OXCROPS 2.2.5)."""

from .base import RopDef

ROPS: list[RopDef] = []
