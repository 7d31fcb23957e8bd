"""Message and Attachment ROPs (MS-OXCROPS 2.2.6, semantics MS-OXCMSG).

MS-OXCMSG section 4 prints one ROP buffer as bytes, the RopSaveChangesMessage request of 4.8.1
(`0c 00 00 01 0a`); every other vector is written by hand from the MS-OXCROPS 2.2.6 layouts.
The recipient rows use RecipientFlags D|U (display name in UTF-16) and one of the two columns
PidTagRecipientType (0x0C150003), PidTagDisplayName (0x3001001F).
"""

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs import core
from mapiwire.dissect.defs.oxcdata import PropertyTag
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import oxcmsg
from .helpers import field

FID = "0100" "00000000a2b3"  # FolderID: ReplicaId 1, GlobalCounter 00000000a2b3
MID = "0100" "0000000c4d5e"  # MessageID: ReplicaId 1, GlobalCounter 0000000c4d5e
MID2 = "0200" "0000000c4d5f"
COLUMNS = "0200" "0300150c" "1f000130"  # ColumnCount 2: PidTagRecipientType, PidTagDisplayName
RECIPIENT_ROW = "1002" "41000000" "0100" "00" "07000000"  # D|U, "A", 1 column: StandardPropertyRow, 7
CLIENT_DATA = "00112233445566778899aabbccddeeff0011223344556677"
OK = "00000000"
NOT_FOUND = "0f010480"  # ecNotFound 0x8004010F
MESSAGE_HEADER = "00" "01" "04" "480069000000" "0100" + COLUMNS  # no named props, "" prefix, "Hi", 1 recipient


def tags(hexdata):
    """Parsed PropertyTags, as the decoding context hands them over in request_rop._columns."""
    data = bytes.fromhex(hexdata)
    return [core.parse(PropertyTag, data[i:i + 4]) for i in range(0, len(data), 4)]


RECIPIENT_COLUMNS = tags("0300150c" "1f000130")
STATE = c.Container(_columns=RECIPIENT_COLUMNS, _logon_flags=1)
PRIVATE = {"private_logon": True}
PUBLIC = {"private_logon": False}

