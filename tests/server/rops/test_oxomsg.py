"""Transport ROPs (MS-OXOMSG) through MailboxSession; delivery itself is in test_oxcnotif."""

from mapiwire.samples import NO_HANDLE
from mapiwire.server.store import Store

from .helpers import Driver, tags


def rop(rop_id, **fields):
    return {"RopId": rop_id, "LogonId": 0, "InputHandleIndex": 0, **fields}


def test_submit_without_recipients_twice_and_to_an_outside_address():
    store = Store.load()
    d = Driver(store)
    logon, folders = d.logon()
    create = {"RopId": 0x06, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
              "FolderId": folders[5], "AssociatedFlag": 0}
    outside = rop(0x0E, InputHandleIndex=1, RecipientColumns=[], RecipientRows=[
        {"RowId": 0, "RecipientType": 1, "RecipientRow": {
            "RecipientFlags": 0x0003 | 0x0008 | 0x0010 | 0x0200, "EmailAddress": "someone@example.org",
            "DisplayName": "Someone", "RecipientColumnCount": 0, "RecipientProperties": {"Flag": 0,
                                                                                          "ValueArray": []}}}])
    totals = {alias: sum(len(f.messages) for f in m.folders.values()) for alias, m in store.mailboxes.items()}
    rops, _ = d.execute([create, rop(0x32, InputHandleIndex=1, SubmitFlags=0), outside,
                         rop(0x0A, InputHandleIndex=1, PropertyValues=[
                             {"PropertyTag": tags(0x0E01000B)[0], "PropertyValue": True}]),  # DeleteAfterSubmit
                         rop(0x32, InputHandleIndex=1, SubmitFlags=0), rop(0x32, InputHandleIndex=1, SubmitFlags=0),
                         rop(0x49)], [logon, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0, 0x80040607, 0, 0, 0, 0x80040608, 0]
    assert list(rops[6].AddressTypes) == ["EX", "SMTP"]
    assert {alias: sum(len(f.messages) for f in m.folders.values()) for alias, m in store.mailboxes.items()} == totals


def test_transport_folder_is_the_outbox():
    d = Driver()
    logon, folders = d.logon()
    rops, _ = d.execute([rop(0x6D)], [logon])
    assert rops[0].FolderId == folders[5]
