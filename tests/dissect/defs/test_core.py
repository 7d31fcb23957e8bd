"""The named custom constructs of defs/core.py: parse, build, bounds."""

import construct as c
import pytest
from construct import Int8ul, Int16ul, Int32ul, this

from mapiwire.dissect.defs.core import (AsciiZ, BoundedArray, Enum, EnumValue, FileTime, Flags, Guid, HexBytes,
                                        U32List, UnicodeZ, build, parse, sized_field, struct)
from mapiwire.dissect.render import to_json


def test_enum_parses_to_named_int_and_builds_from_name_or_number():
    field = Enum(Int16ul, {1: "One", 2: "Two"})
    value = parse(field, b"\x02\x00")
    assert value == 2 and isinstance(value, EnumValue) and value.name == "Two"
    assert parse(field, b"\x07\x00").name is None
    assert build(field, "One") == b"\x01\x00" and build(field, 2) == b"\x02\x00"
    with pytest.raises(c.MappingError):
        build(field, "Three")


def test_flags_name_the_set_bits_in_mapping_order():
    field = Flags(Int32ul, {"Compressed": 1, "XorMagic": 2, "Last": 4})
    value = parse(field, b"\x05\x00\x00\x00")
    assert value == 5 and value.names == ("Compressed", "Last") and value.name == "Compressed|Last"
    assert build(field, ["XorMagic", "Last"]) == b"\x06\x00\x00\x00"
    assert to_json({"Flags": value}) == {"Flags": 5, "FlagsName": "Compressed|Last"}
    assert to_json({"Flags": parse(field, bytes(4))}) == {"Flags": 0}


@pytest.mark.parametrize("definition, data, text", [
    (AsciiZ, b"/o=Org\x00", "/o=Org"),
    (AsciiZ, b"\x00", ""),
    (AsciiZ, b"caf\xe9\x00", "caf\xe9"),  # any 8-bit byte round-trips
    (UnicodeZ, "Bob Smith".encode("utf-16-le") + b"\x00\x00", "Bob Smith"),
    (UnicodeZ, b"\x00\x01\x00\x00", "\u0100"),  # a 0x00 byte inside a unit is not a terminator
])
def test_strings_round_trip(definition, data, text):
    assert parse(definition, data) == text
    assert build(definition, text) == data


def test_long_unicode_string_across_read_chunks():
    text = "\u00e9" * 1000
    data = text.encode("utf-16-le") + b"\0\0" + b"tail"
    stream = __import__("io").BytesIO(data)
    assert UnicodeZ.parse_stream(stream) == text
    assert stream.read() == b"tail"


@pytest.mark.parametrize("definition, data", [(AsciiZ, b"abc"), (UnicodeZ, b"a\x00b"), (UnicodeZ, b"")])
def test_unterminated_string_is_a_stream_error(definition, data):
    with pytest.raises(c.StreamError):
        parse(definition, data)


def test_guid_registry_form_and_build_from_text():
    data = bytes.fromhex("1c6ceae21be6e9499cfb38184f907552")
    value = parse(Guid, data)
    assert value.registry() == "{E2EA6C1C-E61B-49E9-9CFB-38184F907552}"
    assert build(Guid, "{E2EA6C1C-E61B-49E9-9CFB-38184F907552}") == data
    assert to_json({"g": value}) == {"g": "{E2EA6C1C-E61B-49E9-9CFB-38184F907552}"}


def test_filetime_iso_and_raw_round_trip():
    raw = 133_000_000_001_234_567  # keeps its 100 ns digit
    value = parse(FileTime, raw.to_bytes(8, "little"))
    assert value == raw and value.iso() == "2022-06-18T04:26:40.1234567Z"  # 13300000000 s after 1601 = unix 1655526400
    assert build(FileTime, value) == raw.to_bytes(8, "little")
    assert to_json({"t": parse(FileTime, bytes(8))}) == {"t": "0"}


def test_bounded_array_refuses_counts_the_bytes_cannot_hold():
    items = struct("test", "Count" / Int32ul, "Items" / BoundedArray(this.Count, Int32ul))
    assert parse(items, b"\x02\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00").Items == [1, 2]
    with pytest.raises(c.RangeError):
        parse(items, b"\xff\xff\xff\xff" + bytes(8))  # 4 billion elements: refused before looping


def test_sized_field_rebuilds_its_size_and_checks_bounds():
    body = struct("test", "A" / Int8ul, *sized_field("BlobSize", Int16ul, "Blob", struct("inner", "S" / UnicodeZ)))
    data = b"\x01\x06\x00" + "hi".encode("utf-16-le") + b"\0\0"
    value = parse(body, data)
    assert value.BlobSize == 6 and value.Blob.S == "hi"
    value.Blob.S = "hello"
    rebuilt = build(body, value)
    assert rebuilt[1:3] == (12).to_bytes(2, "little") and parse(body, rebuilt).Blob.S == "hello"
    assert build(body, {"A": 1, "Blob": {"S": "hi"}}) == data  # the size may be left out
    with pytest.raises(c.StreamError):
        parse(body, b"\x01\x40\x00abc")  # size over the bytes left
    with pytest.raises(c.StreamError):
        parse(body, b"\x01\x08\x00" + "hi".encode("utf-16-le") + b"\0\0zz")  # left-over bytes inside


def test_u32_list_and_hex_bytes():
    assert parse(U32List(), bytes.fromhex("01000000ffffffff")) == [1, 0xFFFFFFFF]
    assert build(U32List(), [1, 0xFFFFFFFF]) == bytes.fromhex("01000000ffffffff")
    with pytest.raises(c.StreamError):
        parse(U32List(), b"\x01\x00\x00")
    assert build(HexBytes(), "00ff") == b"\x00\xff"
