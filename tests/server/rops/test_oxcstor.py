"""Logon and store ROPs (MS-OXCSTOR) through MailboxSession, round-tripped through bytes."""

import uuid

from mapiwire.server.store import Store

from .helpers import NO_HANDLE, Driver


def test_logon_answers_the_13_special_folders_and_the_receive_folder():
    d = Driver()
    logon, folder_ids = d.logon()
    mailbox = d.store.mailbox("alice")
    assert [(f.ReplicaId, f.GlobalCounter) for f in folder_ids] == [
        (1, fid.to_bytes(8, "little")[2:]) for fid in mailbox.special]
    rops, _ = d.execute([{"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": "IPM.Note"}], [logon])
    assert rops[0].ReturnValue == 0 and rops[0].FolderId == folder_ids[4] and rops[0].ExplicitMessageClass == "IPM"


def test_logon_and_get_receive_folder_in_one_buffer_like_outlook():
    d = Driver(user="bob")
    rops, handles = d.execute([
        {"RopId": 0xFE, "LogonId": 0, "OutputHandleIndex": 0, "LogonFlags": 0x01, "OpenFlags": 0x0100040C,
         "StoreState": 0, "Essdn": d.user.dn},
        {"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": "IPM.Note"}], [NO_HANDLE])
    assert [r.RopName for r in rops] == ["RopLogon", "RopGetReceiveFolder"]
    assert [r.ReturnValue for r in rops] == [0, 0]
    assert rops[0].ResponseFlags.names == ("Reserved", "OwnerRight", "SendAsRight")
    assert rops[0].ReplGuid == d.store.mailbox("bob").repl_guid and handles[0] != NO_HANDLE


def test_logon_errors():
    d = Driver()
    other = d.store.user("bob").dn
    cases = [(0x01, other, 0x000003F2),  # ecLoginPerm: someone else's mailbox
             (0x01, "/o=nowhere/cn=nobody", 0x000003EB),  # ecUnknownUser
             (0x00, "", 0x80040111)]  # public folders are not served: ecLoginFailure
    for flags, essdn, code in cases:
        rops, handles = d.execute([{"RopId": 0xFE, "LogonId": 0, "OutputHandleIndex": 0, "LogonFlags": flags,
                                    "OpenFlags": 0, "StoreState": 0, "Essdn": essdn}], [NO_HANDLE])
        assert rops[0].ReturnValue == code and handles == [NO_HANDLE]


def test_long_term_ids_round_trip():
    d = Driver()
    logon, folder_ids = d.logon()
    rops, _ = d.execute([{"RopId": 0x43, "LogonId": 0, "InputHandleIndex": 0, "ObjectId": folder_ids[4]}], [logon])
    long_term = rops[0].LongTermId
    assert long_term.DatabaseGuid == d.store.mailbox("alice").repl_guid
    rops, _ = d.execute([{"RopId": 0x44, "LogonId": 0, "InputHandleIndex": 0, "LongTermId": long_term},
                         {"RopId": 0x44, "LogonId": 0, "InputHandleIndex": 0,
                          "LongTermId": {**long_term, "DatabaseGuid": uuid.uuid4()}},
                         {"RopId": 0x43, "LogonId": 0, "InputHandleIndex": 0,
                          "ObjectId": {"ReplicaId": 7, "GlobalCounter": bytes(6)}}], [logon])
    assert rops[0].ObjectId == folder_ids[4]
    assert [r.ReturnValue for r in rops[1:]] == [0x8004010F, 0x8004010F]


def test_receive_folder_table_and_store_state():
    d = Driver()
    logon, folder_ids = d.logon()
    rops, _ = d.execute([{"RopId": 0x68, "LogonId": 0, "InputHandleIndex": 0},
                         {"RopId": 0x7B, "LogonId": 0, "InputHandleIndex": 0}], [logon])
    classes = {row.ValueArray[1].PropertyValue for row in rops[0].Rows}
    assert classes == {"", "IPM", "REPORT.IPM", "IPC"} and rops[1].StoreState == 0


def test_handles_belong_to_their_session():
    """A handle of one session is ecNullObject in another, even on the same store and user."""
    store = Store.load()
    first, second = Driver(store), Driver(store)
    logon, _ = first.logon()
    rops, _ = second.execute([{"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": "IPM"}], [logon])
    assert rops[0].ReturnValue == 0x000004B9


def test_set_receive_folder_steers_delivery():
    """MS-OXCSTOR 3.2.5.3: a class's receive folder; RopSubmitMessage's delivery follows it."""
    from mapiwire.server.store import Message, Props

    store = Store.load()
    d = Driver(store)
    logon, folders = d.logon()
    mailbox = store.mailbox("alice")
    projects = mailbox.folder_by_path("Inbox/Projects")
    ident = {"ReplicaId": 1, "GlobalCounter": projects.fid.to_bytes(8, "little")[2:]}
    rops, _ = d.execute([
        {"RopId": 0x26, "LogonId": 0, "InputHandleIndex": 0, "FolderId": ident, "MessageClass": "IPM.Note.Project"},
        {"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": "IPM.Note.Project.Weekly"},
        {"RopId": 0x26, "LogonId": 0, "InputHandleIndex": 0, "FolderId": {"ReplicaId": 1, "GlobalCounter": b"\xff" * 6},
         "MessageClass": "IPM.X"}], [logon])
    assert [r.ReturnValue for r in rops] == [0, 0, 0x8004010F]
    assert rops[1].FolderId == ident and rops[1].ExplicitMessageClass == "IPM.Note.Project"
    message = Message(mailbox.allocate_id(), 0, Props())
    message.props.set(0x001A001F, "IPM.Note.Project")
    mailbox.deliver(message)
    assert message.mid in projects.messages
    rops, _ = d.execute([
        {"RopId": 0x26, "LogonId": 0, "InputHandleIndex": 0, "FolderId": {"ReplicaId": 0, "GlobalCounter": bytes(6)},
         "MessageClass": "IPM.Note.Project"},
        {"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": "IPM.Note.Project"}], [logon])
    assert rops[1].FolderId == folders[4] and rops[1].ExplicitMessageClass == "IPM"
