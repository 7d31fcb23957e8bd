"""Fast Transfer ROPs (MS-OXCROPS 2.2.12) and Incremental Change Synchronization ROPs (2.2.13),
semantics MS-OXCFXICS.

MS-OXCFXICS section 4 shows FastTransfer stream and state contents, not ROP buffers, so every
vector here is written by hand from the MS-OXCROPS layout and checked field by field.
"""

import uuid

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import oxcfxics as f
from .helpers import field, malformed_after_a_good_rop, mutated_vector_decodes, only_construct_errors

STATE = c.Container(_columns=None, _logon_flags=None)
REPL_GUID = "f1e2d3c4" "b5a6" "9788" "796a5b4c3d2e1f00"  # GUID bytes_le of {c4d3e2f1-a6b5-8897-796a-5b4c3d2e1f00}
XID = REPL_GUID + "000000000a01"  # a 22-byte XID: database GUID + 6-byte counter (MS-OXCFXICS 2.2.2.2)
LONG_TERM_ID_MIN = REPL_GUID + "000000000001" + "0000"
LONG_TERM_ID_MAX = REPL_GUID + "0000000000ff" + "0000"


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


VECTORS = [
    # (definition, hex, {dotted field path: expected value}); all hand-written from MS-OXCROPS 2.2.12 / 2.2.13
    # 2.2.12.1 RopFastTransferDestinationConfigure
    (f.RopFastTransferDestinationConfigureRequest, "53 00 01 02 01 01",
     {"InputHandleIndex": 1, "OutputHandleIndex": 2, "SourceOperation": 1, "CopyFlags": 1}),
    (f.RopFastTransferDestinationConfigureResponse, "53 02 00000000", {"OutputHandleIndex": 2, "ReturnValue": 0}),
    # 2.2.12.2 RopFastTransferDestinationPutBuffer: the response keeps its fields on failure
    (f.RopFastTransferDestinationPutBufferRequest, "54 00 02 0400 01020304",
     {"TransferDataSize": 4, "TransferData": h("01020304")}),
    (f.RopFastTransferDestinationPutBufferResponse, "54 02 00000000 0300 0000 0100 00 0400",
     {"TransferStatus": 3, "InProgressCount": 0, "TotalStepCount": 1, "Reserved": 0, "BufferUsedSize": 4}),
    (f.RopFastTransferDestinationPutBufferResponse, "54 02 05400080 0000 0000 0000 00 0200",
     {"ReturnValue": 0x80004005, "TransferStatus": 0, "BufferUsedSize": 2}),
    # 2.2.12.3 RopFastTransferDestinationPutBufferExtended: 4-byte step counts
    (f.RopFastTransferDestinationPutBufferExtendedRequest, "9d 00 02 0400 01020304",
     {"RopId": 0x9D, "TransferData": h("01020304")}),
    (f.RopFastTransferDestinationPutBufferExtendedResponse, "9d 02 00000000 0300 00000000 01000000 00 0400",
     {"TransferStatus": 3, "InProgressCount": 0, "TotalStepCount": 1, "BufferUsedSize": 4}),
    # 2.2.12.4 RopFastTransferSourceGetBuffer: MaximumBufferSize after the 0xBABE sentinel; the
    # transfer fields whatever the ReturnValue, except 0x00000480 (ecServerBusy): BackoffTime only
    (f.RopFastTransferSourceGetBufferRequest, "4e 00 02 0010", {"BufferSize": 0x1000, "MaximumBufferSize": None}),
    (f.RopFastTransferSourceGetBufferRequest, "4e 00 02 beba 0080",
     {"BufferSize": 0xBABE, "MaximumBufferSize": 0x8000}),
    (f.RopFastTransferSourceGetBufferResponse, "4e 02 00000000 0100 0100 0200 00 0400 01020304",
     {"TransferStatus": 1, "InProgressCount": 1, "TotalStepCount": 2, "TransferBufferSize": 4,
      "TransferBuffer": h("01020304")}),
    (f.RopFastTransferSourceGetBufferServerBusyResponse, "4e 02 80040000 e8030000",
     {"ReturnValue": 0x480, "BackoffTime": 1000}),
    (f.RopFastTransferSourceGetBufferResponse, "4e 02 05000780 0000 0000 0000 00 0000",
     {"ReturnValue": 0x80070005, "TransferStatus": 0, "TransferBufferSize": 0}),
    # 2.2.12.5 RopFastTransferSourceCopyFolder
    (f.RopFastTransferSourceCopyFolderRequest, "4c 00 01 02 10 01", {"CopyFlags": 0x10, "SendOptions": 0x01}),
    (f.RopFastTransferSourceCopyFolderResponse, "4c 02 00000000", {"OutputHandleIndex": 2}),
    # 2.2.12.6 RopFastTransferSourceCopyMessages
    (f.RopFastTransferSourceCopyMessagesRequest, "4b 00 01 02 0200 0100000000000a01 0100000000000a02 20 03",
     {"MessageIdCount": 2, "MessageIds.0.ReplicaId": 1, "MessageIds.1.GlobalCounter": h("000000000a02"),
      "CopyFlags": 0x20, "SendOptions": 0x03}),
    (f.RopFastTransferSourceCopyMessagesResponse, "4b 02 00000000", {"RopId": 0x4B}),
    # 2.2.12.7 RopFastTransferSourceCopyTo: 4-byte CopyFlags
    (f.RopFastTransferSourceCopyToRequest, "4d 00 01 02 00 00200000 01 0100 0300070e",
     {"Level": 0, "CopyFlags": 0x2000, "SendOptions": 1, "PropertyTagCount": 1,
      "PropertyTags.0.PropertyId": 0x0E07}),
    (f.RopFastTransferSourceCopyToResponse, "4d 02 00000000", {"RopId": 0x4D}),
    # 2.2.12.8 RopFastTransferSourceCopyProperties
    (f.RopFastTransferSourceCopyPropertiesRequest, "69 00 01 02 01 01 01 0200 1f003700 0300070e",
     {"Level": 1, "CopyFlags": 1, "SendOptions": 1, "PropertyTagCount": 2, "PropertyTags.0.PropertyId": 0x0037}),
    (f.RopFastTransferSourceCopyPropertiesResponse, "69 02 00000000", {"RopId": 0x69}),
    # 2.2.12.9 RopTellVersion
    (f.RopTellVersionRequest, "86 00 02 0f00 5383 0100", {"Version": [0x000F, 0x8353, 0x0001]}),
    (f.RopTellVersionResponse, "86 02 00000000", {"InputHandleIndex": 2}),
    # 2.2.13.1 RopSynchronizationConfigure: without and with a restriction (an ExistRestriction)
    (f.RopSynchronizationConfigureRequest, "70 00 01 02 01 01 3900 0000 0f000000 0100 1f003700",
     {"SynchronizationType": 1, "SendOptions": 1, "SynchronizationFlags": 0x39, "RestrictionDataSize": 0,
      "RestrictionData": None, "SynchronizationExtraFlags": 0x0F, "PropertyTagCount": 1}),
    (f.RopSynchronizationConfigureRequest, "70 00 01 02 02 00 0100 0500 08 1f003700 00000000 0000",
     {"SynchronizationType": 2, "RestrictionDataSize": 5, "RestrictionData.RestrictType": 0x08,
      "RestrictionData.PropTag.PropertyId": 0x0037, "PropertyTagCount": 0}),
    (f.RopSynchronizationConfigureResponse, "70 02 00000000", {"OutputHandleIndex": 2}),
    # 2.2.13.2 RopSynchronizationImportMessageChange
    (f.RopSynchronizationImportMessageChangeRequest, "72 00 01 02 10 0100 1f001a00 490050004d000000",
     {"ImportFlag": 0x10, "PropertyValueCount": 1, "PropertyValues.0.PropertyTag.PropertyId": 0x001A,
      "PropertyValues.0.PropertyValue": "IPM"}),
    (f.RopSynchronizationImportMessageChangeResponse, "72 02 00000000 0100000000000a02",
     {"MessageId.ReplicaId": 1, "MessageId.GlobalCounter": h("000000000a02")}),
    # 2.2.13.3 RopSynchronizationImportReadStateChanges: two MessageReadState structures
    (f.RopSynchronizationImportReadStateChangesRequest, "80 00 01 3200" "1600" + XID + "01" "1600" + XID + "00",
     {"MessageReadStateSize": 50, "MessageReadStates.0.MessageIdSize": 22, "MessageReadStates.0.MessageId": h(XID),
      "MessageReadStates.0.MarkAsRead": 1, "MessageReadStates.1.MarkAsRead": 0}),
    (f.RopSynchronizationImportReadStateChangesResponse, "80 01 00000000", {"RopId": 0x80}),
    # 2.2.13.4 RopSynchronizationImportHierarchyChange
    (f.RopSynchronizationImportHierarchyChangeRequest, "73 00 01 0100 0201e165 0200 aabb 0100 1f000130 46000000",
     {"HierarchyValueCount": 1, "HierarchyValues.0.PropertyValue": h("aabb"), "PropertyValueCount": 1,
      "PropertyValues.0.PropertyValue": "F"}),
    (f.RopSynchronizationImportHierarchyChangeResponse, "73 01 00000000 0100000000000b01",
     {"FolderId.ReplicaId": 1, "FolderId.GlobalCounter": h("000000000b01")}),
    # 2.2.13.5 RopSynchronizationImportDeletes: one PtypMultipleBinary of source keys
    (f.RopSynchronizationImportDeletesRequest, "74 00 01 02 0100 02110000 01000000 0200 aabb",
     {"ImportDeleteFlags": 2, "PropertyValueCount": 1, "PropertyValues.0.PropertyValue": [h("aabb")]}),
    (f.RopSynchronizationImportDeletesResponse, "74 01 00000000", {"RopId": 0x74}),
    # 2.2.13.6 RopSynchronizationImportMessageMove: five 4-byte sizes, each before its field
    (f.RopSynchronizationImportMessageMoveRequest,
     "78 00 01" "16000000" + XID + "16000000" + XID + "17000000" "16" + XID + "16000000" + XID + "16000000" + XID,
     {"SourceFolderIdSize": 22, "SourceFolderId": h(XID), "PredecessorChangeListSize": 23,
      "PredecessorChangeList": h("16" + XID), "DestinationMessageId": h(XID), "ChangeNumberSize": 22}),
    (f.RopSynchronizationImportMessageMoveResponse, "78 01 00000000 0100000000000c01",
     {"MessageId.GlobalCounter": h("000000000c01")}),
    # 2.2.13.7 RopSynchronizationOpenCollector
    (f.RopSynchronizationOpenCollectorRequest, "7e 00 01 02 01", {"IsContentsCollector": 1}),
    (f.RopSynchronizationOpenCollectorResponse, "7e 02 00000000", {"OutputHandleIndex": 2}),
    # 2.2.13.8 RopSynchronizationGetTransferState
    (f.RopSynchronizationGetTransferStateRequest, "82 00 01 02", {"OutputHandleIndex": 2}),
    (f.RopSynchronizationGetTransferStateResponse, "82 02 00000000", {"RopId": 0x82}),
    # 2.2.13.9 RopSynchronizationUploadStateStreamBegin (PidTagCnsetSeen 0x67960102)
    (f.RopSynchronizationUploadStateStreamBeginRequest, "75 00 01 02019667 00010000",
     {"StateProperty.PropertyId": 0x6796, "StateProperty.PropertyType": 0x0102, "TransferBufferSize": 256}),
    (f.RopSynchronizationUploadStateStreamBeginResponse, "75 01 00000000", {"RopId": 0x75}),
    # 2.2.13.10 RopSynchronizationUploadStateStreamContinue
    (f.RopSynchronizationUploadStateStreamContinueRequest, "76 00 01 04000000 01020304",
     {"StreamDataSize": 4, "StreamData": h("01020304")}),
    (f.RopSynchronizationUploadStateStreamContinueResponse, "76 01 00000000", {"RopId": 0x76}),
    # 2.2.13.11 RopSynchronizationUploadStateStreamEnd
    (f.RopSynchronizationUploadStateStreamEndRequest, "77 00 01", {"RopId": 0x77}),
    (f.RopSynchronizationUploadStateStreamEndResponse, "77 01 00000000", {"RopId": 0x77}),
    # 2.2.13.12 RopSetLocalReplicaMidsetDeleted: DataSize counts LongTermIdRangeCount and the ranges
    (f.RopSetLocalReplicaMidsetDeletedRequest, "93 00 01 3400 01000000" + LONG_TERM_ID_MIN + LONG_TERM_ID_MAX,
     {"DataSize": 52, "LongTermIdRangeCount": 1,
      "LongTermIdRanges.0.MinLongTermId.DatabaseGuid": uuid.UUID("c4d3e2f1-a6b5-8897-796a-5b4c3d2e1f00"),
      "LongTermIdRanges.0.MaxLongTermId.GlobalCounter": h("0000000000ff")}),
    (f.RopSetLocalReplicaMidsetDeletedResponse, "93 01 00000000", {"RopId": 0x93}),
    # 2.2.13.13 RopGetLocalReplicaIds
    (f.RopGetLocalReplicaIdsRequest, "7f 00 01 64000000", {"IdCount": 100}),
    (f.RopGetLocalReplicaIdsResponse, "7f 01 00000000" + REPL_GUID + "000000000100",
     {"ReplGuid": uuid.UUID("c4d3e2f1-a6b5-8897-796a-5b4c3d2e1f00"), "GlobalCount": h("000000000100")}),
]


