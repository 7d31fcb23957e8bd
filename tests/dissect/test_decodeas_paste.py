"""`decode --as` takes what users paste (issue 8 point 9): hex dumps with offsets and ASCII,
response bodies with their meta-tags, and says what is missing; a failed decode exits non-zero."""

import os
import shutil
import subprocess
import sys

import pytest

from mapiwire.dissect.decodeas import decode_as, from_dump, read_hex
from mapiwire.samples import mailbox_session, outlook_flow

EXECUTE = mailbox_session(outlook_flow(2))[3]  # RopQueryRows: its response needs the session's columns
RESPONSE = EXECUTE.response.body  # PROCESSING / DONE / additional headers / body, as on the wire
BYTES = bytes(range(256)) + b"PROCESSING\r\n"


def wireshark_dump(data: bytes, gap: str = "   ") -> str:
    """Wireshark's "Copy as Hex Dump" (gap "   ") and tshark -x (gap "  ")."""
    lines = []
    for at in range(0, len(data), 16):
        chunk = data[at:at + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{at:04x}{gap}{' '.join(f'{b:02x}' for b in chunk):<47}{gap}{text}")
    return "\n".join(lines)


@pytest.mark.parametrize("tool", ["xxd", "hexdump"])
def test_xxd_and_hexdump_output(tool, tmp_path):
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed")
    path = tmp_path / "body.bin"
    path.write_bytes(BYTES + bytes(64))  # hexdump -C folds the repeated zero lines into `*`
    dump = subprocess.run([tool, "-C", str(path)] if tool == "hexdump" else [tool, str(path)],
                          capture_output=True, text=True, check=True).stdout
    assert read_hex([dump]) == BYTES + bytes(64)


@pytest.mark.parametrize("gap", ["   ", "  "])
def test_wireshark_and_tshark_dumps(gap):
    assert read_hex([wireshark_dump(BYTES, gap)]) == BYTES
    assert read_hex(["Frame (12 bytes):\n" + wireshark_dump(b"ab\x00be", gap)]) == b"ab\x00be"  # ASCII "be" is not hex


def test_plain_hex_is_not_taken_for_a_dump():
    assert read_hex(["5052 4f43"]) == b"PROC" and from_dump("5052 4f43\n4553 5349") is None


def test_a_response_with_its_meta_tags_decodes():
    """The failure of the issue: `size 1230197573 is more than the 154 bytes left`."""
    out = decode_as("execute-response", read_hex([wireshark_dump(RESPONSE)]))
    assert out["meta"] == ["PROCESSING", "DONE"] and out["additional_headers"]["X-ResponseCode"] == "0"
    assert out["StatusCode"] == 0 and out["RopBuffer"]["RopsList"][0]["RopName"] == "RopQueryRows"


def test_unknown_columns_name_the_request_option_and_fail():
    rops = "15 00 00000000 02 0000"  # a RopQueryRows response without rows: decodes
    assert decode_as("rop-response", bytes.fromhex(rops))["errors"] == []
    cli = subprocess.run([sys.executable, "-m", "mapiwire.cli", "decode", "--as", "rop-response",
                          "15 00 00000000 02 0100 00 0000"], capture_output=True, text=True,  # one row
                         env=dict(os.environ, MAPIWIRE_NO_PROGRESS="1"))
    assert cli.returncode == 1 and "give the request ROPs with --request HEX" in cli.stdout
