"""MS-OXCTABL handlers: table ROPs (MS-OXCROPS 2.2.5).

Everything is synchronous: TableStatus is always TBLSTAT_COMPLETE (MS-OXCTABL 2.2.2.1.3) and
RopAbort has nothing to stop. Rows that would not fit MaxRopOut are left for the next
RopQueryRows (MS-OXCTABL 3.2.5.5: the server may return fewer rows than asked).
"""

from __future__ import annotations

from construct import this

from ...dissect.defs.core import build
from ...dissect.defs.oxcdata import PropertyRow, tag_container, tag_value
from ..restrictions import TooComplex
from .base import EC_INVALID_BOOKMARK, EC_INVALID_PARAM, EC_NOT_FOUND, EC_NULL_OBJECT, RopError, handler
from .objects import TableObject
from .tables import VIEWS, property_row

BOOKMARK_BEGINNING, BOOKMARK_CURRENT, BOOKMARK_END, BOOKMARK_CUSTOM = 0, 1, 2, 3
NO_ADVANCE = 0x01  # MS-OXCTABL 2.2.2.5.1 QueryRowsFlags
BACKWARDS = 0x01  # MS-OXCTABL 2.2.2.14.1 FindRowFlags
EC_UNABLE_TO_ABORT = 0x80040114
EC_BUFFER_TOO_SMALL = 0x0000047D  # MS-OXCDATA 2.4.1 ecBufferTooSmall
QUERY_ROWS_HEADER = 9  # RopId, InputHandleIndex, ReturnValue, Origin, RowCount
ROW = PropertyRow(this._params.columns)


def _table(session, ctx, rop):
    return session.get(ctx, rop, kind=TableObject).table


def _columns(table, rop) -> list[int]:
    """The table's columns; RopQueryRows / RopFindRow before RopSetColumns is ecNullObject (MS-OXCTABL 3.2.5.5)."""
    if table.columns is None:
        raise RopError(EC_NULL_OBJECT)
    rop["_columns"] = table.columns
    return table.column_tags


