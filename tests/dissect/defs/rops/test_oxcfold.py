"""Folder ROPs (MS-OXCROPS 2.2.4, semantics MS-OXCFOLD): rops/oxcfold.py.

Vectors marked "MS-OXCFOLD 4.x" / "MS-OXCTABL 4.x" are the example buffers printed in that
section; the others are written by hand from the MS-OXCROPS layout.
"""

import construct as c
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import ROP_BY_ID
from mapiwire.dissect.defs.rops import oxcfold as f

H = bytes.fromhex
FOLDER1 = "Folder1".encode("utf-16-le") + b"\0\0"
FID_36 = H("01000000 0e8edf36")  # 0001-00000E8EDF36
FID_36_VALUE = {"ReplicaId": 1, "GlobalCounter": H("00000e8edf36")}

CASES = [
    # (source, definition, bytes, expected fields)
    ("hand", f.RopOpenFolderRequest, H("02 00 00 01") + FID_36 + H("04"),
     {"RopId": 0x02, "OutputHandleIndex": 1, "FolderId": FID_36_VALUE, "OpenModeFlags": 0x04}),
    ("hand: private folder", f.RopOpenFolderResponse, H("02 01 00000000 01 00"),
     {"OutputHandleIndex": 1, "ReturnValue": 0, "HasRules": 1, "IsGhosted": 0, "ServerCount": None,
      "Servers": None}),
    ("hand: ghosted public folder", f.RopOpenFolderResponse,
     H("02 01 00000000 00 01 0200 0100") + b"srv1\0srv2\0",
     {"IsGhosted": 1, "ServerCount": 2, "CheapServerCount": 1, "Servers": ["srv1", "srv2"]}),
    ("MS-OXCFOLD 4.1.1", f.RopCreateFolderRequest, H("1c 00 00 01 01 01 00 00") + FOLDER1 + H("0000"),
     {"RopId": 0x1C, "OutputHandleIndex": 1, "FolderType": 1, "UseUnicodeStrings": 1, "OpenExisting": 0,
      "DisplayName": "Folder1", "Comment": ""}),
    ("hand: 8-bit names", f.RopCreateFolderRequest, H("1c 00 00 01 02 00 01 00") + b"Search\0about x\0",
     {"FolderType": 2, "UseUnicodeStrings": 0, "OpenExisting": 1, "DisplayName": "Search", "Comment": "about x"}),
    ("MS-OXCFOLD 4.1.2", f.RopCreateFolderResponse, H("1c 01 00000000 01000000 0e915212 00"),
     {"OutputHandleIndex": 1, "FolderId": {"ReplicaId": 1, "GlobalCounter": H("00000e915212")},
      "IsExistingFolder": 0, "HasRules": None, "IsGhosted": None, "ServerCount": None}),
    ("hand: existing folder", f.RopCreateFolderResponse, H("1c 01 00000000") + FID_36 + H("01 01 00"),
     {"IsExistingFolder": 1, "HasRules": 1, "IsGhosted": 0, "ServerCount": None, "Servers": None}),
    ("hand: existing ghosted folder", f.RopCreateFolderResponse,
     H("1c 01 00000000") + FID_36 + H("01 00 01 0100 0100") + b"pf1\0",
     {"IsGhosted": 1, "ServerCount": 1, "CheapServerCount": 1, "Servers": ["pf1"]}),
    ("MS-OXCFOLD 4.2.1", f.RopDeleteFolderRequest, H("1d 00 01 05") + FID_36,
     {"InputHandleIndex": 1, "DeleteFolderFlags": 0x05, "FolderId": FID_36_VALUE}),
    ("MS-OXCFOLD 4.2.2", f.RopDeleteFolderResponse, H("1d 01 00000000 00"),
     {"InputHandleIndex": 1, "ReturnValue": 0, "PartialCompletion": 0}),
    ("hand: ExistRestriction on PidTagSubject", f.RopSetSearchCriteriaRequest,
     H("30 00 01 0500 08 1f003700 0100") + FID_36 + H("06000000"),
     {"RestrictionDataSize": 5, "RestrictionData": {"RestrictType": 8, "PropTag": {"PropertyType": 0x1F,
                                                                                   "PropertyId": 0x37}},
      "FolderIdCount": 1, "FolderIds": [FID_36_VALUE], "SearchFlags": 0x06}),
    ("hand: reuse the last criteria", f.RopSetSearchCriteriaRequest, H("30 00 01 0000 0000 01000000"),
     {"RestrictionDataSize": 0, "RestrictionData": None, "FolderIdCount": 0, "SearchFlags": 1}),
    ("MS-OXCFOLD 4.8.2", f.RopSetSearchCriteriaResponse, H("30 01 00000000"),
     {"InputHandleIndex": 1, "ReturnValue": 0}),
    ("MS-OXCFOLD 4.9.1", f.RopGetSearchCriteriaRequest, H("31 00 00 01 01 00"),
     {"UseUnicode": 1, "IncludeRestriction": 1, "IncludeFolders": 0}),
    ("hand", f.RopGetSearchCriteriaResponse, H("31 00 00000000 0500 08 1f003700 00 0100") + FID_36 + H("01100000"),
     {"RestrictionDataSize": 5, "RestrictionData": {"RestrictType": 8, "PropTag": {"PropertyType": 0x1F,
                                                                                   "PropertyId": 0x37}},
      "LogonId": 0, "FolderIdCount": 1,
      "SearchFlags": 0x1001}),
    ("hand: no restriction, no folders", f.RopGetSearchCriteriaResponse, H("31 00 00000000 0000 02 0000 00100000"),
     {"RestrictionDataSize": 0, "RestrictionData": None, "LogonId": 2, "FolderIds": [], "SearchFlags": 0x1000}),
    ("MS-OXCFOLD 4.4.1", f.RopMoveCopyMessagesRequest, H("33 00 00 01 0100 01000000 0e8eec5d 00 00"),
     {"SourceHandleIndex": 0, "DestHandleIndex": 1, "MessageIdCount": 1,
      "MessageIds": [{"ReplicaId": 1, "GlobalCounter": H("00000e8eec5d")}], "WantAsynchronous": 0, "WantCopy": 0}),
    ("hand: answer to MS-OXCFOLD 4.4.1", f.RopMoveCopyMessagesResponse, H("33 00 00000000 00"),
     {"SourceHandleIndex": 0, "ReturnValue": 0, "PartialCompletion": 0}),
    ("hand: ecDstNullObject", f.RopMoveCopyMessagesNullDestinationFailureResponse, H("33 00 03050000 01000000 00"),
     {"ReturnValue": 0x503, "DestHandleIndex": 1, "PartialCompletion": 0}),
    ("MS-OXCFOLD 4.5.1", f.RopMoveFolderRequest, H("35 00 01 02 01 01") + FID_36 + FOLDER1,
     {"SourceHandleIndex": 1, "DestHandleIndex": 2, "WantAsynchronous": 1, "UseUnicode": 1,
      "FolderId": FID_36_VALUE, "NewFolderName": "Folder1"}),
    ("MS-OXCFOLD 4.5.2", f.RopMoveFolderResponse, H("35 01 00000000 00"),
     {"SourceHandleIndex": 1, "ReturnValue": 0, "PartialCompletion": 0}),
    ("hand: ecNotFound keeps PartialCompletion", f.RopMoveFolderResponse, H("35 01 0f010480 01"),
     {"ReturnValue": 0x8004010F, "PartialCompletion": 1}),
    ("hand: ecDstNullObject", f.RopMoveFolderNullDestinationFailureResponse, H("35 01 03050000 02000000 00"),
     {"ReturnValue": 0x503, "DestHandleIndex": 2}),
    ("MS-OXCFOLD 4.6.1", f.RopCopyFolderRequest, H("36 00 00 01 01 01 01") + FID_36 + FOLDER1,
     {"DestHandleIndex": 1, "WantAsynchronous": 1, "WantRecursive": 1, "UseUnicode": 1, "NewFolderName": "Folder1"}),
    ("hand: 8-bit name", f.RopCopyFolderRequest, H("36 00 00 01 00 00 00") + FID_36 + b"Copy\0",
     {"UseUnicode": 0, "NewFolderName": "Copy"}),
    ("MS-OXCFOLD 4.6.2", f.RopCopyFolderResponse, H("36 00 00000000 00"),
     {"SourceHandleIndex": 0, "ReturnValue": 0, "PartialCompletion": 0}),
    ("hand: ecDstNullObject", f.RopCopyFolderNullDestinationFailureResponse, H("36 00 03050000 01000000 01"),
     {"DestHandleIndex": 1, "PartialCompletion": 1}),
    ("hand", f.RopEmptyFolderRequest, H("58 00 00 01 00"), {"WantAsynchronous": 1, "WantDeleteAssociated": 0}),
    ("hand", f.RopEmptyFolderResponse, H("58 00 00000000 00"), {"ReturnValue": 0, "PartialCompletion": 0}),
    ("hand", f.RopHardDeleteMessagesAndSubfoldersRequest, H("92 00 00 00 01"),
     {"RopId": 0x92, "WantAsynchronous": 0, "WantDeleteAssociated": 1}),
    ("hand", f.RopHardDeleteMessagesAndSubfoldersResponse, H("92 00 05400080 01"),
     {"ReturnValue": 0x80004005, "PartialCompletion": 1}),
    ("MS-OXCFOLD 4.3.1", f.RopDeleteMessagesRequest,
     H("1e 00 00 00 01 0200 01000000 0e8ef148 01000000 0e8ec302"),
     {"WantAsynchronous": 0, "NotifyNonRead": 1, "MessageIdCount": 2,
      "MessageIds": [{"ReplicaId": 1, "GlobalCounter": H("00000e8ef148")},
                     {"ReplicaId": 1, "GlobalCounter": H("00000e8ec302")}]}),
    ("MS-OXCFOLD 4.3.2", f.RopDeleteMessagesResponse, H("1e 00 00000000 00"),
     {"ReturnValue": 0, "PartialCompletion": 0}),
    ("hand", f.RopHardDeleteMessagesRequest, H("91 00 00 00 00 0100") + FID_36,
     {"RopId": 0x91, "MessageIdCount": 1}),
    ("hand", f.RopHardDeleteMessagesResponse, H("91 00 00000000 01"), {"PartialCompletion": 1}),
    ("hand", f.RopGetHierarchyTableRequest, H("04 00 01 02 44"),
     {"InputHandleIndex": 1, "OutputHandleIndex": 2, "TableFlags": 0x44}),
    ("MS-OXCFOLD 4.7.2", f.RopGetHierarchyTableResponse, H("04 02 00000000 15000000"),
     {"OutputHandleIndex": 2, "ReturnValue": 0, "RowCount": 21}),
    ("MS-OXCTABL 4.1.1", f.RopGetContentsTableRequest, H("05 00 00 01 00"),
     {"InputHandleIndex": 0, "OutputHandleIndex": 1, "TableFlags": 0}),
    ("hand", f.RopGetContentsTableResponse, H("05 01 00000000 0a000000"), {"RowCount": 10}),
]


