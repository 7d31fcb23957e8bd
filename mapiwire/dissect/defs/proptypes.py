"""Property data types (MS-OXCDATA 2.11.1), shared by ROP and address book values.

`PROPERTY_TYPES` maps each PropertyType to its name; `FIXED_SIZES` gives the byte size of the
fixed-width types. Multi-valued types are the single type with MultiValueFlag 0x1000 set.
"""

from __future__ import annotations

from construct import Int16ul

from .core import Enum

MULTI_VALUE_FLAG = 0x1000  # MS-OXCDATA 2.11.1 (MV_FLAG)
MULTI_VALUE_INSTANCE = 0x2000  # MS-OXCDATA 2.11.1.4 (MV_INSTANCE, in SortOrder and column sets)

PROPERTY_TYPES = {
    0x0000: "PtypUnspecified",
    0x0001: "PtypNull",
    0x0002: "PtypInteger16",
    0x0003: "PtypInteger32",
    0x0004: "PtypFloating32",
    0x0005: "PtypFloating64",
    0x0006: "PtypCurrency",
    0x0007: "PtypFloatingTime",
    0x000A: "PtypErrorCode",
    0x000B: "PtypBoolean",
    0x000D: "PtypObject",
    0x0014: "PtypInteger64",
    0x001E: "PtypString8",
    0x001F: "PtypString",
    0x0040: "PtypTime",
    0x0048: "PtypGuid",
    0x00FB: "PtypServerId",
    0x00FD: "PtypRestriction",
    0x00FE: "PtypRuleAction",
    0x0102: "PtypBinary",
    0x1002: "PtypMultipleInteger16",
    0x1003: "PtypMultipleInteger32",
    0x1004: "PtypMultipleFloating32",
    0x1005: "PtypMultipleFloating64",
    0x1006: "PtypMultipleCurrency",
    0x1007: "PtypMultipleFloatingTime",
    0x1014: "PtypMultipleInteger64",
    0x101E: "PtypMultipleString8",
    0x101F: "PtypMultipleString",
    0x1040: "PtypMultipleTime",
    0x1048: "PtypMultipleGuid",
    0x1102: "PtypMultipleBinary",
}
PROPERTY_TYPE_CODES = {name: code for code, name in PROPERTY_TYPES.items()}

# Byte size of each fixed-width single-valued type (MS-OXCDATA 2.11.1).
FIXED_SIZES = {
    0x0002: 2, 0x0003: 4, 0x0004: 4, 0x0005: 8, 0x0006: 8, 0x0007: 8, 0x000A: 4, 0x000B: 1,
    0x0014: 8, 0x0040: 8, 0x0048: 16,
}

PropertyType = Enum(Int16ul, PROPERTY_TYPES)