def _id(vector):
    return f"{vector[0].docs.split()[2]}-{vector[1][:24].replace(' ', '')}"


@pytest.mark.parametrize("definition, hexdata, fields", VECTORS, ids=[_id(v) for v in VECTORS])
def test_vector_parses_field_by_field_and_builds_the_same_bytes(definition, hexdata, fields):
    data = h(hexdata)
    value = parse(definition, data, request_rop=STATE)
    for path, expected in fields.items():
        assert field(value, path) == expected, path
    assert build(definition, value, request_rop=STATE) == data


def test_every_rop_has_a_request_and_a_response_vector():
    covered = {id(vector[0]) for vector in VECTORS}
    for rop in f.ROPS:
        assert id(rop.request) in covered, rop.name
        assert id(rop.response) in covered, rop.name


def test_registry_ids_and_sections():
    ids = {rop.rop_id: rop.name for rop in f.ROPS}
    assert ids == {
        0x53: "RopFastTransferDestinationConfigure", 0x54: "RopFastTransferDestinationPutBuffer",
        0x9D: "RopFastTransferDestinationPutBufferExtended", 0x4E: "RopFastTransferSourceGetBuffer",
        0x4C: "RopFastTransferSourceCopyFolder", 0x4B: "RopFastTransferSourceCopyMessages",
        0x4D: "RopFastTransferSourceCopyTo", 0x69: "RopFastTransferSourceCopyProperties", 0x86: "RopTellVersion",
        0x70: "RopSynchronizationConfigure", 0x72: "RopSynchronizationImportMessageChange",
        0x80: "RopSynchronizationImportReadStateChanges", 0x73: "RopSynchronizationImportHierarchyChange",
        0x74: "RopSynchronizationImportDeletes", 0x78: "RopSynchronizationImportMessageMove",
        0x7E: "RopSynchronizationOpenCollector", 0x82: "RopSynchronizationGetTransferState",
        0x75: "RopSynchronizationUploadStateStreamBegin", 0x76: "RopSynchronizationUploadStateStreamContinue",
        0x77: "RopSynchronizationUploadStateStreamEnd", 0x93: "RopSetLocalReplicaMidsetDeleted",
        0x7F: "RopGetLocalReplicaIds",
    }
    for rop in f.ROPS:
        assert rop.ref.startswith(("MS-OXCROPS 2.2.12.", "MS-OXCROPS 2.2.13.")), rop.name
        assert rop.request.docs.startswith(rop.ref + "."), rop.name


