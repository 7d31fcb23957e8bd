"""Folder ROPs (MS-OXCFOLD) through MailboxSession."""

from mapiwire.samples import NO_HANDLE

from .helpers import Driver

DISPLAY_NAME, FOLDER_ID, DEPTH, CONTENT_COUNT, SUBJECT, MID = 0x3001001F, 0x67480014, 0x30050003, 0x36020003, \
    0x0037001F, 0x674A0014


def _create(d, parent, name, open_existing=0):
    rops, handles = d.execute([{"RopId": 0x1C, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                                "FolderType": 1, "UseUnicodeStrings": 1, "OpenExisting": open_existing,
                                "Reserved": 0, "DisplayName": name, "Comment": "made by a test"}],
                              [parent, NO_HANDLE])
    return rops[0], handles[1]


def test_hierarchy_table_with_and_without_depth():
    d = Driver()
    logon, folders = d.logon()
    ipm = d.open_folder(logon, folders[3])
    names = {}
    for flags in (0x00, 0x04):
        rops, handles = d.execute([
            {"RopId": 0x04, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "TableFlags": flags},
            {"RopId": 0x12, "LogonId": 0, "InputHandleIndex": 1, "SetColumnsFlags": 0,
             "PropertyTags": [{"PropertyType": t & 0xFFFF, "PropertyId": t >> 16} for t in (DISPLAY_NAME, DEPTH)]},
            {"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 1, "QueryRowsFlags": 0, "ForwardRead": 1,
             "RowCount": 100}], [ipm, NO_HANDLE])
        assert rops[0].RowCount == len(rops[2].RowData)
        names[flags] = [tuple(d.values(row)) for row in rops[2].RowData]
    assert ("Inbox", 0) in names[0] and ("Calendar", 0) in names[0] and ("Projects", 1) not in names[0]
    assert ("Projects", 1) in names[4] and ("Replay", 2) in names[4]


def test_create_open_existing_and_delete_folder():
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    created, handle = _create(d, inbox, "Receipts")
    assert created.ReturnValue == 0 and created.IsExistingFolder == 0 and handle != NO_HANDLE
    duplicate, _ = _create(d, inbox, "receipts")
    assert duplicate.ReturnValue == 0x80040604  # ecDuplicateName
    existing, _ = _create(d, inbox, "Receipts", open_existing=1)
    assert existing.IsExistingFolder == 1 and existing.FolderId == created.FolderId
    rops, _ = d.execute([{"RopId": 0x1D, "LogonId": 0, "InputHandleIndex": 0, "DeleteFolderFlags": 0x05,
                          "FolderId": created.FolderId}] * 2, [inbox])
    assert [(r.ReturnValue, r.PartialCompletion) for r in rops] == [(0, 0), (0x8004010F, 0)]
    rops, _ = d.execute([{"RopId": 0x02, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                          "FolderId": created.FolderId, "OpenModeFlags": 0}], [logon, NO_HANDLE])
    assert rops[0].ReturnValue == 0x8004010F


def test_delete_folder_refuses_special_folders_and_content_without_flags():
    d = Driver()
    logon, folders = d.logon()
    ipm = d.open_folder(logon, folders[3])
    inbox_id = folders[4]
    rops, _ = d.execute([{"RopId": 0x1D, "LogonId": 0, "InputHandleIndex": 0, "DeleteFolderFlags": 0x15,
                          "FolderId": inbox_id}], [ipm])
    assert rops[0].ReturnValue == 0x80070005  # ecAccessDenied
    archive = d.store.mailbox("alice").folder_by_path("Inbox/Projects")
    inbox = d.open_folder(logon, inbox_id)
    projects = {"ReplicaId": 1, "GlobalCounter": archive.fid.to_bytes(8, "little")[2:]}
    rops, _ = d.execute([{"RopId": 0x1D, "LogonId": 0, "InputHandleIndex": 0, "DeleteFolderFlags": flags,
                          "FolderId": projects} for flags in (0x00, 0x04, 0x05)], [inbox])
    assert [r.ReturnValue for r in rops] == [0x80040609, 0x8004060A, 0]  # has children, has contents, done


def test_contents_table_counts_and_associated_flag():
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    _, count = d.contents(inbox, [SUBJECT])
    _, fai = d.contents(inbox, [SUBJECT], flags=0x02)
    assert count == len(d.store.mailbox("alice").folders[d.store.mailbox("alice").special[4]].messages) == 5
    assert fai == 0


