"""Property and stream ROPs (MS-OXCPRPT) through MailboxSession."""

from mapiwire.samples import NO_HANDLE, PS_PUBLIC_STRINGS, PSETID_COMMON

from .helpers import Driver, tags

PS_MAPI = "{00020328-0000-0000-C000-000000000046}"
DISPLAY_NAME, COMMENT, CONTENT_COUNT, UNREAD, CONTAINER_CLASS, BODY = (0x3001001F, 0x3004001F, 0x36020003,
                                                                     0x36030003, 0x3613001F, 0x1000001F)


def rop(rop_id, **fields):
    return {"RopId": rop_id, "LogonId": 0, "InputHandleIndex": 0, **fields}


def inbox_session(user="alice"):
    d = Driver(user=user)
    logon, folders = d.logon()
    return d, logon, d.open_folder(logon, folders[4])


def test_get_properties_specific_standard_and_flagged_rows():
    d, logon, inbox = inbox_session()
    rops, _ = d.execute([rop(0x07, PropertySizeLimit=0, WantUnicode=1,
                             PropertyTags=tags(DISPLAY_NAME, CONTENT_COUNT, UNREAD, CONTAINER_CLASS)),
                         rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(DISPLAY_NAME, COMMENT,
                                                                                          0x3001001E)),
                         rop(0x07, PropertySizeLimit=0, WantUnicode=0, PropertyTags=tags(0x30010000))], [inbox])
    assert rops[0].RowData.Flag == 0 and d.values(rops[0].RowData) == ["Inbox", 5, 2, "IPF.Note"]
    rops_keys, _ = d.execute([rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(0x65E00102, 0x0FFF0102))],
                             [inbox])
    source_key, entry_id = d.values(rops_keys[0].RowData)
    mailbox = d.store.mailbox("alice")
    inbox_id = mailbox.special[4]
    assert source_key == mailbox.source_key(inbox_id) and entry_id == mailbox.folder_entry_id(inbox_id)
    flagged = rops[1].RowData
    assert flagged.Flag == 1
    assert [(v.Flag, v.PropertyValue) for v in flagged.ValueArray] == [(0, "Inbox"), (0x0A, 0x8004010F), (0, "Inbox")]
    assert (rops[2].RowData.ValueArray[0].PropertyType, rops[2].RowData.ValueArray[0].PropertyValue) == (0x1E, "Inbox")


def test_set_delete_and_list_properties_on_a_folder():
    d, logon, inbox = inbox_session()
    rops, _ = d.execute([
        rop(0x0A, PropertyValues=[{"PropertyTag": tags(COMMENT)[0], "PropertyValue": "mail comes here"},
                                  {"PropertyTag": tags(0x0001000A)[0], "PropertyValue": 0}]),
        rop(0x09),
        rop(0x0B, PropertyTags=tags(COMMENT, 0x7FFF0003)),
        rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(COMMENT))], [inbox])
    assert rops[0].ReturnValue == 0 and [p.Index for p in rops[0].PropertyProblems] == [1]
    listed = {(t.PropertyId << 16) | t.PropertyType for t in rops[1].PropertyTags}
    assert {DISPLAY_NAME, COMMENT, CONTENT_COUNT} <= listed
    assert rops[2].ReturnValue == 0 and rops[2].PropertyProblems == []
    assert rops[3].RowData.ValueArray[0].PropertyValue == 0x8004010F


def test_get_properties_all_with_a_size_limit_and_string8():
    d, logon, inbox = inbox_session()
    rops, _ = d.execute([rop(0x08, PropertySizeLimit=6, WantUnicode=0)], [inbox])
    values = {v.PropertyTag.PropertyId: (v.PropertyTag.PropertyType, v.PropertyValue) for v in rops[0].PropertyValues}
    assert values[0x3602] == (0x0003, 5)
    assert values[0x3613] == (0x000A, 0x8007000E)  # "IPF.Note" in 2 * 9 bytes > 6: ecMAPIOOM
    rops, _ = d.execute([rop(0x08, PropertySizeLimit=0, WantUnicode=0)], [inbox])
    values = {v.PropertyTag.PropertyId: (v.PropertyTag.PropertyType, v.PropertyValue) for v in rops[0].PropertyValues}
    assert values[0x3001] == (0x001E, "Inbox")


