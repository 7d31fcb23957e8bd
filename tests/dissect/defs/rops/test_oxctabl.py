"""Table ROPs (MS-OXCROPS 2.2.5, semantics MS-OXCTABL): rops/oxctabl.py.

Vectors marked "MS-OXCTABL 4.x" / "MS-OXORULE 4.x" are the example buffers printed in that
section; the others are written by hand from the MS-OXCROPS layout. Rows follow the columns of
the MS-OXCTABL 4.2.1 RopSetColumns example, handed over the way the decoding context does
(`request_rop._columns`).
"""

import construct as c
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import ROP_BY_ID
from mapiwire.dissect.defs.rops import oxctabl as t

H = bytes.fromhex

# MS-OXCTABL 4.2.1: PidTagFolderId, PidTagMid, PidTagInstID (PtypInteger64), PidTagInstanceNum
# (PtypInteger32), PidTagSubject (PtypString), PidTagMessageDeliveryTime (PtypTime)
SET_COLUMNS = H("12 00 01 00 0600 14004867 14004a67 14004d67 03004e67 1f003700 4000060e")
COLUMNS = parse(t.RopSetColumnsRequest, SET_COLUMNS).PropertyTags
STATE = {"request_rop": c.Container(_columns=COLUMNS, _logon_flags=None)}

FID = H("01000000 0e8edf36")  # 0x36DF8E0E00000001
MID = H("01000000 0e8ef148")  # 0x48F18E0E00000001
UNIX_EPOCH = H("00803ed5deb19d01")  # FILETIME 116444736000000000 = 1970-01-01T00:00:00Z
ROW_STANDARD = H("00") + FID + MID + MID + H("00000000") + "Hi".encode("utf-16-le") + H("0000") + UNIX_EPOCH
ROW_FLAGGED = (H("01") + H("00") + FID + H("00") + MID + H("00") + MID + H("00 01000000")
               + H("0a 0f010480") + H("01"))  # Subject: ecNotFound; delivery time: not present
QUERY_ROWS = H("15 01 00000000 02 0200") + ROW_STANDARD + ROW_FLAGGED