def test_response_shapes_by_return_value():
    by_id = {rop.rop_id: rop for rop in f.ROPS}
    for rop_id in (0x54, 0x9D, 0x4E):  # a single "Response Buffer" for every ReturnValue
        assert by_id[rop_id].response_shape(0x80004005) is by_id[rop_id].response
    assert by_id[0x4E].response_shape(0x480) is f.RopFastTransferSourceGetBufferServerBusyResponse
    assert [sc.name for sc in by_id[0x72].response_shape(0x80004005).subcons] == [
        "RopId", "OutputHandleIndex", "ReturnValue"]


def test_enum_and_flag_names():
    value = parse(f.RopSynchronizationConfigureRequest, h("70 00 01 02 01 03 3900 0000 0f000000 0000"))
    assert value.SynchronizationType.name == "Contents"
    assert value.SendOptions.names == ("Unicode", "UseCpid", "ForUpload")
    assert value.SynchronizationFlags.names == ("Unicode", "ReadState", "FAI", "Normal")
    assert value.SynchronizationExtraFlags.names == ("Eid", "MessageSize", "Cn", "OrderByDeliveryTime")
    value = parse(f.RopFastTransferSourceGetBufferResponse, h("4e 02 00000000 0300 0000 0000 00 0000"))
    assert value.TransferStatus.name == "Done"
    assert parse(f.RopFastTransferDestinationConfigureRequest, h("53 00 01 02 04 00")).SourceOperation.name == \
        "CopyFolder"
    assert parse(f.RopFastTransferSourceCopyToRequest, h("4d 00 01 02 00 01200000 00 0000")).CopyFlags.names == (
        "Move", "BestBody")
    assert parse(f.RopSynchronizationImportDeletesRequest, h("74 00 01 03 0000")).ImportDeleteFlags.names == (
        "Hierarchy", "HardDelete")


