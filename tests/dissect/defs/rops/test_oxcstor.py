"""Logon ROPs (MS-OXCROPS 2.2.3, MS-OXCSTOR 2.2.1).

MS-OXCSTOR section 4 prints no ROP buffers as bytes, so every vector here is written by hand from
the MS-OXCROPS 2.2.3 layouts and checked field by field."""

import uuid

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import ROP_BY_ID, oxcstor as s
from .helpers import field

PRIVATE = {"request_rop": c.Container(LogonFlags=0x01, _columns=None, _logon_flags=None)}
PUBLIC = {"request_rop": c.Container(LogonFlags=0x00, _columns=None, _logon_flags=None)}

GUID = "00112233-4455-6677-8899-aabbccddeeff"
GUID_HEX = "33221100 5544 7766 8899 aabbccddeeff"  # the same GUID as it is on the wire (MS-DTYP 2.3.4.1)
FID = "0100 000000000021"  # Folder ID: ReplicaId 1, GlobalCounter 0x21
LTID = GUID_HEX + "000000000021" + "0000"  # LongTermID: DatabaseGuid, GlobalCounter, Pad
FOLDER_IDS = "".join(f"0100{n:012x}" for n in range(1, 14))  # 13 Folder IDs, counters 1..13
LOGON_TIME = "1e 0a 0e 02 18 0b ea 07"  # 14:10:30 Tuesday 24 November 2026
EPOCH = "00 80 3e d5 de b1 9d 01"  # FILETIME of 1970-01-01
ASCII = {"IPM.Note": "49504d2e4e6f746500", "IPM": "49504d00", "IPC": "49504300", "srv1": "7372763100",
         "srv2": "7372763200"}