CASES = [
    # (source, definition, bytes, expected fields, parse params)
    ("MS-OXCTABL 4.2.1", t.RopSetColumnsRequest, SET_COLUMNS,
     {"InputHandleIndex": 1, "SetColumnsFlags": 0, "PropertyTagCount": 6,
      "PropertyTags": [{"PropertyType": 0x14, "PropertyId": 0x6748}, {"PropertyType": 0x14, "PropertyId": 0x674A},
                       {"PropertyType": 0x14, "PropertyId": 0x674D}, {"PropertyType": 0x03, "PropertyId": 0x674E},
                       {"PropertyType": 0x1F, "PropertyId": 0x0037}, {"PropertyType": 0x40, "PropertyId": 0x0E06}]},
     {}),
    ("MS-OXORULE 4.2.2", t.RopSetColumnsResponse, H("12 01 00000000 00"),
     {"InputHandleIndex": 1, "ReturnValue": 0, "TableStatus": 0}, {}),
    ("hand", t.RopSortTableRequest, H("13 00 01 01 0200 0000 0000 4000060e 01 1f003700 00"),
     {"SortTableFlags": 1, "SortOrderCount": 2, "CategoryCount": 0, "ExpandedCount": 0,
      "SortOrders": [{"PropertyType": 0x40, "PropertyId": 0x0E06, "Order": 1},
                     {"PropertyType": 0x1F, "PropertyId": 0x0037, "Order": 0}]}, {}),
    ("MS-OXCTABL 4.3.2", t.RopSortTableResponse, H("13 01 00000000 00"), {"TableStatus": 0}, {}),
    ("hand: ExistRestriction on PidTagSubject", t.RopRestrictRequest, H("14 00 01 00 0500 08 1f003700"),
     {"RestrictFlags": 0, "RestrictionDataSize": 5,
      "RestrictionData": {"RestrictType": 8, "PropTag": {"PropertyType": 0x1F, "PropertyId": 0x37}}}, {}),
    ("hand: no restriction", t.RopRestrictRequest, H("14 00 01 01 0000"),
     {"RestrictFlags": 1, "RestrictionDataSize": 0, "RestrictionData": None}, {}),
    ("hand", t.RopRestrictResponse, H("14 01 00000000 0e"), {"TableStatus": 0x0E}, {}),
    ("MS-OXCTABL 4.5.3.1", t.RopQueryRowsRequest, H("15 00 00 00 01 3200"),
     {"InputHandleIndex": 0, "QueryRowsFlags": 0, "ForwardRead": 1, "RowCount": 50}, {}),
    ("hand: rows after MS-OXCTABL 4.2.1", t.RopQueryRowsResponse, QUERY_ROWS,
     {"Origin": 2, "RowCount": 2}, STATE),
    ("hand: no rows left", t.RopQueryRowsResponse, H("15 01 00000000 02 0000"), {"RowData": []}, STATE),
    ("hand", t.RopAbortRequest, H("38 00 01"), {"RopId": 0x38, "InputHandleIndex": 1}, {}),
    ("hand", t.RopAbortResponse, H("38 01 00000000 09"), {"TableStatus": 0x09}, {}),
    ("hand", t.RopGetStatusRequest, H("16 00 01"), {"RopId": 0x16}, {}),
    ("hand", t.RopGetStatusResponse, H("16 01 00000000 0b"), {"TableStatus": 0x0B}, {}),
    ("hand", t.RopQueryPositionRequest, H("17 00 01"), {"RopId": 0x17}, {}),
    ("hand", t.RopQueryPositionResponse, H("17 01 00000000 05000000 15000000"),
     {"Numerator": 5, "Denominator": 21}, {}),
    ("hand", t.RopSeekRowRequest, H("18 00 01 01 fbffffff 01"),
     {"Origin": 1, "RowCount": -5, "WantRowMovedCount": 1}, {}),
    ("hand", t.RopSeekRowResponse, H("18 01 00000000 01 fdffffff"), {"HasSoughtLess": 1, "RowsSought": -3}, {}),
    ("hand", t.RopSeekRowBookmarkRequest, H("19 00 01 0400 aabbccdd 0a000000 01"),
     {"BookmarkSize": 4, "Bookmark": H("aabbccdd"), "RowCount": 10, "WantRowMovedCount": 1}, {}),
    ("hand", t.RopSeekRowBookmarkResponse, H("19 01 00000000 00 00 0a000000"),
     {"RowNoLongerVisible": 0, "HasSoughtLess": 0, "RowsSought": 10}, {}),
    ("hand", t.RopSeekRowFractionalRequest, H("1a 00 01 01000000 02000000"), {"Numerator": 1, "Denominator": 2}, {}),
    ("hand", t.RopSeekRowFractionalResponse, H("1a 01 00000000"), {"ReturnValue": 0}, {}),
    ("hand", t.RopCreateBookmarkRequest, H("1b 00 01"), {"RopId": 0x1B}, {}),
    ("hand", t.RopCreateBookmarkResponse, H("1b 01 00000000 0400 01020304"),
     {"BookmarkSize": 4, "Bookmark": H("01020304")}, {}),
    ("hand", t.RopQueryColumnsAllRequest, H("37 00 01"), {"RopId": 0x37}, {}),
    ("hand", t.RopQueryColumnsAllResponse, H("37 01 00000000 0200 1f003700 4000060e"),
     {"PropertyTagCount": 2, "PropertyTags": [{"PropertyType": 0x1F, "PropertyId": 0x37},
                                              {"PropertyType": 0x40, "PropertyId": 0x0E06}]}, {}),
    ("hand", t.RopFindRowRequest, H("4f 00 01 01 0500 08 1f003700 03 0400 01020304"),
     {"FindRowFlags": 1, "RestrictionDataSize": 5, "Origin": 3, "BookmarkSize": 4, "Bookmark": H("01020304")}, {}),
    ("hand: from the cursor", t.RopFindRowRequest, H("4f 00 01 00 0500 08 1f003700 01 0000"),
     {"Origin": 1, "BookmarkSize": 0, "Bookmark": b""}, {}),
    ("hand", t.RopFindRowResponse, H("4f 01 00000000 00 01") + ROW_STANDARD,
     {"RowNoLongerVisible": 0, "HasRowData": 1}, STATE),
    ("hand: not found", t.RopFindRowResponse, H("4f 01 00000000 00 00"), {"HasRowData": 0, "RowData": None}, STATE),
    ("hand", t.RopFreeBookmarkRequest, H("89 00 01 0400 01020304"), {"Bookmark": H("01020304")}, {}),
    ("hand", t.RopFreeBookmarkResponse, H("89 01 00000000"), {"RopId": 0x89}, {}),
    ("hand", t.RopResetTableRequest, H("81 00 01"), {"RopId": 0x81}, {}),
    ("hand", t.RopResetTableResponse, H("81 01 00000000"), {"ReturnValue": 0}, {}),
    ("hand", t.RopExpandRowRequest, H("59 00 01 0a00 0100000000001234"),
     {"MaxRowCount": 10, "CategoryId": 0x3412000000000001}, {}),
    ("hand", t.RopExpandRowResponse, H("59 01 00000000 02000000 0100") + ROW_STANDARD,
     {"ExpandedRowCount": 2, "RowCount": 1}, STATE),
    ("hand", t.RopCollapseRowRequest, H("5a 00 01 0100000000001234"), {"CategoryId": 0x3412000000000001}, {}),
    ("hand", t.RopCollapseRowResponse, H("5a 01 00000000 03000000"), {"CollapsedRowCount": 3}, {}),
    ("hand", t.RopGetCollapseStateRequest, H("6b 00 01 0100000000001234 00000000"),
     {"RowId": 0x3412000000000001, "RowInstanceNumber": 0}, {}),
    ("hand", t.RopGetCollapseStateResponse, H("6b 01 00000000 0300 aabbcc"),
     {"CollapseStateSize": 3, "CollapseState": H("aabbcc")}, {}),
    ("hand", t.RopSetCollapseStateRequest, H("6c 00 01 0300 aabbcc"), {"CollapseState": H("aabbcc")}, {}),
    ("hand", t.RopSetCollapseStateResponse, H("6c 01 00000000 0400 01020304"), {"Bookmark": H("01020304")}, {}),
]


