"""Auxiliary buffers (MS-OXCRPC 2.2.2.2): every block type, offset strings, framing errors."""

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs.aux import AUX_BLOCKS, AuxiliaryBuffer, AuxBlocks, OffsetString
from mapiwire.dissect.defs.core import GuidField, build, parse


def sample(definition, seed):
    """A value for every field of a block definition, distinct per field."""
    value = {}
    for i, sc in enumerate(definition.subcons):
        inner = sc.subcon
        if isinstance(inner, OffsetString):
            value[sc.name] = (bytes([seed, i, 0, 9]) if inner.size_field else f"{sc.name}-{seed}") if i % 2 else None
        elif isinstance(inner, GuidField):
            value[sc.name] = "{E2EA6C1C-E61B-49E9-9CFB-38184F9075%02X}" % seed
        elif isinstance(inner, c.Bytes):
            value[sc.name] = bytes(inner.length)
        else:
            value[sc.name] = (seed * 7 + i) % 200
    return value


@pytest.mark.parametrize("key", sorted(AUX_BLOCKS), ids=lambda k: f"v{k[0]}-type{k[1]:#04x}")
def test_every_block_type_round_trips(key):
    name, definition = AUX_BLOCKS[key]
    block = {"AUX_HEADER": {"Version": key[0], "Type": key[1]}, name: sample(definition, key[1])}
    data = build(AuxBlocks(), {"Blocks": [block]})
    assert int.from_bytes(data[:2], "little") == len(data)  # AUX_HEADER.Size covers header + block
    value = parse(AuxBlocks(), data)
    (parsed,) = value.Blocks
    assert (parsed.AUX_HEADER.Version, parsed.AUX_HEADER.Type) == key
    for field, expected in block[name].items():
        got = parsed[name][field]
        if isinstance(definition.subcons[[s.name for s in definition.subcons].index(field)].subcon, GuidField):
            assert got.registry() == expected
        elif "Offset" not in field and not field.endswith("Size"):
            assert got == expected, field
    assert build(AuxBlocks(), value) == data


def test_perf_requestid_and_client_control_field_by_field():
    data = bytes.fromhex(
        "0800" "01" "01" "0500" "0900"            # AUX_PERF_REQUESTID SessionID 5 RequestID 9
        "0c00" "01" "0a" "07000000" "60ea0000")   # AUX_CLIENT_CONTROL flags 1|2|4, ExpiryTime 60000
    value = parse(AuxBlocks(), data)
    first, second = value.Blocks
    assert first.AUX_HEADER.Type.name == "AUX_TYPE_PERF_REQUESTID"
    assert (first.AUX_PERF_REQUESTID.SessionID, first.AUX_PERF_REQUESTID.RequestID) == (5, 9)
    control = second.AUX_CLIENT_CONTROL
    assert control.EnableFlags.names == ("ENABLE_PERF_SENDTOSERVER", "ENABLE_PERF_SENDTOMAILBOX", "ENABLE_COMPRESSION")
    assert control.ExpiryTime == 60000
    assert build(AuxBlocks(), value) == data


def test_offset_string_read_at_its_offset():
    name = "EXCH01".encode("utf-16-le") + b"\0\0"
    body = (8).to_bytes(2, "little") + b"\0\0" + name  # offset 8: two bytes of padding before the string
    data = (4 + len(body)).to_bytes(2, "little") + b"\x01\x4b" + body
    block = parse(AuxBlocks(), data).Blocks[0]
    assert block.AUX_SERVER_SESSION_INFO.ServerSessionContextInfo == "EXCH01"


def test_unknown_block_is_skipped_by_size():
    data = bytes.fromhex("0700" "01" "7f" "aabbcc" "0800" "01" "01" "0100" "0200")
    value = parse(AuxBlocks(), data)
    assert value.Blocks[0].Unknown == bytes.fromhex("aabbcc")
    assert value.Blocks[1].AUX_PERF_REQUESTID.RequestID == 2
    assert build(AuxBlocks(), value) == data


@pytest.mark.parametrize("data", [
    bytes.fromhex("2000" "01" "01" "0100"),       # Size past the buffer
    bytes.fromhex("0200" "01" "01"),              # Size smaller than the header
    bytes.fromhex("0c00" "01" "4b" "ff00" "0000" "0000"),  # offset outside the block
])
def test_malformed_blocks_raise_construct_errors(data):
    with pytest.raises(c.ConstructError):
        parse(AuxBlocks(), data)


def test_auxiliary_buffer_with_and_without_rpc_header_ext():
    blocks = bytes.fromhex("0800" "01" "01" "0100" "0200")
    with_header = bytes.fromhex("0000" "0400" "0800" "0800") + blocks
    assert parse(AuxiliaryBuffer, with_header).Blocks[0].AUX_PERF_REQUESTID.SessionID == 1
    assert parse(AuxiliaryBuffer, blocks).Blocks[0].AUX_PERF_REQUESTID.SessionID == 1  # MS-OXCMAPIHTTP <2>
    assert build(AuxiliaryBuffer, parse(AuxiliaryBuffer, with_header)) == with_header
    assert build(AuxiliaryBuffer, parse(AuxiliaryBuffer, blocks)) == blocks


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_construct_errors(data):
    try:
        parse(AuxiliaryBuffer, data, errors=[])
    except c.ConstructError:
        pass