def test_sizes_and_counts_are_computed_on_build():
    ranges = [dict(MinLongTermId=dict(DatabaseGuid=uuid.UUID(int=1), GlobalCounter=bytes(6), Pad=0),
                   MaxLongTermId=dict(DatabaseGuid=uuid.UUID(int=1), GlobalCounter=bytes(5) + b"\x01", Pad=0))] * 2
    data = build(f.RopSetLocalReplicaMidsetDeletedRequest, dict(RopId=0x93, LogonId=0, InputHandleIndex=1,
                                                                LongTermIdRanges=ranges))
    assert data[3:9] == h("6400 02000000") and len(data) == 9 + 96
    value = dict(RopId=0x70, LogonId=0, InputHandleIndex=1, OutputHandleIndex=2, SynchronizationType=1,
                 SendOptions=0, SynchronizationFlags=0, RestrictionDataSize=1,
                 RestrictionData=dict(RestrictType=0x08, PropTag=dict(PropertyType=0x001F, PropertyId=0x0037)),
                 SynchronizationExtraFlags=0, PropertyTags=[])
    expected = h("70 00 01 02 01 00 0000 0500 081f003700 00000000 0000")
    assert build(f.RopSynchronizationConfigureRequest, value) == expected


REQUESTS = "4e 00 02 beba 0080" "54 00 02 0400 01020304" "77 00 01"
RESPONSES = "4e 02 80040000 e8030000" "54 02 05400080 0000 0000 0000 00 0200" "77 01 00000000"


