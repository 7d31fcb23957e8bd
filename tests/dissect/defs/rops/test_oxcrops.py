"""Other ROPs (MS-OXCROPS 2.2.15) and the Table of RopIds (MS-OXCROPS 2.2.2, tools/gen_ropids.py)."""

import subprocess
import sys
from pathlib import Path

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs import rops
from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopInputBuffer, RopList, RopOutputBuffer
from mapiwire.dissect.defs.rops import oxcrops
from mapiwire.dissect.defs.rops.ropids import REQUEST_ONLY, RESPONSE_ONLY, ROP_IDS
from .helpers import field

ROOT = Path(__file__).resolve().parents[4]

# (id, definition, hex, expected fields); every vector must also build back to the same bytes
VECTORS = [
    # MS-OXCROPS 4.6 Logon RopBackoff ROP Response: the RopBackoff part of the RopsList
    ("4.6-backoff-logon", oxcrops.RopBackoffResponse, "F9 00 34 12 00 00 00 00 00",
     {"RopId": 0xF9, "LogonId": 0, "Duration": 0x1234, "BackoffRopCount": 0, "BackoffRopData": [],
      "AdditionalDataSize": 0, "AdditionalData": b""}),
    # MS-OXCROPS 4.7 RopBackoff ROP Response: backing off RopCreateFolder for 0x00044F17 ms
    ("4.7-backoff-rop", oxcrops.RopBackoffResponse, "F9 00 00 00 00 00 01 1C 17 4F 04 00 00 00",
     {"Duration": 0, "BackoffRopCount": 1, "BackoffRopData[0].RopIdBackoff": 0x1C,
      "BackoffRopData[0].RopIdBackoff.name": "RopCreateFolder", "BackoffRopData[0].Duration": 0x00044F17}),
    # hand-written from 2.2.15.2.1: two BackoffRop entries and 3 bytes of AdditionalData
    ("backoff-additional-data", oxcrops.RopBackoffResponse,
     "F9 02 10 00 00 00 02 07 20 00 00 00 15 30 00 00 00 03 00 AA BB CC",
     {"LogonId": 2, "Duration": 0x10, "BackoffRopData[1].RopIdBackoff.name": "RopQueryRows",
      "BackoffRopData[1].Duration": 0x30, "AdditionalDataSize": 3, "AdditionalData": b"\xaa\xbb\xcc"}),
    # hand-written from 2.2.15.1.1: SizeNeeded 0x1000, then the unprocessed RopRelease request
    ("buffer-too-small", oxcrops.RopBufferTooSmallResponse, "FF 00 10 01 00 02",
     {"RopId": 0xFF, "SizeNeeded": 0x1000, "RequestBuffers.0.RopName": "RopRelease",
      "RequestBuffers.0.InputHandleIndex": 2}),
    ("buffer-too-small-empty", oxcrops.RopBufferTooSmallResponse, "FF 34 12",
     {"SizeNeeded": 0x1234, "RequestBuffers": []}),
    # MS-OXCROPS 4.4 RopRelease ROP Request: the first of the two RopRelease requests
    ("4.4-release", oxcrops.RopReleaseRequest, "01 00 00", {"RopId": 1, "LogonId": 0, "InputHandleIndex": 0}),
    ("4.4-release-second", oxcrops.RopReleaseRequest, "01 00 01", {"InputHandleIndex": 1}),
]


