"""Property ROPs (MS-OXCROPS 2.2.8) and Stream ROPs (2.2.9), semantics MS-OXCPRPT.

Spec vectors: MS-OXCPRPT 4.1.2, 4.2.1, 4.2.2, 4.3.1, 4.4.1.1 and 4.5 print ROP buffers as hex; every
other buffer is written by hand from the MS-OXCROPS layout and checked field by field.
"""

import uuid

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.oxcdata import tag_container
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import oxcprpt as p
from .helpers import field, malformed_after_a_good_rop, mutated_vector_decodes, only_construct_errors

PS_MAPI = "28030200" "00000000" "c0000000" "00000046"  # {00020328-0000-0000-C000-000000000046}
PSETID_COMMON = "08200600" "00000000" "c0000000" "00000046"  # {00062008-0000-0000-C000-000000000046}
PS_INTERNET_HEADERS = "86030200" "00000000" "c0000000" "00000046"  # {00020386-0000-0000-C000-000000000046}
X_TEST = "0e" + "X-Test".encode("utf-16-le").hex() + "0000"  # NameSize 14 + UTF-16LE name, terminated

# The columns of the MS-OXCPRPT 4.3.1 request: TestProp1 (Boolean), TestProp2 (Integer32), PidTagChangeKey.
SPECIFIC_COLUMNS = [tag_container(0x863E000B), tag_container(0x863F0003), tag_container(0x65E20102)]
STATE = c.Container(_columns=SPECIFIC_COLUMNS, _logon_flags=None)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


