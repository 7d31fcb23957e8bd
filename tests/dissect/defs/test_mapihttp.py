"""Mailbox endpoint bodies (MS-OXCMAPIHTTP 2.2.4) and the registry of the 24 request types."""

import construct as c
import pytest

from mapiwire.dissect.defs import mapihttp as m
from mapiwire.dissect.defs.core import build, parse

AUX_EMPTY = b"\x00\x00\x00\x00"
AUX_ONE = (bytes.fromhex("10000000") + bytes.fromhex("0000" "0400" "0800" "0800")
           + bytes.fromhex("0800" "01" "01" "0300" "0400"))  # RPC_HEADER_EXT + AUX_PERF_REQUESTID


def test_registry_has_all_24_request_types():
    assert len(m.BODIES) == 24
    assert set(m.BODIES) >= {"Connect", "Execute", "Disconnect", "NotificationWait", "PING", "Bind",
                             "GetAddressBookUrl", "GetMailboxUrl", "DNToMId", "CompareMIds"}
    for body in m.BODIES.values():
        assert body.ref.startswith("MS-OXCMAPIHTTP 2.2.")
        assert (body.request is None) == (body.request_type == "PING")


CASES = [
    # (definition, bytes, expected fields)
    (m.ConnectRequest,
     b"/o=Org/cn=bob\x00" + bytes.fromhex("00000000" "e4040000" "09040000" "0c040000") + AUX_ONE,
     {"UserDn": "/o=Org/cn=bob", "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033, "LcidString": 1036,
      "AuxiliaryBufferSize": 16}),
    (m.ConnectSuccess,
     bytes.fromhex("00000000" "00000000" "60ea0000" "06000000" "10270000") + b"/o=Org\x00"
     + "Bob".encode("utf-16-le") + b"\0\0" + AUX_EMPTY,
     {"StatusCode": 0, "ErrorCode": 0, "PollsMax": 60000, "RetryCount": 6, "RetryDelay": 10000,
      "DnPrefix": "/o=Org", "DisplayName": "Bob", "AuxiliaryBufferSize": 0}),
    (m.ConnectFailure, bytes.fromhex("11010480") + AUX_EMPTY, {"StatusCode": 0x80040111}),
    (m.ExecuteRequest,
     bytes.fromhex("03000000" "0e000000" "0000" "0400" "0600" "0600" "0200" "ffffffff" "00000100") + AUX_EMPTY,
     {"Flags": 3, "RopBufferSize": 14, "MaxRopOut": 0x10000}),
    (m.ExecuteSuccess,
     bytes.fromhex("00000000" "00000000" "00000000" "0e000000" "0000" "0400" "0600" "0600" "0200" "01020304")
     + AUX_EMPTY, {"StatusCode": 0, "ErrorCode": 0, "RopBufferSize": 14}),
    (m.ExecuteFailure, bytes.fromhex("05400080") + AUX_EMPTY, {"StatusCode": 0x80004005}),
    (m.DisconnectRequest, AUX_ONE, {"AuxiliaryBufferSize": 16}),
    (m.DisconnectSuccess, bytes.fromhex("00000000" "00000000") + AUX_EMPTY, {"ErrorCode": 0}),
    (m.DisconnectFailure, bytes.fromhex("01000000") + AUX_EMPTY, {"StatusCode": 1}),
    (m.NotificationWaitRequest, bytes.fromhex("00000000") + AUX_EMPTY, {"Flags": 0}),
    (m.NotificationWaitSuccess, bytes.fromhex("00000000" "00000000" "01000000") + AUX_EMPTY,
     {"EventPending": 1}),
    (m.NotificationWaitFailure, bytes.fromhex("0a000000") + AUX_EMPTY, {"StatusCode": 10}),
]


@pytest.mark.parametrize("definition, data, fields", CASES, ids=lambda x: getattr(x, "docs", "")[15:40] or None)
def test_mailbox_bodies_parse_field_by_field_and_round_trip(definition, data, fields):
    value = parse(definition, data, errors=[])
    for name, expected in fields.items():
        assert value[name] == expected, name
    assert build(definition, value) == data


def test_execute_request_rop_buffer_framing():
    value = parse(m.ExecuteRequest, CASES[3][1], errors=[])
    buffer = value.RopBuffer
    assert buffer.RopSize == 2 and buffer.RopsList == [] and buffer.ServerObjectHandleTable == [0xFFFFFFFF]
    assert value.Flags.names == ("NoCompression", "NoXorMagic")


def test_execute_unknown_rop_is_kept_undecoded_with_an_error():
    rops = bytes([0xE0, 0, 0, 0x11])  # RopId 0xE0 is not a ROP
    payload = (2 + len(rops)).to_bytes(2, "little") + rops + bytes(4)
    ext = bytes.fromhex("0000" "0400") + len(payload).to_bytes(2, "little") * 2 + payload
    data = bytes.fromhex("00000000") + len(ext).to_bytes(4, "little") + ext + bytes.fromhex("ffff0000") + AUX_EMPTY
    errors = []
    value = parse(m.ExecuteRequest, data, errors=errors)
    item = value.RopBuffer.RopsList[0]
    assert item.RopId == 0xE0 and item.Undecoded == rops
    assert errors[0]["where"].endswith("RopsList[0]") and "0xe0" in errors[0]["error"]
    assert build(m.ExecuteRequest, value) == data


@pytest.mark.parametrize("definition, data", [
    (m.ConnectRequest, b"/o=Org"),                                    # no terminator
    (m.ConnectSuccess, bytes.fromhex("00000000" "00000000")),          # truncated
    (m.ExecuteRequest, bytes.fromhex("00000000" "ffffff7f" "00")),    # RopBufferSize past the body
    (m.DisconnectRequest, bytes.fromhex("08000000" "0000")),           # aux size past the body
])
def test_truncated_bodies_raise_construct_errors(definition, data):
    with pytest.raises(c.ConstructError):
        parse(definition, data, errors=[])
