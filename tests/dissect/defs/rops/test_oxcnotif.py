"""Notification ROPs (MS-OXCROPS 2.2.14, MS-OXCNOTIF 2.2.1).

MS-OXCNOTIF section 4 describes its examples in prose and prints no ROP buffers as bytes, so every
vector here is written by hand from MS-OXCROPS 2.2.14 and the NotificationData field conditions of
MS-OXCNOTIF 2.2.1.4.1.2, one per notification type, and checked field by field."""

import construct as c
import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import UNKNOWN_REQUEST, RopList
from mapiwire.dissect.defs.rops import oxcnotif as n
from .helpers import field

FID = "0100 000000000021"  # ReplicaId 1, GlobalCounter 0x21
MID = "0100 000000000042"
OLD_FID = "0100 000000000005"
COLUMNS = [0x0E080003, 0x0037001F]  # PidTagMessageSize (PtypInteger32), PidTagSubject (PtypString)
TABLE = {"request_rop": c.Container(_columns=COLUMNS, _logon_flags=None)}
NOTIFY = "2A 44332211 00"  # RopId, NotificationHandle 0x11223344, LogonId 0
ROW = "00 2a000000 480069000000"  # StandardPropertyRow: 42, "Hi"


def counter(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id.replace(" ", ""))[2:]