# (name, definition, hex, params, {field path: value})
VECTORS = [
    ("OpenMessage request", oxcmsg.RopOpenMessageRequest, "03000001" "ff0f" + FID + "01" + MID, {},
     {"OutputHandleIndex": 1, "CodePageId": 0x0FFF, "FolderId.ReplicaId": 1,
      "FolderId.GlobalCounter": bytes.fromhex("00000000a2b3"), "OpenModeFlags": 1,
      "OpenModeFlags.names": ("ReadWrite",), "MessageId.GlobalCounter": bytes.fromhex("0000000c4d5e")}),
    ("OpenMessage response", oxcmsg.RopOpenMessageResponse,
     "0301" + OK + MESSAGE_HEADER + "01" "01" "e404" "0000" "0d00" + RECIPIENT_ROW, {},
     {"OutputHandleIndex": 1, "SubjectPrefix.StringType": 1, "NormalizedSubject.String": "Hi",
      "RecipientCount": 1, "ColumnCount": 2, "RecipientColumns.1.PropertyId": 0x3001, "RowCount": 1,
      "RecipientRows.0.RecipientType": 1, "RecipientRows.0.RecipientType.name": "Primary",
      "RecipientRows.0.CodePageId": 1252, "RecipientRows.0.RecipientRowSize": 13,
      "RecipientRows.0.RecipientRow.DisplayName": "A", "RecipientRows.0.RecipientRow.RecipientColumnCount": 1,
      "RecipientRows.0.RecipientRow.RecipientProperties.ValueArray.0.PropertyValue": 7}),
    ("CreateMessage request", oxcmsg.RopCreateMessageRequest, "06000001" "ff0f" + FID + "01", {},
     {"CodePageId": 0x0FFF, "FolderId.ReplicaId": 1, "AssociatedFlag": 1}),
    ("CreateMessage response", oxcmsg.RopCreateMessageResponse, "0601" + OK + "01" + MID, {},
     {"HasMessageId": 1, "MessageId.ReplicaId": 1}),
    ("CreateMessage response without MessageId", oxcmsg.RopCreateMessageResponse, "0601" + OK + "00", {},
     {"HasMessageId": 0, "MessageId": None}),
    # MS-OXCMSG 4.8.1
    ("SaveChangesMessage request (MS-OXCMSG 4.8.1)", oxcmsg.RopSaveChangesMessageRequest, "0c00" "00" "01" "0a", {},
     {"RopId": 0x0C, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 1, "SaveFlags": 0x0A,
      "SaveFlags.names": ("KeepOpenReadWrite",)}),
    ("SaveChangesMessage response", oxcmsg.RopSaveChangesMessageResponse, "0c00" + OK + "01" + MID, {},
     {"ResponseHandleIndex": 0, "InputHandleIndex": 1, "MessageId.GlobalCounter": bytes.fromhex("0000000c4d5e")}),
    ("RemoveAllRecipients request", oxcmsg.RopRemoveAllRecipientsRequest, "0d0001" "00000000", {}, {"Reserved": 0}),
    ("RemoveAllRecipients response", oxcmsg.RopRemoveAllRecipientsResponse, "0d01" + OK, {}, {"ReturnValue": 0}),
    ("ModifyRecipients request", oxcmsg.RopModifyRecipientsRequest,
     "0e0001" + COLUMNS + "0200" "00000000" "02" "0d00" + RECIPIENT_ROW + "01000000" "01" "0000", {},
     {"ColumnCount": 2, "RowCount": 2, "RecipientRows.0.RecipientType.name": "Cc",
      "RecipientRows.0.RecipientRow.DisplayName": "A", "RecipientRows.1.RowId": 1,
      "RecipientRows.1.RecipientRowSize": 0, "RecipientRows.1.RecipientRow": None}),
    ("ModifyRecipients response", oxcmsg.RopModifyRecipientsResponse, "0e01" + OK, {}, {"InputHandleIndex": 1}),
    ("ReadRecipients request", oxcmsg.RopReadRecipientsRequest, "0f0001" "05000000" "0000", {},
     {"RowId": 5, "Reserved": 0}),
    ("ReadRecipients response", oxcmsg.RopReadRecipientsResponse,
     "0f01" + OK + "01" "05000000" "03" "e404" "0000" "0d00" + RECIPIENT_ROW, {"request_rop": STATE},
     {"RowCount": 1, "RecipientRows.0.RowId": 5, "RecipientRows.0.RecipientType.name": "Bcc",
      "RecipientRows.0.RecipientRow.RecipientFlags.names": ("D", "U"),
      "RecipientRows.0.RecipientRow.RecipientProperties.ValueArray.0.PropertyValue": 7}),
    ("ReloadCachedInformation request", oxcmsg.RopReloadCachedInformationRequest, "100001" "0000", {},
     {"Reserved": 0}),
    ("ReloadCachedInformation response", oxcmsg.RopReloadCachedInformationResponse,
     "1001" + OK + MESSAGE_HEADER + "00", {},
     {"InputHandleIndex": 1, "RecipientCount": 1, "RowCount": 0, "RecipientRows": []}),
    ("SetMessageStatus request", oxcmsg.RopSetMessageStatusRequest, "200001" + MID + "00100000" "00300000", {},
     {"MessageStatusFlags.names": ("msRemoteDownload",), "MessageStatusMask": 0x3000}),
    ("SetMessageStatus response", oxcmsg.RopSetMessageStatusResponse, "2001" + OK + "00080000", {},
     {"MessageStatusFlags.names": ("msInConflict",)}),
    ("GetMessageStatus request", oxcmsg.RopGetMessageStatusRequest, "1f0001" + MID, {}, {"MessageId.ReplicaId": 1}),
    ("GetMessageStatus response", oxcmsg.RopGetMessageStatusResponse, "1f01" + OK + "00200000", {},
     {"MessageStatusFlags.names": ("msRemoteDelete",)}),
    ("SetReadFlags request", oxcmsg.RopSetReadFlagsRequest, "660001" "01" "05" "0200" + MID + MID2, {},
     {"WantAsynchronous": 1, "ReadFlags.names": ("rfSuppressReceipt", "rfClearReadFlag"), "MessageIdCount": 2,
      "MessageIds.1.ReplicaId": 2}),
    ("SetReadFlags response", oxcmsg.RopSetReadFlagsResponse, "6601" + OK + "00", {}, {"PartialCompletion": 0}),
    ("SetMessageReadFlag request, private logon", oxcmsg.RopSetMessageReadFlagRequest, "11000001" "00", PRIVATE,
     {"ResponseHandleIndex": 0, "InputHandleIndex": 1, "ReadFlags": 0, "ClientData": None}),
    ("SetMessageReadFlag request, public logon", oxcmsg.RopSetMessageReadFlagRequest,
     "11000001" "04" + CLIENT_DATA, PUBLIC,
     {"ReadFlags.names": ("rfClearReadFlag",), "ClientData": bytes.fromhex(CLIENT_DATA)}),
    ("SetMessageReadFlag response", oxcmsg.RopSetMessageReadFlagResponse, "1100" + OK + "00", {},
     {"ReadStatusChanged": 0, "LogonId": None, "ClientData": None}),
    ("SetMessageReadFlag response, status changed", oxcmsg.RopSetMessageReadFlagResponse,
     "1100" + OK + "01" "00" + CLIENT_DATA, {},
     {"ReadStatusChanged": 1, "LogonId": 0, "ClientData": bytes.fromhex(CLIENT_DATA)}),
    ("OpenAttachment request", oxcmsg.RopOpenAttachmentRequest, "22000102" "03" "02000000", {},
     {"OutputHandleIndex": 2, "OpenAttachmentFlags.names": ("ReadWrite", "BestAccess"), "AttachmentID": 2}),
    ("OpenAttachment response", oxcmsg.RopOpenAttachmentResponse, "2202" + OK, {}, {"OutputHandleIndex": 2}),
    ("CreateAttachment request", oxcmsg.RopCreateAttachmentRequest, "23000102", {}, {"OutputHandleIndex": 2}),
    ("CreateAttachment response", oxcmsg.RopCreateAttachmentResponse, "2302" + OK + "03000000", {},
     {"AttachmentID": 3}),
    ("DeleteAttachment request", oxcmsg.RopDeleteAttachmentRequest, "240001" "03000000", {}, {"AttachmentID": 3}),
    ("DeleteAttachment response", oxcmsg.RopDeleteAttachmentResponse, "2401" + OK, {}, {"ReturnValue": 0}),
    ("SaveChangesAttachment request", oxcmsg.RopSaveChangesAttachmentRequest, "25000102" "02", {},
     {"ResponseHandleIndex": 1, "InputHandleIndex": 2, "SaveFlags.names": ("KeepOpenReadWrite",)}),
    ("SaveChangesAttachment response", oxcmsg.RopSaveChangesAttachmentResponse, "2501" + OK, {},
     {"ResponseHandleIndex": 1}),
    ("OpenEmbeddedMessage request", oxcmsg.RopOpenEmbeddedMessageRequest, "46000203" "e404" "02", {},
     {"CodePageId": 1252, "OpenModeFlags.names": ("Create",)}),
    ("OpenEmbeddedMessage response", oxcmsg.RopOpenEmbeddedMessageResponse,
     "4603" + OK + "00" + MID + "01" "00" "02" "486900" "0000" "0000" "00", {},
     {"Reserved": 0, "MessageId.ReplicaId": 1, "HasNamedProperties": 1, "SubjectPrefix.String": None,
      "NormalizedSubject.String": "Hi", "ColumnCount": 0, "RowCount": 0}),
    ("GetAttachmentTable request", oxcmsg.RopGetAttachmentTableRequest, "21000102" "40", {},
     {"TableFlags.names": ("Unicode",)}),
    ("GetAttachmentTable response", oxcmsg.RopGetAttachmentTableResponse, "2102" + OK, {}, {"OutputHandleIndex": 2}),
    ("GetValidAttachments request", oxcmsg.RopGetValidAttachmentsRequest, "520001", {}, {"InputHandleIndex": 1}),
    ("GetValidAttachments response", oxcmsg.RopGetValidAttachmentsResponse,
     "5201" + OK + "0200" "00000000" "01000000", {}, {"AttachmentIdCount": 2, "AttachmentIdArray": [0, 1]}),
]


