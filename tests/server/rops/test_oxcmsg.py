"""Message and attachment ROPs (MS-OXCMSG) through MailboxSession."""

from mapiwire.samples import NO_HANDLE

from .helpers import Driver, tags

SUBJECT, BODY, FLAGS, ATTACH_NAME, ATTACH_DATA, ATTACH_NUM, HAS_ATTACH = (0x0037001F, 0x1000001F, 0x0E070003,
                                                                           0x3707001F, 0x37010102, 0x0E210003,
                                                                           0x0E1B000B)


def rop(rop_id, **fields):
    return {"RopId": rop_id, "LogonId": 0, "InputHandleIndex": 0, **fields}


def ident(value: int) -> dict:
    return {"ReplicaId": value & 0xFFFF, "GlobalCounter": value.to_bytes(8, "little")[2:]}


def open_message(d, folder_handle, message, mode=0):
    rops, handles = d.execute([{"RopId": 0x03, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                                "CodePageId": 0x0FFF, "FolderId": ident(message.folder_id), "OpenModeFlags": mode,
                                "MessageId": ident(message.mid)}], [folder_handle, NO_HANDLE])
    return rops[0], handles[1]


def alice_inbox():
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    mailbox = d.store.mailbox("alice")
    return d, logon, inbox, mailbox, mailbox.folders[mailbox.special[4]]


def test_open_message_gives_subject_and_recipient_rows():
    d, logon, inbox, mailbox, folder = alice_inbox()
    message = next(m for m in folder.messages.values() if len(m.recipients) == 3)
    opened, handle = open_message(d, inbox, message)
    assert opened.ReturnValue == 0 and opened.RecipientCount == 3 and opened.HasNamedProperties == 0
    assert opened.NormalizedSubject.String == "Lunch on Friday?" and opened.SubjectPrefix.StringType == 0x01
    rows = opened.RecipientRows
    assert [r.RecipientRow.X500DN for r in rows] == [d.store.user(a).dn for a in ("alice", "bob", "dave")]
    assert rows[1].RecipientRow.DisplayName == "Bob Baker"
    assert rows[1].RecipientRow.RecipientProperties.ValueArray[2].PropertyValue == "bob@mapiwire.test"
    rops, _ = d.execute([rop(0x0F, RowId=1, Reserved=0), rop(0x0F, RowId=9, Reserved=0), rop(0x10, Reserved=0)],
                        [handle])
    assert [r.RowId for r in rops[0].RecipientRows] == [1, 2] and rops[1].ReturnValue == 0x8004010F
    assert rops[2].RecipientCount == 3
    missing = {"RopId": 0x03, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
               "FolderId": ident(message.folder_id), "OpenModeFlags": 0, "MessageId": ident(message.mid ^ (1 << 40))}
    rops, _ = d.execute([missing], [inbox, NO_HANDLE])
    assert rops[0].ReturnValue == 0x8004010F


def test_create_set_recipients_attachment_and_save():
    d, logon, inbox, mailbox, folder = alice_inbox()
    drafts = mailbox.folder_by_path("Drafts")
    rops, handles = d.execute([
        {"RopId": 0x06, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
         "FolderId": ident(drafts.fid), "AssociatedFlag": 0},
        rop(0x0A, InputHandleIndex=1, PropertyValues=[
            {"PropertyTag": tags(SUBJECT)[0], "PropertyValue": "Draft with an attachment"},
            {"PropertyTag": tags(BODY)[0], "PropertyValue": "see attached"}]),
        rop(0x0E, InputHandleIndex=1, RecipientColumns=tags(0x0FFE0003), RecipientRows=[
            {"RowId": 0, "RecipientType": 1, "RecipientRow": {
                "RecipientFlags": 0x0003 | 0x0008 | 0x0010 | 0x0200, "EmailAddress": "carol@mapiwire.test",
                "DisplayName": "Carol", "RecipientColumnCount": 1,
                "RecipientProperties": {"Flag": 0, "ValueArray": [{"PropertyValue": 6}]}}},
            {"RowId": 1, "RecipientType": 2, "RecipientRow": {
                "RecipientFlags": 0x0003 | 0x0008 | 0x0010 | 0x0200, "EmailAddress": "someone@example.org",
                "DisplayName": "Someone", "RecipientColumnCount": 1,
                "RecipientProperties": {"Flag": 0, "ValueArray": [{"PropertyValue": 6}]}}}]),
        {"RopId": 0x23, "LogonId": 0, "InputHandleIndex": 1, "OutputHandleIndex": 2},
        rop(0x0A, InputHandleIndex=2, PropertyValues=[
            {"PropertyTag": tags(ATTACH_NAME)[0], "PropertyValue": "notes.txt"},
            {"PropertyTag": tags(ATTACH_DATA)[0], "PropertyValue": b"hello"}]),
        {"RopId": 0x25, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 2, "SaveFlags": 0x02},
        {"RopId": 0x0C, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 1, "SaveFlags": 0x02},
    ], [inbox, NO_HANDLE, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0] * 7, rops
    created, saved = rops[0], rops[6]
    assert created.HasMessageId == 1 and saved.MessageId == created.MessageId and saved.InputHandleIndex == 1
    stored = drafts.messages[int.from_bytes(b"\x01\x00" + bytes(created.MessageId.GlobalCounter), "little")]
    assert stored.props.values[0x0037][1] == "Draft with an attachment"
    carol = stored.recipients[0].props.values
    assert carol[0x3002][1] == "EX" and carol[0x39FE][1] == "carol@mapiwire.test"
    assert stored.recipients[1].props.values[0x3002][1] == "SMTP"
    assert stored.attachments[0].props.values[0x3701][1] == b"hello"
    # the attachment table and the attachment's data, on the saved message opened again
    opened, handle = open_message(d, inbox, stored)
    assert opened.RecipientCount == 2
    rops, handles = d.execute([
        {"RopId": 0x21, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "TableFlags": 0x40},
        rop(0x12, InputHandleIndex=1, SetColumnsFlags=0, PropertyTags=tags(ATTACH_NUM, ATTACH_NAME)),
        rop(0x15, InputHandleIndex=1, QueryRowsFlags=0, ForwardRead=1, RowCount=10),
        {"RopId": 0x22, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 2, "OpenAttachmentFlags": 0,
         "AttachmentID": 0},
        rop(0x07, InputHandleIndex=2, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(ATTACH_DATA)),
        rop(0x52), rop(0x24, AttachmentID=0),
        rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(HAS_ATTACH))], [handle, NO_HANDLE, NO_HANDLE])
    assert [d.values(r) for r in rops[2].RowData] == [[0, "notes.txt"]]
    assert rops[4].RowData.ValueArray[0].PropertyValue == b"hello"
    assert rops[5].AttachmentIdArray == [0] and rops[6].ReturnValue == 0x80070005  # opened read-only
    assert rops[7].RowData.ValueArray[0].PropertyValue is True