# (id, definition, hex, parse params, expected fields); every vector must also build back to the same bytes
VECTORS = [
    # 2.2.3.1 RopLogon
    ("logon-request-private", s.RopLogonRequest,
     "FE 00 00 01 0C 00 00 01 00 00 00 00 0D 00" + "2f6f3d4f72672f636e3d753100",  # "/o=Org/cn=u1"
     {}, {"LogonId": 0, "OutputHandleIndex": 0, "LogonFlags.names": ("Private",),
          "OpenFlags.names": ("HOME_LOGON", "TAKE_OWNERSHIP", "USE_PER_MDB_REPLID_MAPPING"),
          "StoreState": 0, "EssdnSize": 13, "Essdn": "/o=Org/cn=u1"}),
    ("logon-request-public", s.RopLogonRequest, "FE 01 01 00 02 00 00 00 00 00 00 00 00 00",
     {}, {"LogonId": 1, "LogonFlags": 0, "OpenFlags.names": ("PUBLIC",), "EssdnSize": 0, "Essdn": None}),
    ("logon-response-private", s.RopLogonResponse,
     "FE 00 00000000 01" + FOLDER_IDS + "03" + GUID_HEX + "0500" + GUID_HEX + LOGON_TIME + EPOCH + "00000001",
     PRIVATE, {"ReturnValue.name": "ecNone", "LogonFlags.names": ("Private",),
               "FolderIds[0].GlobalCounter": bytes.fromhex("000000000001"), "FolderIds[12].ReplicaId": 1,
               "ResponseFlags.names": ("Reserved", "OwnerRight"), "MailboxGuid": uuid.UUID(GUID), "ReplId": 5,
               "ReplGuid": uuid.UUID(GUID), "LogonTime.Hour": 14, "LogonTime.DayOfWeek": 2,
               "LogonTime.Year": 2026, "GwartTime": 116444736000000000,
               "StoreState.names": ("STORE_HAS_SEARCHES",)}),
    ("logon-response-public", s.RopLogonResponse,
     "FE 01 00000000 00" + FOLDER_IDS + "0300" + GUID_HEX + "00" * 16,
     PUBLIC, {"OutputHandleIndex": 1, "LogonFlags": 0, "FolderIds[9].GlobalCounter": bytes.fromhex("00000000000a"),
              "ReplId": 3, "ReplGuid": uuid.UUID(GUID), "PerUserGuid": uuid.UUID(int=0)}),
    ("logon-response-redirect", s.RopLogonRedirectResponse, "FE 00 78040000 01 0A 6d627830312e6f726700",
     {}, {"ReturnValue.name": "ecWrongServer", "LogonFlags": 1, "ServerNameSize": 10, "ServerName": "mbx01.org"}),
    ("logon-response-failure", ROP_BY_ID[0xFE].failure, "FE 00 11010480",
     {}, {"ReturnValue": 0x80040111, "ReturnValue.name": "ecLoginFailure"}),
    # 2.2.3.2 RopGetReceiveFolder
    ("get-receive-folder-request", s.RopGetReceiveFolderRequest, "27 00 00" + ASCII["IPM.Note"],
     {}, {"InputHandleIndex": 0, "MessageClass": "IPM.Note"}),
    ("get-receive-folder-response", s.RopGetReceiveFolderResponse, "27 00 00000000" + FID + ASCII["IPM"],
     {}, {"FolderId.ReplicaId": 1, "FolderId.GlobalCounter": bytes.fromhex("000000000021"),
          "ExplicitMessageClass": "IPM"}),
    # 2.2.3.3 RopSetReceiveFolder
    ("set-receive-folder-request", s.RopSetReceiveFolderRequest, "26 00 02" + FID + ASCII["IPM.Note"],
     {}, {"InputHandleIndex": 2, "FolderId.ReplicaId": 1, "MessageClass": "IPM.Note"}),
    ("set-receive-folder-response", s.RopSetReceiveFolderResponse, "26 02 00000000",
     {}, {"InputHandleIndex": 2, "ReturnValue": 0}),
    # 2.2.3.4 RopGetReceiveFolderTable: a StandardPropertyRow and a FlaggedPropertyRow (no time)
    ("get-receive-folder-table-request", s.RopGetReceiveFolderTableRequest, "68 00 00", {}, {"RopId": 0x68}),
    ("get-receive-folder-table-response", s.RopGetReceiveFolderTableResponse,
     "68 00 00000000 02000000" "00 2100000000000100" + ASCII["IPM"] + EPOCH  # standard row
     + "01 00 2100000000000100 00" + ASCII["IPC"] + "01",  # flagged row, time not present
     {}, {"RowCount": 2, "Rows[0].ValueArray[0].PropertyValue": 0x0001000000000021,
          "Rows[0].ValueArray[1].PropertyValue": "IPM", "Rows[0].ValueArray[2].PropertyValue": 116444736000000000,
          "Rows[1].Flag.name": "FlaggedPropertyRow", "Rows[1].ValueArray[1].PropertyValue": "IPC",
          "Rows[1].ValueArray[2].Flag": 1, "Rows[1].ValueArray[2].PropertyValue": None}),
    # 2.2.3.5 RopGetStoreState
    ("get-store-state-request", s.RopGetStoreStateRequest, "7B 00 00", {}, {"RopId": 0x7B}),
    ("get-store-state-response", s.RopGetStoreStateResponse, "7B 00 00000000 00000001",
     {}, {"StoreState": 0x01000000, "StoreState.names": ("STORE_HAS_SEARCHES",)}),
    # 2.2.3.6 RopGetOwningServers
    ("get-owning-servers-request", s.RopGetOwningServersRequest, "42 00 01" + FID,
     {}, {"InputHandleIndex": 1, "FolderId.GlobalCounter": bytes.fromhex("000000000021")}),
    ("get-owning-servers-response", s.RopGetOwningServersResponse,
     "42 01 00000000 0200 0100" + ASCII["srv1"] + ASCII["srv2"],
     {}, {"OwningServersCount": 2, "CheapServersCount": 1, "OwningServers": ["srv1", "srv2"]}),
    # 2.2.3.7 RopPublicFolderIsGhosted
    ("public-folder-is-ghosted-request", s.RopPublicFolderIsGhostedRequest, "45 00 00" + FID,
     {}, {"FolderId.ReplicaId": 1}),
    ("public-folder-is-ghosted-response", s.RopPublicFolderIsGhostedResponse,
     "45 00 00000000 01 0100 0100" + ASCII["srv1"],
     {}, {"IsGhosted": 1, "ServersCount": 1, "CheapServersCount": 1, "Servers": ["srv1"]}),
    ("public-folder-not-ghosted-response", s.RopPublicFolderIsGhostedResponse, "45 00 00000000 00",
     {}, {"IsGhosted": 0, "ServersCount": None, "CheapServersCount": None, "Servers": None}),
    # 2.2.3.8 RopLongTermIdFromId, 2.2.3.9 RopIdFromLongTermId
    ("long-term-id-from-id-request", s.RopLongTermIdFromIdRequest, "43 00 00" + FID,
     {}, {"ObjectId.GlobalCounter": bytes.fromhex("000000000021")}),
    ("long-term-id-from-id-response", s.RopLongTermIdFromIdResponse, "43 00 00000000" + LTID,
     {}, {"LongTermId.DatabaseGuid": uuid.UUID(GUID), "LongTermId.GlobalCounter": bytes.fromhex("000000000021"),
          "LongTermId.Pad": 0}),
    ("id-from-long-term-id-request", s.RopIdFromLongTermIdRequest, "44 00 00" + LTID,
     {}, {"LongTermId.DatabaseGuid": uuid.UUID(GUID)}),
    ("id-from-long-term-id-response", s.RopIdFromLongTermIdResponse, "44 00 00000000" + FID,
     {}, {"ObjectId.ReplicaId": 1}),
    # 2.2.3.10 RopGetPerUserLongTermIds, 2.2.3.11 RopGetPerUserGuid
    ("get-per-user-long-term-ids-request", s.RopGetPerUserLongTermIdsRequest, "60 00 00" + GUID_HEX,
     {}, {"DatabaseGuid": uuid.UUID(GUID)}),
    ("get-per-user-long-term-ids-response", s.RopGetPerUserLongTermIdsResponse,
     "60 00 00000000 0200" + LTID + LTID,
     {}, {"LongTermIdCount": 2, "LongTermIds[1].DatabaseGuid": uuid.UUID(GUID)}),
    ("get-per-user-guid-request", s.RopGetPerUserGuidRequest, "61 00 00" + LTID,
     {}, {"LongTermId.GlobalCounter": bytes.fromhex("000000000021")}),
    ("get-per-user-guid-response", s.RopGetPerUserGuidResponse, "61 00 00000000" + GUID_HEX,
     {}, {"DatabaseGuid": uuid.UUID(GUID)}),
    # 2.2.3.12 RopReadPerUserInformation
    ("read-per-user-information-request", s.RopReadPerUserInformationRequest,
     "63 00 00" + LTID + "00 10000000 0010",
     {}, {"FolderId.DatabaseGuid": uuid.UUID(GUID), "Reserved": 0, "DataOffset": 16, "MaxDataSize": 0x1000}),
    ("read-per-user-information-response", s.RopReadPerUserInformationResponse, "63 00 00000000 01 0300 aabbcc",
     {}, {"HasFinished": 1, "DataSize": 3, "Data": bytes.fromhex("aabbcc")}),
    # 2.2.3.13 RopWritePerUserInformation: ReplGuid on a private-mailbox logon at DataOffset 0 only
    ("write-per-user-information-private", s.RopWritePerUserInformationRequest,
     "64 00 00" + LTID + "01 00000000 0300 aabbcc" + GUID_HEX,
     {"private_logon": True}, {"HasFinished": 1, "DataOffset": 0, "DataSize": 3, "Data": bytes.fromhex("aabbcc"),
                               "ReplGuid": uuid.UUID(GUID)}),
    ("write-per-user-information-private-offset", s.RopWritePerUserInformationRequest,
     "64 00 00" + LTID + "00 03000000 0100 dd",
     {"private_logon": True}, {"DataOffset": 3, "Data": bytes.fromhex("dd"), "ReplGuid": None}),
    ("write-per-user-information-public", s.RopWritePerUserInformationRequest,
     "64 00 00" + LTID + "01 00000000 0300 aabbcc",
     {"private_logon": False}, {"DataOffset": 0, "ReplGuid": None}),
    ("write-per-user-information-response", s.RopWritePerUserInformationResponse, "64 00 00000000",
     {}, {"ReturnValue": 0}),
]