def vector(name):
    """The hex of the vector called `name`."""
    return next(v[2] for v in VECTORS if v[0] == name)


@pytest.mark.parametrize("name, definition, data, params, expected", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector(name, definition, data, params, expected):
    raw = bytes.fromhex(data)
    value = core.parse(definition, raw, **params)
    for path, want in expected.items():
        assert field(value, path) == want, path
    assert core.build(definition, value, **params) == raw


def test_registry():
    ids = {rop.rop_id: rop.name for rop in oxcmsg.ROPS}
    assert ids == {0x03: "RopOpenMessage", 0x06: "RopCreateMessage", 0x0C: "RopSaveChangesMessage",
                   0x0D: "RopRemoveAllRecipients", 0x0E: "RopModifyRecipients", 0x0F: "RopReadRecipients",
                   0x10: "RopReloadCachedInformation", 0x20: "RopSetMessageStatus", 0x1F: "RopGetMessageStatus",
                   0x66: "RopSetReadFlags", 0x11: "RopSetMessageReadFlag", 0x22: "RopOpenAttachment",
                   0x23: "RopCreateAttachment", 0x24: "RopDeleteAttachment", 0x25: "RopSaveChangesAttachment",
                   0x46: "RopOpenEmbeddedMessage", 0x21: "RopGetAttachmentTable", 0x52: "RopGetValidAttachments"}


def test_build_fills_counts_and_sizes():
    """Counts and sizes are computed on build: an edited row list or recipient resizes them."""
    value = core.parse(oxcmsg.RopModifyRecipientsRequest, bytes.fromhex(vector("ModifyRecipients request")))
    value.RecipientRows[0].RecipientRow.DisplayName = "Bob"
    del value.RecipientRows[1]
    out = core.build(oxcmsg.RopModifyRecipientsRequest, value)
    again = core.parse(oxcmsg.RopModifyRecipientsRequest, out)
    assert again.RowCount == 1 and again.RecipientRows[0].RecipientRowSize == 17
    assert again.RecipientRows[0].RecipientRow.DisplayName == "Bob"
    built = core.build(oxcmsg.RopSetReadFlagsRequest, dict(
        RopId=0x66, LogonId=0, InputHandleIndex=1, WantAsynchronous=0, ReadFlags=0,
        MessageIds=[dict(ReplicaId=1, GlobalCounter=bytes(6))]))
    assert built == bytes.fromhex("6600010000" "0100" "0100" "000000000000")


REQUESTS = "0c00000102" "1f0001" + MID + "23000102" + "660001" "00" "00" "0100" + MID + "11000001" "00"
RESPONSES = ("0c00" + OK + "01" + MID + "1f01" + NOT_FOUND + "2302" + OK + "03000000"
             + "6601" + NOT_FOUND + "01" + "1100" + OK + "00")


def test_rop_lists():
    errors = []
    requests = core.parse(RopList("request"), bytes.fromhex(REQUESTS), errors=errors, logons={0: 1})
    assert [r.RopName for r in requests] == ["RopSaveChangesMessage", "RopGetMessageStatus", "RopCreateAttachment",
                                             "RopSetReadFlags", "RopSetMessageReadFlag"]
    assert errors == [] and core.build(RopList("request"), requests, logons={0: 1}).hex() == REQUESTS
    responses = core.parse(RopList("response"), bytes.fromhex(RESPONSES), errors=errors, request_rops=requests)
    assert errors == []
    assert [r.RopName for r in responses] == [r.RopName for r in requests]
    assert "MessageStatusFlags" not in responses[1]  # failure: RopId, InputHandleIndex, ReturnValue only
    assert responses[3].PartialCompletion == 1  # RopSetReadFlags keeps PartialCompletion on failure
    assert core.build(RopList("response"), responses).hex() == RESPONSES


def test_rop_list_recipient_state():
    """RopReadRecipients rows follow request_rop._columns; without them each row's bytes stay hex
    (its RecipientRowSize bounds it) and the rest decodes."""
    data = bytes.fromhex(vector("ReadRecipients response"))
    request = c.Container(RopId=0x0F, _columns=RECIPIENT_COLUMNS, _logon_flags=1)
    rops = core.parse(RopList("response"), data, errors=[], request_rops=[request])
    assert rops[0].RecipientRows[0].RecipientRow.DisplayName == "A"
    errors = []
    rops = core.parse(RopList("response"), data, errors=errors, request_rops=[])
    row = rops[0].RecipientRows[0]
    assert row.RecipientType.name == "Bcc" and row.RecipientRow.Undecoded == data[-13:].hex()
    assert "columns unknown" in errors[0]["error"] and errors[0]["where"].endswith("RecipientRow")


NEGATIVE = [
    (oxcmsg.RopOpenMessageRequest, "03000001" "ff0f" + FID + "01" + MID[:-2], {}),  # truncated
    (oxcmsg.RopGetValidAttachmentsResponse, "5201" + OK + "ffff" "00000000", {}),  # count over the bytes left
    (oxcmsg.RopSetReadFlagsRequest, "660001" "01" "05" "0300" + MID, {}),
    (oxcmsg.RopModifyRecipientsRequest, "0e0001" "0000" "0100" "00000000" "01" "ff00" "00", {}),  # size too large
    (oxcmsg.RopOpenMessageResponse, "0301" + OK + MESSAGE_HEADER + "01" "01" "e404" "0000" "0d00" + RECIPIENT_ROW[:-2],
     {}),
]


@pytest.mark.parametrize("definition, data, params", NEGATIVE)
def test_negative(definition, data, params):
    with pytest.raises(c.ConstructError):
        core.parse(definition, bytes.fromhex(data), **params)
    errors = []
    rops = core.parse(RopList(_direction(definition)), bytes.fromhex(data), errors=errors,
                      request_rops=[c.Container(RopId=int(data[:2], 16), **params.get("request_rop", STATE))],
                      logons={0: 1})
    assert rops[-1].Undecoded and errors


def _direction(definition):
    return "request" if any(definition is rop.request for rop in oxcmsg.ROPS) else "response"


DEFINITIONS = [d for rop in oxcmsg.ROPS for d in (rop.request, rop.response)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DEFINITIONS), st.binary(max_size=80))
def test_fuzz_only_construct_errors(definition, data):
    try:
        core.parse(definition, data, request_rop=STATE, private_logon=False)
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_fuzz_rop_list(data):
    core.parse(RopList("request"), data, errors=[], logons={0: 0})
    core.parse(RopList("response"), data, errors=[], request_rops=[])