def test_named_properties_map_both_ways_per_mailbox():
    d, logon, inbox = inbox_session()
    names = [{"Kind": 0x00, "GUID": PSETID_COMMON, "LID": 0x8580},
             {"Kind": 0x01, "GUID": PS_PUBLIC_STRINGS, "Name": "Keywords"},
             {"Kind": 0x01, "GUID": PS_PUBLIC_STRINGS, "Name": "NotYet"},
             {"Kind": 0x00, "GUID": "{00020328-0000-0000-C000-000000000046}", "LID": 0x0037}]
    rops, _ = d.execute([rop(0x56, Flags=0x00, PropertyNames=names)], [logon])
    assert rops[0].ReturnValue == 0x00040380 and rops[0].PropertyIds == [0, 0x8000, 0, 0x0037]
    rops, _ = d.execute([rop(0x56, Flags=0x02, PropertyNames=names)], [logon])
    ids = list(rops[0].PropertyIds)
    assert rops[0].ReturnValue == 0 and ids[1] == 0x8000 and len(set(ids)) == 4
    rops, _ = d.execute([rop(0x55, PropertyIds=ids + [0x9999]), rop(0x5F, QueryFlags=0x02, HasGuid=1,
                                                                    PropertyGuid=PS_PUBLIC_STRINGS)], [logon])
    back = rops[0].PropertyNames
    assert back[0].LID == 0x8580 and back[1].Name == "Keywords" and back[2].Name == "NotYet"
    assert back[3].LID == 0x0037 and back[4].Kind == 0xFF
    assert sorted(n.Name for n in rops[1].PropertyNames) == ["Keywords", "NotYet"]
    rops, _ = d.execute([rop(0x56, Flags=0, PropertyNames=[]),
                         rop(0x56, Flags=2, PropertyNames=[{"Kind": 0x01, "GUID": PS_MAPI,
                                                            "Name": "no strings in PS_MAPI"}])], [logon])
    assert sorted(rops[0].PropertyIds) == sorted(i for i in ids if i >= 0x8000)  # every registered one
    assert rops[1].ReturnValue == 0x00040380 and rops[1].PropertyIds == [0]
    other, other_logon, _ = inbox_session("carol")
    rops, _ = other.execute([rop(0x56, Flags=0x02, PropertyNames=names[2:3])], [other_logon])
    assert rops[0].PropertyIds == [0x8000]  # carol's mailbox numbers its own


def test_streams_read_write_commit_size_and_seek():
    d, logon, inbox = inbox_session()
    rops, handles = d.execute([{**rop(0x2B, PropertyTag=tags(COMMENT)[0], OpenModeFlags=0), "OutputHandleIndex": 1},
                               {**rop(0x2B, PropertyTag=tags(COMMENT)[0], OpenModeFlags=2), "OutputHandleIndex": 1}],
                              [inbox, NO_HANDLE])
    assert rops[0].ReturnValue == 0x8004010F and rops[1].StreamSize == 0
    stream = handles[1]
    text = "written through a stream " * 200
    data = text.encode("utf-16-le")
    writes = [rop(0x2D, Data=data[i:i + 4000]) for i in range(0, len(data), 4000)]
    rops, _ = d.execute(writes + [rop(0x5E), rop(0x5D), rop(0x2E, Origin=0, Offset=10),
                                  rop(0x2C, ByteCount=0xBABE, MaximumByteCount=6),
                                  rop(0x2F, StreamSize=12), rop(0x5E)], [stream])
    assert sum(r.WrittenSize for r in rops[:len(writes)]) == len(data)
    size, commit, seek, read, _, resized = rops[len(writes):]
    assert size.StreamSize == len(data) and commit.ReturnValue == 0 and seek.NewPosition == 10
    assert read.Data == data[10:16] and resized.StreamSize == 12
    rops, _ = d.execute([rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(COMMENT))], [inbox])
    assert rops[0].RowData.ValueArray[0].PropertyValue == text
    d.execute([{"RopId": 0x01, "LogonId": 0, "InputHandleIndex": 0}], [stream])  # release commits the resize
    rops, _ = d.execute([rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(COMMENT))], [inbox])
    assert rops[0].RowData.ValueArray[0].PropertyValue == text[:6]