VECTORS = [
    # (definition, hex, {dotted field path: expected value}) -- the source in the comment
    # MS-OXCROPS 2.2.8.1 RopGetPropertyIdsFromNames (hand: one LID name, one string name)
    (p.RopGetPropertyIdsFromNamesRequest,
     "56 00 01 02 0200" "00" + PSETID_COMMON + "03850000" "01" + PS_INTERNET_HEADERS + X_TEST,
     {"RopId": 0x56, "InputHandleIndex": 1, "Flags": 2, "PropertyNameCount": 2, "PropertyNames.0.Kind": 0,
      "PropertyNames.0.LID": 0x8503, "PropertyNames.1.Kind": 1, "PropertyNames.1.Name": "X-Test"}),
    # MS-OXCPRPT 4.1.2 Server Response Buffer
    (p.RopGetPropertyIdsFromNamesResponse, "56 00 00000000 0200 3e86 3f86",
     {"RopId": 0x56, "ReturnValue": 0, "PropertyIdCount": 2, "PropertyIds": [0x863E, 0x863F]}),
    # MS-OXCROPS 2.2.8.2 RopGetNamesFromPropertyIds (hand)
    (p.RopGetNamesFromPropertyIdsRequest, "55 00 00 0200 3e86 1a00",
     {"RopId": 0x55, "PropertyIdCount": 2, "PropertyIds": [0x863E, 0x001A]}),
    (p.RopGetNamesFromPropertyIdsResponse,
     "55 00 00000000 0200" "00" + PS_MAPI + "1a000000" "01" + PS_INTERNET_HEADERS + X_TEST,
     {"PropertyNameCount": 2, "PropertyNames.0.LID": 0x1A, "PropertyNames.1.Name": "X-Test",
      "PropertyNames.1.NameSize": 14}),
    # MS-OXCPRPT 4.3.1 Client Request Buffer
    (p.RopGetPropertiesSpecificRequest, "07 00 00 0000 0100 0300 0b003e86 03003f86 0201e265",
     {"RopId": 0x07, "PropertySizeLimit": 0, "WantUnicode": 1, "PropertyTagCount": 3,
      "PropertyTags.0.PropertyId": 0x863E, "PropertyTags.0.PropertyType": 0x000B,
      "PropertyTags.2.PropertyId": 0x65E2, "PropertyTags.2.PropertyType": 0x0102}),
    # responses to it (hand): a StandardPropertyRow and a FlaggedPropertyRow (TestProp2 an error)
    (p.RopGetPropertiesSpecificResponse, "07 00 00000000 00 01 2a000000 0400 01020304",
     {"RowData.Flag": 0, "RowData.ValueArray.0.PropertyValue": True, "RowData.ValueArray.1.PropertyValue": 42,
      "RowData.ValueArray.2.PropertyValue": h("01020304"), "RowData.ValueArray.2.PropertyTag.PropertyId": 0x65E2}),
    (p.RopGetPropertiesSpecificResponse, "07 00 00000000 01 00 00 0a 0f010480 00 0200 aabb",
     {"RowData.Flag": 1, "RowData.ValueArray.0.PropertyValue": False, "RowData.ValueArray.1.Flag": 0x0A,
      "RowData.ValueArray.1.PropertyValue": 0x8004010F, "RowData.ValueArray.2.PropertyValue": h("aabb")}),
    # MS-OXCROPS 2.2.8.4 RopGetPropertiesAll (hand)
    (p.RopGetPropertiesAllRequest, "08 00 00 0010 0100", {"PropertySizeLimit": 0x1000, "WantUnicode": 1}),
    (p.RopGetPropertiesAllResponse, "08 00 00000000 0200 0300070e 2a000000 1f003700 48006900 0000",
     {"PropertyValueCount": 2, "PropertyValues.0.PropertyTag.PropertyId": 0x0E07,
      "PropertyValues.0.PropertyValue": 42, "PropertyValues.1.PropertyValue": "Hi"}),
    # MS-OXCROPS 2.2.8.5 RopGetPropertiesList (hand)
    (p.RopGetPropertiesListRequest, "09 00 03", {"RopId": 0x09, "InputHandleIndex": 3}),
    (p.RopGetPropertiesListResponse, "09 03 00000000 0200 1f003700 0300070e",
     {"PropertyTagCount": 2, "PropertyTags.0.PropertyId": 0x0037, "PropertyTags.1.PropertyType": 0x0003}),
    # MS-OXCPRPT 4.2.1 Client Request Buffer
    (p.RopSetPropertiesRequest,
     "0a 00 00 2400 0200 1f003d00 0000 1f001d0e" + "Hello World".encode("utf-16-le").hex() + "0000",
     {"PropertyValueSize": 0x24, "PropertyValueCount": 2, "PropertyValues.0.PropertyTag.PropertyId": 0x003D,
      "PropertyValues.0.PropertyValue": "", "PropertyValues.1.PropertyTag.PropertyId": 0x0E1D,
      "PropertyValues.1.PropertyValue": "Hello World"}),
    # MS-OXCPRPT 4.2.2 Server Response Buffer
    (p.RopSetPropertiesResponse, "0a 00 00000000 0000", {"ReturnValue": 0, "PropertyProblemCount": 0}),
    (p.RopSetPropertiesResponse, "0a 00 00000000 0100 0100 1f003700 0f010480",
     {"PropertyProblemCount": 1, "PropertyProblems.0.Index": 1, "PropertyProblems.0.ErrorCode": 0x8004010F,
      "PropertyProblems.0.PropertyTag.PropertyId": 0x0037}),
    # MS-OXCROPS 2.2.8.7 RopSetPropertiesNoReplicate (hand)
    (p.RopSetPropertiesNoReplicateRequest, "79 00 00 0a00 0100 0300070e 2a000000",
     {"PropertyValueSize": 10, "PropertyValueCount": 1, "PropertyValues.0.PropertyValue": 42}),
    (p.RopSetPropertiesNoReplicateResponse, "79 00 00000000 0000", {"RopId": 0x79, "PropertyProblemCount": 0}),
    # MS-OXCROPS 2.2.8.8 RopDeleteProperties (hand)
    (p.RopDeletePropertiesRequest, "0b 00 00 0200 1f003700 0300070e",
     {"PropertyTagCount": 2, "PropertyTags.1.PropertyId": 0x0E07}),
    (p.RopDeletePropertiesResponse, "0b 00 00000000 0100 0000 1f003700 0f010480",
     {"PropertyProblemCount": 1, "PropertyProblems.0.Index": 0}),
    # MS-OXCROPS 2.2.8.9 RopDeletePropertiesNoReplicate (hand)
    (p.RopDeletePropertiesNoReplicateRequest, "7a 00 00 0100 1f003700", {"PropertyTagCount": 1}),
    (p.RopDeletePropertiesNoReplicateResponse, "7a 00 00000000 0000", {"PropertyProblemCount": 0}),
    # MS-OXCROPS 2.2.8.10 RopQueryNamedProperties (hand: with and without PropertyGuid)
    (p.RopQueryNamedPropertiesRequest, "5f 00 00 01 01" + PSETID_COMMON,
     {"QueryFlags": 1, "HasGuid": 1, "PropertyGuid": uuid.UUID("00062008-0000-0000-c000-000000000046")}),
    (p.RopQueryNamedPropertiesRequest, "5f 00 00 02 00", {"QueryFlags": 2, "HasGuid": 0, "PropertyGuid": None}),
    (p.RopQueryNamedPropertiesResponse, "5f 00 00000000 0200 0385 3e86" "00" + PSETID_COMMON + "03850000"
     "01" + PS_INTERNET_HEADERS + X_TEST,
     {"IdCount": 2, "PropertyIds": [0x8503, 0x863E], "PropertyNames.0.LID": 0x8503,
      "PropertyNames.1.Name": "X-Test"}),
    # MS-OXCROPS 2.2.8.11 RopCopyProperties (hand), 2.2.8.11.3 null destination
    (p.RopCopyPropertiesRequest, "67 00 00 01 00 01 0100 1f003700",
     {"SourceHandleIndex": 0, "DestHandleIndex": 1, "WantAsynchronous": 0, "CopyFlags": 1, "PropertyTagCount": 1}),
    (p.RopCopyPropertiesResponse, "67 00 00000000 0000", {"SourceHandleIndex": 0, "PropertyProblemCount": 0}),
    (p.RopCopyPropertiesNullDestinationFailureResponse, "67 00 03050000 01000000",
     {"ReturnValue": 0x503, "DestHandleIndex": 1}),
    # MS-OXCROPS 2.2.8.12 RopCopyTo (hand), 2.2.8.12.3 null destination
    (p.RopCopyToRequest, "39 00 00 01 00 01 02 0100 0300070e",
     {"WantSubObjects": 1, "CopyFlags": 2, "ExcludedTagCount": 1, "ExcludedTags.0.PropertyId": 0x0E07}),
    (p.RopCopyToResponse, "39 00 00000000 0100 0000 0300070e 05000780",
     {"PropertyProblemCount": 1, "PropertyProblems.0.ErrorCode": 0x80070005}),
    (p.RopCopyToNullDestinationFailureResponse, "39 00 03050000 01000000", {"DestHandleIndex": 1}),
    # MS-OXCPRPT 4.5 Asynchronous Progress, steps 3, 2 and 4
    (p.RopProgressRequest, "50 00 00 00", {"RopId": 0x50, "WantCancel": 0}),
    (p.RopProgressResponse, "50 00 00000000 00 1d000000 d9020000",
     {"LogonId": 0, "CompletedTaskCount": 29, "TotalTaskCount": 729}),
    (p.RopProgressResponse, "50 00 00000000 00 3b000000 d9020000", {"CompletedTaskCount": 59}),
    # MS-OXCPRPT 4.4.1.1 Client Request Buffer
    (p.RopOpenStreamRequest, "2b 01 00 01 02019a0e 01",
     {"LogonId": 1, "InputHandleIndex": 0, "OutputHandleIndex": 1, "PropertyTag.PropertyId": 0x0E9A,
      "PropertyTag.PropertyType": 0x0102, "OpenModeFlags": 1}),
    # MS-OXCROPS 2.2.9.1 .. 2.2.9.13 (hand)
    (p.RopOpenStreamResponse, "2b 01 00000000 10000000", {"OutputHandleIndex": 1, "StreamSize": 16}),
    (p.RopReadStreamRequest, "2c 00 01 0010", {"ByteCount": 0x1000, "MaximumByteCount": None}),
    (p.RopReadStreamRequest, "2c 00 01 beba 00000100", {"ByteCount": 0xBABE, "MaximumByteCount": 0x10000}),
    (p.RopReadStreamResponse, "2c 01 00000000 0300 616263", {"DataSize": 3, "Data": b"abc"}),
    (p.RopWriteStreamRequest, "2d 00 01 0300 616263", {"DataSize": 3, "Data": b"abc"}),
    (p.RopWriteStreamResponse, "2d 01 00000000 0300", {"WrittenSize": 3}),
    (p.RopWriteStreamExtendedRequest, "a3 00 01 0300 616263", {"RopId": 0xA3, "Data": b"abc"}),
    (p.RopWriteStreamExtendedResponse, "a3 01 00000000 03000000", {"WrittenSize": 3}),
    (p.RopCommitStreamRequest, "5d 00 01", {"RopId": 0x5D, "InputHandleIndex": 1}),
    (p.RopCommitStreamResponse, "5d 01 00000000", {"ReturnValue": 0}),
    (p.RopGetStreamSizeRequest, "5e 00 01", {"RopId": 0x5E}),
    (p.RopGetStreamSizeResponse, "5e 01 00000000 00040000", {"StreamSize": 1024}),
    (p.RopSetStreamSizeRequest, "2f 00 01 0004000000000000", {"StreamSize": 1024}),
    (p.RopSetStreamSizeResponse, "2f 01 00000000", {"RopId": 0x2F}),
    (p.RopSeekStreamRequest, "2e 00 01 02 f6ffffffffffffff", {"Origin": 2, "Offset": 0xFFFFFFFFFFFFFFF6}),
    (p.RopSeekStreamResponse, "2e 01 00000000 0004000000000000", {"NewPosition": 1024}),
    (p.RopCopyToStreamRequest, "3a 00 01 02 0001000000000000",
     {"SourceHandleIndex": 1, "DestHandleIndex": 2, "ByteCount": 256}),
    (p.RopCopyToStreamResponse, "3a 01 00000000 0001000000000000 0001000000000000",
     {"ReadByteCount": 256, "WrittenByteCount": 256}),
    (p.RopCopyToStreamNullDestinationFailureResponse, "3a 01 03050000 02000000" + "00" * 16,
     {"DestHandleIndex": 2, "ReadByteCount": 0, "WrittenByteCount": 0}),
    (p.RopLockRegionStreamRequest, "5b 00 01 0000000000000000 0001000000000000 01000000",
     {"RegionOffset": 0, "RegionSize": 256, "LockFlags": 1}),
    (p.RopLockRegionStreamResponse, "5b 01 00000000", {"RopId": 0x5B}),
    (p.RopUnlockRegionStreamRequest, "5c 00 01 0000000000000000 0001000000000000 01000000",
     {"RegionSize": 256, "LockFlags": 1}),
    (p.RopUnlockRegionStreamResponse, "5c 01 00000000", {"RopId": 0x5C}),
    (p.RopWriteAndCommitStreamRequest, "90 00 01 0200 6869", {"DataSize": 2, "Data": b"hi"}),
    (p.RopWriteAndCommitStreamResponse, "90 01 00000000 0200", {"WrittenSize": 2}),
    (p.RopCloneStreamRequest, "3b 00 01 02", {"InputHandleIndex": 1, "OutputHandleIndex": 2}),
    (p.RopCloneStreamResponse, "3b 02 00000000", {"OutputHandleIndex": 2}),
]