def test_modify_recipients_deletes_and_remove_all_recipients():
    d, logon, inbox, mailbox, folder = alice_inbox()
    message = next(m for m in folder.messages.values() if len(m.recipients) == 3)
    _, handle = open_message(d, inbox, message, mode=0x01)
    rops, _ = d.execute([rop(0x0E, RecipientColumns=[], RecipientRows=[
        {"RowId": 1, "RecipientType": 1, "RecipientRowSize": 0, "RecipientRow": None}]),
        rop(0x10, Reserved=0), rop(0x0D, Reserved=0), rop(0x10, Reserved=0)], [handle])
    assert [r.ReturnValue for r in rops] == [0, 0, 0, 0]
    assert (rops[1].RecipientCount, rops[3].RecipientCount) == (2, 0)
    assert len(message.recipients) == 3  # not saved


def test_read_flags():
    d, logon, inbox, mailbox, folder = alice_inbox()
    unread = [m for m in folder.messages.values() if not m.props.values[0x0E07][1] & 0x01]
    _, handle = open_message(d, inbox, unread[0])
    rops, _ = d.execute([{"RopId": 0x11, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 1,
                          "ReadFlags": 0x00}], [inbox, handle])
    assert rops[0].ReturnValue == 0 and rops[0].ReadStatusChanged == 0
    assert unread[0].props.values[0x0E07][1] & 0x01  # in the store at once
    rops, _ = d.execute([rop(0x66, WantAsynchronous=0, ReadFlags=0x04 | 0x01, MessageIds=[]),
                         rop(0x66, WantAsynchronous=0, ReadFlags=0x00, MessageIds=[ident(unread[1].mid),
                                                                                   ident(1 << 50)])], [inbox])
    assert rops[0].PartialCompletion == 0 and rops[1].PartialCompletion == 1
    assert [bool(m.props.values[0x0E07][1] & 0x01) for m in folder.messages.values()].count(True) == 1


def test_a_read_only_message_refuses_changes():
    d, logon, inbox, mailbox, folder = alice_inbox()
    _, handle = open_message(d, inbox, next(iter(folder.messages.values())))
    rops, _ = d.execute([rop(0x0A, PropertyValues=[{"PropertyTag": tags(SUBJECT)[0], "PropertyValue": "x"}]),
                         {"RopId": 0x0C, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 0,
                          "SaveFlags": 0},
                         {"RopId": 0x23, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 0}], [handle])
    assert [r.ReturnValue for r in rops] == [0x80070005] * 3


def test_saving_a_message_deleted_meanwhile_is_ec_object_deleted():
    d, logon, inbox, mailbox, folder = alice_inbox()
    message = next(iter(folder.messages.values()))
    _, handle = open_message(d, inbox, message, mode=0x01)
    mailbox.delete_message(folder.fid, message.mid)
    rops, _ = d.execute([{"RopId": 0x0C, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 0,
                          "SaveFlags": 0x02}], [handle])
    assert rops[0].ReturnValue == 0x8004010A and message.mid not in folder.messages


def test_save_read_only_and_the_mailbox_quota():
    d, logon, inbox, mailbox, folder = alice_inbox()
    create = {"RopId": 0x06, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
              "FolderId": ident(folder.fid), "AssociatedFlag": 0}
    save = {"RopId": 0x0C, "LogonId": 0, "ResponseHandleIndex": 0, "InputHandleIndex": 1, "SaveFlags": 0x01}
    rops, _ = d.execute([create, save, save], [inbox, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0, 0, 0x80070005]  # KeepOpenReadOnly: no second save
    from mapiwire.server import store
    mailbox.message_count = store.MAX_MESSAGES_PER_MAILBOX
    rops, _ = d.execute([create, {**save, "SaveFlags": 0x02}], [inbox, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0, 0x000004D9]  # ecQuotaExceeded


def test_message_status():
    d, logon, inbox, mailbox, folder = alice_inbox()
    message = next(iter(folder.messages.values()))
    set_status = rop(0x20, MessageId=ident(message.mid), MessageStatusFlags=0x1000 | 0x0800,
                     MessageStatusMask=0x1000)
    rops, _ = d.execute([set_status, rop(0x1F, MessageId=ident(message.mid)),
                         rop(0x1F, MessageId=ident(message.mid ^ (1 << 40)))], [inbox])
    assert (rops[0].MessageStatusFlags, rops[1].MessageStatusFlags) == (0, 0x1000)
    assert rops[2].ReturnValue == 0x8004010F
