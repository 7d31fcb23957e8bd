"""Transport ROPs (MS-OXCROPS 2.2.7, semantics MS-OXOMSG).

MS-OXOMSG section 4.1 prints the RopSubmitMessage request (4.1.1, `32 00 02 00`) and response
(4.1.2, `32 02 00 00 00 00`); the other vectors are written by hand from the MS-OXCROPS 2.2.7
layouts.
"""

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs import core
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import oxomsg
from .helpers import field

FID = "0100" "00000000a2b3"
MID = "0100" "0000000c4d5e"
OK = "00000000"
NOT_FOUND = "0f010480"  # ecNotFound 0x8004010F
IPM_NOTE = "49504d2e4e6f746500"  # "IPM.Note" + terminator
# PidTagMessageClass (0x001A001F) "IPM", PidTagImportance (0x00170003) 1
TAGGED_VALUES = "1f001a00" "490050004d000000" "03001700" "01000000"

# (name, definition, hex, {field path: value})
VECTORS = [
    ("SubmitMessage request (MS-OXOMSG 4.1.1)", oxomsg.RopSubmitMessageRequest, "32000200",
     {"RopId": 0x32, "LogonId": 0, "InputHandleIndex": 2, "SubmitFlags": 0, "SubmitFlags.names": ()}),
    ("SubmitMessage response (MS-OXOMSG 4.1.2)", oxomsg.RopSubmitMessageResponse, "3202" "00000000",
     {"RopId": 0x32, "InputHandleIndex": 2, "ReturnValue": 0}),
    ("SubmitMessage request, flags", oxomsg.RopSubmitMessageRequest, "32000203",
     {"SubmitFlags.names": ("PreProcess", "NeedsSpooler")}),
    ("AbortSubmit request", oxomsg.RopAbortSubmitRequest, "340001" + FID + MID,
     {"FolderId.ReplicaId": 1, "MessageId.GlobalCounter": bytes.fromhex("0000000c4d5e")}),
    ("AbortSubmit response", oxomsg.RopAbortSubmitResponse, "3401" + OK, {"InputHandleIndex": 1}),
    ("GetAddressTypes request", oxomsg.RopGetAddressTypesRequest, "490001", {"InputHandleIndex": 1}),
    ("GetAddressTypes response", oxomsg.RopGetAddressTypesResponse, "4901" + OK + "0200" "0800" "534d545000" "455800",
     {"AddressTypeCount": 2, "AddressTypeSize": 8, "AddressTypes": ["SMTP", "EX"]}),
    ("SetSpooler request", oxomsg.RopSetSpoolerRequest, "470001", {"InputHandleIndex": 1}),
    ("SetSpooler response", oxomsg.RopSetSpoolerResponse, "4701" + OK, {"ReturnValue": 0}),
    ("SpoolerLockMessage request", oxomsg.RopSpoolerLockMessageRequest, "480001" + MID + "02",
     {"MessageId.ReplicaId": 1, "LockState": 2, "LockState.name": "lstFinished"}),
    ("SpoolerLockMessage response", oxomsg.RopSpoolerLockMessageResponse, "4801" + OK, {"ReturnValue": 0}),
    ("TransportSend request", oxomsg.RopTransportSendRequest, "4a0001", {"InputHandleIndex": 1}),
    ("TransportSend response", oxomsg.RopTransportSendResponse, "4a01" + OK + "00" "0200" + TAGGED_VALUES,
     {"NoPropertiesReturned": 0, "PropertyValueCount": 2, "PropertyValues.0.PropertyTag.PropertyId": 0x001A,
      "PropertyValues.0.PropertyValue": "IPM", "PropertyValues.1.PropertyValue": 1}),
    ("TransportSend response, no properties", oxomsg.RopTransportSendResponse, "4a01" + OK + "01" "0000",
     {"NoPropertiesReturned": 1, "PropertyValueCount": 0, "PropertyValues": []}),
    ("TransportNewMail request", oxomsg.RopTransportNewMailRequest, "510001" + MID + FID + IPM_NOTE + "09000000",
     {"MessageId.ReplicaId": 1, "FolderId.GlobalCounter": bytes.fromhex("00000000a2b3"), "MessageClass": "IPM.Note",
      "MessageFlags.names": ("mfRead", "mfUnsent")}),
    ("TransportNewMail response", oxomsg.RopTransportNewMailResponse, "5101" + OK, {"ReturnValue": 0}),
    ("GetTransportFolder request", oxomsg.RopGetTransportFolderRequest, "6d0001", {"InputHandleIndex": 1}),
    ("GetTransportFolder response", oxomsg.RopGetTransportFolderResponse, "6d01" + OK + FID,
     {"FolderId.ReplicaId": 1, "FolderId.GlobalCounter": bytes.fromhex("00000000a2b3")}),
    ("OptionsData request", oxomsg.RopOptionsDataRequest, "6f0001" "534d545000" "01",
     {"AddressType": "SMTP", "WantWin32": 1}),
    ("OptionsData response", oxomsg.RopOptionsDataResponse,
     "6f01" + OK + "01" "0300" "aabbcc" "0200" "1122" "68656c702e686c7000",
     {"Reserved": 1, "OptionsInfoSize": 3, "OptionsInfo": bytes.fromhex("aabbcc"), "HelpFileSize": 2,
      "HelpFile": bytes.fromhex("1122"), "HelpFileName": "help.hlp"}),
    ("OptionsData response, no help file", oxomsg.RopOptionsDataResponse, "6f01" + OK + "01" "0000" "0000",
     {"OptionsInfo": b"", "HelpFile": b"", "HelpFileName": None}),
]


