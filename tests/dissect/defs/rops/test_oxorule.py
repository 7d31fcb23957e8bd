"""Rule ROPs (MS-OXCROPS 2.2.11, semantics MS-OXORULE).

MS-OXORULE section 4.2 prints a rules-table session as bytes: the RopGetRulesTable request
(4.2.1, `3f 00 00 01 40`) batched with RopSetColumns and RopQueryRows, and the three responses
(4.2.2, RopGetRulesTable `3f 01 00 00 00 00`). The RopModifyRules and
RopUpdateDeferredActionMessages vectors are written by hand from the MS-OXCROPS 2.2.11 layouts,
with rule properties of MS-OXORULE 2.2.1.3.1.
"""

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs import core
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import oxorule
from .helpers import field

OK = "00000000"
# ROW_ADD: PidTagRuleSequence (0x66760003) 10, PidTagRuleName (0x6682001F) "R1", PidTagRuleState (0x66770003) 1
ADD_RULE = "01" "0300" "03007666" "0a000000" "1f008266" "520031000000" "03007766" "01000000"
REMOVE_RULE = "04" "0100" "14007466" "0100000001000000"  # ROW_REMOVE: PidTagRuleId 0x0000000100000001
MODIFY_REQUEST = "410001" "00" "0200" + ADD_RULE + REMOVE_RULE

# MS-OXORULE 4.2.1 (three request ROPs) and 4.2.2 (their responses)
SPEC_REQUESTS = "3f00000140" "12000100030014007466020184661f008266" "15000100013200"
SPEC_RESPONSES = ("3f0100000000" "12010000000000"
                  "150100000000020100" "00" "01000000013ff856" "1000" "0100000001000000" "55555555d144e340"
                  "500072006f006a0065006300740020005800" "0000")

# (name, definition, hex, {field path: value})
VECTORS = [
    ("ModifyRules request", oxorule.RopModifyRulesRequest, MODIFY_REQUEST,
     {"InputHandleIndex": 1, "ModifyRulesFlags": 0, "RulesCount": 2,
      "RulesData.0.RuleDataFlags.names": ("ROW_ADD",), "RulesData.0.PropertyValueCount": 3,
      "RulesData.0.PropertyValues.0.PropertyValue": 10, "RulesData.0.PropertyValues.1.PropertyValue": "R1",
      "RulesData.0.PropertyValues.1.PropertyTag.PropertyId": 0x6682,
      "RulesData.1.RuleDataFlags.names": ("ROW_REMOVE",), "RulesData.1.PropertyValues.0.PropertyValue": 0x100000001}),
    ("ModifyRules request, replace", oxorule.RopModifyRulesRequest, "410001" "01" "0100" + ADD_RULE,
     {"ModifyRulesFlags.names": ("R",), "RulesCount": 1}),
    ("ModifyRules response", oxorule.RopModifyRulesResponse, "4101" + OK, {"InputHandleIndex": 1}),
    ("GetRulesTable request (MS-OXORULE 4.2.1)", oxorule.RopGetRulesTableRequest, "3f00000140",
     {"RopId": 0x3F, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "TableFlags": 0x40,
      "TableFlags.names": ("U",)}),
    ("GetRulesTable response (MS-OXORULE 4.2.2)", oxorule.RopGetRulesTableResponse, "3f0100000000",
     {"RopId": 0x3F, "OutputHandleIndex": 1, "ReturnValue": 0}),
    ("UpdateDeferredActionMessages request", oxorule.RopUpdateDeferredActionMessagesRequest,
     "570001" "0400" "01020304" "0300" "aabbcc",
     {"ServerEntryIdSize": 4, "ServerEntryId": bytes.fromhex("01020304"), "ClientEntryIdSize": 3,
      "ClientEntryId": bytes.fromhex("aabbcc")}),
    ("UpdateDeferredActionMessages response", oxorule.RopUpdateDeferredActionMessagesResponse, "5701" + OK,
     {"InputHandleIndex": 1}),
]


