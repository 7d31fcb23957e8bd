"""MS-OXCROPS: Other ROPs (MS-OXCROPS 2.2.15)."""

from .base import RopDef

ROPS: list[RopDef] = []
