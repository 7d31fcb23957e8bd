"""MS-OXCPRPT: Property and Stream ROPs (MS-OXCROPS 2.2.8, 2.2.9)."""

from .base import RopDef

ROPS: list[RopDef] = []
