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


# --- offsets inside a larger stream, and the optional header ---------------------------------

Wrapped = struct("buffer after 3 bytes", "Pad" / c.Bytes(3), "Buffer" / Raw)
PAD = b"xyz"


def test_bad_lz77_in_a_later_payload_is_reported_at_its_stream_offset():
    wire = b"\x00\x00\x00\x00ab"  # a run of 32 literals cut after 2: lz77 offset 6 (the input end)
    data = PAD + header(0, 2, 2) + b"ab" + header(5, len(wire), 10) + wire
    errors = []
    value = parse(Wrapped, data, errors=errors)
    assert [p.get("Payload", p.get("Undecoded")) for p in value.Buffer.Payloads] == [b"ab", wire]
    assert [(e["error"], e["offset"]) for e in errors] == [
        ("payload 1: input ends inside a run of 32 literals", 3 + 10 + 8 + 6)]


def test_payload_limit_and_missing_last_are_reported_where_the_next_header_would_start():
    errors = []
    parse(Wrapped, PAD + (header(0, 1, 1) + b"a") * 97, errors=errors)
    assert [(e["error"], e["offset"]) for e in errors] == [("no Last flag after 96 payloads", 3 + 96 * 9)]
    errors = []
    parse(Wrapped, PAD + header(0, 1, 1) + b"a", errors=errors)
    assert [(e["error"], e["offset"]) for e in errors] == [("buffer ended before a header with the Last flag", 12)]


@pytest.mark.parametrize("data, message", [
    (PAD + header(4, 10, 10) + b"abc", "RPC_HEADER_EXT.Size 10 is more than the 3 bytes left"),
    (PAD + b"\x00\x00\x04", "RPC_HEADER_EXT needs 8 bytes, 3 left"),
    (PAD + header(0, 1, 1) + b"a" + b"\x00\x00", "RPC_HEADER_EXT needs 8 bytes, 2 left"),
])
def test_framing_errors_count_the_bytes_left_of_the_buffer(data, message):
    with pytest.raises(c.ConstructError, match=message):
        parse(Wrapped, data)


@pytest.mark.parametrize("data, has_header", [
    (b"", False),
    (header(4, 2, 2) + b"ab", True),  # Size exactly the bytes left
    (header(4, 3, 3) + b"ab", False),  # one more than left
    (header(0xC, 2, 2) + b"ab", False),  # a flag MS-OXCRPC 2.2.2.1 does not define
    (b"\x01\x00" + header(4, 2, 2)[2:] + b"ab", False),  # Version 1
    (header(4, 0, 0)[:7], False),  # shorter than a header
])
def test_optional_header_is_taken_only_when_it_fits(data, has_header):
    bare = ExtendedBuffer(struct("p", "Payload" / HexBytes()), optional=True)
    value = parse(bare, data)
    assert ("RPC_HEADER_EXT" in value) == has_header
    assert value.Payload == (data[8:] if has_header else data)
    assert build(bare, value) == data


# --- the fast path's reader of the same chains (fastgen.FastExtendedBuffer) ------------------

@pytest.mark.parametrize("optional", [False, True])
@pytest.mark.parametrize("data", [
    header(4, 3, 3) + b"abc",
    header(0, 2, 2) + b"ab" + header(2, 2, 2) + lz77.xor(b"cd") + header(4, 1, 1) + b"e",
    header(0x7, len(lz77.xor(lz77.compress(b"MAPI " * 40))), 200) + lz77.xor(lz77.compress(b"MAPI " * 40)),
    b"", b"\x08\x00\x01\x01\x01\x00\x02\x00",  # no header: a bare payload when optional
    header(4, 10, 10) + b"abc", header(0, 1, 1) + b"a", header(0, 2, 3) + b"ab",  # errors or reports
    header(5, 6, 10) + b"\x00\x00\x00\x00ab", (header(0, 1, 1) + b"a") * 97,
])
def test_fast_reader_gives_what_construct_gives_or_refuses(data, optional):
    """FastExtendedBuffer through its construct entry (`_parse`): the same value (keys included)
    where construct parses without a report; an exception wherever construct raises or reports."""
    from mapiwire.dissect.fastgen import FastTree

    definition = ExtendedBuffer(struct("test payload", "Payload" / HexBytes()), optional=optional)
    fast = FastTree().ready(definition)
    errors = []
    try:
        expected = parse(definition, data, errors=errors)
    except c.ConstructError:
        expected = None
    if expected is None or errors:
        with pytest.raises(Exception):  # any exception: fastpath then leaves the body to construct
            parse(fast, data)
        return
    value = parse(fast, data)
    assert value == expected and list(value) == list(expected)
    for got, want in zip(value.get("RPC_HEADER_EXT", []), expected.get("RPC_HEADER_EXT", [])):
        assert list(got) == list(want) and got == want