def vector(name):
    """The hex of the vector called `name`."""
    return next(v[2] for v in VECTORS if v[0] == name)


@pytest.mark.parametrize("name, definition, data, expected", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector(name, definition, data, expected):
    raw = bytes.fromhex(data)
    value = core.parse(definition, raw)
    for path, want in expected.items():
        assert field(value, path) == want, path
    assert core.build(definition, value) == raw


def test_registry():
    assert {rop.rop_id: rop.name for rop in oxomsg.ROPS} == {
        0x32: "RopSubmitMessage", 0x34: "RopAbortSubmit", 0x49: "RopGetAddressTypes", 0x47: "RopSetSpooler",
        0x48: "RopSpoolerLockMessage", 0x4A: "RopTransportSend", 0x51: "RopTransportNewMail",
        0x6D: "RopGetTransportFolder", 0x6F: "RopOptionsData"}


def test_build_fills_counts_and_sizes():
    value = core.parse(oxomsg.RopGetAddressTypesResponse, bytes.fromhex(vector("GetAddressTypes response")))
    value.AddressTypes.append("X400")
    again = core.parse(oxomsg.RopGetAddressTypesResponse, core.build(oxomsg.RopGetAddressTypesResponse, value))
    assert again.AddressTypeCount == 3 and again.AddressTypeSize == 13 and again.AddressTypes[-1] == "X400"
    value = core.parse(oxomsg.RopOptionsDataResponse, bytes.fromhex(vector("OptionsData response")))
    value.OptionsInfo = b""
    again = core.parse(oxomsg.RopOptionsDataResponse, core.build(oxomsg.RopOptionsDataResponse, value))
    assert again.OptionsInfoSize == 0 and again.HelpFileName == "help.hlp"


REQUESTS = "32000200" "490001" "4a0001" "510001" + MID + FID + IPM_NOTE + "01000000"
RESPONSES = "3202" + OK + "4901" + NOT_FOUND + "4a01" + OK + "01" "0000" + "5101" + OK


def test_rop_lists():
    errors = []
    requests = core.parse(RopList("request"), bytes.fromhex(REQUESTS), errors=errors)
    assert [r.RopName for r in requests] == ["RopSubmitMessage", "RopGetAddressTypes", "RopTransportSend",
                                             "RopTransportNewMail"]
    assert core.build(RopList("request"), requests).hex() == REQUESTS
    responses = core.parse(RopList("response"), bytes.fromhex(RESPONSES), errors=errors, request_rops=requests)
    assert errors == [] and [r.RopName for r in responses] == [r.RopName for r in requests]
    assert responses[1].ReturnValue == 0x8004010F and "AddressTypes" not in responses[1]
    assert core.build(RopList("response"), responses).hex() == RESPONSES


NEGATIVE = [
    ("request", oxomsg.RopTransportNewMailRequest, "510001" + MID + FID + "49504d"),  # string without terminator
    ("request", oxomsg.RopAbortSubmitRequest, "340001" + FID + MID[:-4]),  # truncated
    ("response", oxomsg.RopGetAddressTypesResponse, "4901" + OK + "0200" "4000" "534d545000"),  # size too large
    ("response", oxomsg.RopGetAddressTypesResponse, "4901" + OK + "0300" "0800" "534d545000" "455800"),  # 3 in 8 bytes
    ("response", oxomsg.RopTransportSendResponse, "4a01" + OK + "00" "ffff" + TAGGED_VALUES),  # count too large
    ("response", oxomsg.RopOptionsDataResponse, "6f01" + OK + "01" "0000" "0200" "1122"),  # HelpFileName missing
]


@pytest.mark.parametrize("direction, definition, data", NEGATIVE)
def test_negative(direction, definition, data):
    with pytest.raises(c.ConstructError):
        core.parse(definition, bytes.fromhex(data))
    errors = []
    rops = core.parse(RopList(direction), bytes.fromhex(data), errors=errors,
                      request_rops=[c.Container(RopId=int(data[:2], 16))])
    assert rops[-1].Undecoded == bytes.fromhex(data) and errors


DEFINITIONS = [d for rop in oxomsg.ROPS for d in (rop.request, rop.response)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=80))
def test_fuzz_only_construct_errors(definition, data):
    try:
        core.parse(definition, data)
    except c.ConstructError:
        pass
