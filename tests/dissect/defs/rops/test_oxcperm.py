"""Permission ROPs (MS-OXCROPS 2.2.10, semantics MS-OXCPERM).

MS-OXCPERM 4.1 walks through RopGetPermissionsTable and RopModifyPermissions, but only the
RopOpenStream buffers that open the example could be read from the stored spec, so the vectors
are written by hand from the MS-OXCROPS 2.2.10 layouts. The PermissionData values use the
properties of MS-OXCPERM 2.2.4 - 2.2.7: PidTagEntryId (0x0FFF0102), PidTagMemberId (0x66710014)
and PidTagMemberRights (0x66730003).
"""

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs import core
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import oxcperm
from .helpers import field

OK = "00000000"
ACCESS_DENIED = "05000780"  # ecAccessDenied 0x80070005
ADD_ROW = "01" "0200" "0201ff0f" "0400" "deadbeef" "03007366" "7b040000"  # AddRow: EntryId, MemberRights 0x47B
REMOVE_ROW = "04" "0100" "14007166" "0100000000000000"  # RemoveRow: MemberId 1
MODIFY_REQUEST = "400001" "02" "0200" + ADD_ROW + REMOVE_ROW

# (name, definition, hex, {field path: value})
VECTORS = [
    ("ModifyPermissions request", oxcperm.RopModifyPermissionsRequest, MODIFY_REQUEST,
     {"InputHandleIndex": 1, "ModifyFlags.names": ("IncludeFreeBusy",), "ModifyCount": 2,
      "PermissionsData.0.PermissionDataFlags.names": ("AddRow",), "PermissionsData.0.PropertyValueCount": 2,
      "PermissionsData.0.PropertyValues.0.PropertyTag.PropertyId": 0x0FFF,
      "PermissionsData.0.PropertyValues.0.PropertyValue": bytes.fromhex("deadbeef"),
      "PermissionsData.0.PropertyValues.1.PropertyValue": 0x47B,
      "PermissionsData.1.PermissionDataFlags.names": ("RemoveRow",),
      "PermissionsData.1.PropertyValues.0.PropertyValue": 1}),
    ("ModifyPermissions request, replace nothing", oxcperm.RopModifyPermissionsRequest, "400001" "01" "0000",
     {"ModifyFlags.names": ("ReplaceRows",), "ModifyCount": 0, "PermissionsData": []}),
    ("ModifyPermissions response", oxcperm.RopModifyPermissionsResponse, "4001" + OK, {"InputHandleIndex": 1}),
    ("GetPermissionsTable request", oxcperm.RopGetPermissionsTableRequest, "3e000102" "02",
     {"InputHandleIndex": 1, "OutputHandleIndex": 2, "TableFlags.names": ("IncludeFreeBusy",)}),
    ("GetPermissionsTable response", oxcperm.RopGetPermissionsTableResponse, "3e02" + OK,
     {"OutputHandleIndex": 2, "ReturnValue": 0}),
]


@pytest.mark.parametrize("name, definition, data, expected", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector(name, definition, data, expected):
    raw = bytes.fromhex(data)
    value = core.parse(definition, raw)
    for path, want in expected.items():
        assert field(value, path) == want, path
    assert core.build(definition, value) == raw


def test_registry():
    assert {rop.rop_id: rop.name for rop in oxcperm.ROPS} == {0x40: "RopModifyPermissions",
                                                              0x3E: "RopGetPermissionsTable"}


def test_build_fills_counts():
    value = core.parse(oxcperm.RopModifyPermissionsRequest, bytes.fromhex(MODIFY_REQUEST))
    del value.PermissionsData[0].PropertyValues[0]
    value.PermissionsData[0].PropertyValues[0].PropertyValue = 0x400
    again = core.parse(oxcperm.RopModifyPermissionsRequest, core.build(oxcperm.RopModifyPermissionsRequest, value))
    assert again.PermissionsData[0].PropertyValueCount == 1
    assert again.PermissionsData[0].PropertyValues[0].PropertyValue == 0x400


REQUESTS = "3e000102" "00" + MODIFY_REQUEST
RESPONSES = "3e02" + OK + "4001" + ACCESS_DENIED


def test_rop_lists():
    errors = []
    requests = core.parse(RopList("request"), bytes.fromhex(REQUESTS), errors=errors)
    assert [r.RopName for r in requests] == ["RopGetPermissionsTable", "RopModifyPermissions"]
    assert core.build(RopList("request"), requests).hex() == REQUESTS
    responses = core.parse(RopList("response"), bytes.fromhex(RESPONSES), errors=errors, request_rops=requests)
    assert errors == [] and responses[1].ReturnValue == 0x80070005
    assert core.build(RopList("response"), responses).hex() == RESPONSES


NEGATIVE = [
    "400001" "00" "0900" + ADD_ROW,  # ModifyCount over the bytes left
    "400001" "00" "0100" "01" "ff00" "03007366" "7b040000",  # PropertyValueCount over the bytes left
    "400001" "00" "0100" "01" "0100" "0201ff0f" "0400" "dead",  # binary value truncated
    "400001" "00" "0100" "01" "0100" "99997366" "7b040000",  # unknown property type 0x9999
    "3e0001",  # truncated request
]


@pytest.mark.parametrize("data", NEGATIVE)
def test_negative(data):
    definition = oxcperm.RopModifyPermissionsRequest if data[:2] == "40" else oxcperm.RopGetPermissionsTableRequest
    with pytest.raises(c.ConstructError):
        core.parse(definition, bytes.fromhex(data))
    errors = []
    rops = core.parse(RopList("request"), bytes.fromhex(data), errors=errors)
    assert rops[-1].Undecoded == bytes.fromhex(data) and errors


DEFINITIONS = [d for rop in oxcperm.ROPS for d in (rop.request, rop.response)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=80))
def test_fuzz_only_construct_errors(definition, data):
    try:
        core.parse(definition, data)
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60))
def test_fuzz_mutated_request(data):
    """The spec-shaped request with its tail replaced: only ConstructErrors or success."""
    raw = bytes.fromhex(MODIFY_REQUEST)[:6] + data
    try:
        core.parse(oxcperm.RopModifyPermissionsRequest, raw)
    except c.ConstructError:
        pass
