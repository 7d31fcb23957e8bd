"""MS-OXCFXICS: Fast Transfer and ICS ROPs (MS-OXCROPS 2.2.12, 2.2.13)."""

from .base import RopDef

ROPS: list[RopDef] = []
