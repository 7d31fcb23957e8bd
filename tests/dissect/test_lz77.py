"""mapiwire.dissect.lz77: MS-OXCRPC 3.1.4.1.1.2 LZ77/DIRECT2 and 3.1.4.1.1.3 XOR."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect.lz77 import MAX_MATCH, compress, decompress, xor
from mapiwire.errors import MalformedError

H = bytes.fromhex


class Bad(ValueError):
    """The reference's error: a fragment of the decoder's message and the input offset."""

    def __init__(self, fragment: str, offset: int):
        super().__init__(fragment, offset)
        self.fragment, self.offset = fragment, offset


def reference_decompress(data: bytes, size_actual: int) -> bytes:
    """A deliberately plain reading of MS-OXCRPC 3.1.4.1.1.2.2: bit by bit, byte by byte.

    Raises Bad(fragment, offset) where the decoder must raise MalformedError with that fragment
    in its message and that offset: the offset of the element (the bitmask, a match's metadata);
    for a run of literals (the 0 bits up to the next 1 bit of the same bitmask), the input end
    when the input ends inside it and its first byte when it overruns SizeActual. Accepts the
    [MS-XCA] 2.4.4 32-bit length after a uint16 0, as the decoder does.
    """
    out = bytearray()
    ip = 0
    half = None

    def take(k: int, fragment: str, at: int) -> bytes:
        nonlocal ip
        if ip + k > len(data):
            raise Bad(fragment, at)
        ip += k
        return data[ip - k:ip]

    while True:
        (mask,) = struct.unpack("<I", take(4, "bitmask", ip))
        run = 0  # literals of the current run not copied yet
        for bit in range(31, -1, -1):
            if not mask >> bit & 1:
                if not run:
                    run = 1
                    while bit - run >= 0 and not mask >> (bit - run) & 1:
                        run += 1
                    if ip + run > len(data):
                        raise Bad(f"run of {run} literals", len(data))
                    if len(out) + run > size_actual:
                        raise Bad("literals overrun", ip)
                out += take(1, "unreachable", ip)
                run -= 1
                continue
            at = ip
            if ip == len(data):
                if len(out) != size_actual:
                    raise Bad(f"stream ends after {len(out)} of {size_actual}", ip)
                return bytes(out)
            (m,) = struct.unpack("<H", take(2, "metadata", at))
            distance, length = (m >> 3) + 1, m & 7
            if length == 7:
                if half is None:
                    half = ip
                    length = take(1, "nibble", at)[0] & 0x0F
                else:
                    length, half = data[half] >> 4, None
                if length == 15:
                    length = take(1, "length byte", at)[0]
                    if length == 255:
                        (length,) = struct.unpack("<H", take(2, "16-bit", at))
                        if length == 0:
                            (length,) = struct.unpack("<I", take(4, "32-bit", at))
                        length -= 22
                    length += 15
                length += 7
            length += 3
            if distance > len(out):
                raise Bad(f"match distance {distance} reaches before", at)
            if len(out) + length > size_actual:
                raise Bad(f"match of {length} bytes overruns", at)
            for _ in range(length):
                out.append(out[-distance])


def elements(stream: bytes) -> list[tuple[int, int]]:
    """(distance, length) of every match in a stream, 0 distance for a literal."""
    found = []
    out_len = 0
    ip = 0
    half = None
    while True:
        (mask,) = struct.unpack_from("<I", stream, ip)
        ip += 4
        for bit in range(31, -1, -1):
            if not mask >> bit & 1:
                found.append((0, 1))
                ip += 1
                out_len += 1
                continue
            if ip == len(stream):
                return found
            (m,) = struct.unpack_from("<H", stream, ip)
            ip += 2
            length = m & 7
            if length == 7:
                if half is None:
                    half, length = ip, stream[ip] & 15
                    ip += 1
                else:
                    length, half = stream[half] >> 4, None
                if length == 15:
                    length = stream[ip]
                    ip += 1
                    if length == 255:
                        (length,) = struct.unpack_from("<H", stream, ip)
                        ip += 2
                        assert length != 0, "encoder used the MS-XCA 32-bit escape"
                        length -= 22
                    length += 15
                length += 7
            found.append(((m >> 3) + 1, length + 3))


# --- golden vectors ---------------------------------------------------------------------

# [MS-XCA] 3.1 "LZ77" (learn.microsoft.com ms-xca/72da4f8d-2ba3-437d-b772-2e4173713a0b):
# the two Plain LZ77 examples, printed as compressed bytes.
MSXCA_ALPHABET = (
    b"abcdefghijklmnopqrstuvwxyz",
    H("3f000000 6162636465666768696a6b6c6d6e6f707172737475767778797a"),
)
MSXCA_ABC300 = (b"abc" * 100, H("ffffff1f 616263 1700 0f ff 2601"))


@pytest.mark.parametrize(
    "plain, stream", [MSXCA_ALPHABET, MSXCA_ABC300], ids=["alphabet", "abc300"]
)
def test_msxca_examples(plain, stream):
    assert decompress(stream, len(plain)) == plain
    assert reference_decompress(stream, len(plain)) == plain
    # Our encoder follows the same rules (greedy, 1-padded last bitmask): byte-exact.
    assert compress(plain) == stream


def test_msoxcrpc_bitmask_example():
    # 3.1.4.1.1.2.2.1: "a bitmask of 0x01000000 indicates that the first seven bytes are
    # actual data, followed by encoded metadata ... followed by 24 additional bytes of data".
    tail = bytes(range(0x40, 0x58))
    stream = H("00000001") + b"ABCDEFG" + H("3000") + tail + H("ffffffff")
    assert decompress(stream, 34) == b"ABCDEFG" + b"ABC" + tail


def test_msoxcrpc_abcabcdef_in_32_bits():
    # 3.1.4.1.1.2.2.1 example "ABCABCDEF" = A B C (3,3) D E F + end bit, shown there with a
    # hypothetical 8-bit mask b'00010001'; the same with the real 32-bit mask (1-padded).
    stream = H("ffffff11 414243 1000 444546")
    assert decompress(stream, 9) == b"ABCABCDEF"
    assert compress(b"ABCABCDEF") == stream


def test_metadata_offset_example():
    # 3.1.4.1.1.2.2.2/.3: metadata 0x0018 is offset -4 (distance 4), length 3.
    stream = H("ffffff0f 41424344 1800")
    assert decompress(stream, 7) == b"ABCDABC"


# 3.1.4.1.1.2.2.4 match-length table (MAPIHTTP.md 9.3): length -> bytes after the 3-bit code.
LENGTH_TABLE = {
    3: "ffffff7f 61 0000",
    9: "ffffff7f 61 0600",
    10: "ffffff7f 61 0700 00",
    24: "ffffff7f 61 0700 0e",  # 111 + 1110
    25: "ffffff7f 61 0700 0f 00",  # 111 + 1111 + 00000000
    26: "ffffff7f 61 0700 0f 01",
    279: "ffffff7f 61 0700 0f fe",  # ... + 11111110
    280: "ffffff7f 61 0700 0f ff 1501",  # ... + 11111111 + 0x0115
    281: "ffffff7f 61 0700 0f ff 1601",
    MAX_MATCH: "ffffff7f 61 0700 0f ff ffff",
}


@pytest.mark.parametrize("length", sorted(LENGTH_TABLE))
def test_length_encoding(length):
    plain = b"a" * (length + 1)  # literal 'a', then (distance 1, length)
    stream = H(LENGTH_TABLE[length])
    assert compress(plain) == stream
    assert decompress(stream, len(plain)) == plain
    assert reference_decompress(stream, len(plain)) == plain


def test_shared_nibble():
    # Second extended length takes the high nibble of the first one's byte (0x01 -> 0x11),
    # the third starts a new byte.
    plain = b"a" * 12 + b"b" * 12 + b"c" * 12
    stream = H("ffffff57 61 0700 11 62 0700 63 0700 01")
    assert compress(plain) == stream
    assert decompress(stream, len(plain)) == plain


def test_msxca_32bit_escape_is_accepted():
    # [MS-XCA] 2.4.4: uint16 0 is followed by a uint32 length (length = value + 3).
    stream = H("ffffff7f 61 0700 0f ff 0000") + struct.pack("<I", 69997)
    assert decompress(stream, 70001) == b"a" * 70001


# --- end bit ------------------------------------------------------------------------------


def test_end_bit_in_a_fresh_bitmask():
    plain = bytes(range(32))  # 32 literals fill the first bitmask exactly
    stream = compress(plain)
    assert stream == H("00000000") + plain + H("ffffffff")
    assert decompress(stream, 32) == plain
    with pytest.raises(MalformedError, match="bitmask"):
        decompress(stream[:-4], 32)  # no end bit


def test_end_bit_in_the_same_bitmask():
    assert compress(bytes(range(31))) == H("01000000") + bytes(range(31))


def test_empty():
    assert compress(b"") == H("ffffffff")
    assert decompress(H("ffffffff"), 0) == b""
    with pytest.raises(MalformedError):
        decompress(b"", 0)


# --- round trips --------------------------------------------------------------------------

SMALL = settings(max_examples=300, deadline=None)


@SMALL
@given(st.binary(max_size=3000))
def test_roundtrip_random(data):
    stream = compress(data)
    assert decompress(stream, len(data)) == data
    assert reference_decompress(stream, len(data)) == data


@SMALL
@given(
    st.lists(
        st.tuples(st.binary(min_size=1, max_size=12), st.integers(1, 400)),
        max_size=30,
    )
)
def test_roundtrip_repetitive(pieces):
    data = b"".join(pattern * count for pattern, count in pieces)
    stream = compress(data)
    assert decompress(stream, len(data)) == data
    assert reference_decompress(stream, len(data)) == data
    if len(data) > 64 and all(count >= 8 for _, count in pieces):
        assert len(stream) < len(data)


@SMALL
@given(st.binary(min_size=1, max_size=40), st.lists(st.integers(0, 3000), max_size=12))
def test_roundtrip_near_copies(base, edits):
    # Text-like data: copies of one block with small changes, distances up to the window.
    data = bytearray(base * 200)
    for e in edits:
        data[e % len(data)] ^= 0x5A
    data = bytes(data)
    assert decompress(compress(data), len(data)) == data


@pytest.mark.parametrize(
    "run",
    [3, 4, 9, 10, 11, 24, 25, 26, 278, 279, 280, 281, 4096, 65535, MAX_MATCH, MAX_MATCH + 1,
     MAX_MATCH + 2, 70000, 2 * MAX_MATCH + 7],
)
@pytest.mark.parametrize("period", [1, 2, 3, 7])
def test_roundtrip_runs(run, period):
    unit = bytes(range(0x61, 0x61 + period))
    data = b"<" + (unit * (run // period + 1))[:run] + b">"
    stream = compress(data)
    assert decompress(stream, len(data)) == data
    # The encoder stays inside MS-OXCRPC: no length over 65538, no 32-bit escape.
    found = elements(stream)
    assert all(length <= MAX_MATCH for _, length in found)
    assert all(distance <= 8192 for distance, _ in found)
    if run >= 64:
        assert len(stream) < len(data) // 8


def test_window_limit():
    import random

    rnd = random.Random(7)
    block = bytes(rnd.getrandbits(8) for _ in range(8192))
    near = compress(block + block)  # distance 8192: the farthest allowed
    assert decompress(near, 16384) == block + block
    assert (8192, 8192) in elements(near)
    far = bytes(rnd.getrandbits(8) for _ in range(8193))
    assert all(d <= 8192 for d, _ in elements(compress(far + far)))


# --- XOR ----------------------------------------------------------------------------------


def test_xor_known():
    assert xor(b"\x00\xa5\xff\x5a") == b"\xa5\x00\x5a\xff"
    assert xor(bytearray(b"AB")) == b"\xe4\xe7"
    assert type(xor(bytearray(b"AB"))) is bytes
    assert xor(b"") == b""


@given(st.binary(max_size=2000))
def test_xor_roundtrip(data):
    assert xor(xor(data)) == data
    assert len(xor(data)) == len(data)


# --- malformed input ----------------------------------------------------------------------

GOOD = H("ffffff57 61 0700 11 62 0700 63 0700 01")  # 15 bytes -> 36, see test_shared_nibble


@pytest.mark.parametrize(
    "stream, size, message, offset",
    [
        (H("ffffff"), 0, "bitmask", 0),
        (H("00000000 4142"), 3, "run of 32 literals", 6),
        (H("01000000 414243"), 40, "run of 31 literals", 7),
        (H("00000000") + bytes(32), 31, "literals overrun", 4),
        (H("00000040 41 0000") + bytes(30), 5, "literals overrun", 7),
        (H("0f000000 41") + bytes(27) + H("ffffffff"), 27, "literals overrun", 4),
        (H("ffffff7f 41 07"), 36, "metadata", 5),
        (H("ffffff7f 41 0700"), 36, "nibble", 5),
        (H("ffffff7f 41 0700 0f"), 36, "length byte", 5),
        (H("ffffff7f 41 0700 0f ff 15"), 300, "16-bit", 5),
        (H("ffffff7f 41 0700 0f ff 0000 0100"), 300, "32-bit", 5),
    ],
    ids=["bitmask", "literal", "literal-before-1", "overrun-whole-mask", "overrun-mask-end", "overrun-before-1",
         "metadata", "nibble", "byte", "uint16", "uint32"],
)
def test_truncated(stream, size, message, offset):
    with pytest.raises(MalformedError, match=message) as info:
        decompress(stream, size)
    assert info.value.where == "lz77"
    assert info.value.offset == offset


@pytest.mark.parametrize("cut", range(1, len(GOOD)))
def test_every_truncation_of_a_good_stream(cut):
    with pytest.raises(MalformedError):
        decompress(GOOD[:cut], 36)


def test_overrun_by_literal():
    with pytest.raises(MalformedError, match="overrun") as info:
        decompress(MSXCA_ALPHABET[1], 25)
    assert info.value.offset == 4


def test_overrun_by_match():
    with pytest.raises(MalformedError, match="overrun") as info:
        decompress(MSXCA_ABC300[1], 299)
    assert info.value.offset == 7
    with pytest.raises(MalformedError, match="overrun"):
        decompress(H("ffffff7f 61 0700 0f ff 0000") + struct.pack("<I", 0xFFFFFFFF), 100)


def test_underrun():
    with pytest.raises(MalformedError, match="36 of 37") as info:
        decompress(GOOD, 37)
    assert info.value.offset == len(GOOD)
    with pytest.raises(MalformedError, match="0 of 1"):
        decompress(H("ffffffff"), 1)


def test_distance_before_start():
    with pytest.raises(MalformedError, match="before the output start") as info:
        decompress(H("ffffffff 0000"), 3)  # a match as the first element
    assert info.value.offset == 4
    with pytest.raises(MalformedError, match="distance 5"):
        decompress(H("ffffff0f 41424344 2000"), 7)  # distance 5 after 4 bytes


def test_size_cap():
    with pytest.raises(MalformedError, match="SizeActual"):
        decompress(H("ffffffff"), 0x100001)
    with pytest.raises(MalformedError, match="SizeActual"):
        decompress(MSXCA_ABC300[1], 300, cap=299)
    assert decompress(MSXCA_ABC300[1], 300, cap=300) == b"abc" * 100


def test_input_types():
    stream = MSXCA_ABC300[1]
    for form in (bytearray(stream), memoryview(stream)):
        assert decompress(form, 300) == b"abc" * 100
    assert type(decompress(bytearray(stream), 300)) is bytes


FUZZ = settings(max_examples=500, deadline=500, suppress_health_check=[HealthCheck.too_slow])


def _agrees_with_reference(data: bytes, size: int) -> None:
    """The decoder gives the reference's bytes, or its error: the same message and offset."""
    try:
        expected = reference_decompress(data, size)
    except Bad as bad:
        with pytest.raises(MalformedError) as info:
            decompress(data, size)
        assert info.value.where == "lz77"
        assert bad.fragment in info.value.what
        assert info.value.offset == bad.offset
    else:
        assert decompress(data, size) == expected


@FUZZ
@given(st.binary(max_size=400), st.integers(0, 5000))
def test_garbage(data, size):
    _agrees_with_reference(data, size)


@FUZZ
@given(st.binary(min_size=1, max_size=600), st.data())
def test_mutated_streams(plain, draw):
    stream = bytearray(compress(plain))
    for _ in range(draw.draw(st.integers(1, 4))):
        at = draw.draw(st.integers(0, len(stream) - 1))
        stream[at] = draw.draw(st.integers(0, 255))
    size = draw.draw(st.sampled_from([len(plain), len(plain) + 1]) | st.integers(0, len(plain)))
    _agrees_with_reference(bytes(stream), size)


# Repeated patterns (matches: short, extended, shared nibbles, overlapping) between runs of
# random bytes (literals, in runs that end at a 1 bit or at the end of a bitmask).
MIXED = st.lists(st.builds(bytes.__mul__, st.binary(min_size=1, max_size=6), st.integers(1, 60))
                 | st.binary(max_size=48), min_size=1, max_size=12).map(b"".join)


@FUZZ
@given(MIXED, st.data())
def test_mutated_streams_with_matches(plain, draw):
    # A few bytes changed, a cut or a dropped byte: the reference's bytes, or its error and offset.
    stream = bytearray(compress(plain))
    how = draw.draw(st.sampled_from(["change", "cut", "drop"]))
    if how == "change":
        for _ in range(draw.draw(st.integers(1, 3))):
            stream[draw.draw(st.integers(0, len(stream) - 1))] = draw.draw(st.integers(0, 255))
    elif how == "cut":
        del stream[draw.draw(st.integers(0, len(stream))):]
    else:
        del stream[draw.draw(st.integers(0, len(stream) - 1))]
    size = draw.draw(st.sampled_from([len(plain), len(plain) + 1]) | st.integers(0, len(plain)))
    _agrees_with_reference(bytes(stream), size)


@FUZZ
@given(st.lists(st.binary(max_size=3), max_size=40))
def test_long_matches_are_bounded(extensions):
    # Literal 'a', then distance-1 matches with random length bytes: long or malformed
    # lengths stop at SizeActual, quickly.
    stream = H("ffffff7f 61") + b"".join(b"\x07\x00" + ext for ext in extensions)
    try:
        assert len(decompress(stream, 0xFFFF)) == 0xFFFF
    except MalformedError:
        pass
