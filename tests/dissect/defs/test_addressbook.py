"""Address book endpoint bodies (MS-OXCMAPIHTTP 2.2.5) and their common structures (2.2.1).

Neither MS-OXCMAPIHTTP nor MS-OXNSPI prints address book bodies as bytes, so the vectors are written by
hand from the layouts; the STAT in the Bind request carries the field values printed in MS-OXNSPI
section 4 (NspiBind example: CodePage 0x4E4, TemplateLocale and SortLocale 0x409), the ProviderUID of the
entry IDs is GUID_NSPI as printed in MS-OXOABK 2.2.3.32.
"""

import subprocess
import sys
import uuid

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs import addressbook as ab
from mapiwire.dissect.defs.core import build, parse


def u8(v): return bytes([v])
def u16(v): return v.to_bytes(2, "little")
def u32(v): return v.to_bytes(4, "little")
def s32(v): return v.to_bytes(4, "little", signed=True)
def w(s): return s.encode("utf-16-le") + b"\0\0"
def a(s): return s.encode("latin-1") + b"\0"
def tag(ptype, pid): return u16(ptype) + u16(pid)
def lpta(*tags): return u32(len(tags)) + b"".join(tags)


OK = u32(0) + u32(0)  # StatusCode 0, ErrorCode Success
AUX_EMPTY = u32(0)
AUX_ONE = (u32(16) + bytes.fromhex("0000" "0400" "0800" "0800")  # RPC_HEADER_EXT (Last)
           + bytes.fromhex("0800" "01" "01" "0300" "0400"))     # AUX_HEADER + AUX_PERF_REQUESTID
# MS-OXNSPI section 4, NspiBind: SortType, ContainerID, CurrentRec, Delta, NumPos, TotalRecs 0, CodePage 0x4E4
STAT_BIND = u32(0) * 6 + u32(0x4E4) + u32(0x409) + u32(0x409)
STAT_END = u32(0) + u32(0x20) + u32(2) + s32(-1) + u32(5) + u32(10) + u32(0x4B0) + u32(0x409) + u32(0x409)
GUID_NSPI = bytes.fromhex("dca740c8c042101ab4b908002b2fe182")  # MS-OXOABK 2.2.3.32 PidTagMappingSignature
EPHEMERAL = b"\x87\0\0\0" + GUID_NSPI + u32(1) + u32(0) + u32(0x1234)
PERMANENT = b"\0\0\0\0" + GUID_NSPI + u32(1) + u32(1) + a("/o=Org/cn=bob")
FILETIME = bytes.fromhex("002005671500d501")  # 2019-05-01T12:00:00Z

# MS-OXCDATA 2.12 restriction with the MAPI/HTTP 32-bit RestrictCount: And(Exist(DisplayName),
# Content(DisplayName, FL_SUBSTRING | FL_IGNORECASE, "ali"))
FILTER = (u8(0x00) + u32(2) + u8(0x08) + tag(0x1F, 0x3001)
          + u8(0x03) + u16(0x0001) + u16(0x0001) + tag(0x1F, 0x3001) + tag(0x1F, 0x3001) + w("ali"))
ROWS_GETMATCHES = (u32(2)
                   + u8(0) + u8(0xFF) + w("Alice") + u32(0)                 # Flags 0: plain values
                   + u8(1) + u8(0) + u8(0xFF) + w("Bob") + u8(0x0A) + u32(0x8004010F))  # Flags 1: flagged
ROWS_QUERYROWS = (u32(2)
                  + u8(0) + u16(0x1F) + u8(0xFF) + w("Carol") + FILETIME    # PtypUnspecified column: typed
                  + u8(1) + u16(0x1F) + u8(1) + u8(0) + FILETIME)           # flagged with type, flagged

