"""MS-OXCPERM: Permission ROPs (MS-OXCROPS 2.2.10.1 - 2.2.10.2).

Layouts from MS-OXCROPS 2.2.10; flag names from MS-OXCPERM 2.2.1 and 2.2.2.
"""

from construct import Int8ul, Int16ul, Rebuild, len_, this

from ..core import BoundedArray, Flags, struct
from ..errorcodes import ErrorCode
from ..oxcdata import TaggedPropertyValue
from .base import RopDef

# MS-OXCPERM 2.2.2.1 ModifyFlags of RopModifyPermissions
MODIFY_FLAGS = {"ReplaceRows": 0x01, "IncludeFreeBusy": 0x02}
# MS-OXCPERM 2.2.2.1 PermissionDataFlags of a PermissionData structure
PERMISSION_DATA_FLAGS = {"AddRow": 0x01, "ModifyRow": 0x02, "RemoveRow": 0x04}
# MS-OXCPERM 2.2.1.1 TableFlags of RopGetPermissionsTable
PERMISSIONS_TABLE_FLAGS = {"IncludeFreeBusy": 0x02}


# 2.2.10.1 RopModifyPermissions (0x40)
PermissionData = struct(
    "MS-OXCROPS 2.2.10.1.1.1 PermissionData Structure (PermissionDataFlags: MS-OXCPERM 2.2.2.1)",
    "PermissionDataFlags" / Flags(Int8ul, PERMISSION_DATA_FLAGS),
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, TaggedPropertyValue, min_size=4),
)

RopModifyPermissionsRequest = struct(
    "MS-OXCROPS 2.2.10.1.1 RopModifyPermissions ROP Request Buffer (ModifyFlags: MS-OXCPERM 2.2.2.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ModifyFlags" / Flags(Int8ul, MODIFY_FLAGS),
    "ModifyCount" / Rebuild(Int16ul, len_(this.PermissionsData)),
    "PermissionsData" / BoundedArray(this.ModifyCount, PermissionData, min_size=3),
)

RopModifyPermissionsResponse = struct(
    "MS-OXCROPS 2.2.10.1.2 RopModifyPermissions ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.10.2 RopGetPermissionsTable (0x3E)
RopGetPermissionsTableRequest = struct(
    "MS-OXCROPS 2.2.10.2.1 RopGetPermissionsTable ROP Request Buffer (TableFlags: MS-OXCPERM 2.2.1.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "TableFlags" / Flags(Int8ul, PERMISSIONS_TABLE_FLAGS),
)

RopGetPermissionsTableResponse = struct(
    "MS-OXCROPS 2.2.10.2.2 RopGetPermissionsTable ROP Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)


ROPS: list[RopDef] = [
    RopDef(0x40, "RopModifyPermissions", "MS-OXCROPS 2.2.10.1",
           request=RopModifyPermissionsRequest, response=RopModifyPermissionsResponse),
    RopDef(0x3E, "RopGetPermissionsTable", "MS-OXCROPS 2.2.10.2",
           request=RopGetPermissionsTableRequest, response=RopGetPermissionsTableResponse),
]
