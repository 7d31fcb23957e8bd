"""The store and its packaged fixture (server-contract.md; MS-OXCDATA 2.2.1 ids)."""

import json
import uuid

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.oxcdata import FolderEntryID, FolderID
from mapiwire.server.store import (INBOX, MF_READ, SPECIAL_FOLDERS, TAG, Store, id_struct, id_value, make_id)


def test_packaged_fixture_has_the_four_users_and_their_mailboxes():
    store = Store.load()
    assert [u.alias for u in store.users][:4] == ["alice", "bob", "carol", "dave"]
    prefix = store.organization["dn_prefix"]
    assert store.user("alice").dn == prefix + "/cn=Recipients/cn=alice"
    messages = sum(len(f.messages) for m in store.mailboxes.values() for f in m.folders.values())
    assert 15 <= messages <= 30
    alice = store.mailbox("alice")
    assert alice.folder_by_path("Inbox/Projects/Replay") is not None
    attached = [m for f in alice.folders.values() for m in f.messages.values() if m.attachments]
    assert attached and all(a.props.values[0x3701][1] for m in attached for a in m.attachments.values())


def test_user_lookup_by_alias_smtp_essdn_and_domain_alias():
    store = Store.load()
    bob = store.user("bob")
    assert store.user("BOB@mapiwire.test") is bob
    assert store.user(bob.dn.upper()) is bob
    assert store.user("MAPIWIRE\\bob") is bob
    assert store.user("nobody") is None
    assert bob.extra["department"] == "Engineering" and "password" not in bob.extra


def test_ids_are_replica_id_and_big_endian_global_counter():
    """MS-OXCDATA 2.2.1.1: 2-byte ReplicaId, 6-byte GlobalCounter; PidTagFolderId reads them as one LE integer."""
    value = make_id(1, 0x1D)
    assert value.to_bytes(8, "little") == bytes.fromhex("0100 00000000001D")
    assert build(FolderID, id_struct(value)) == value.to_bytes(8, "little")
    assert id_value(parse(FolderID, value.to_bytes(8, "little"))) == value


def test_special_folders_and_long_term_ids():
    """MS-OXCSTOR 2.2.1.1.3: 13 special folders; MS-OXCDATA 2.2.1.3.1 long-term ids with the REPLGUID."""
    mailbox = Store.load().mailbox("carol")
    assert len(mailbox.special) == len(SPECIAL_FOLDERS) == 13
    inbox = mailbox.folders[mailbox.special[INBOX]]
    assert inbox.props.values[0x3001][1] == "Inbox"
    long_term = mailbox.long_term_id(inbox.fid)
    assert long_term["DatabaseGuid"] == mailbox.repl_guid
    assert mailbox.id_from_long_term(long_term) == inbox.fid
    assert mailbox.id_from_long_term({**long_term, "DatabaseGuid": uuid.uuid4()}) is None
    calendar = mailbox.folder_by_path("Calendar")
    assert inbox.props.values[0x36D0][1] == mailbox.folder_entry_id(calendar.fid)  # PidTagIpmAppointmentEntryId
    assert mailbox.source_key(inbox.fid) == mailbox.repl_guid.bytes_le + id_struct(inbox.fid)["GlobalCounter"]
    entry = parse(FolderEntryID, mailbox.folder_entry_id(inbox.fid))
    assert entry.DatabaseGuid == mailbox.repl_guid and entry.GlobalCounter == id_struct(inbox.fid)["GlobalCounter"]


def test_receive_folder_is_the_longest_prefix():
    mailbox = Store.load().mailbox("dave")
    assert mailbox.receive_folder("IPM.Note") == (mailbox.special[INBOX], "IPM")
    assert mailbox.receive_folder("IPC.Something") == (mailbox.special[0], "IPC")
    assert mailbox.receive_folder("Other") == (mailbox.special[INBOX], "")


def test_named_ids_are_per_mailbox_and_stable():
    store = Store.load()
    name = {"Kind": 0x01, "GUID": "{00020329-0000-0000-C000-000000000046}", "Name": "Project"}
    alice, dave = store.mailbox("alice"), store.mailbox("dave")
    assert alice.named_id(name, create=False) == 0
    first = alice.named_id(name, create=True)
    assert first >= 0x8000 and alice.named_id(name, create=False) == first
    assert alice.named_names[first]["Name"] == "Project"
    assert dave.named_id({"Kind": 0x00, "GUID": name["GUID"], "LID": 5}, create=True) >= 0x8000


def test_events_reach_listeners():
    store = Store.load()
    seen = []
    mailbox = store.mailbox("bob")
    mailbox.listeners.update({seen.append, lambda event: 1 / 0})  # a failing listener stops nobody
    inbox = mailbox.folders[mailbox.special[INBOX]]
    mid = next(iter(inbox.messages))
    assert inbox.messages[mid].props.values[TAG["PidTagMessageFlags"] >> 16][1] & MF_READ in (0, MF_READ)
    assert mailbox.delete_message(inbox.fid, mid)
    assert [(e.kind, e.folder_id, e.message_id) for e in seen] == [("deleted", inbox.fid, mid)]
    assert not mailbox.delete_message(inbox.fid, mid)


def test_a_minimal_fixture_file(tmp_path):
    path = tmp_path / "mini.json"
    path.write_text(json.dumps({
        "organization": {"name": "x", "domain": "x.test", "dn_prefix": "/o=x"},
        "users": [{"alias": "erin"}, {"alias": "frank", "display_name": "Frank F"}],
        "mailboxes": {"erin": {"folders": [{"path": "Inbox/Later"}],
                               "messages": [{"folder": "Inbox/Later", "subject": "Hi", "from": "frank",
                                             "to": ["erin", "someone@elsewhere.test"]}]}}}))
    store = Store.load(str(path))
    erin = store.mailbox("erin@x.test")
    message = next(iter(erin.folder_by_path("Inbox/Later").messages.values()))
    assert message.props.values[0x0C1A][1] == "Frank F" and erin.message_count == 1
    assert [r.props.values[0x3002][1] for r in message.recipients] == ["EX", "SMTP"]
    assert store.mailbox("frank").message_count == 0
