"""MS-OXCFOLD: Folder ROPs (MS-OXCROPS 2.2.4)."""

from .base import RopDef

ROPS: list[RopDef] = []
