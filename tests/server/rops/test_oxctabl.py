"""Table ROPs (MS-OXCTABL) and the restriction types of MS-OXCDATA 2.12, through MailboxSession."""

import pytest

from mapiwire.samples import PS_PUBLIC_STRINGS

from .helpers import Driver, tags

SUBJECT, SIZE, FLAGS, IMPORTANCE, SENDER, MID, BODY = (0x0037001F, 0x0E080003, 0x0E070003, 0x00170003, 0x0C1A001F,
                                                       0x674A0014, 0x1000001F)


def tag(value):
    return tags(value)[0]


def make_inbox_table():
    """(driver, handle of alice's Inbox contents table with three columns, its row count)."""
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    table, count = d.contents(inbox, [SUBJECT, IMPORTANCE, SENDER])
    return d, table, count


@pytest.fixture()
def inbox_table():
    return make_inbox_table()


def rop(rop_id, **fields):
    return {"RopId": rop_id, "LogonId": 0, "InputHandleIndex": 0, **fields}


def subjects(d, table, count=100):
    return [row.ValueArray[0].PropertyValue for row in d.query(table, count).RowData]


def restrict(d, table, restriction):
    rops, _ = d.execute([rop(0x14, RestrictFlags=0, RestrictionData=restriction)], [table])
    assert rops[0].ReturnValue == 0 and rops[0].TableStatus == 0
    return subjects(d, table)


def test_sort_ascending_descending_and_two_keys(inbox_table):
    d, table, _ = inbox_table
    for order, reverse in ((0, False), (1, True)):
        rops, _ = d.execute([rop(0x13, SortTableFlags=0, CategoryCount=0, ExpandedCount=0,
                                 SortOrders=[{**tag(SUBJECT), "Order": order}])], [table])
        assert rops[0].ReturnValue == 0
        got = subjects(d, table)
        assert got == sorted(got, key=str.casefold, reverse=reverse)
    d.execute([rop(0x13, SortTableFlags=0, CategoryCount=0, ExpandedCount=0,
                   SortOrders=[{**tag(SENDER), "Order": 0}, {**tag(SUBJECT), "Order": 1}])], [table])
    rows = [d.values(r) for r in d.query(table).RowData]
    assert rows == sorted(rows, key=lambda r: (r[2].casefold(), [-ord(ch) for ch in r[0].casefold()]))


