"""MS-OXCNOTIF: Notification ROPs (MS-OXCROPS 2.2.14)."""

from .base import RopDef

ROPS: list[RopDef] = []
