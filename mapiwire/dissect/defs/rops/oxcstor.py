"""MS-OXCSTOR: Logon ROPs (MS-OXCROPS 2.2.3)."""

from .base import RopDef

ROPS: list[RopDef] = []