@pytest.mark.parametrize("name, definition, data, expected", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector(name, definition, data, expected):
    raw = bytes.fromhex(data)
    value = core.parse(definition, raw)
    for path, want in expected.items():
        assert field(value, path) == want, path
    assert core.build(definition, value) == raw


def test_registry():
    assert {rop.rop_id: rop.name for rop in oxorule.ROPS} == {0x41: "RopModifyRules", 0x3F: "RopGetRulesTable",
                                                              0x57: "RopUpdateDeferredActionMessages"}


def test_build_fills_counts_and_sizes():
    value = core.parse(oxorule.RopModifyRulesRequest, bytes.fromhex(MODIFY_REQUEST))
    value.RulesData[0].PropertyValues[1].PropertyValue = "Rule two"
    del value.RulesData[1]
    again = core.parse(oxorule.RopModifyRulesRequest, core.build(oxorule.RopModifyRulesRequest, value))
    assert again.RulesCount == 1 and again.RulesData[0].PropertyValues[1].PropertyValue == "Rule two"
    value = core.parse(oxorule.RopUpdateDeferredActionMessagesRequest, bytes.fromhex("570001" "0000" "0000"))
    value.ClientEntryId = bytes(70)
    again = core.build(oxorule.RopUpdateDeferredActionMessagesRequest, value)
    assert again == bytes.fromhex("570001" "0000" "4600") + bytes(70)


def test_spec_session_through_rop_lists():
    """MS-OXORULE 4.2.1 / 4.2.2: the rules table is created, its columns set and one rule read."""
    errors = []
    requests = core.parse(RopList("request"), bytes.fromhex(SPEC_REQUESTS), errors=errors)
    assert [r.RopName for r in requests] == ["RopGetRulesTable", "RopSetColumns", "RopQueryRows"]
    assert core.build(RopList("request"), requests).hex() == SPEC_REQUESTS
    requests[2]["_columns"] = requests[1].PropertyTags  # what the decoding context hands RopQueryRows
    responses = core.parse(RopList("response"), bytes.fromhex(SPEC_RESPONSES), errors=errors, request_rops=requests)
    assert errors == []
    get_rules_table = responses[0]
    assert (get_rules_table.RopName, get_rules_table.OutputHandleIndex, get_rules_table.ReturnValue) == \
        ("RopGetRulesTable", 1, 0)
    assert responses[2].RowCount == 1
    # build pairs responses with their requests the same way
    assert core.build(RopList("response"), responses, request_rops=requests).hex() == SPEC_RESPONSES


def test_rop_list_failure_and_mixed():
    requests = core.parse(RopList("request"), bytes.fromhex(MODIFY_REQUEST + "3f00000140"), errors=[])
    responses = core.parse(RopList("response"), bytes.fromhex("4101" "02010480" "3f01" "0f010480"),
                           errors=[], request_rops=requests)
    assert [r.ReturnValue for r in responses] == [0x80040102, 0x8004010F]


NEGATIVE = [
    ("request", oxorule.RopModifyRulesRequest, "410001" "00" "0500" + ADD_RULE),  # RulesCount over the bytes left
    ("request", oxorule.RopModifyRulesRequest, "410001" "00" "0100" "01" "0300" "03007666"),  # value missing
    ("request", oxorule.RopUpdateDeferredActionMessagesRequest, "570001" "ff00" "0102"),  # size over the bytes left
    ("request", oxorule.RopGetRulesTableRequest, "3f000001"),  # truncated
    ("response", oxorule.RopModifyRulesResponse, "410100"),  # truncated
]


@pytest.mark.parametrize("direction, definition, data", NEGATIVE)
def test_negative(direction, definition, data):
    with pytest.raises(c.ConstructError):
        core.parse(definition, bytes.fromhex(data))
    errors = []
    rops = core.parse(RopList(direction), bytes.fromhex(data), errors=errors,
                      request_rops=[c.Container(RopId=int(data[:2], 16))])
    assert rops[-1].Undecoded == bytes.fromhex(data) and errors


DEFINITIONS = [d for rop in oxorule.ROPS for d in (rop.request, rop.response)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=80))
def test_fuzz_only_construct_errors(definition, data):
    try:
        core.parse(definition, data)
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(MODIFY_REQUEST) // 2 - 1), st.integers(0, 255))
def test_fuzz_mutated_request(position, byte):
    """The hand-written RopModifyRules request with one byte changed."""
    raw = bytearray.fromhex(MODIFY_REQUEST)
    raw[position] = byte
    try:
        core.parse(oxorule.RopModifyRulesRequest, bytes(raw))
    except c.ConstructError:
        pass