def _ids(case):
    return f"{case[1].docs.split()[1]} {case[1].docs.split()[2]} ({case[0]})"


@pytest.mark.parametrize("source, definition, data, fields", CASES, ids=[_ids(case) for case in CASES])
def test_vectors_parse_field_by_field_and_build_the_same_bytes(source, definition, data, fields):
    value = parse(definition, data)
    for name, expected in fields.items():
        assert value[name] == expected, name
    assert build(definition, value) == data


def test_every_rop_has_a_request_and_a_response_vector():
    defined = {d for _, d, _, _ in CASES}
    for rop in f.ROPS:
        assert rop.request in defined and rop.response in defined, rop.name
        assert ROP_BY_ID[rop.rop_id] is rop
    assert {rop.rop_id for rop in f.ROPS} == {0x02, 0x1C, 0x1D, 0x30, 0x31, 0x33, 0x35, 0x36, 0x58, 0x92, 0x1E,
                                              0x91, 0x04, 0x05}


def test_flag_and_enum_names_come_from_ms_oxcfold():
    assert parse(f.RopDeleteFolderRequest, H("1d 00 01 15") + FID_36).DeleteFolderFlags.names == (
        "DEL_MESSAGES", "DEL_FOLDERS", "DELETE_HARD_DELETE")
    assert parse(f.RopCreateFolderRequest, H("1c 00 00 01 02 00 00 00 00 00")).FolderType.name == "Search"
    assert parse(f.RopGetHierarchyTableRequest, H("04 00 01 02 44")).TableFlags.names == ("Depth", "UseUnicode")
    assert parse(f.RopGetContentsTableRequest, H("05 00 00 01 82")).TableFlags.names == (
        "Associated", "ConversationMembers")
    assert parse(f.RopMoveFolderNullDestinationFailureResponse,
                 H("35 01 03050000 02000000 00")).ReturnValue == 0x503