# (id, definition, hex, parse params, expected fields); every vector must also build back to the same bytes
VECTORS = [
    # 2.2.14.1 RopRegisterNotification
    ("register-whole-store", n.RopRegisterNotificationRequest, "29 00 00 01 0200 01",
     {}, {"OutputHandleIndex": 1, "NotificationTypes.names": ("NewMail",), "Reserved": None, "WantWholeStore": 1,
          "FolderId": None, "MessageId": None}),
    ("register-message-extended", n.RopRegisterNotificationRequest, "29 00 01 02 1404 00 00" + FID + MID,
     {}, {"InputHandleIndex": 1, "NotificationTypes.names": ("ObjectCreated", "ObjectModified", "Extended"),
          "Reserved": 0, "WantWholeStore": 0, "FolderId.GlobalCounter": counter(FID),
          "MessageId.GlobalCounter": counter(MID)}),
    ("register-response", n.RopRegisterNotificationResponse, "29 01 00000000",
     {}, {"OutputHandleIndex": 1, "ReturnValue.name": "ecNone"}),
    # 2.2.14.2 RopNotify: NewMail on a message (M), ASCII and Unicode message class
    ("notify-new-mail", n.RopNotifyResponse, NOTIFY + "0280" + FID + MID + "01000000 00 49504d2e4e6f746500",
     {}, {"NotificationHandle": 0x11223344, "LogonId": 0, "NotificationData.NotificationFlags.names": ("NewMail", "M"),
          "NotificationData.TableEventType": None, "NotificationData.FolderId.GlobalCounter": counter(FID),
          "NotificationData.MessageId.GlobalCounter": counter(MID), "NotificationData.ParentFolderId": None,
          "NotificationData.TagCount": None, "NotificationData.MessageFlags": 1,
          "NotificationData.UnicodeFlag": 0, "NotificationData.MessageClass": "IPM.Note"}),
    ("notify-new-mail-unicode", n.RopNotifyResponse,
     NOTIFY + "0280" + FID + MID + "00000000 01 490050004d002e004e006f007400650000 00",
     {}, {"NotificationData.UnicodeFlag": 1, "NotificationData.MessageClass": "IPM.Note"}),
    # ObjectModified on a folder with the T and U counts; TagCount 0: no Tags
    ("notify-folder-modified-counts", n.RopNotifyResponse, NOTIFY + "1030" + FID + "0000 0a000000 03000000",
     {}, {"NotificationData.NotificationFlags.names": ("ObjectModified", "T", "U"),
          "NotificationData.MessageId": None, "NotificationData.ParentFolderId": None,
          "NotificationData.TagCount": 0, "NotificationData.Tags": None,
          "NotificationData.TotalMessageCount": 10, "NotificationData.UnreadMessageCount": 3,
          "NotificationData.MessageFlags": None}),
    # ObjectModified with TagCount 0xFFFF: all properties changed, no Tags
    ("notify-modified-all-tags", n.RopNotifyResponse, NOTIFY + "1000" + FID + "ffff",
     {}, {"NotificationData.TagCount": 0xFFFF, "NotificationData.Tags": None}),
    # ObjectCreated on a message: two changed tags, no ParentFolderId (M without S)
    ("notify-message-created", n.RopNotifyResponse, NOTIFY + "0480" + FID + MID + "0200 0300080e 1f003700",
     {}, {"NotificationData.MessageId.GlobalCounter": counter(MID), "NotificationData.ParentFolderId": None,
          "NotificationData.TagCount": 2, "NotificationData.Tags[0].PropertyId": 0x0E08,
          "NotificationData.Tags[1].PropertyType.name": "PtypString"}),
    # ObjectDeleted on a folder: ParentFolderId (neither S nor M)
    ("notify-folder-deleted", n.RopNotifyResponse, NOTIFY + "0800" + FID + OLD_FID,
     {}, {"NotificationData.NotificationFlags.names": ("ObjectDeleted",),
          "NotificationData.ParentFolderId.GlobalCounter": counter(OLD_FID), "NotificationData.TagCount": None}),
    # ObjectMoved on a folder: ParentFolderId, OldFolderId, OldParentFolderId
    ("notify-folder-moved", n.RopNotifyResponse, NOTIFY + "2000" + FID + OLD_FID + FID + OLD_FID,
     {}, {"NotificationData.ParentFolderId.GlobalCounter": counter(OLD_FID),
          "NotificationData.OldFolderId.GlobalCounter": counter(FID), "NotificationData.OldMessageId": None,
          "NotificationData.OldParentFolderId.GlobalCounter": counter(OLD_FID)}),
    # ObjectCopied on a message in a search folder (S and M): ParentFolderId, OldMessageId, no OldParentFolderId
    ("notify-search-message-copied", n.RopNotifyResponse, NOTIFY + "40c0" + FID + MID + OLD_FID + FID + MID,
     {}, {"NotificationData.NotificationFlags.names": ("ObjectCopied", "S", "M"),
          "NotificationData.ParentFolderId.GlobalCounter": counter(OLD_FID),
          "NotificationData.OldFolderId.GlobalCounter": counter(FID),
          "NotificationData.OldMessageId.GlobalCounter": counter(MID), "NotificationData.OldParentFolderId": None}),
    ("notify-search-complete", n.RopNotifyResponse, NOTIFY + "8000" + FID,
     {}, {"NotificationData.NotificationFlags.names": ("SearchComplete",),
          "NotificationData.FolderId.ReplicaId": 1, "NotificationData.MessageId": None}),
    # TableModified events: no FolderId; row fields by TableEventType and M
    ("notify-table-changed", n.RopNotifyResponse, NOTIFY + "0001 0100",
     {}, {"NotificationData.TableEventType.name": "TableChanged", "NotificationData.TableRowFolderID": None,
          "NotificationData.FolderId": None, "NotificationData.TableRowData": None}),
    ("notify-table-row-added", n.RopNotifyResponse,
     NOTIFY + "0081 0300" + FID + MID + "01000000" + FID + OLD_FID + "00000000" + "0b00" + ROW,
     TABLE, {"NotificationData.TableEventType.name": "TableRowAdded",
             "NotificationData.TableRowFolderID.GlobalCounter": counter(FID),
             "NotificationData.TableRowMessageID.GlobalCounter": counter(MID),
             "NotificationData.TableRowInstance": 1,
             "NotificationData.InsertAfterTableRowFolderID.GlobalCounter": counter(FID),
             "NotificationData.InsertAfterTableRowID.GlobalCounter": counter(OLD_FID),
             "NotificationData.InsertAfterTableRowInstance": 0, "NotificationData.TableRowDataSize": 11,
             "NotificationData.TableRowData.ValueArray[0].PropertyValue": 42,
             "NotificationData.TableRowData.ValueArray[1].PropertyValue": "Hi",
             "NotificationData.FolderId": None, "NotificationData.MessageId": None}),
    ("notify-table-row-deleted-folder", n.RopNotifyResponse, NOTIFY + "0001 0400" + FID,
     {}, {"NotificationData.TableRowFolderID.ReplicaId": 1, "NotificationData.TableRowMessageID": None,
          "NotificationData.TableRowInstance": None, "NotificationData.InsertAfterTableRowFolderID": None,
          "NotificationData.TableRowDataSize": None}),
    ("notify-table-row-modified-folder", n.RopNotifyResponse, NOTIFY + "0001 0500" + FID + OLD_FID + "0b00" + ROW,
     TABLE, {"NotificationData.TableRowMessageID": None,
             "NotificationData.InsertAfterTableRowFolderID.GlobalCounter": counter(OLD_FID),
             "NotificationData.InsertAfterTableRowID": None,
             "NotificationData.TableRowData.ValueArray[1].PropertyValue": "Hi"}),
    ("notify-table-restriction-changed", n.RopNotifyResponse, NOTIFY + "0001 0700",
     {}, {"NotificationData.TableEventType.name": "TableRestrictionChanged"}),
    # 2.2.14.3 RopPending
    ("pending", n.RopPendingResponse, "6E 0100", {}, {"RopId": 0x6E, "SessionIndex": 1}),
]

VECTOR = {v[0]: v for v in VECTORS}


