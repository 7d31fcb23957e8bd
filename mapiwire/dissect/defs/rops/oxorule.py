"""MS-OXORULE: Rule ROPs (MS-OXCROPS 2.2.11.1 - 2.2.11.3).

Layouts from MS-OXCROPS 2.2.11; flag names from MS-OXORULE 2.2.1 and 2.2.2. The entry IDs of
RopUpdateDeferredActionMessages are kept as raw bytes.
"""

from construct import Int8ul, Int16ul, Rebuild, len_, this

from ..core import BoundedArray, Flags, Remaining, sized_field, struct
from ..errorcodes import ErrorCode
from ..oxcdata import TaggedPropertyValue
from .base import RopDef

# MS-OXORULE 2.2.1.1 ModifyRulesFlags: R (replace all rules)
MODIFY_RULES_FLAGS = {"R": 0x01}
# MS-OXORULE 2.2.1.3 RuleDataFlags
RULE_DATA_FLAGS = {"ROW_ADD": 0x01, "ROW_MODIFY": 0x02, "ROW_REMOVE": 0x04}
# MS-OXORULE 2.2.2.1 TableFlags of RopGetRulesTable: U (Unicode strings)
RULES_TABLE_FLAGS = {"U": 0x40}


# 2.2.11.1 RopModifyRules (0x41)
RuleData = struct(
    "MS-OXORULE 2.2.1.3 RuleData Structure (RuleDataFlags: MS-OXORULE 2.2.1.3)",
    "RuleDataFlags" / Flags(Int8ul, RULE_DATA_FLAGS),
    "PropertyValueCount" / Rebuild(Int16ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, TaggedPropertyValue, min_size=4),
)

RopModifyRulesRequest = struct(
    "MS-OXCROPS 2.2.11.1.1 RopModifyRules ROP Request Buffer (ModifyRulesFlags: MS-OXORULE 2.2.1.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ModifyRulesFlags" / Flags(Int8ul, MODIFY_RULES_FLAGS),
    "RulesCount" / Rebuild(Int16ul, len_(this.RulesData)),
    "RulesData" / BoundedArray(this.RulesCount, RuleData, min_size=3),
)

RopModifyRulesResponse = struct(
    "MS-OXCROPS 2.2.11.1.2 RopModifyRules ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.11.2 RopGetRulesTable (0x3F)
RopGetRulesTableRequest = struct(
    "MS-OXCROPS 2.2.11.2.1 RopGetRulesTable ROP Request Buffer (TableFlags: MS-OXORULE 2.2.2.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "TableFlags" / Flags(Int8ul, RULES_TABLE_FLAGS),
)

RopGetRulesTableResponse = struct(
    "MS-OXCROPS 2.2.11.2.2 RopGetRulesTable ROP Response Buffer",
    "RopId" / Int8ul,
    "OutputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.11.3 RopUpdateDeferredActionMessages (0x57)
RopUpdateDeferredActionMessagesRequest = struct(
    "MS-OXCROPS 2.2.11.3.1 RopUpdateDeferredActionMessages ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    *sized_field("ServerEntryIdSize", Int16ul, "ServerEntryId", Remaining),
    *sized_field("ClientEntryIdSize", Int16ul, "ClientEntryId", Remaining),
)

RopUpdateDeferredActionMessagesResponse = struct(
    "MS-OXCROPS 2.2.11.3.2 RopUpdateDeferredActionMessages ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)


ROPS: list[RopDef] = [
    RopDef(0x41, "RopModifyRules", "MS-OXCROPS 2.2.11.1",
           request=RopModifyRulesRequest, response=RopModifyRulesResponse),
    RopDef(0x3F, "RopGetRulesTable", "MS-OXCROPS 2.2.11.2",
           request=RopGetRulesTableRequest, response=RopGetRulesTableResponse),
    RopDef(0x57, "RopUpdateDeferredActionMessages", "MS-OXCROPS 2.2.11.3",
           request=RopUpdateDeferredActionMessagesRequest, response=RopUpdateDeferredActionMessagesResponse),
]