def _id(vector):
    return f"{vector[0].docs.split()[2]}-{vector[1][:24].replace(' ', '')}"


@pytest.mark.parametrize("definition, hexdata, fields", VECTORS, ids=[_id(v) for v in VECTORS])
def test_vector_parses_field_by_field_and_builds_the_same_bytes(definition, hexdata, fields):
    data = h(hexdata)
    value = parse(definition, data, request_rop=STATE)
    for path, expected in fields.items():
        assert field(value, path) == expected, path
    assert build(definition, value, request_rop=STATE) == data


def test_every_rop_has_a_request_and_a_response_vector():
    covered = {id(vector[0]) for vector in VECTORS}
    for rop in p.ROPS:
        assert id(rop.request) in covered, rop.name
        assert id(rop.response) in covered, rop.name
        for shape in rop.error_shapes.values():
            assert id(shape) in covered, rop.name


def test_registry_ids_and_sections():
    ids = {rop.rop_id: rop.name for rop in p.ROPS}
    assert ids == {
        0x56: "RopGetPropertyIdsFromNames", 0x55: "RopGetNamesFromPropertyIds", 0x07: "RopGetPropertiesSpecific",
        0x08: "RopGetPropertiesAll", 0x09: "RopGetPropertiesList", 0x0A: "RopSetProperties",
        0x79: "RopSetPropertiesNoReplicate", 0x0B: "RopDeleteProperties", 0x7A: "RopDeletePropertiesNoReplicate",
        0x5F: "RopQueryNamedProperties", 0x67: "RopCopyProperties", 0x39: "RopCopyTo", 0x50: "RopProgress",
        0x2B: "RopOpenStream", 0x2C: "RopReadStream", 0x2D: "RopWriteStream", 0xA3: "RopWriteStreamExtended",
        0x5D: "RopCommitStream", 0x5E: "RopGetStreamSize", 0x2F: "RopSetStreamSize", 0x2E: "RopSeekStream",
        0x3A: "RopCopyToStream", 0x5B: "RopLockRegionStream", 0x5C: "RopUnlockRegionStream",
        0x90: "RopWriteAndCommitStream", 0x3B: "RopCloneStream",
    }
    for rop in p.ROPS:
        assert rop.ref.startswith(("MS-OXCROPS 2.2.8.", "MS-OXCROPS 2.2.9.")), rop.name
        assert rop.request.docs.startswith(rop.ref + "."), rop.name