def test_restriction_types(inbox_table):
    d, table, count = inbox_table
    content = {"RestrictType": 0x03, "FuzzyLevelLow": 0x0001, "FuzzyLevelHigh": 0x0001, "PropertyTag": tag(SUBJECT),
               "TaggedValue": {"PropertyTag": tag(SUBJECT), "PropertyValue": "REPORT"}}
    assert restrict(d, table, content) == ["Quarterly report: please review the attached figures"]
    prefix = {**content, "FuzzyLevelLow": 0x0002, "TaggedValue": {"PropertyTag": tag(SUBJECT),
                                                                   "PropertyValue": "Lunch"}}
    assert restrict(d, table, prefix) == ["Lunch on Friday?"]
    case_sensitive = {**prefix, "FuzzyLevelHigh": 0}
    case_sensitive["TaggedValue"] = {"PropertyTag": tag(SUBJECT), "PropertyValue": "lunch"}
    assert restrict(d, table, case_sensitive) == []
    important = {"RestrictType": 0x04, "RelOp": 0x04, "PropTag": tag(IMPORTANCE),
                 "TaggedValue": {"PropertyTag": tag(IMPORTANCE), "PropertyValue": 2}}
    assert len(restrict(d, table, important)) == 1
    unread = {"RestrictType": 0x06, "BitmapRelOp": 0x00, "PropTag": tag(FLAGS), "Mask": 0x01}
    assert len(restrict(d, table, unread)) == 2
    both = {"RestrictType": 0x00, "Restricts": [important, unread]}
    either = {"RestrictType": 0x01, "Restricts": [important, unread]}
    assert restrict(d, table, both) == ["Quarterly report: please review the attached figures"]
    assert len(restrict(d, table, either)) == 2
    assert len(restrict(d, table, {"RestrictType": 0x02, "Restriction": unread})) == count - 2
    flagged = {"RestrictType": 0x08, "PropTag": tag(0x10900003)}
    assert restrict(d, table, flagged) == []
    big = {"RestrictType": 0x07, "RelOp": 0x02, "PropTag": tag(BODY), "Size": 300}
    mailbox = d.store.mailbox("alice")
    bodies = [m.props.values[0x1000][1] for m in mailbox.folders[mailbox.special[4]].messages.values()]
    assert len(restrict(d, table, big)) == sum(2 * len(b) + 2 > 300 for b in bodies) == 3
    compare = {"RestrictType": 0x05, "RelOp": 0x04, "PropTag1": tag(0x0E1D001F), "PropTag2": tag(SUBJECT)}
    assert len(restrict(d, table, compare)) == count - 1  # all but the "RE:" one
    recipient_bob = {"RestrictType": 0x09, "Subobject": tag(0x0E12000D), "Restriction": {
        "RestrictType": 0x03, "FuzzyLevelLow": 0x0000, "FuzzyLevelHigh": 0x0001, "PropertyTag": tag(0x39FE001F),
        "TaggedValue": {"PropertyTag": tag(0x39FE001F), "PropertyValue": "bob@mapiwire.test"}}}
    assert restrict(d, table, recipient_bob) == ["Build farm maintenance on Saturday", "Lunch on Friday?"]
    comment = {"RestrictType": 0x0A, "TaggedValues": [{"PropertyTag": tag(SUBJECT), "PropertyValue": "note"}],
               "RestrictionPresent": 1, "Restriction": important}
    assert len(restrict(d, table, comment)) == 1
    first_two = {"RestrictType": 0x0B, "Count": 2, "SubRestriction": {"RestrictType": 0x02, "Restriction": unread}}
    assert len(restrict(d, table, first_two)) == 2
    keywords = d.store.mailbox("alice").named_id({"Kind": 1, "GUID": PS_PUBLIC_STRINGS, "Name": "Keywords"}, False)
    category = {"RestrictType": 0x04, "RelOp": 0x04, "PropTag": tag((keywords << 16) | 0x101F),
                "TaggedValue": {"PropertyTag": tag((keywords << 16) | 0x001F), "PropertyValue": "Finance"}}
    assert len(restrict(d, table, category)) == 1
    rops, _ = d.execute([rop(0x14, RestrictFlags=0, RestrictionDataSize=0, RestrictionData=None)], [table])
    assert len(subjects(d, table)) == count


def test_query_rows_cursor_position_seek_and_backwards(inbox_table):
    d, table, count = inbox_table
    first_two = d.query(table, 2)
    assert first_two.Origin == 1 and len(first_two.RowData) == 2
    rops, _ = d.execute([rop(0x17)], [table])
    assert (rops[0].Numerator, rops[0].Denominator) == (2, count)
    peek = d.query(table, 1, flags=0x01)  # NoAdvance
    assert d.query(table, 1).RowData == peek.RowData
    rops, _ = d.execute([rop(0x18, Origin=2, RowCount=-2, WantRowMovedCount=1),
                         rop(0x18, Origin=0, RowCount=-1, WantRowMovedCount=1),
                         rop(0x18, Origin=1, RowCount=count + 5, WantRowMovedCount=1)], [table])
    assert [(r.HasSoughtLess, r.RowsSought) for r in rops] == [(0, -2), (1, 0), (1, count)]
    backwards = d.query(table, 2, forward=0)
    assert d.query(table, 0).RowData == []
    d.execute([rop(0x18, Origin=0, RowCount=0, WantRowMovedCount=0)], [table])
    ordered = subjects(d, table)
    assert [r.ValueArray[0].PropertyValue for r in backwards.RowData] == ordered[-2:]  # in table order
    assert backwards.Origin == 1
    rops, _ = d.execute([rop(0x1A, Numerator=1, Denominator=2), rop(0x17)], [table])
    assert rops[1].Numerator == count // 2