def test_response_shape_follows_the_return_value():
    move = ROP_BY_ID[0x35]
    assert move.response_shape(0) is f.RopMoveFolderResponse
    assert move.response_shape(0x8004010F) is f.RopMoveFolderResponse  # PartialCompletion on any failure
    assert move.response_shape(0x503) is f.RopMoveFolderNullDestinationFailureResponse
    assert ROP_BY_ID[0x33].response_shape(0x503) is f.RopMoveCopyMessagesNullDestinationFailureResponse
    assert ROP_BY_ID[0x36].response_shape(0x503) is f.RopCopyFolderNullDestinationFailureResponse
    assert ROP_BY_ID[0x1E].response_shape(0x80070005) is f.RopDeleteMessagesResponse
    assert ROP_BY_ID[0x02].response_shape(0x8004010F).subcons[2].name == "ReturnValue"
    assert len(ROP_BY_ID[0x02].response_shape(0x8004010F).subcons) == 3


# Multi-ROP buffers through the RopList (MS-OXCFOLD 4.3.1 + 4.5.1 + 4.6.1 and their answers)
REQUESTS = (H("1e 00 00 00 01 0200 01000000 0e8ef148 01000000 0e8ec302")
            + H("35 00 01 02 01 01") + FID_36 + FOLDER1
            + H("36 00 00 01 01 01 01") + FID_36 + FOLDER1)