VECTOR = {v[0]: v for v in VECTORS}


@pytest.mark.parametrize("definition, data, params, expected", [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_vectors(definition, data, params, expected):
    data = bytes.fromhex(data)
    value = parse(definition, data, **params)
    for path, want in expected.items():
        assert field(value, path) == want, path
    assert build(definition, value, **params) == data


def test_every_rop_has_a_request_and_a_response_vector():
    covered = {id(v[1]) for v in VECTORS}
    for rop in s.ROPS:
        assert id(rop.request) in covered and id(rop.response) in covered, rop.name


def test_logon_exchange_through_the_rop_lists():
    """A request list with RopLogon and RopGetReceiveFolder; the responses pair with them, the
    RopLogon response taking its private-mailbox layout from the request's LogonFlags."""
    requests = bytes.fromhex(VECTOR["logon-request-private"][2] + "27 00 00" + ASCII["IPM.Note"])
    request_rops = parse(RopList("request"), requests, errors=[])
    assert [r.RopName for r in request_rops] == ["RopLogon", "RopGetReceiveFolder"]
    assert build(RopList("request"), request_rops) == requests
    responses = bytes.fromhex(VECTOR["logon-response-private"][2] + "27 00 00000000" + FID + ASCII["IPM"])
    errors = []
    response_rops = parse(RopList("response"), responses, errors=errors, request_rops=request_rops)
    assert errors == []
    assert [r.RopName for r in response_rops] == ["RopLogon", "RopGetReceiveFolder"]
    assert response_rops[0].ReplId == 5 and response_rops[1].ExplicitMessageClass == "IPM"
    # build pairs responses with their requests the same way
    assert build(RopList("response"), response_rops, request_rops=request_rops) == responses


@pytest.mark.parametrize("response, fields", [
    ("FE 00 78040000 01 0A 6d627830312e6f726700", {"ServerName": "mbx01.org"}),  # redirect shape
    ("FE 00 EB030000", {"ReturnValue": 0x3EB}),  # ecUnknownUser: the three-field failure shape
])
def test_logon_error_shapes_through_the_response_list(response, fields):
    request_rops = parse(RopList("request"), bytes.fromhex(VECTOR["logon-request-private"][2]), errors=[])
    errors = []
    (rop,) = parse(RopList("response"), bytes.fromhex(response), errors=errors, request_rops=request_rops)
    assert errors == [] and rop.RopName == "RopLogon"
    assert {k: rop[k] for k in fields} == fields
    assert build(RopList("response"), [rop]) == bytes.fromhex(response)


def test_write_per_user_information_in_a_request_list():
    data = bytes.fromhex(VECTOR["write-per-user-information-private"][2] + "7B 00 00")
    (write, state) = parse(RopList("request"), data, errors=[], logons={0: 0x01})  # LogonId 0: private
    assert write.ReplGuid == uuid.UUID(GUID) and state.RopName == "RopGetStoreState"


def test_write_per_user_information_with_an_unknown_logon_is_an_error():
    with pytest.raises(c.ExplicitError):
        parse(s.RopWritePerUserInformationRequest, bytes.fromhex("64 00 00" + LTID + "01 00000000 0000"),
              private_logon=None)


def test_write_per_user_information_without_logon_state():
    """Only a DataOffset 0 request needs to know the logon; without that state it is an error entry."""
    errors = []
    (rop,) = parse(RopList("request"), bytes.fromhex(VECTOR["write-per-user-information-private-offset"][2]),
                   errors=errors)
    assert errors == [] and rop.DataOffset == 3 and rop.ReplGuid is None
    (rop,) = parse(RopList("request"), bytes.fromhex(VECTOR["write-per-user-information-private"][2]),
                   errors=errors)
    assert "Undecoded" in rop and errors[0]["where"].endswith("RopWritePerUserInformation")
    logon = bytes.fromhex(VECTOR["logon-request-private"][2])  # a private RopLogon earlier in the list
    rops = parse(RopList("request"), logon + bytes.fromhex(VECTOR["write-per-user-information-private"][2]),
                 errors=[])
    assert rops[1].ReplGuid == uuid.UUID(GUID)


def test_logon_response_without_its_request_is_an_error_entry():
    errors = []
    (rop,) = parse(RopList("response"), bytes.fromhex(VECTOR["logon-response-private"][2]), errors=errors)
    assert rop.RopName == "RopLogon" and "Undecoded" in rop
    assert "request state" in errors[0]["error"]


@pytest.mark.parametrize("definition, data, params", [
    (s.RopLogonResponse, "FE 00 00000000 01" + FOLDER_IDS[:40], PRIVATE),  # truncated FolderIds
    (s.RopLogonRequest, "FE 00 00 01 00 00 00 01 00 00 00 00 20 00 2f6f00", {}),  # EssdnSize past the end
    (s.RopLogonRequest, "FE 00 00 01 00 00 00 01 00 00 00 00 03 00 2f6f3d", {}),  # Essdn without its null
    (s.RopLogonRedirectResponse, "FE 00 78040000 01 05 6d6200", {}),  # ServerNameSize over the string
    (s.RopGetOwningServersResponse, "42 00 00000000 FFFF 0100" + ASCII["srv1"], {}),  # count over the bytes left
    (s.RopGetPerUserLongTermIdsResponse, "60 00 00000000 0900" + LTID, {}),
    (s.RopGetReceiveFolderTableResponse, "68 00 00000000 10000000 00", {}),
    (s.RopPublicFolderIsGhostedResponse, "45 00 00000000 01 0100", {}),  # truncated
    (s.RopGetReceiveFolderRequest, "27 00 00 49504d", {}),  # MessageClass without its null
    (s.RopWritePerUserInformationRequest, "64 00 00" + LTID + "01 00000000 0000 3322", {"private_logon": True}),
])
def test_malformed_raise_construct_errors(definition, data, params):
    with pytest.raises(c.ConstructError):
        parse(definition, bytes.fromhex(data), **params)


def test_count_over_the_bytes_left_in_a_list_is_an_error_entry():
    errors = []
    rops = parse(RopList("response"), bytes.fromhex("42 00 00000000 FFFF 0100" + ASCII["srv1"]), errors=errors,
                 request_rops=[c.Container(RopId=0x42)])
    assert rops[0].RopName == "RopGetOwningServers" and "Undecoded" in rops[0]
    assert "OwningServers" in errors[0]["where"]


DEFINITIONS = [(rop.request, {"private_logon": True}) for rop in s.ROPS] + \
    [(rop.response, PRIVATE) for rop in s.ROPS] + [(rop.response, PUBLIC) for rop in s.ROPS[:1]] + \
    [(s.RopLogonRedirectResponse, {})]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VECTORS), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_mutated_vectors_only_construct_errors(vector, at, byte, cut):
    _, definition, data, params, _ = vector
    data = bytearray(bytes.fromhex(data))
    data[at % len(data)] = byte
    try:
        parse(definition, bytes(data[:cut]), **params)
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_construct_errors(data):
    for definition, params in DEFINITIONS:
        try:
            parse(definition, data, **params)
        except c.ConstructError:
            pass
    parse(RopList("request"), data, errors=[], private_logon=True)