def _ids(case):
    return f"{case[1].docs.split()[1]} {case[1].docs.split()[2]} ({case[0]})"


@pytest.mark.parametrize("source, definition, data, fields, params", CASES, ids=[_ids(case) for case in CASES])
def test_vectors_parse_field_by_field_and_build_the_same_bytes(source, definition, data, fields, params):
    value = parse(definition, data, **params)
    for name, expected in fields.items():
        assert value[name] == expected, name
    assert build(definition, value, **params) == data


def test_every_rop_has_a_request_and_a_response_vector():
    defined = {d for _, d, _, _, _ in CASES}
    for rop in t.ROPS:
        assert rop.request in defined and rop.response in defined, rop.name
        assert ROP_BY_ID[rop.rop_id] is rop
    assert len(t.ROPS) == 19


def test_set_columns_then_query_rows_gives_typed_row_values():
    """MS-OXCTABL 4.2.1 RopSetColumns, then a RopQueryRows response read with its tags."""
    columns = parse(t.RopSetColumnsRequest, SET_COLUMNS).PropertyTags
    value = parse(t.RopQueryRowsResponse, QUERY_ROWS, request_rop=c.Container(_columns=columns))
    assert value.Origin.name == "BOOKMARK_END" and value.RowCount == 2
    standard, flagged = value.RowData
    assert standard.Flag.name == "StandardPropertyRow"
    values = [item.PropertyValue for item in standard.ValueArray]
    assert values[:5] == [0x36DF8E0E00000001, 0x48F18E0E00000001, 0x48F18E0E00000001, 0, "Hi"]
    assert values[5] == 116444736000000000 and values[5].iso() == "1970-01-01T00:00:00Z"
    assert [int(item.PropertyTag.PropertyId) for item in standard.ValueArray] == [
        0x6748, 0x674A, 0x674D, 0x674E, 0x0037, 0x0E06]
    assert flagged.Flag.name == "FlaggedPropertyRow"
    assert [item.Flag for item in flagged.ValueArray] == [0, 0, 0, 0, 0xA, 0x1]
    assert flagged.ValueArray[3].PropertyValue == 1
    assert flagged.ValueArray[4].PropertyValue.name == "ecNotFound"
    assert flagged.ValueArray[5].PropertyValue is None
    assert build(t.RopQueryRowsResponse, value, request_rop=c.Container(_columns=columns)) == QUERY_ROWS


def test_set_columns_and_query_rows_through_the_rop_list():
    """The request list carries the columns; the response list reads them as the context hands them on."""
    requests = parse(RopList("request"), SET_COLUMNS + H("15 00 01 00 01 3200"), errors=[])
    assert [r.RopName for r in requests] == ["RopSetColumns", "RopQueryRows"]
    requests[1]["_columns"] = requests[0].PropertyTags  # what context.py remembers for the table
    data = H("12 01 00000000 00") + QUERY_ROWS
    errors = []
    responses = parse(RopList("response"), data, errors=errors, request_rops=requests)
    assert errors == []
    assert responses[1].RopName == "RopQueryRows" and responses[1].RowData[0].ValueArray[4].PropertyValue == "Hi"
    # build pairs responses with their requests the same way
    assert build(RopList("response"), responses, request_rops=requests) == data