@handler(0x12)
def rop_set_columns(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.2 RopSetColumns: the columns of the rows that later ROPs return."""
    table = _table(session, ctx, rop)
    table.columns = [tag_container(tag_value(t)) for t in rop["PropertyTags"]]
    table.column_tags = [tag_value(t) for t in rop["PropertyTags"]]
    return {"TableStatus": 0}


@handler(0x13)
def rop_sort_table(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.3 RopSortTable: sort orders (MS-OXCDATA 2.13); the cursor goes to the beginning."""
    table = _table(session, ctx, rop)
    table.sort_orders = [(tag_value(s), int(s["Order"]))
                         for s in rop["SortOrders"]]
    table.position = 0
    return {"TableStatus": 0}


@handler(0x14)
def rop_restrict(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.4 RopRestrict: rows matching the restriction (none: all rows); cursor to the beginning."""
    table = _table(session, ctx, rop)
    restriction = rop.get("RestrictionData")
    if restriction is not None:
        try:
            for view in table.rows():
                VIEWS.matches(restriction, view, {})
        except TooComplex as error:
            raise RopError(error.code) from None
    table.restriction = restriction
    table.position = 0
    return {"TableStatus": 0}


@handler(0x15)
def rop_query_rows(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.5 RopQueryRows: up to RowCount whole rows from the cursor, forward, or the
    rows before it (in table order) when reading backward; as many as fit the response buffer,
    at least one or ecBufferTooSmall. The cursor moves past them unless NoAdvance; Origin is
    BOOKMARK_END / BOOKMARK_BEGINNING when no rows are left that way, else BOOKMARK_CURRENT."""
    table = _table(session, ctx, rop)
    columns = _columns(table, rop)
    rows = table.rows()
    total = len(rows)
    position = min(table.position, total)
    count = min(int(rop["RowCount"]), session.max_rows)
    forward = bool(rop["ForwardRead"])
    window = rows[position:position + count] if forward else rows[max(0, position - count):position][::-1]
    out, used = [], QUERY_ROWS_HEADER
    for view in window:  # nearest the cursor first
        row = property_row(view, columns)
        used += len(build(ROW, row, columns=columns))
        if used > ctx.room:
            break
        out.append(row)
    if window and not out:
        raise RopError(EC_BUFFER_TOO_SMALL)
    after = position + len(out) if forward else position - len(out)
    if not int(rop["QueryRowsFlags"]) & NO_ADVANCE:
        table.position = after
    if forward:
        origin = BOOKMARK_END if after >= total else BOOKMARK_CURRENT
    else:
        origin = BOOKMARK_BEGINNING if after == 0 else BOOKMARK_CURRENT
    return {"Origin": origin, "RowData": out if forward else out[::-1]}


@handler(0x17)
def rop_query_position(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.8 RopQueryPosition: the cursor's row index out of the row count."""
    table = _table(session, ctx, rop)
    total = len(table.rows())
    return {"Numerator": min(table.position, total), "Denominator": total}


def _seek(table, base: int, count: int, total: int, want_count: bool) -> dict:
    target = base + count
    position = max(0, min(total, target))
    table.position = position
    return {"HasSoughtLess": int(position != target), "RowsSought": position - base if want_count else 0}


@handler(0x18)
def rop_seek_row(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.9 RopSeekRow: move the cursor RowCount rows from the origin, stopping at the ends."""
    table = _table(session, ctx, rop)
    total = len(table.rows())
    origin = int(rop["Origin"])
    if origin not in (BOOKMARK_BEGINNING, BOOKMARK_CURRENT, BOOKMARK_END):
        raise RopError(EC_INVALID_PARAM)
    base = {BOOKMARK_BEGINNING: 0, BOOKMARK_CURRENT: min(table.position, total), BOOKMARK_END: total}[origin]
    return _seek(table, base, int(rop["RowCount"]), total, bool(rop["WantRowMovedCount"]))


@handler(0x19)
def rop_seek_row_bookmark(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.10 RopSeekRowBookmark: as RopSeekRow from a bookmark's row."""
    table = _table(session, ctx, rop)
    rows = table.rows()
    found = table.bookmark_position(bytes(rop["Bookmark"]), rows)
    if found is None:
        raise RopError(EC_INVALID_BOOKMARK)
    base, gone = found
    result = _seek(table, base, int(rop["RowCount"]), len(rows), bool(rop["WantRowMovedCount"]))
    return {"RowNoLongerVisible": int(gone), **result}


@handler(0x1A)
def rop_seek_row_fractional(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.11 RopSeekRowFractional: the cursor at Numerator/Denominator of the rows."""
    table = _table(session, ctx, rop)
    total = len(table.rows())
    numerator, denominator = int(rop["Numerator"]), int(rop["Denominator"])
    table.position = 0 if denominator == 0 else min(total, total * numerator // denominator)
    return {}


@handler(0x1B)
def rop_create_bookmark(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.12 RopCreateBookmark: a bookmark of the cursor's row."""
    table = _table(session, ctx, rop)
    return {"Bookmark": table.create_bookmark(table.rows())}


@handler(0x89)
def rop_free_bookmark(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.15 RopFreeBookmark: ecInvalidBookmark for one the table does not hold."""
    table = _table(session, ctx, rop)
    if table.bookmarks.pop(bytes(rop["Bookmark"]), None) is None:
        raise RopError(EC_INVALID_BOOKMARK)
    return {}


@handler(0x4F)
def rop_find_row(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.14 RopFindRow: the first row from the origin (backwards with the flag)
    that matches the restriction; the cursor goes to it. ecNotFound when none does."""
    table = _table(session, ctx, rop)
    columns = _columns(table, rop)
    rows = table.rows()
    total = len(rows)
    origin, gone = int(rop["Origin"]), False
    if origin == BOOKMARK_CUSTOM:
        found = table.bookmark_position(bytes(rop["Bookmark"]), rows)
        if found is None:
            raise RopError(EC_INVALID_BOOKMARK)
        start, gone = found
    elif origin in (BOOKMARK_BEGINNING, BOOKMARK_CURRENT, BOOKMARK_END):
        start = {BOOKMARK_BEGINNING: 0, BOOKMARK_CURRENT: min(table.position, total), BOOKMARK_END: total}[origin]
    else:
        raise RopError(EC_INVALID_PARAM)
    backwards = bool(int(rop["FindRowFlags"]) & BACKWARDS)
    order = range(start - 1, -1, -1) if backwards else range(start, total)
    restriction = rop.get("RestrictionData")
    counters: dict = {}
    try:
        for index in order:
            if restriction is None or VIEWS.matches(restriction, rows[index], counters):
                table.position = index
                return {"RowNoLongerVisible": int(gone), "HasRowData": 1,
                        "RowData": property_row(rows[index], columns)}
    except TooComplex as error:
        raise RopError(error.code) from None
    raise RopError(EC_NOT_FOUND)


@handler(0x81)
def rop_reset_table(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.16 RopResetTable: no columns, sort, restriction or bookmarks; cursor at the beginning."""
    table = _table(session, ctx, rop)
    table.columns, table.column_tags, table.sort_orders, table.restriction = None, [], [], None
    table.position = 0
    table.bookmarks.clear()
    return {}


@handler(0x37)
def rop_query_columns_all(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.13 RopQueryColumnsAll: every property the table's rows have."""
    table = _table(session, ctx, rop)
    tags: dict[int, int] = {}
    for view in table.rows():
        for tag in view.tags():
            tags.setdefault(tag >> 16, tag)
    return {"PropertyTags": [tag_container(t) for t in tags.values()]}


@handler(0x16)
def rop_get_status(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.7 RopGetStatus: tables here are always complete."""
    _table(session, ctx, rop)
    return {"TableStatus": 0}


@handler(0x38)
def rop_abort(session, rop, ctx) -> dict:
    """MS-OXCTABL 3.2.5.6 RopAbort: nothing runs asynchronously, so ecUnableToAbort."""
    _table(session, ctx, rop)
    raise RopError(EC_UNABLE_TO_ABORT)
