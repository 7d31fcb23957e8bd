"""MS-OXOMSG: Transport ROPs (MS-OXCROPS 2.2.7)."""

from .base import RopDef

ROPS: list[RopDef] = []