@pytest.mark.parametrize("definition, data, params, expected", [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS])
def test_vectors(definition, data, params, expected):
    data = bytes.fromhex(data)
    value = parse(definition, data, **params)
    for path, want in expected.items():
        assert field(value, path) == want, path
    assert build(definition, value, **params) == data


def test_every_rop_has_its_vectors():
    covered = {id(v[1]) for v in VECTORS}
    for rop in n.ROPS:
        assert rop.request is None or id(rop.request) in covered, rop.name
        assert id(rop.response) in covered, rop.name


def table_columns(handle):
    """What the decoding context hands an unsolicited RopNotify: the state of its table."""
    return TABLE["request_rop"]


def test_notifications_after_a_response_in_the_list():
    """RopNotify and RopPending close a response list and answer no request (MS-OXCROPS 3.1.5.2)."""
    data = bytes.fromhex("29 01 00000000" + VECTOR["notify-table-row-added"][2] + VECTOR["notify-new-mail"][2]
                         + "6E 0100")
    errors = []
    rops = parse(RopList("response"), data, errors=errors, notify_state=table_columns,
                 request_rops=[c.Container(RopId=0x29)])
    assert errors == []
    assert [r.RopName for r in rops] == ["RopRegisterNotification", "RopNotify", "RopNotify", "RopPending"]
    assert rops[1].NotificationData.TableRowData.ValueArray[1].PropertyValue == "Hi"
    assert rops[2].NotificationData.MessageClass == "IPM.Note"
    assert build(RopList("response"), rops, notify_state=table_columns,
                 request_rops=[c.Container(RopId=0x29)]) == data


def test_table_row_with_unknown_columns_keeps_all_but_the_row():
    """Issue 8 point 7: handle, flags, ids and sizes decode; only the row data stays hex, with a
    note naming the missing state."""
    errors = []
    data = bytes.fromhex(VECTOR["notify-table-row-added"][2])
    (rop,) = parse(RopList("response"), data, errors=errors)
    notification = rop.NotificationData
    assert rop.RopName == "RopNotify" and rop.NotificationHandle == 287454020 and "Undecoded" not in rop
    assert notification.TableEventType.name == "TableRowAdded" and notification.TableRowFolderID.ReplicaId == 1
    assert notification.TableRowData.Undecoded == data[-notification.TableRowDataSize:].hex()
    assert "columns unknown" in errors[0]["error"] and "RopSetColumns" in errors[0]["error"]
    assert errors[0]["where"].endswith("TableRowData")
    # without row data the same state gap does not matter
    (rop,) = parse(RopList("response"), bytes.fromhex(VECTOR["notify-table-row-deleted-folder"][2]), errors=[],
                   request_rop=UNKNOWN_REQUEST)
    assert rop.NotificationData.TableRowFolderID.ReplicaId == 1


def test_register_notification_request_list():
    data = bytes.fromhex(VECTOR["register-message-extended"][2] + VECTOR["register-whole-store"][2])
    rops = parse(RopList("request"), data, errors=[])
    assert [r.WantWholeStore for r in rops] == [0, 1]
    assert build(RopList("request"), rops) == data


@pytest.mark.parametrize("definition, data, params", [
    (n.RopRegisterNotificationRequest, "29 00 00 01 0200 00" + FID, {}),  # MessageId missing
    (n.RopNotifyResponse, NOTIFY + "0280" + FID, {}),  # NewMail without MessageId and the rest
    (n.RopNotifyResponse, NOTIFY + "0480" + FID + MID + "0900 0300080e", {}),  # TagCount over the bytes left
    (n.RopNotifyResponse, NOTIFY + "0001 0500" + FID + OLD_FID + "ff00" + ROW, TABLE),  # TableRowDataSize too big
    (n.RopNotifyResponse, NOTIFY + "0001 0500" + FID + OLD_FID + "0a00" + ROW[:-2], TABLE),  # row overruns its size
    (n.RopNotifyResponse, NOTIFY + "0200" + FID + "00000000 01 4900", {}),  # Unicode class without terminator
    (n.RopPendingResponse, "6E 01", {}),
])
def test_malformed_raise_construct_errors(definition, data, params):
    with pytest.raises(c.ConstructError):
        parse(definition, bytes.fromhex(data), **params)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VECTORS), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_mutated_vectors_only_construct_errors(vector, at, byte, cut):
    _, definition, data, params, _ = vector
    data = bytearray(bytes.fromhex(data))
    data[at % len(data)] = byte
    try:
        parse(definition, bytes(data[:cut]), **{**TABLE, **params})
    except c.ConstructError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_only_construct_errors(data):
    for definition in (n.RopRegisterNotificationRequest, n.RopNotifyResponse, n.RopPendingResponse):
        try:
            parse(definition, data, **TABLE)
        except c.ConstructError:
            pass
    parse(RopList("response"), b"\x2a" + data, errors=[], notify_state=table_columns)