def test_response_shapes_by_return_value():
    by_id = {rop.rop_id: rop for rop in p.ROPS}
    assert by_id[0x56].response_shape(0x00040380) is p.RopGetPropertyIdsFromNamesResponse
    assert by_id[0x67].response_shape(0x503) is p.RopCopyPropertiesNullDestinationFailureResponse
    assert by_id[0x39].response_shape(0x503) is p.RopCopyToNullDestinationFailureResponse
    assert by_id[0x3A].response_shape(0x503) is p.RopCopyToStreamNullDestinationFailureResponse
    for rop_id in (0x2C, 0x2D, 0xA3, 0x90, 0x3A):  # a single "Response Buffer" for every ReturnValue
        assert by_id[rop_id].response_shape(0x80004005) is by_id[rop_id].response
    assert [sc.name for sc in by_id[0x5E].response_shape(0x80004005).subcons] == [
        "RopId", "InputHandleIndex", "ReturnValue"]


def test_enum_and_flag_names():
    value = parse(p.RopOpenStreamRequest, h("2b 01 00 01 02019a0e 02"))
    assert value.OpenModeFlags.name == "Create"
    value = parse(p.RopCopyToRequest, h("39 00 00 01 00 01 03 0000"))
    assert value.CopyFlags.names == ("Move", "NoOverwrite")
    value = parse(p.RopQueryNamedPropertiesRequest, h("5f 00 00 03 00"))
    assert value.QueryFlags.names == ("NoStrings", "NoIds")
    assert parse(p.RopSeekStreamRequest, h("2e 00 01 01" + "00" * 8)).Origin.name == "Current"