RESPONSES = H("1e 00 00000000 00") + H("35 01 03050000 02000000 00") + H("36 00 0f010480 01")


def test_rop_list_pairs_responses_including_the_null_destination_shape():
    errors = []
    requests = parse(RopList("request"), REQUESTS, errors=errors)
    assert [r.RopName for r in requests] == ["RopDeleteMessages", "RopMoveFolder", "RopCopyFolder"]
    assert build(RopList("request"), requests) == REQUESTS
    responses = parse(RopList("response"), RESPONSES, errors=errors, request_rops=requests)
    assert errors == []
    assert [r.RopName for r in responses] == ["RopDeleteMessages", "RopMoveFolder", "RopCopyFolder"]
    assert responses[1].ReturnValue == 0x503 and responses[1].DestHandleIndex == 2
    assert responses[2].ReturnValue == 0x8004010F and responses[2].PartialCompletion == 1
    assert build(RopList("response"), responses) == RESPONSES


BAD = [
    # (definition, bytes): truncated or with a count past the bytes left
    (f.RopDeleteMessagesRequest, H("1e 00 00 00 01 0200 01000000 0e8ef148 01000000")),
    (f.RopDeleteMessagesRequest, H("1e 00 00 00 01 ffff 01000000 0e8ef148")),
    (f.RopMoveCopyMessagesRequest, H("33 00 00 01 0900 01000000 0e8eec5d 00 00")),
    (f.RopOpenFolderResponse, H("02 01 00000000 00 01 ffff 0000") + b"srv\0"),
    (f.RopCreateFolderRequest, H("1c 00 00 01 01 01 00 00 46 00 6f")),
    (f.RopSetSearchCriteriaRequest, H("30 00 01 0900 08 1f003700 0000 00000000")),
    (f.RopGetSearchCriteriaResponse, H("31 00 00000000 0500 08 1f00")),
    (f.RopMoveFolderNullDestinationFailureResponse, H("35 01 03050000 0200")),
    (f.RopGetHierarchyTableResponse, H("04 02 00000000 1500")),
]


@pytest.mark.parametrize("definition, data", BAD)
def test_bad_input_raises_a_construct_error(definition, data):
    with pytest.raises(c.ConstructError):
        parse(definition, data)


def test_bad_rop_in_a_list_is_an_error_entry_and_undecoded_bytes():
    bad = H("1e 00 00 00 01 ffff 01000000 0e8ef148")
    errors = []
    rops = parse(RopList("request"), H("05 00 00 01 00") + bad, errors=errors)
    assert rops[0].RopName == "RopGetContentsTable"
    assert rops[1].RopName == "RopDeleteMessages" and rops[1].Undecoded == bad
    assert len(errors) == 1 and "RopsList[1]" in errors[0]["where"]
    assert build(RopList("request"), rops) == H("05 00 00 01 00") + bad


DEFINITIONS = list(dict.fromkeys(d for rop in f.ROPS
                                 for d in (rop.request, rop.response, rop.failure, *rop.error_shapes.values())))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=64))
def test_random_bytes_give_a_value_or_a_construct_error(definition, data):
    try:
        parse(definition, data)
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([data for _, _, data, _ in CASES]), st.integers(0, 63), st.integers(0, 255))
def test_mutated_vectors_through_the_rop_list_never_raise(data, position, byte):
    mutated = bytearray(data)
    mutated[position % len(mutated)] = byte
    errors = []
    parse(RopList("request"), bytes(mutated), errors=errors)
    parse(RopList("response"), bytes(mutated), errors=errors, request_rops=[])