def test_rop_lists_pair_responses_with_their_requests():
    errors = []
    requests = parse(RopList("request"), h(REQUESTS), errors=errors)
    assert [rop.RopName for rop in requests] == ["RopFastTransferSourceGetBuffer",
                                                 "RopFastTransferDestinationPutBuffer",
                                                 "RopSynchronizationUploadStateStreamEnd"]
    responses = parse(RopList("response"), h(RESPONSES), errors=errors, request_rops=requests)
    assert errors == []
    assert responses[0].BackoffTime == 1000 and "TransferStatus" not in responses[0]  # ecServerBusy shape
    assert responses[1].BufferUsedSize == 2  # other failures keep their fields
    assert build(RopList("request"), requests) == h(REQUESTS)
    assert build(RopList("response"), responses) == h(RESPONSES)


NEGATIVE = [
    (f.RopFastTransferSourceCopyMessagesRequest, "4b 00 01 02 0200 0100000000000a01"),  # truncated MessageIds
    (f.RopFastTransferSourceCopyMessagesRequest, "4b 00 01 02 ffff 0100000000000a01 00 00"),  # count too large
    (f.RopFastTransferSourceGetBufferRequest, "4e 00 02 beba 00"),  # MaximumBufferSize cut short
    (f.RopFastTransferSourceGetBufferResponse, "4e 02 00000000 0100 0000 0000 00 0800 0102"),  # size past the end
    (f.RopFastTransferSourceGetBufferServerBusyResponse, "4e 02 80040000 e803"),  # BackoffTime short
    (f.RopSynchronizationConfigureRequest, "70 00 01 02 01 01 3900 0300 08 1f00 00000000 0000"),  # bad restriction
    (f.RopSynchronizationImportReadStateChangesRequest, "80 00 01 0500 1600 aabbcc"),  # MessageIdSize past size
    (f.RopSetLocalReplicaMidsetDeletedRequest, "93 00 01 0200 01000000"),  # DataSize smaller than its count field
    (f.RopSetLocalReplicaMidsetDeletedRequest, "93 00 01 3400 02000000" + LONG_TERM_ID_MIN + LONG_TERM_ID_MAX),
    (f.RopSynchronizationImportMessageMoveRequest, "78 00 01 ffffff7f 00"),  # SourceFolderIdSize past the end
    (f.RopGetLocalReplicaIdsResponse, "7f 01 00000000" + REPL_GUID),  # GlobalCount missing
]


@pytest.mark.parametrize("definition, hexdata", NEGATIVE, ids=[_id(v) for v in NEGATIVE])
def test_malformed_rops_raise_construct_errors(definition, hexdata):
    with pytest.raises(c.ConstructError):
        parse(definition, h(hexdata), request_rop=STATE)


@pytest.mark.parametrize("definition, hexdata", NEGATIVE[:2], ids=["truncated", "count-too-large"])
def test_malformed_requests_become_error_entries_in_the_list(definition, hexdata):
    malformed_after_a_good_rop("77 00 01", "RopSynchronizationUploadStateStreamEnd", hexdata)


DEFINITIONS = sorted({id(v[0]): v[0] for v in VECTORS}.values(), key=lambda d: d.docs)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=64))
def test_random_bytes_parse_or_raise_construct_errors(definition, data):
    only_construct_errors(definition, data, request_rop=STATE)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VECTORS), st.integers(0, 200), st.integers(0, 255))
def test_mutated_vectors_parse_or_raise_construct_errors(vector, position, byte):
    data = bytearray(h(vector[1]))
    data[position % len(data)] = byte
    mutated_vector_decodes(vector[0], bytes(data), request_rop=STATE)