def test_sizes_and_counts_are_computed_on_build():
    value = dict(RopId=0x0A, LogonId=0, InputHandleIndex=0, PropertyValues=[
        dict(PropertyTag=dict(PropertyType=0x001F, PropertyId=0x0037), PropertyValue="Hi")])
    assert build(p.RopSetPropertiesRequest, value) == h("0a 00 00 0c00 0100 1f003700 48006900 0000")
    value = dict(RopId=0x2D, LogonId=0, InputHandleIndex=1, Data=b"abcd")
    assert build(p.RopWriteStreamRequest, value) == h("2d 00 01 0400 61626364")


def first_vector(definition) -> str:
    return next(vector[1] for vector in VECTORS if vector[0] is definition)


REQUESTS = (  # MS-OXCPRPT 4.3.1, 4.2.1 and 4.4.1.1 in one ROP input buffer, then a RopReadStream
    first_vector(p.RopGetPropertiesSpecificRequest) + first_vector(p.RopSetPropertiesRequest)
    + first_vector(p.RopOpenStreamRequest) + "2c 00 01 0010")
RESPONSES = (first_vector(p.RopGetPropertiesSpecificResponse) + "0a 00 00000000 0000" + "2b 01 00000000 10000000"
             + "2c 01 0f010480 0000")