def test_find_row_and_bookmarks(inbox_table):
    d, table, count = inbox_table
    lunch = {"RestrictType": 0x03, "FuzzyLevelLow": 0x0001, "FuzzyLevelHigh": 0x0001, "PropertyTag": tag(SUBJECT),
             "TaggedValue": {"PropertyTag": tag(SUBJECT), "PropertyValue": "lunch"}}
    find = rop(0x4F, FindRowFlags=0, RestrictionData=lunch, Origin=0, Bookmark=b"")
    rops, _ = d.execute([find, rop(0x17), rop(0x1B)], [table])
    assert rops[0].ReturnValue == 0 and rops[0].HasRowData == 1
    assert rops[0].RowData.ValueArray[0].PropertyValue == "Lunch on Friday?"
    position, mark = rops[1].Numerator, rops[2].Bookmark
    rops, _ = d.execute([{**find, "Origin": 1, "FindRowFlags": 0x01, "RestrictionData": {
        **lunch, "TaggedValue": {"PropertyTag": tag(SUBJECT), "PropertyValue": "nothing like this"}}}], [table])
    assert rops[0].ReturnValue == 0x8004010F
    d.execute([rop(0x18, Origin=0, RowCount=0, WantRowMovedCount=0)], [table])
    rops, _ = d.execute([rop(0x19, Bookmark=mark, RowCount=0, WantRowMovedCount=1), rop(0x17),
                         {**find, "Origin": 3, "Bookmark": mark},
                         rop(0x89, Bookmark=mark), rop(0x89, Bookmark=mark),
                         rop(0x19, Bookmark=mark, RowCount=0, WantRowMovedCount=1)], [table])
    assert (rops[0].ReturnValue, rops[0].RowNoLongerVisible, rops[1].Numerator) == (0, 0, position)
    assert rops[2].ReturnValue == 0 and rops[3].ReturnValue == 0
    assert rops[4].ReturnValue == 0x80040405 and rops[5].ReturnValue == 0x80040405  # ecInvalidBookmark


def test_query_rows_before_set_columns_columns_all_reset_and_status():
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    rops, handles = d.execute([{"RopId": 0x05, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                                "TableFlags": 0},
                               {"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 1, "QueryRowsFlags": 0,
                                "ForwardRead": 1, "RowCount": 10},
                               rop(0x37, InputHandleIndex=1), rop(0x16, InputHandleIndex=1),
                               rop(0x38, InputHandleIndex=1), rop(0x81, InputHandleIndex=1)], [inbox, 0xFFFFFFFF])
    assert [r.ReturnValue for r in rops] == [0, 0x000004B9, 0, 0, 0x80040114, 0]
    all_tags = {(t.PropertyId << 16) | t.PropertyType for t in rops[2].PropertyTags}
    assert {SUBJECT, MID, BODY} <= all_tags


def test_row_with_missing_values_is_flagged(inbox_table):
    d, table, _ = inbox_table
    d.execute([rop(0x12, SetColumnsFlags=0, PropertyTags=tags(SUBJECT, 0x10900003, 0x00000000 | (0x0037 << 16)))],
              [table])
    rows = d.query(table).RowData
    assert all(r.Flag == 1 for r in rows)
    flagged = [r for r in rows if r.ValueArray[1].Flag == 0]
    assert len(flagged) == 0 and rows[0].ValueArray[1].PropertyValue == 0x8004010F
    assert rows[0].ValueArray[2].PropertyType == 0x001F and rows[0].ValueArray[2].PropertyValue
