"""MS-OXORULE: Rule ROPs (MS-OXCROPS 2.2.11)."""

from .base import RopDef

ROPS: list[RopDef] = []
