"""MS-OXCMSG: Message ROPs (MS-OXCROPS 2.2.6)."""

from .base import RopDef

ROPS: list[RopDef] = []