CASES = [
    # (definition, bytes, top-level fields)
    (ab.BindRequest, u32(0) + u8(1) + STAT_BIND + AUX_ONE,
     {"Flags": 0, "HasState": 1, "AuxiliaryBufferSize": 16}),
    (ab.BindRequest, u32(0x20) + u8(0) + AUX_EMPTY, {"Flags": 0x20, "HasState": 0, "State": None}),
    (ab.BindSuccess, OK + GUID_NSPI + AUX_EMPTY,
     {"StatusCode": 0, "ErrorCode": 0, "ServerGuid": uuid.UUID("c840a7dc-42c0-1a10-b4b9-08002b2fe182")}),
    (ab.UnbindRequest, u32(0) + AUX_EMPTY, {"Reserved": 0}),
    (ab.UnbindSuccess, u32(0) + u32(1) + AUX_ONE, {"ErrorCode": 1, "AuxiliaryBufferSize": 16}),
    (ab.CompareMIdsRequest, u32(0) + u8(1) + STAT_END + u32(0x10) + u32(0x20) + AUX_EMPTY,
     {"HasState": 1, "MinimalId1": 0x10, "MinimalId2": 0x20}),
    (ab.CompareMIdsRequest, u32(0) + u8(0) + u32(0x10) + u32(0x10) + AUX_EMPTY, {"State": None, "MinimalId2": 0x10}),
    (ab.CompareMIdsSuccess, OK + s32(-1) + AUX_EMPTY, {"Result": -1}),
    (ab.DNToMIdRequest, u32(0) + u8(1) + u32(2) + a("/o=Org/cn=alice") + a("/o=Org/cn=bob") + AUX_EMPTY,
     {"HasNames": 1}),
    (ab.DNToMIdRequest, u32(0) + u8(0) + AUX_EMPTY, {"HasNames": 0, "Names": None}),
    (ab.DNToMIdSuccess, OK + u8(1) + u32(2) + u32(0x1000) + u32(0) + AUX_EMPTY,
     {"HasMinimalIds": 1, "MinimalIdCount": 2, "MinimalIds": [0x1000, 0]}),
    (ab.DNToMIdSuccess, OK + u8(0) + AUX_EMPTY, {"MinimalIdCount": None, "MinimalIds": None}),
    (ab.GetMatchesRequest,
     u32(0) + u8(1) + STAT_END + u8(1) + u32(1) + u32(0x1234) + u32(0) + u8(0) + u8(1) + GUID_NSPI + u32(0x8001)
     + u32(50) + u8(1) + lpta(tag(0x1F, 0x3001)) + AUX_EMPTY,
     {"MinimalIds": [0x1234], "Filter": None, "PropertyNameId": 0x8001, "RowCount": 50, "HasColumns": 1}),
    (ab.GetMatchesRequest, u32(0) + u8(0) + u8(0) + u32(0) + u8(1) + FILTER + u8(0) + u32(10) + u8(0) + AUX_EMPTY,
     {"HasFilter": 1, "PropertyNameGuid": None, "RowCount": 10}),
    (ab.GetMatchesRequest, u32(0) + u8(0) + u8(0) + u32(0) + u8(0) + u8(0) + u32(10) + u8(0) + AUX_EMPTY,
     {"State": None, "MinimalIds": None, "PropertyNameGuid": None, "PropertyNameId": None, "Columns": None}),
    (ab.GetMatchesSuccess,
     OK + u8(1) + STAT_END + u8(1) + u32(2) + u32(0x10) + u32(0x11)
     + u8(1) + lpta(tag(0x1F, 0x3001), tag(0x03, 0x3900)) + ROWS_GETMATCHES + AUX_EMPTY,
     {"MinimalIds": [0x10, 0x11], "HasColumnsAndRows": 1, "RowCount": 2}),
    (ab.GetMatchesSuccess, OK + u8(0) + u8(0) + u8(0) + AUX_EMPTY,
     {"State": None, "Columns": None, "RowCount": None, "RowData": None}),
    (ab.GetPropListRequest, u32(1) + u32(0x10) + u32(0x4E4) + AUX_EMPTY,
     {"Flags": 1, "MinimalId": 0x10, "CodePage": 0x4E4}),
    (ab.GetPropListSuccess, OK + u8(1) + lpta(tag(0x1F, 0x3001), tag(0x102, 0x0FFF)) + AUX_EMPTY,
     {"HasPropertyTags": 1}),
    (ab.GetPropListSuccess, OK + u8(0) + AUX_EMPTY, {"PropertyTags": None}),
    (ab.GetPropsRequest,
     u32(2) + u8(1) + STAT_END + u8(1) + lpta(tag(0x1F, 0x3001), tag(0x101F, 0x8009)) + AUX_EMPTY,
     {"Flags": 2, "HasState": 1, "HasPropertyTags": 1}),
    (ab.GetPropsRequest, u32(0) + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "PropertyTags": None}),
    (ab.GetPropsSuccess,
     OK + u32(0x4B0) + u8(1) + u32(3) + tag(0x1F, 0x3001) + u8(0xFF) + w("Alice")
     + tag(0x101F, 0x8009) + u8(0xFF) + u32(2) + u8(0xFF) + w("a") + u8(0)
     + tag(0x102, 0x0FFF) + u8(0xFF) + u32(3) + b"\x01\x02\x03" + AUX_EMPTY,
     {"CodePage": 0x4B0, "HasPropertyValues": 1}),
    (ab.GetPropsSuccess, OK + u32(0x4B0) + u8(0) + AUX_EMPTY, {"PropertyValues": None}),
    (ab.GetSpecialTableRequest, u32(4) + u8(1) + STAT_END + u8(1) + u32(7) + AUX_EMPTY,
     {"Flags": 4, "Version": 7}),
    (ab.GetSpecialTableRequest, u32(0) + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "Version": None}),
    (ab.GetSpecialTableSuccess,
     OK + u32(0x4B0) + u8(1) + u32(8) + u8(1) + u32(2)
     + u32(1) + tag(0x1F, 0x3001) + u8(0xFF) + w("All")
     + u32(2) + tag(0x03, 0x3600) + u32(7) + tag(0x0B, 0x3A40) + u8(1) + AUX_EMPTY,
     {"Version": 8, "HasRows": 1, "RowsCount": 2}),
    (ab.GetSpecialTableSuccess, OK + u32(0x4B0) + u8(0) + u8(0) + AUX_EMPTY, {"Version": None, "Rows": None}),
    (ab.GetTemplateInfoRequest, u32(1) + u32(0) + u8(1) + a("/o=Org/cn=tmpl") + u32(0x4E4) + u32(0x409) + AUX_EMPTY,
     {"Flags": 1, "DisplayType": 0, "TemplateDn": "/o=Org/cn=tmpl", "CodePage": 0x4E4, "LocaleId": 0x409}),
    (ab.GetTemplateInfoRequest, u32(0x14) + u32(0x101) + u8(0) + u32(0x4E4) + u32(0x409) + AUX_EMPTY,
     {"TemplateDn": None, "DisplayType": 0x101}),
    (ab.GetTemplateInfoSuccess,
     OK + u32(0x4E4) + u8(1) + u32(1) + tag(0x102, 0x0004) + u8(0xFF) + u32(2) + b"\xaa\xbb" + AUX_EMPTY,
     {"HasRow": 1}),
    (ab.GetTemplateInfoSuccess, OK + u32(0x4E4) + u8(0) + AUX_EMPTY, {"Row": None}),
    (ab.ModLinkAttRequest,
     u32(0) + tag(0x0D, 0x8009) + u32(0x20) + u8(1) + u32(2) + u32(len(EPHEMERAL)) + EPHEMERAL
     + u32(len(PERMANENT)) + PERMANENT + AUX_EMPTY,
     {"MinimalId": 0x20, "HasEntryIds": 1, "EntryIdCount": 2}),
    (ab.ModLinkAttRequest, u32(1) + tag(0x0D, 0x8009) + u32(0x20) + u8(0) + AUX_EMPTY,
     {"Flags": 1, "EntryIdCount": None, "EntryIds": None}),
    (ab.ModLinkAttSuccess, OK + AUX_EMPTY, {"ErrorCode": 0}),
    (ab.ModPropsRequest,
     u32(0) + u8(1) + STAT_END + u8(1) + lpta(tag(0x1F, 0x3A08)) + u8(1) + u32(1) + tag(0x1F, 0x3A09) + u8(0xFF)
     + w("555") + AUX_EMPTY,
     {"HasState": 1, "HasPropertyTags": 1, "HasPropertyValues": 1}),
    (ab.ModPropsRequest, u32(0) + u8(0) + u8(0) + u8(0) + AUX_EMPTY,
     {"State": None, "PropertyTags": None, "PropertyValues": None}),
    (ab.ModPropsSuccess, OK + AUX_EMPTY, {"ErrorCode": 0}),
    (ab.QueryRowsRequest,
     u32(0) + u8(1) + STAT_END + u32(2) + u32(0x10) + u32(0x11) + u32(5) + u8(1) + lpta(tag(0x1F, 0x3001)) + AUX_EMPTY,
     {"ExplicitTableCount": 2, "ExplicitTable": [0x10, 0x11], "RowCount": 5}),
    (ab.QueryRowsRequest, u32(1) + u8(0) + u32(0) + u32(10) + u8(0) + AUX_EMPTY,
     {"State": None, "ExplicitTable": [], "Columns": None}),
    (ab.QueryRowsSuccess,
     OK + u8(1) + STAT_END + u8(1) + lpta(tag(0x00, 0x3001), tag(0x40, 0x3007)) + ROWS_QUERYROWS + AUX_EMPTY,
     {"HasState": 1, "RowCount": 2}),
    (ab.QueryRowsSuccess, OK + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "RowData": None}),
    (ab.QueryColumnsRequest, u32(0) + u32(0x80000000) + AUX_EMPTY, {"MapiFlags": 0x80000000}),
    (ab.QueryColumnsSuccess, OK + u8(1) + lpta(tag(0x1F, 0x3001), tag(0x03, 0x3900)) + AUX_EMPTY, {"HasColumns": 1}),
    (ab.QueryColumnsSuccess, OK + u8(0) + AUX_EMPTY, {"Columns": None}),
    (ab.ResolveNamesRequest,
     u32(0) + u8(1) + STAT_END + u8(1) + lpta(tag(0x1F, 0x3001)) + u8(1) + u32(2) + w("bob") + w("ali") + AUX_EMPTY,
     {"HasNames": 1, "NameCount": 2, "NameValues": ["bob", "ali"]}),
    (ab.ResolveNamesRequest, u32(0) + u8(0) + u8(0) + u8(0) + AUX_EMPTY,
     {"State": None, "PropertyTags": None, "NameCount": None, "NameValues": None}),
    (ab.ResolveNamesSuccess,
     OK + u32(0x4B0) + u8(1) + u32(2) + u32(2) + u32(1) + u8(1) + lpta(tag(0x1F, 0x3001))
     + u32(1) + u8(0) + u8(0xFF) + w("Bob") + AUX_EMPTY,
     {"MinimalIds": [2, 1], "HasRowsAndCols": 1, "RowCount": 1}),
    (ab.ResolveNamesSuccess, OK + u32(0x4B0) + u8(0) + u8(0) + AUX_EMPTY, {"MinimalIds": None, "PropertyTags": None}),
    (ab.ResortRestrictionRequest, u32(0) + u8(1) + STAT_END + u8(1) + u32(2) + u32(0x20) + u32(0x10) + AUX_EMPTY,
     {"MinimalIds": [0x20, 0x10]}),
    (ab.ResortRestrictionRequest, u32(0) + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "MinimalIds": None}),
    (ab.ResortRestrictionSuccess, OK + u8(1) + STAT_END + u8(1) + u32(2) + u32(0x10) + u32(0x20) + AUX_EMPTY,
     {"MinimalIds": [0x10, 0x20]}),
    (ab.ResortRestrictionSuccess, OK + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "MinimalIds": None}),
    (ab.SeekEntriesRequest,
     u32(0) + u8(1) + STAT_END + u8(1) + tag(0x1F, 0x3001) + u8(0xFF) + w("B") + u8(1) + u32(2) + u32(0x10)
     + u32(0x11) + u8(1) + lpta(tag(0x1F, 0x3001)) + AUX_EMPTY,
     {"HasTarget": 1, "ExplicitTableCount": 2, "ExplicitTable": [0x10, 0x11]}),
    (ab.SeekEntriesRequest, u32(0) + u8(0) + u8(0) + u8(0) + u8(0) + AUX_EMPTY,
     {"Target": None, "ExplicitTableCount": None, "ExplicitTable": None, "Columns": None}),
    (ab.SeekEntriesSuccess,
     OK + u8(1) + STAT_END + u8(1) + lpta(tag(0x1E, 0x3001)) + u32(1) + u8(0) + u8(0xFF) + a("Bob") + AUX_EMPTY,
     {"HasColumnsAndRows": 1, "RowCount": 1}),
    (ab.SeekEntriesSuccess, OK + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "RowData": None}),
    (ab.UpdateStatRequest, u32(0) + u8(1) + STAT_END + u8(1) + AUX_EMPTY, {"HasState": 1, "DeltaRequested": 1}),
    (ab.UpdateStatRequest, u32(0) + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "DeltaRequested": 0}),
    (ab.UpdateStatSuccess, OK + u8(1) + STAT_END + u8(1) + s32(-3) + AUX_EMPTY, {"HasDelta": 1, "Delta": -3}),
    (ab.UpdateStatSuccess, OK + u8(0) + u8(0) + AUX_EMPTY, {"State": None, "Delta": None}),
    (ab.GetMailboxUrlRequest, u32(0) + w("/o=Org/ou=Exchange/cn=Servers/cn=srv") + AUX_EMPTY,
     {"ServerDn": "/o=Org/ou=Exchange/cn=Servers/cn=srv"}),
    (ab.GetMailboxUrlSuccess, OK + w("https://mail.example.com/mapi/emsmdb/?MailboxId=x") + AUX_EMPTY,
     {"ServerUrl": "https://mail.example.com/mapi/emsmdb/?MailboxId=x"}),
    (ab.GetAddressBookUrlRequest, u32(0) + w("/o=Org/ou=Exchange/cn=Recipients/cn=bob") + AUX_EMPTY,
     {"UserDn": "/o=Org/ou=Exchange/cn=Recipients/cn=bob"}),
    (ab.GetAddressBookUrlSuccess, OK + w("https://mail.example.com/mapi/nspi/?MailboxId=x") + AUX_ONE,
     {"ServerUrl": "https://mail.example.com/mapi/nspi/?MailboxId=x", "AuxiliaryBufferSize": 16}),
] + [
    (failure, u32(0x80040111) + (AUX_ONE if i % 2 else AUX_EMPTY), {"StatusCode": 0x80040111})
    for i, (_, _, _, _, failure) in enumerate(ab.BODIES)
]