def test_rop_lists_pair_responses_with_their_requests():
    errors = []
    requests = parse(RopList("request"), h(REQUESTS), errors=errors)
    assert [rop.RopName for rop in requests] == ["RopGetPropertiesSpecific", "RopSetProperties", "RopOpenStream",
                                                 "RopReadStream"]
    for rop in requests:  # what the decoding context adds before the responses are parsed
        rop["_columns"] = rop.get("PropertyTags")
        rop["_logon_flags"] = None
    responses = parse(RopList("response"), h(RESPONSES), errors=errors, request_rops=requests)
    assert errors == []
    assert [rop.RopName for rop in responses] == [rop.RopName for rop in requests]
    assert responses[0].RowData.ValueArray[1].PropertyValue == 42
    assert responses[3].ReturnValue == 0x8004010F and responses[3].DataSize == 0  # failure keeps DataSize
    assert build(RopList("request"), requests) == h(REQUESTS)
    # RopList's build does not pair responses with requests: the stateful row is built on its own
    first = build(p.RopGetPropertiesSpecificResponse, responses[0], request_rop=requests[0])
    assert first + build(RopList("response"), responses[1:]) == h(RESPONSES)


def test_progress_answers_an_asynchronous_request_of_another_rop():
    # MS-OXCPRPT 4.5 steps 1 and 2: RopEmptyFolder (WantAsynchronous) is answered by RopProgress
    errors = []
    requests = parse(RopList("request"), h("58 00 00 01 00"), errors=errors)
    responses = parse(RopList("response"), h("50 00 00000000 00 1d000000 d9020000"), errors=errors,
                      request_rops=requests)
    assert errors == [] and requests[0].RopName == "RopEmptyFolder"
    assert responses[0].RopName == "RopProgress" and responses[0].TotalTaskCount == 729


def test_missing_columns_end_the_list_with_an_error_entry():
    errors = []
    responses = parse(RopList("response"), h(RESPONSES), errors=errors, request_rops=[])
    assert responses[0].RopName == "RopGetPropertiesSpecific" and responses[0].Undecoded == h(RESPONSES)
    assert len(errors) == 1 and "columns unknown" in errors[0]["error"]


NEGATIVE = [
    (p.RopGetPropertiesSpecificRequest, "07 00 00 0000 0100 0300 0b003e86"),  # truncated PropertyTags
    (p.RopGetPropertiesSpecificRequest, "07 00 00 0000 0100 ffff 0b003e86"),  # count over the bytes left
    (p.RopSetPropertiesRequest, "0a 00 00 0100 0000"),  # PropertyValueSize smaller than its count field
    (p.RopSetPropertiesRequest, "0a 00 00 0a00 0100 0300070e 2a00"),  # PropertyValueSize past the end
    (p.RopSetPropertiesRequest, "0a 00 00 0c00 0100 0300070e 2a000000 0000"),  # bytes left inside the size
    (p.RopReadStreamRequest, "2c 00 01 beba 0000"),  # MaximumByteCount cut short
    (p.RopReadStreamResponse, "2c 01 00000000 0500 616263"),  # DataSize past the end
    (p.RopQueryNamedPropertiesResponse, "5f 00 00000000 0200 0385"),  # IdCount over the bytes left
    (p.RopGetPropertiesSpecificResponse, "07 00 00000000 02 01"),  # PropertyRow Flag neither 0 nor 1
    (p.RopCopyToStreamResponse, "3a 01 00000000 00010000"),  # truncated ReadByteCount
]


@pytest.mark.parametrize("definition, hexdata", NEGATIVE, ids=[_id(v) for v in NEGATIVE])
def test_malformed_rops_raise_construct_errors(definition, hexdata):
    with pytest.raises(c.ConstructError):
        parse(definition, h(hexdata), request_rop=STATE)


@pytest.mark.parametrize("definition, hexdata", NEGATIVE[:2], ids=["truncated", "count-too-large"])
def test_malformed_requests_become_error_entries_in_the_list(definition, hexdata):
    malformed_after_a_good_rop("5d 00 01", "RopCommitStream", hexdata)


DEFINITIONS = sorted({id(v[0]): v[0] for v in VECTORS}.values(), key=lambda d: d.docs)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=64))
def test_random_bytes_parse_or_raise_construct_errors(definition, data):
    only_construct_errors(definition, data, request_rop=STATE)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VECTORS), st.integers(0, 200), st.integers(0, 255))
def test_mutated_vectors_parse_or_raise_construct_errors(vector, position, byte):
    data = bytearray(h(vector[1]))
    data[position % len(data)] = byte
    mutated_vector_decodes(vector[0], bytes(data), request_rop=STATE)
