"""MS-OXCPERM: Permission ROPs (MS-OXCROPS 2.2.10)."""

from .base import RopDef

ROPS: list[RopDef] = []