@pytest.mark.parametrize("definition, data, expected", [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_vectors(definition, data, expected):
    data = bytes.fromhex(data)
    value = parse(definition, data)
    for path, want in expected.items():
        assert field(value, path) == want, path
    assert build(definition, value) == data


def test_spec_4_4_release_input_buffer():
    """MS-OXCROPS 4.4: a ROP input buffer with two RopRelease requests."""
    data = bytes.fromhex("08 00 01 00 00 01 00 01 6F 00 00 00 6E 00 00 00")
    value = parse(RopInputBuffer, data, errors=[])
    assert [(r.RopName, r.InputHandleIndex) for r in value.RopsList] == [("RopRelease", 0), ("RopRelease", 1)]
    assert value.ServerObjectHandleTable == [0x6F, 0x6E]
    assert build(RopInputBuffer, value, errors=[]) == data


@pytest.mark.skipif(0x12 not in rops.ROP_BY_ID, reason="RopSetColumns (oxctabl) not defined")
def test_spec_4_6_output_buffer_with_backoff():
    """MS-OXCROPS 4.6: a RopSetColumns response followed by a logon RopBackoff."""
    data = bytes.fromhex("12 00 12 00 00 00 00 00 00 F9 00 34 12 00 00 00 00 00 28 00 00 00")
    errors = []
    value = parse(RopOutputBuffer, data, errors=errors)
    assert errors == []
    assert [r.RopName for r in value.RopsList] == ["RopSetColumns", "RopBackoff"]
    assert value.RopsList[1].Duration == 0x1234
    assert build(RopOutputBuffer, value, errors=[]) == data


@pytest.mark.skipif(0x02 not in rops.ROP_BY_ID, reason="RopOpenFolder (oxcfold) not defined")
def test_spec_4_7_output_buffer_with_backoff():
    """MS-OXCROPS 4.7: a RopBackoff for RopCreateFolder, then a RopOpenFolder success response."""
    data = bytes.fromhex("18 00 02 01 00 00 00 00 00 00 F9 00 00 00 00 00 01 1C 17 4F 04 00 00 00"
                         "0A 00 00 00 24 00 00 00")
    errors = []
    value = parse(RopOutputBuffer, data, errors=errors, request_rops=[c.Container(RopId=0x02)])
    assert errors == []
    assert [r.RopName for r in value.RopsList] == ["RopOpenFolder", "RopBackoff"]
    assert value.RopsList[1].BackoffRopData[0].RopIdBackoff.name == "RopCreateFolder"
    assert value.ServerObjectHandleTable == [0x0A, 0x24]


def test_response_list_with_unsolicited_rops():
    """RopBackoff and RopBufferTooSmall answer no request: the list pairs nothing with them."""
    data = bytes.fromhex("F9 00 34 12 00 00 00 00 00" "FF 00 02 01 00 00")
    value = parse(RopList("response"), data, errors=[], request_rops=[c.Container(RopId=0x01)])
    assert [r.RopName for r in value] == ["RopBackoff", "RopBufferTooSmall"]
    assert [r.RopName for r in value[1].RequestBuffers] == ["RopRelease"]
    assert build(RopList("response"), value) == data


@pytest.mark.parametrize("definition, data", [
    (oxcrops.RopBackoffResponse, "F9 00 34 12 00"),  # truncated Duration
    (oxcrops.RopBackoffResponse, "F9 00 00 00 00 00 FF 1C 17 4F 04 00 00 00"),  # BackoffRopCount 255, one entry
    (oxcrops.RopBackoffResponse, "F9 00 00 00 00 00 00 05 00 AA"),  # AdditionalDataSize past the end
    (oxcrops.RopBufferTooSmallResponse, "FF 10"),  # truncated SizeNeeded
    (oxcrops.RopReleaseRequest, "01 00"),
])
def test_malformed_raise_construct_errors(definition, data):
    with pytest.raises(c.ConstructError):
        parse(definition, bytes.fromhex(data))


def test_malformed_rop_in_list_is_an_error_entry():
    """A BackoffRopCount over the bytes left ends the response list with an error entry."""
    errors = []
    (rop,) = parse(RopList("response"), bytes.fromhex("F9 00 00 00 00 00 FF 1C"), errors=errors)
    assert rop.RopName == "RopBackoff" and rop.Undecoded == bytes.fromhex("F90000000000FF1C")
    assert "RopBackoff" in errors[0]["where"]


def test_response_only_rop_in_a_request_list_is_an_error_entry():
    errors = []
    release, backoff = parse(RopList("request"), bytes.fromhex("01 00 00" "F9 00 00"), errors=errors)
    assert release.RopName == "RopRelease" and backoff.Undecoded == bytes.fromhex("F90000")
    assert "no request buffer" in errors[0]["error"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VECTORS), st.integers(0, 63), st.integers(0, 255), st.integers(0, 63))
def test_mutated_vectors_only_construct_errors(vector, at, byte, cut):
    _, definition, data, _ = vector
    data = bytearray(bytes.fromhex(data))
    data[at % len(data)] = byte
    try:
        parse(definition, bytes(data[:cut]))
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_only_construct_errors(data):
    for definition in (oxcrops.RopBackoffResponse, oxcrops.RopBufferTooSmallResponse, oxcrops.RopReleaseRequest):
        try:
            parse(definition, data)
        except c.ConstructError:
            pass
    parse(RopList("response"), b"\xf9" + data, errors=[])


# The Table of RopIds ---------------------------------------------------------------------------


def test_ropid_table_counts():
    """MS-OXCROPS defines 128 ROP request buffers and 131 ROP response buffers."""
    assert len(ROP_IDS) == 132
    assert len(set(ROP_IDS) - RESPONSE_ONLY) == 128
    assert len(set(ROP_IDS) - REQUEST_ONLY) == 131
    assert ROP_IDS[0x01] == ("RopRelease", "MS-OXCROPS 2.2.15.3")
    assert ROP_IDS[0xFE] == ("RopLogon", "MS-OXCROPS 2.2.3.1")


def test_generated_module_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_ropids.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_registered_rops_match_the_table():
    """Every RopDef's name and section are the table's, and its directions match the table's."""
    for rop_id, rop in rops.ROP_BY_ID.items():
        assert ROP_IDS[rop_id] == (rop.name, rop.ref), hex(rop_id)
        assert (rop.request is None) == (rop_id in RESPONSE_ONLY), rop.name
        assert (rop.response is None) == (rop_id in REQUEST_ONLY), rop.name