def test_reading_a_big_body_through_a_stream_in_small_buffers():
    d, logon, inbox = inbox_session()
    mailbox = d.store.mailbox("alice")
    message = next(iter(mailbox.folders[mailbox.special[4]].messages.values()))
    message.props.set(BODY, "x" * 40000)
    rops, handles = d.execute([
        {"RopId": 0x03, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
         "FolderId": {"ReplicaId": 1, "GlobalCounter": message.folder_id.to_bytes(8, "little")[2:]},
         "OpenModeFlags": 0, "MessageId": {"ReplicaId": 1, "GlobalCounter": message.mid.to_bytes(8, "little")[2:]}},
        rop(0x07, InputHandleIndex=1, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(BODY)),
        {**rop(0x2B, InputHandleIndex=1, PropertyTag=tags(BODY)[0], OpenModeFlags=0), "OutputHandleIndex": 2},
        {**rop(0x2B, InputHandleIndex=1, PropertyTag=tags(BODY)[0], OpenModeFlags=1), "OutputHandleIndex": 2}],
        [inbox, NO_HANDLE, NO_HANDLE])
    assert rops[1].RowData.ValueArray[0].PropertyValue == 0x8007000E  # over the size limit: use a stream
    assert rops[2].StreamSize == 80000 and rops[3].ReturnValue == 0x80070005  # read-only message
    stream, got = handles[2], b""
    while len(got) < 80000:
        rops, _ = d.execute([rop(0x2C, ByteCount=0xBABE, MaximumByteCount=0x10000)], [stream], max_rop_out=0x1000)
        assert 0 < len(rops[0].Data) < 0x1000
        got += rops[0].Data
    assert got.decode("utf-16-le") == "x" * 40000


def test_logon_object_properties_and_no_replicate_variants():
    d, logon, inbox = inbox_session()
    rops, _ = d.execute([rop(0x07, PropertySizeLimit=0, WantUnicode=1,
                             PropertyTags=tags(0x661C001F, 0x340D0003, DISPLAY_NAME)),
                         rop(0x0A, PropertyValues=[{"PropertyTag": tags(COMMENT)[0], "PropertyValue": "x"}])],
                        [logon])
    assert d.values(rops[0].RowData) == ["Alice Archer", 0x00040011, "Mailbox - Alice Archer"]
    assert rops[1].ReturnValue == 0x80070005  # the store object takes no properties here
    rops, _ = d.execute([rop(0x79, PropertyValues=[{"PropertyTag": tags(COMMENT)[0], "PropertyValue": "y"}]),
                         rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(COMMENT)),
                         rop(0x7A, PropertyTags=tags(COMMENT)),
                         rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(COMMENT))], [inbox])
    assert [r.ReturnValue for r in rops] == [0, 0, 0, 0]
    assert rops[1].RowData.ValueArray[0].PropertyValue == "y" and rops[3].RowData.Flag == 1


def test_table_and_stream_handles_have_no_properties():
    d, logon, inbox = inbox_session()
    table, _ = d.contents(inbox, [DISPLAY_NAME])
    rops, _ = d.execute([rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(DISPLAY_NAME)),
                         rop(0x56, Flags=2, PropertyNames=[{"Kind": 1, "GUID": PS_PUBLIC_STRINGS, "Name": "A"}]),
                         rop(0x2C, ByteCount=10)], [table])
    assert [r.ReturnValue for r in rops] == [0x80040102, 0x80040102, 0x000004B9]


def test_write_stream_extended_and_write_and_commit():
    d, logon, inbox = inbox_session()
    rops, handles = d.execute([{**rop(0x2B, PropertyTag=tags(COMMENT)[0], OpenModeFlags=2), "OutputHandleIndex": 1}],
                              [inbox, NO_HANDLE])
    stream = handles[1]
    rops, _ = d.execute([rop(0xA3, Data="ab".encode("utf-16-le")), rop(0x90, Data="cd".encode("utf-16-le")),
                         rop(0x5B, RegionOffset=0, RegionSize=4, LockFlags=1)], [stream])
    assert (rops[0].WrittenSize, rops[1].WrittenSize, rops[2].ReturnValue) == (4, 4, 0x80040102)
    rops, _ = d.execute([rop(0x07, PropertySizeLimit=0, WantUnicode=1, PropertyTags=tags(COMMENT))], [inbox])
    assert rops[0].RowData.ValueArray[0].PropertyValue == "abcd"
