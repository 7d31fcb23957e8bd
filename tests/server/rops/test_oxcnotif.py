"""Notifications (MS-OXCNOTIF) and delivery within the server (MS-OXOMSG RopSubmitMessage):
a message alice submits lands in bob's Inbox and bob's registered session gets RopNotify."""

from mapiwire.samples import NO_HANDLE
from mapiwire.server.store import Store

from .helpers import Driver, tags

SUBJECT, SENDER = 0x0037001F, 0x0C1A001F
NEW_MAIL, CREATED, DELETED, MODIFIED = 0x0002, 0x0004, 0x0008, 0x0010


def rop(rop_id, **fields):
    return {"RopId": rop_id, "LogonId": 0, "InputHandleIndex": 0, **fields}


def subscribed_bob(store):
    """Bob logged on, subscribed to his Inbox and the whole store, with an Inbox contents table."""
    bob = Driver(store, "bob")
    woken = []
    bob.session.on_event = lambda: woken.append(1)
    logon, folders = bob.logon()
    inbox = bob.open_folder(logon, folders[4])
    rops, handles = bob.execute([
        {**rop(0x29, NotificationTypes=NEW_MAIL | CREATED | DELETED | MODIFIED, WantWholeStore=0,
               FolderId=folders[4], MessageId={"ReplicaId": 0, "GlobalCounter": bytes(6)}), "OutputHandleIndex": 1},
        {**rop(0x29, InputHandleIndex=2, NotificationTypes=NEW_MAIL, WantWholeStore=1), "OutputHandleIndex": 3},
        {"RopId": 0x05, "LogonId": 0, "InputHandleIndex": 4, "OutputHandleIndex": 5, "TableFlags": 0},
        rop(0x12, InputHandleIndex=5, SetColumnsFlags=0, PropertyTags=tags(SUBJECT, SENDER))],
        [logon, NO_HANDLE, logon, NO_HANDLE, inbox, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0, 0, 0, 0]
    return bob, woken, {"folder": handles[1], "store": handles[3], "table": handles[5], "inbox": inbox,
                        "logon": logon, "inbox_id": folders[4]}


def send(alice, to_dn: str, subject: str):
    logon, folders = alice.logon()
    outbox = folders[5]
    rops, _ = alice.execute([
        {"RopId": 0x06, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
         "FolderId": outbox, "AssociatedFlag": 0},
        rop(0x0A, InputHandleIndex=1, PropertyValues=[{"PropertyTag": tags(SUBJECT)[0], "PropertyValue": subject}]),
        rop(0x0E, InputHandleIndex=1, RecipientColumns=[], RecipientRows=[
            {"RowId": 0, "RecipientType": 1, "RecipientRow": {
                "RecipientFlags": 0x0001 | 0x0010 | 0x0200, "AddressPrefixUsed": 0, "DisplayType": 0,
                "X500DN": to_dn, "DisplayName": "Bob", "RecipientColumnCount": 0,
                "RecipientProperties": {"Flag": 0, "ValueArray": []}}}]),
        {"RopId": 0x0C, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 1, "SaveFlags": 0x02},
        rop(0x32, InputHandleIndex=1, SubmitFlags=0)], [logon, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0] * 5, rops


def test_submit_delivers_to_bobs_inbox_and_notifies_his_session():
    store = Store.load()
    bob, woken, h = subscribed_bob(store)
    inbox = store.mailbox("bob").folders[store.mailbox("bob").special[4]]
    before = len(inbox.messages)
    send(Driver(store, "alice"), store.user("bob").dn, "Hello from alice")
    assert len(inbox.messages) == before + 1
    delivered = list(inbox.messages.values())[-1]
    assert delivered.props.values[0x0037][1] == "Hello from alice"
    assert delivered.props.values[0x0C1A][1] == "Alice Archer" and not delivered.props.values[0x0E07][1] & 0x01
    sent = store.mailbox("alice").folder_by_path("Sent Items").messages
    assert any(m.props.values[0x0037][1] == "Hello from alice" for m in sent.values())
    assert woken and bob.session.events_pending()
    rops, _ = bob.execute([], [])  # the empty Execute that collects notifications
    assert not bob.session.events_pending()
    by_handle = {(r.NotificationHandle, int(r.NotificationData.NotificationFlags) & 0x0FFF): r for r in rops}
    assert set(by_handle) == {(h["folder"], CREATED), (h["folder"], NEW_MAIL), (h["store"], NEW_MAIL),
                              (h["table"], 0x0100)}
    new_mail = by_handle[(h["store"], NEW_MAIL)].NotificationData
    assert new_mail.MessageClass == "IPM.Note" and new_mail.FolderId == h["inbox_id"]
    row = by_handle[(h["table"], 0x0100)].NotificationData
    assert row.TableEventType == 0x0003 and row.TableRowData.ValueArray[0].PropertyValue == "Hello from alice"
    assert row.InsertAfterTableRowID.GlobalCounter != bytes(6)


def test_changes_and_deletes_notify_and_release_stops_them():
    store = Store.load()
    bob, woken, h = subscribed_bob(store)
    mailbox = store.mailbox("bob")
    inbox = mailbox.folders[mailbox.special[4]]
    mid = next(iter(inbox.messages))
    ident = {"ReplicaId": 1, "GlobalCounter": mid.to_bytes(8, "little")[2:]}
    rops, _ = bob.execute([rop(0x66, WantAsynchronous=0, ReadFlags=0x05, MessageIds=[ident]),
                           rop(0x1E, WantAsynchronous=0, NotifyNonRead=0, MessageIds=[ident])], [h["inbox"]])
    kinds = [(r.NotificationHandle, int(r.NotificationData.NotificationFlags) & 0x0FFF,
              r.NotificationData.TableEventType) for r in rops[2:]]
    assert kinds == [(h["folder"], MODIFIED, None), (h["table"], 0x0100, 0x0005),
                     (h["folder"], DELETED, None), (h["table"], 0x0100, 0x0004)]
    bob.execute([{"RopId": 0x01, "LogonId": 0, "InputHandleIndex": i} for i in range(3)],
                [h["folder"], h["store"], h["table"]])
    send(Driver(store, "alice"), store.user("bob").dn, "Nobody is listening")
    assert not bob.session.events_pending()


def test_other_sessions_and_mailboxes_are_not_notified():
    store = Store.load()
    bob, woken, _ = subscribed_bob(store)
    carol = Driver(store, "carol")
    send(Driver(store, "alice"), store.user("carol").dn, "For carol only")
    assert not woken and not bob.session.events_pending() and not carol.session.events_pending()


def test_register_notification_errors():
    d = Driver()
    logon, folders = d.logon()
    rops, _ = d.execute([
        {**rop(0x29, NotificationTypes=0, WantWholeStore=1), "OutputHandleIndex": 1},
        {**rop(0x29, NotificationTypes=NEW_MAIL, WantWholeStore=0, FolderId={"ReplicaId": 1,
                                                                             "GlobalCounter": b"\xff" * 6},
               MessageId={"ReplicaId": 0, "GlobalCounter": bytes(6)}), "OutputHandleIndex": 1}],
        [logon, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0x80070057, 0x8004010F]


def test_notifications_wait_for_room_in_max_rop_out():
    store = Store.load()
    bob, _, _ = subscribed_bob(store)
    send(Driver(store, "alice"), store.user("bob").dn, "Hello")
    rops, _ = bob.execute([], [], max_rop_out=60)
    assert 0 < len(rops) < 4 and bob.session.events_pending()
    rest, _ = bob.execute([], [])
    assert len(rops) + len(rest) == 4