def vector(definition, n=0):
    """The n-th body vector of `definition` in CASES."""
    return [data for d, data, _ in CASES if d is definition][n]


def case_id(case):
    definition, data, _ = case
    return definition.docs.split(" ")[2] + ":" + data[:12].hex()


@pytest.mark.parametrize("definition, data, fields", CASES, ids=[case_id(case) for case in CASES])
def test_body_parses_field_by_field_and_builds_the_same_bytes(definition, data, fields):
    value = parse(definition, data)
    for name, expected in fields.items():
        assert value[name] == expected, name
    assert build(definition, value) == data


@pytest.mark.parametrize("definition, data, fields", CASES, ids=[case_id(case) for case in CASES])
def test_truncated_body_raises_construct_error(definition, data, fields):
    for cut in (len(data) - 1, len(data) // 2, 3):
        with pytest.raises(c.ConstructError):
            parse(definition, data[:cut])


def test_registry_lists_the_19_address_book_request_types():
    from mapiwire.dissect.defs import mapihttp

    names = [body.request_type for body in ab.ADDRESS_BOOK]
    assert names == ["Bind", "Unbind", "CompareMIds", "DNToMId", "GetMatches", "GetPropList", "GetProps",
                     "GetSpecialTable", "GetTemplateInfo", "ModLinkAtt", "ModProps", "QueryRows", "QueryColumns",
                     "ResolveNames", "ResortRestriction", "SeekEntries", "UpdateStat", "GetMailboxUrl",
                     "GetAddressBookUrl"]
    for body in ab.ADDRESS_BOOK:
        assert body.endpoint == "nspi" and body.ref.startswith("MS-OXCMAPIHTTP 2.2.5.")
        assert mapihttp.BODIES[body.request_type] == body
        assert body.request.docs.startswith(body.ref + ".1") and body.failure.docs.startswith(body.ref + ".3")


def test_registry_imports_either_module_first():
    for first in ("addressbook", "mapihttp"):
        code = (f"import mapiwire.dissect.defs.{first}; from mapiwire.dissect.defs import addressbook, mapihttp; "
                "assert len(addressbook.ADDRESS_BOOK) == 19 and len(mapihttp.BODIES) == 24")
        subprocess.run([sys.executable, "-c", code], check=True)


# Nested fields of the body vectors -----------------------------------------------------------

def test_bind_state_carries_the_ms_oxnspi_example_values():
    state = parse(ab.BindRequest, vector(ab.BindRequest)).State
    assert (state.SortType, state.SortType.name) == (0, "SortTypeDisplayName")
    assert (state.CodePage, state.TemplateLocale, state.SortLocale) == (0x4E4, 0x409, 0x409)
    end = parse(ab.CompareMIdsRequest, vector(ab.CompareMIdsRequest)).State
    assert (end.CurrentRec.name, end.Delta, end.CodePage.name) == ("MID_END_OF_TABLE", -1, "CP_WINUNICODE")


def test_getmatches_filter_is_a_restriction_with_32_bit_counts():
    restriction = parse(ab.GetMatchesRequest, vector(ab.GetMatchesRequest, 1)).Filter
    assert (restriction.RestrictType, restriction.RestrictCount) == (0x00, 2)
    exist, content = restriction.Restricts
    assert exist.RestrictType == 0x08 and exist.PropTag.PropertyId == 0x3001
    assert content.RestrictType == 0x03 and content.FuzzyLevelLow.name == "FL_SUBSTRING"


def untagged(values):
    """Row values without the PropertyTag the row adds from its column (not on the wire)."""
    return [{k: v for k, v in value.items() if k != "PropertyTag" and not k.startswith("_")} for value in values]


def test_getmatches_rows_follow_the_columns():
    value = parse(ab.GetMatchesSuccess, vector(ab.GetMatchesSuccess))
    assert [t.PropertyType.name for t in value.Columns.PropertyTags] == ["PtypString", "PtypInteger32"]
    plain, flagged = value.RowData
    assert plain.Flags == 0
    assert [t.PropertyTag.PropertyId for t in plain.ValueArray] == [0x3001, 0x3900]  # each value names its column
    assert untagged(plain.ValueArray) == [{"HasValue": 0xFF, "PropertyValue": "Alice"}, {"PropertyValue": 0}]
    assert flagged.Flags == 1
    assert untagged(flagged.ValueArray)[0] == {"Flag": 0, "PropertyValue": {"HasValue": 0xFF, "PropertyValue": "Bob"}}
    assert flagged.ValueArray[1].Flag == 0x0A and flagged.ValueArray[1].PropertyValue.PropertyValue.name == "ecNotFound"


def test_queryrows_unspecified_columns_carry_their_type():
    value = parse(ab.QueryRowsSuccess, vector(ab.QueryRowsSuccess))
    typed, flagged = value.RowData
    assert untagged(typed.ValueArray)[0] == {"PropertyType": 0x1F, "PropertyValue": {"HasValue": 0xFF, "PropertyValue": "Carol"}}
    assert typed.ValueArray[1].PropertyValue.iso() == "2019-05-01T12:00:00Z"
    assert untagged(flagged.ValueArray)[0] == {"PropertyType": 0x1F, "Flag": 1, "PropertyValue": None}
    time = flagged.ValueArray[1]
    assert time.Flag == 0 and time.PropertyValue.PropertyValue == typed.ValueArray[1].PropertyValue


def test_property_value_lists_and_multi_valued_elements():
    values = parse(ab.GetPropsSuccess, vector(ab.GetPropsSuccess)).PropertyValues.PropertyValues
    assert values[0] == {"PropertyType": 0x1F, "PropertyId": 0x3001,
                         "PropertyValue": {"HasValue": 0xFF, "PropertyValue": "Alice"}}
    assert values[1].PropertyValue.PropertyValue == [{"HasValue": 0xFF, "Value": "a"}, {"HasValue": 0, "Value": None}]
    assert values[2].PropertyValue == {"HasValue": 0xFF, "PropertyValue": b"\x01\x02\x03"}
    rows = parse(ab.GetSpecialTableSuccess, vector(ab.GetSpecialTableSuccess)).Rows
    assert [len(row.PropertyValues) for row in rows] == [1, 2]
    assert rows[1].PropertyValues[1].PropertyValue.PropertyValue is True  # PtypBoolean


def test_modlinkatt_entry_ids_are_ephemeral_or_permanent():
    value = parse(ab.ModLinkAttRequest, vector(ab.ModLinkAttRequest))
    assert value.PropertyTag.PropertyId == 0x8009
    ephemeral, permanent = (item.EntryId for item in value.EntryIds)
    assert (ephemeral.IDType, ephemeral.MId, ephemeral.DisplayType.name) == (0x87, 0x1234, "DT_MAILUSER")
    assert ephemeral.ProviderUID.registry() == "{C840A7DC-42C0-1A10-B4B9-08002B2FE182}"
    assert permanent.IDType == 0 and permanent.DistinguishedName == "/o=Org/cn=bob"
    assert permanent.DisplayTypeString.name == "DT_DISTLIST"
    assert [item.EntryIdSize for item in value.EntryIds] == [32, 28 + 14]


def test_strings_names_and_anr_results():
    names = parse(ab.DNToMIdRequest, vector(ab.DNToMIdRequest)).Names
    assert names == {"Count": 2, "Strings": ["/o=Org/cn=alice", "/o=Org/cn=bob"]}
    value = parse(ab.ResolveNamesSuccess, vector(ab.ResolveNamesSuccess))
    assert [mid.name for mid in value.MinimalIds] == ["MID_RESOLVED", "MID_AMBIGUOUS"]
    target = parse(ab.SeekEntriesRequest, vector(ab.SeekEntriesRequest)).Target
    assert target == {"PropertyType": 0x1F, "PropertyId": 0x3001,
                      "PropertyValue": {"HasValue": 0xFF, "PropertyValue": "B"}}


def test_flag_names():
    assert parse(ab.BindRequest, vector(ab.BindRequest, 1)).Flags.names == ("fAnonymousLogin",)
    assert parse(ab.GetPropsRequest, vector(ab.GetPropsRequest)).Flags.names == ("fEphID",)
    assert parse(ab.GetTemplateInfoRequest, vector(ab.GetTemplateInfoRequest, 1)).Flags.names == ("TI_SCRIPT", "TI_EMT")


# Common structures (2.2.1) -------------------------------------------------------------------

GUID_BYTES = bytes(range(16))
VALUES = [
    # (property type, bytes, parsed AddressBookPropertyValue)
    (0x0002, u16(0xFFFF), {"PropertyValue": -1}),
    (0x0003, u32(7), {"PropertyValue": 7}),
    (0x0005, bytes.fromhex("000000000000f83f"), {"PropertyValue": 1.5}),
    (0x000A, u32(0x8004010F), {"PropertyValue": 0x8004010F}),
    (0x000B, u8(1), {"PropertyValue": 1}),
    (0x0014, (2**40).to_bytes(8, "little"), {"PropertyValue": 2**40}),
    (0x0040, FILETIME, {"PropertyValue": int.from_bytes(FILETIME, "little")}),
    (0x0048, GUID_BYTES, {"PropertyValue": uuid.UUID(bytes_le=GUID_BYTES)}),
    (0x00FB, u16(3) + b"abc", {"PropertyValue": b"abc"}),  # PtypServerId keeps its explicit 16-bit COUNT
    (0x0001, b"", {"PropertyValue": None}),
    (0x001F, u8(0xFF) + w("Hi"), {"HasValue": 0xFF, "PropertyValue": "Hi"}),
    (0x001F, u8(0x00), {"HasValue": 0, "PropertyValue": None}),
    (0x001E, u8(0xFF) + a("Hi"), {"HasValue": 0xFF, "PropertyValue": "Hi"}),
    (0x0102, u8(0xFF) + u32(2) + b"\x01\x02", {"HasValue": 0xFF, "PropertyValue": b"\x01\x02"}),
    (0x0102, u8(0x00), {"HasValue": 0, "PropertyValue": None}),
    (0x1003, u8(0xFF) + u32(2) + u32(1) + u32(2), {"HasValue": 0xFF, "PropertyValue": [1, 2]}),
    (0x1003, u8(0x00), {"HasValue": 0, "PropertyValue": None}),
    (0x1048, u8(0xFF) + u32(1) + GUID_BYTES, {"HasValue": 0xFF, "PropertyValue": [uuid.UUID(bytes_le=GUID_BYTES)]}),
    (0x101F, u8(0xFF) + u32(2) + u8(0xFF) + w("a") + u8(0),
     {"HasValue": 0xFF, "PropertyValue": [{"HasValue": 0xFF, "Value": "a"}, {"HasValue": 0, "Value": None}]}),
    (0x101E, u8(0xFF) + u32(1) + u8(0xFF) + a("x"),
     {"HasValue": 0xFF, "PropertyValue": [{"HasValue": 0xFF, "Value": "x"}]}),
    (0x1102, u8(0xFF) + u32(1) + u8(0xFF) + u32(1) + b"\x09",
     {"HasValue": 0xFF, "PropertyValue": [{"HasValue": 0xFF, "Value": b"\x09"}]}),
]


@pytest.mark.parametrize("ptype, data, expected", VALUES, ids=[f"{p:#06x}-{d[:1].hex()}" for p, d, _ in VALUES])
def test_address_book_property_value_by_type(ptype, data, expected):
    definition = ab.AddressBookPropertyValue(ptype)
    value = parse(definition, data)
    assert value == expected
    assert build(definition, value) == data


def test_property_value_build_defaults():
    string = ab.AddressBookPropertyValue("PtypString")  # the type may be given by name
    assert build(string, {"PropertyValue": "Hi"}) == u8(0xFF) + w("Hi")  # HasValue follows the value
    assert build(string, {"PropertyValue": None}) == u8(0x00)
    strings = ab.AddressBookPropertyValue(0x101F)
    data = build(strings, {"PropertyValue": [{"Value": "a"}, {"Value": None}]})
    assert data == u8(0xFF) + u32(2) + u8(0xFF) + w("a") + u8(0)


@pytest.mark.parametrize("ptype, data", [
    (0x001F, u8(0x01) + w("x")),                              # HasValue MUST be 0x00 or 0xFF
    (0x101F, u8(0xFF) + u32(1) + u8(0x7F) + w("x")),          # ... also per element
])
def test_has_value_other_than_00_ff_is_an_error_entry(ptype, data):
    definition = ab.AddressBookPropertyValue(ptype)
    with pytest.raises(c.ConstructError):
        parse(definition, data)
    errors = []
    value = parse(definition, data, errors=errors)
    assert "HasValue" in errors[0]["error"] and errors[0]["where"].endswith("HasValue")
    assert build(definition, value) == data  # the odd byte is kept


@pytest.mark.parametrize("ptype, data", [
    (0x1003, u8(0xFF) + u32(1000) + u32(1)),     # value count over the bytes left
    (0x0102, u8(0xFF) + u32(1000) + b"ab"),      # byte count over the bytes left
    (0x1102, u8(0xFF) + u32(1) + u8(0xFF) + u32(9) + b"ab"),
    (0x0000, b"\0" * 8),                         # PtypUnspecified: the value needs its own type
    (0x0099, b"\0" * 8),                         # no such property type
    (0x100B, u8(0xFF) + u32(0)),                 # PtypMultipleBoolean does not exist
    (0x001F, u8(0xFF) + b"H\0i"),                # unterminated string
])
def test_bad_property_values_raise(ptype, data):
    with pytest.raises(c.ConstructError):
        parse(ab.AddressBookPropertyValue(ptype), data)


FLAGGED = [
    (ab.AddressBookFlaggedPropertyValue, {"PropertyType": 0x1F}, u8(0) + u8(0xFF) + w("x"),
     {"Flag": 0, "PropertyValue": {"HasValue": 0xFF, "PropertyValue": "x"}}),
    (ab.AddressBookFlaggedPropertyValue, {"PropertyType": 0x1F}, u8(1), {"Flag": 1, "PropertyValue": None}),
    (ab.AddressBookFlaggedPropertyValue, {"PropertyType": 0x1F}, u8(0x0A) + u32(0x8004010F),
     {"Flag": 0x0A, "PropertyValue": {"PropertyValue": 0x8004010F}}),
    (ab.AddressBookFlaggedPropertyValueWithType, {}, u16(0x03) + u8(0) + u32(5),
     {"PropertyType": 3, "Flag": 0, "PropertyValue": {"PropertyValue": 5}}),
    (ab.AddressBookFlaggedPropertyValueWithType, {}, u16(0x102) + u8(1),
     {"PropertyType": 0x102, "Flag": 1, "PropertyValue": None}),
    (ab.AddressBookTypedPropertyValue, {}, u16(0x1E) + u8(0),
     {"PropertyType": 0x1E, "PropertyValue": {"HasValue": 0, "PropertyValue": None}}),
]


@pytest.mark.parametrize("definition, params, data, expected", FLAGGED)
def test_flagged_and_typed_values(definition, params, data, expected):
    value = parse(definition, data, **params)
    assert value == expected
    assert build(definition, value, **params) == data


def test_flag_outside_00_01_0a_raises():
    with pytest.raises(c.ConstructError):
        parse(ab.AddressBookFlaggedPropertyValue, u8(2) + u32(0), PropertyType=0x03)
    with pytest.raises(c.ConstructError):
        parse(ab.AddressBookFlaggedPropertyValueWithType, u16(3) + u8(0xFF) + u32(0))


COLUMNS = {"PropertyTags": [{"PropertyType": 0x1F, "PropertyId": 0x3001}, {"PropertyType": 0x01, "PropertyId": 0x3002}]}
ROW = ab.AddressBookPropertyRow(c.this.Columns)


def test_row_errors():
    with pytest.raises(c.ValidationError):  # Flags MUST be 0x0 or 0x1
        parse(ROW, u8(2) + u8(1) + u8(1), Columns=COLUMNS)
    with pytest.raises(c.ConstructError):  # a PtypNull column would take no bytes in a Flags 0x0 row
        parse(ROW, u8(0) + u8(0xFF) + w("x"), Columns=COLUMNS)
    with pytest.raises(c.ConstructError):
        parse(ROW, u8(0), Columns=None)
    with pytest.raises(c.RangeError):
        build(ROW, {"Flags": 1, "ValueArray": []}, Columns=COLUMNS)
    value = parse(ROW, u8(1) + u8(0) + u8(0xFF) + w("x") + u8(1), Columns=COLUMNS)  # flagged: PtypNull is fine
    assert untagged(value.ValueArray)[1] == {"Flag": 1, "PropertyValue": None}
    assert build(ROW, value, Columns=COLUMNS) == u8(1) + u8(0) + u8(0xFF) + w("x") + u8(1)


@pytest.mark.parametrize("definition, data", [
    (ab.LargePropertyTagArray, u32(100_001) + tag(0x1F, 0x3001) * 4),      # PropertyTagCount over 100,000
    (ab.LargePropertyTagArray, u32(5) + tag(0x1F, 0x3001) * 2),            # over the bytes left
    (ab.AddressBookPropertyValueList, u32(3) + tag(0x03, 1) + u32(0)),     # PropertyValueCount over the bytes left
    (ab.StringsArray_r, u32(100_001) + a("x")),                            # StringsArray_r Count over 100,000
    (ab.QueryRowsRequest, u32(0) + u8(0) + u32(100_001) + u32(0) * 8),      # ExplicitTableCount over 100,000
    (ab.QueryRowsRequest, u32(0) + u8(0) + u32(3) + u32(0)),               # ... over the bytes left
    (ab.SeekEntriesRequest, u32(0) + u8(0) + u8(0) + u8(1) + u32(100_001) + u32(0) * 8),
    (ab.GetMatchesSuccess, OK + u8(0) + u8(0) + u8(1) + lpta(tag(0x03, 1)) + u32(50) + u8(0) + u32(1)),  # RowCount
    (ab.DNToMIdSuccess, OK + u8(1) + u32(1000) + u32(1)),                  # MinimalIdCount
    (ab.ResolveNamesRequest, u32(0) + u8(0) + u8(0) + u8(1) + u32(1000) + w("a")),  # NameCount
    (ab.ModLinkAttRequest,  # ID Type neither 0x87 nor 0x00
     u32(0) + tag(0x0D, 1) + u32(0) + u8(1) + u32(1) + u32(4) + b"\x05" * 4 + AUX_EMPTY),
])
def test_count_and_kind_errors_raise(definition, data):
    with pytest.raises(c.ConstructError):
        parse(definition, data)


# Property: bad input only ever raises ConstructError ----------------------------------------

DEFINITIONS = [d for row in ab.BODIES for d in row[2:]] + [
    ab.AddressBookPropertyValueList, ab.LargePropertyTagArray, ab.StringsArray_r, ab.SizedEntryId, ab.STAT]


def only_construct_errors(definition, data, **params):
    try:
        parse(definition, data, **params)
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=160))
def test_random_bytes_raise_only_construct_errors(definition, data):
    only_construct_errors(definition, data)
    only_construct_errors(definition, data, errors=[])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CASES), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4))
def test_mutated_vectors_raise_only_construct_errors(case, edits):
    definition, data, _ = case
    mutated = bytearray(data)
    for position, byte in edits:
        mutated[position % len(mutated)] = byte
    only_construct_errors(definition, bytes(mutated))
    only_construct_errors(definition, bytes(mutated), errors=[])
