"""RPC_HEADER_EXT chains (MS-OXCRPC 2.2.2.1, 3.1.4.1.1.1): flags, XOR, LZ77, packing, errors."""

import construct as c
import pytest

from mapiwire.dissect import lz77
from mapiwire.dissect.defs.core import HexBytes, build, parse, struct
from mapiwire.dissect.defs.rpcext import RPC_HEADER_EXT, ExtendedBuffer

Raw = ExtendedBuffer(struct("test payload", "Payload" / HexBytes()))


def header(flags, size, actual):
    return build(RPC_HEADER_EXT, dict(Version=0, Flags=flags, Size=size, SizeActual=actual))


def test_header_layout():
    data = bytes.fromhex("0000" "0500" "1000" "2000")
    value = parse(RPC_HEADER_EXT, data)
    assert (value.Version, value.Flags, value.Size, value.SizeActual) == (0, 5, 16, 32)
    assert value.Flags.names == ("Compressed", "Last")
    assert build(RPC_HEADER_EXT, value) == data


def test_plain_single_payload():
    data = header(4, 3, 3) + b"abc"
    value = parse(Raw, data)
    assert value.Payload == b"abc" and len(value.RPC_HEADER_EXT) == 1
    assert build(Raw, value) == data


def test_xor_then_compressed_payload_is_reverted_and_rebuilt_byte_exact():
    plain = b"MAPI over HTTP " * 40
    wire = lz77.xor(lz77.compress(plain))
    data = header(0x7, len(wire), len(plain)) + wire
    value = parse(Raw, data)
    assert value.Payload == plain
    assert build(Raw, value) == data
    value.Payload = plain.replace(b"HTTP", b"RPC!")  # edited: recompressed with the same flags
    rebuilt = build(Raw, value)
    again = parse(Raw, rebuilt)
    assert again.Payload == value.Payload and int(again.RPC_HEADER_EXT[0].Flags) == 0x7


def test_packed_payloads_until_last():
    data = header(0, 2, 2) + b"ab" + header(2, 2, 2) + lz77.xor(b"cd") + header(4, 1, 1) + b"e"
    value = parse(Raw, data)
    assert [p.Payload for p in value.Payloads] == [b"ab", b"cd", b"e"]
    assert [int(h.Flags) for h in value.RPC_HEADER_EXT] == [0, 2, 4]
    assert build(Raw, value) == data


def test_compression_is_dropped_when_it_does_not_shrink():
    value = c.Container(RPC_HEADER_EXT=[c.Container(Flags=1)], Payload=b"xyz")
    data = build(Raw, value)
    assert data == header(4, 3, 3) + b"xyz"


@pytest.mark.parametrize("data, message", [
    (header(4, 10, 10) + b"abc", "Size 10"),
    (b"\x00\x00\x04", "needs 8 bytes"),
])
def test_framing_errors_raise(data, message):
    with pytest.raises(c.ConstructError, match=message):
        parse(Raw, data)


def test_bad_lz77_payload_is_an_error_entry_and_kept_raw():
    wire = b"\x00\x00\x00\x00ab"  # 2 literals then no end bit
    data = header(5, len(wire), 10) + wire
    errors = []
    value = parse(Raw, data, errors=errors)
    assert value.Undecoded == wire
    assert errors and "payload 0" in errors[0]["error"] and errors[0]["offset"] >= 8
    assert build(Raw, value) == data


def test_missing_last_flag_is_reported():
    errors = []
    value = parse(Raw, header(0, 1, 1) + b"a", errors=errors)
    assert value.Payload == b"a" and "Last" in errors[0]["error"]


def test_optional_header_for_failure_aux_without_rpc_header_ext():
    bare = ExtendedBuffer(struct("p", "Payload" / HexBytes()), optional=True)
    value = parse(bare, b"\x08\x00\x01\x01\x01\x00\x02\x00")  # an AUX_HEADER, not an RPC_HEADER_EXT
    assert "RPC_HEADER_EXT" not in value and value.Payload == b"\x08\x00\x01\x01\x01\x00\x02\x00"
    assert build(bare, value) == b"\x08\x00\x01\x01\x01\x00\x02\x00"