def test_delete_move_and_copy_messages():
    d = Driver()
    logon, folders = d.logon()
    inbox, deleted = d.open_folder(logon, folders[4]), d.open_folder(logon, folders[7])
    table, count = d.contents(inbox, [MID, SUBJECT])
    rows = [d.values(r) for r in d.query(table).RowData]
    ids = [{"ReplicaId": 1, "GlobalCounter": mid.to_bytes(8, "little")[2:]} for mid, _ in rows]
    move = {"RopId": 0x33, "LogonId": 0, "SourceHandleIndex": 0, "DestHandleIndex": 1, "MessageIds": ids[:2],
            "WantAsynchronous": 0, "WantCopy": 0}
    rops, _ = d.execute([move, {**move, "MessageIds": ids[2:3], "WantCopy": 1},
                         {**move, "DestHandleIndex": 2}], [inbox, deleted, NO_HANDLE])
    assert [(r.ReturnValue, r.PartialCompletion) for r in rops[:2]] == [(0, 0), (0, 0)]
    assert rops[2].ReturnValue == 0x00000503 and rops[2].DestHandleIndex == 2  # ecDstNullObject
    mailbox = d.store.mailbox("alice")
    assert len(mailbox.folders[mailbox.special[4]].messages) == count - 2
    assert len(mailbox.folders[mailbox.special[7]].messages) == 1 + 3
    rops, _ = d.execute([{"RopId": 0x1E, "LogonId": 0, "InputHandleIndex": 0, "WantAsynchronous": 0,
                          "NotifyNonRead": 0, "MessageIds": ids[2:4]}], [inbox])
    assert (rops[0].ReturnValue, rops[0].PartialCompletion) == (0, 0)
    rops, _ = d.execute([{"RopId": 0x1E, "LogonId": 0, "InputHandleIndex": 0, "WantAsynchronous": 0,
                          "NotifyNonRead": 0, "MessageIds": ids[2:4]}], [inbox])
    assert (rops[0].ReturnValue, rops[0].PartialCompletion) == (0, 1)
    assert len(mailbox.folders[mailbox.special[4]].messages) == count - 4


def test_empty_folder_and_hard_delete():
    d = Driver()
    logon, folders = d.logon()
    mailbox = d.store.mailbox("alice")
    inbox_folder = mailbox.folders[mailbox.special[4]]
    inbox = d.open_folder(logon, folders[4])
    first = next(iter(inbox_folder.messages))
    ident = {"ReplicaId": 1, "GlobalCounter": first.to_bytes(8, "little")[2:]}
    rops, _ = d.execute([{"RopId": 0x91, "LogonId": 0, "InputHandleIndex": 0, "WantAsynchronous": 0,
                          "NotifyNonRead": 0, "MessageIds": [ident]},
                         {"RopId": 0x58, "LogonId": 0, "InputHandleIndex": 0, "WantAsynchronous": 0,
                          "WantDeleteAssociated": 0}], [inbox])
    assert [(r.ReturnValue, r.PartialCompletion) for r in rops] == [(0, 0), (0, 0)]
    assert not inbox_folder.messages and not inbox_folder.children
    assert mailbox.message_count == sum(len(f.messages) for f in mailbox.folders.values())


def test_move_and_copy_folder():
    """MS-OXCFOLD 3.2.5.7 / 3.2.5.8: Outlook deletes a folder by moving it to Deleted Items."""
    d = Driver()
    logon, folders = d.logon()
    mailbox = d.store.mailbox("alice")
    inbox, deleted = d.open_folder(logon, folders[4]), d.open_folder(logon, folders[7])
    projects = mailbox.folder_by_path("Inbox/Projects")
    ident = {"ReplicaId": 1, "GlobalCounter": projects.fid.to_bytes(8, "little")[2:]}
    move = {"RopId": 0x35, "LogonId": 0, "SourceHandleIndex": 0, "DestHandleIndex": 1, "WantAsynchronous": 0,
            "UseUnicode": 1, "FolderId": ident, "NewFolderName": "Old projects"}
    copy = {"RopId": 0x36, "LogonId": 0, "SourceHandleIndex": 1, "DestHandleIndex": 0, "WantAsynchronous": 0,
            "WantRecursive": 1, "UseUnicode": 1, "FolderId": ident, "NewFolderName": "Projects again"}
    rops, _ = d.execute([move, move, {**move, "DestHandleIndex": 2}, copy, {**copy, "NewFolderName": "Projects again"}],
                        [inbox, deleted, 0xFFFFFFFF])
    assert [r.ReturnValue for r in rops] == [0, 0x8004010F, 0x00000503, 0, 0x80040604]
    assert rops[2].DestHandleIndex == 2
    assert projects.parent_id == mailbox.special[7] and projects.props.values[0x3001][1] == "Old projects"
    again = mailbox.folder_by_path("Inbox/Projects again")
    assert again.fid != projects.fid and len(again.messages) == len(projects.messages) == 1
    assert mailbox.find_folder(again.fid, "Replay") is not None
    old = d.open_folder(logon, {"ReplicaId": 1, "GlobalCounter": projects.fid.to_bytes(8, "little")[2:]})
    rops, _ = d.execute([{**move, "SourceHandleIndex": 0, "DestHandleIndex": 1, "NewFolderName": "Cycle"}],
                        [deleted, old])
    assert rops[0].ReturnValue == 0x80040804  # into its own subtree