def test_rows_without_known_columns_are_an_error_entry_not_a_crash():
    errors = []
    responses = parse(RopList("response"), QUERY_ROWS, errors=errors, request_rops=[])
    assert responses[0].RopName == "RopQueryRows" and responses[0].Undecoded == QUERY_ROWS
    assert len(errors) == 1 and "columns" in errors[0]["error"]
    with pytest.raises(c.ConstructError):
        parse(t.RopQueryRowsResponse, QUERY_ROWS, request_rop=c.Container(_columns=None))


def test_flag_and_enum_names_come_from_ms_oxctabl():
    assert parse(t.RopSetColumnsRequest, H("12 00 01 01 0100 1f003700")).SetColumnsFlags.names == ("TBL_ASYNC",)
    assert parse(t.RopQueryRowsRequest, H("15 00 01 03 01 0100")).QueryRowsFlags.names == (
        "NoAdvance", "EnablePackedBuffers")
    assert parse(t.RopSeekRowRequest, H("18 00 01 00 00000000 00")).Origin.name == "BOOKMARK_BEGINNING"
    assert parse(t.RopFindRowRequest, H("4f 00 01 01 0000 03 0000")).FindRowFlags.names == ("Backwards",)
    assert parse(t.RopGetStatusResponse, H("16 01 00000000 0f")).TableStatus.name == "TBLSTAT_RESTRICT_ERROR"
    assert parse(t.RopRestrictResponse, H("14 01 00000000 0d")).TableStatus.name == "TBLSTAT_SETCOL_ERROR"


BAD = [
    # (definition, bytes, params): truncated or with a count past the bytes left
    (t.RopSetColumnsRequest, H("12 00 01 00 ffff 1f003700"), {}),
    (t.RopSetColumnsRequest, H("12 00 01 00 0200 1f003700 40"), {}),
    (t.RopSortTableRequest, H("13 00 01 00 0500 0000 0000 4000060e 01"), {}),
    (t.RopRestrictRequest, H("14 00 01 00 0900 08 1f003700"), {}),
    (t.RopQueryRowsResponse, H("15 01 00000000 02 ffff") + ROW_STANDARD, STATE),
    (t.RopQueryRowsResponse, QUERY_ROWS[:-3], STATE),
    (t.RopSeekRowBookmarkRequest, H("19 00 01 1000 aabbccdd 0a000000 01"), {}),
    (t.RopFindRowResponse, H("4f 01 00000000 00 01 00 0100"), STATE),
    (t.RopExpandRowResponse, H("59 01 00000000 02000000 0500") + ROW_STANDARD, STATE),
    (t.RopQueryColumnsAllResponse, H("37 01 00000000 0300 1f003700"), {}),
    (t.RopGetCollapseStateResponse, H("6b 01 00000000 0300 aa"), {}),
]


@pytest.mark.parametrize("definition, data, params", BAD)
def test_bad_input_raises_a_construct_error(definition, data, params):
    with pytest.raises(c.ConstructError):
        parse(definition, data, **params)


def test_bad_rop_in_a_list_is_an_error_entry_and_undecoded_bytes():
    bad = H("12 00 01 00 ffff 1f003700")
    errors = []
    rops = parse(RopList("request"), H("16 00 01") + bad, errors=errors)
    assert rops[0].RopName == "RopGetStatus"
    assert rops[1].RopName == "RopSetColumns" and rops[1].Undecoded == bad
    assert len(errors) == 1 and "RopsList[1]" in errors[0]["where"]
    assert build(RopList("request"), rops) == H("16 00 01") + bad


DEFINITIONS = list(dict.fromkeys(d for rop in t.ROPS for d in (rop.request, rop.response, rop.failure)))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=64))
def test_random_bytes_give_a_value_or_a_construct_error(definition, data):
    try:
        parse(definition, data, **STATE)
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([data for _, _, data, _, _ in CASES]), st.integers(0, 63), st.integers(0, 255))
def test_mutated_vectors_through_the_rop_list_never_raise(data, position, byte):
    mutated = bytearray(data)
    mutated[position % len(mutated)] = byte
    errors = []
    requests = parse(RopList("request"), bytes(mutated), errors=errors)
    for request in requests:
        request["_columns"] = COLUMNS
    parse(RopList("response"), bytes(mutated), errors=errors, request_rops=requests)
