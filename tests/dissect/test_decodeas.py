"""`mapiwire decode --as`: every structure, pairing with --request, never an exception."""

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.decodeas import STRUCTURES, decode_as, read_hex
from mapiwire.errors import UsageError

GET_PROPS_REQUEST = "07 00 00 0000 0100 0200 1F000130 03000236"  # PidTagDisplayName, PidTagContentCount
GET_PROPS_RESPONSE = "07 00 00000000 00 49006E0062006F0078000000 2A000000"


def test_every_request_type_has_both_sides():
    assert len([s for s in STRUCTURES if s.endswith("-request") and not s.startswith("rop")]) == 23  # not PING
    assert {"rop-request", "rop-response", "rop-buffer", "rpc-ext", "aux"} <= STRUCTURES


def test_rop_response_paired_with_its_request():
    out = decode_as("rop-response", read_hex([GET_PROPS_RESPONSE]), read_hex([GET_PROPS_REQUEST]))
    assert out["errors"] == []
    values = out["RopsList"][0]["RowData"]["ValueArray"]
    assert [v.get("Value", v.get("PropertyValue")) for v in values] == ["Inbox", 42]
    alone = decode_as("rop-response", read_hex([GET_PROPS_RESPONSE]))
    assert "Undecoded" in alone["RopsList"][0] and "columns unknown" in alone["errors"][0]["error"]


def test_response_layout_follows_status_code():
    assert decode_as("connect-response", bytes.fromhex("eb030000" "00000000"))["StatusCode"] == 0x3EB
    ok = decode_as("disconnect-response", bytes.fromhex("00000000" "00000000" "00000000"))
    assert ok["ErrorCode"] == 0 and ok["errors"] == []


def test_hex_input_forms(tmp_path):
    assert read_hex(["0x15:00", "00 01"]) == b"\x15\x00\x00\x01"
    raw = tmp_path / "buf.bin"
    raw.write_bytes(b"\x01\x02")
    assert read_hex([f"@{raw}"]) == b"\x01\x02"
    with pytest.raises(UsageError):
        read_hex(["zz"])


def test_cli_prints_json_and_rejects_unknown_structures():
    out = subprocess.run([sys.executable, "-m", "mapiwire.cli", "decode", "--as", "rop-request", "01 00 00",
                          "--format", "json"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["RopsList"][0]["RopName"] == "RopRelease"
    text = subprocess.run([sys.executable, "-m", "mapiwire.cli", "decode", "--as", "rop-request", "01 00 00"],
                          capture_output=True, text=True, check=True).stdout
    assert "RopId: 0x01 (RopRelease)" in text  # text by default, as dissect
    bad = subprocess.run([sys.executable, "-m", "mapiwire.cli", "decode", "--as", "nonsense", "00"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown structure" in bad.stderr


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(STRUCTURES)), st.binary(max_size=120), st.one_of(st.none(), st.binary(max_size=40)))
def test_random_bytes_give_a_record_never_an_exception(structure, data, request):
    out = decode_as(structure, data, request)
    assert isinstance(out["errors"], list)
    json.dumps(out)
