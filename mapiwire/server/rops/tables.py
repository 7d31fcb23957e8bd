"""Tables (MS-OXCTABL): rows of a folder's subfolders or messages or a message's attachments,
seen through a column set, a sort order, a restriction, a cursor and bookmarks.

Rows are computed from the store when they are read, so a table always shows the folder as it
is now (MS-OXCTABL 3.2.5: a server may keep the table current). Restrictions follow MS-OXCDATA
2.12, sort orders MS-OXCDATA 2.13; rows are built as MS-OXCDATA 2.8.1 PropertyRows.
"""

from __future__ import annotations

import itertools

from ..restrictions import Rows, sort_key, value_size
from ..store import MISSING, PT_STRING8, PT_UNICODE, PT_UNSPECIFIED, TAG, Mailbox
from .base import EC_MAPI_OOM, EC_NOT_FOUND
from .objects import View

MV_INSTANCE = 0x2000  # MS-OXCDATA 2.11.1.1 PtypMultiple + MV_INSTANCE column
PT_OBJECT, PT_ERROR = 0x000D, 0x000A
MAX_BOOKMARKS = 64
RECIPIENTS_TAG, ATTACHMENTS_TAG = TAG.get("PidTagMessageRecipients", 0x0E12000D), TAG.get(
    "PidTagMessageAttachments", 0x0E13000D)
DESCENDING = 0x01


class Table:
    """One open table. `kind`: "hierarchy", "contents" or "attachments"."""

    def __init__(self, mailbox: Mailbox, kind: str, source, flags: int = 0):
        self.mailbox = mailbox
        self.kind = kind
        self.source = source  # folder id, or the MessageObject of an attachment table
        self.flags = flags
        self.columns: list | None = None  # the PropertyTags of the last RopSetColumns, as given
        self.column_tags: list[int] = []
        self.sort_orders: list[tuple[int, int]] = []
        self.restriction = None
        self.position = 0
        self.bookmarks: dict[bytes, tuple] = {}
        self._bookmark_ids = itertools.count(1)

    # rows
    def _items(self) -> list[View]:
        if self.kind == "attachments":
            message = self.source.message
            return [View(self.mailbox, a) for a in message.attachments.values()]
        folder = self.mailbox.folders.get(self.source)
        if folder is None:
            return []
        if self.kind == "contents":
            associated = bool(self.flags & 0x02)  # MS-OXCFOLD 2.2.1.14.1 Associated
            return [View(self.mailbox, m) for m in folder.messages.values() if m.associated == associated]
        depth_flag = bool(self.flags & 0x04)  # MS-OXCFOLD 2.2.1.13.1 Depth
        out: list[View] = []

        def walk(parent, depth: int) -> None:
            for child_id in parent.children:
                child = self.mailbox.folders[child_id]
                out.append(View(self.mailbox, child, {TAG["PidTagDepth"]: depth}))
                if depth_flag:
                    walk(child, depth + 1)
        walk(folder, 0)
        return out

    def rows(self) -> list[View]:
        """The table's rows now: restricted (MS-OXCTABL 3.2.5.4), then sorted (3.2.5.3)."""
        items = self._items()
        if self.restriction is not None:
            counters: dict[int, int] = {}
            items = [v for v in items if VIEWS.matches(self.restriction, v, counters)]
        for tag, order in reversed(self.sort_orders):
            items.sort(key=lambda v, t=tag: sort_key(v.get(t)), reverse=order == DESCENDING)
        return items

    @staticmethod
    def row_key(view: View):
        item = view.item
        return getattr(item, "mid", None) or getattr(item, "fid", None) or ("attachment", getattr(item, "number", 0))

    def index_of(self, rows: list[View], key) -> int | None:
        for i, view in enumerate(rows):
            if self.row_key(view) == key:
                return i
        return None

    # bookmarks (MS-OXCTABL 2.2.2.1.2)
    def create_bookmark(self, rows: list[View]) -> bytes:
        if len(self.bookmarks) >= MAX_BOOKMARKS:
            self.bookmarks.pop(next(iter(self.bookmarks)))
        mark = next(self._bookmark_ids).to_bytes(4, "little")
        key = self.row_key(rows[self.position]) if self.position < len(rows) else None
        self.bookmarks[mark] = (key, self.position)
        return mark

    def bookmark_position(self, mark: bytes, rows: list[View]) -> tuple[int, bool] | None:
        """(position, row no longer visible) of a bookmark, None when unknown."""
        found = self.bookmarks.get(bytes(mark))
        if found is None:
            return None
        key, position = found
        index = self.index_of(rows, key) if key is not None else None
        if index is None:
            return min(position, len(rows)), key is not None
        return index, False


# Rows -------------------------------------------------------------------------------------------------

def property_row(view: View, columns: list[int], limit: int | None = None, unicode: bool = True) -> dict:
    """MS-OXCDATA 2.8.1 PropertyRow of `view` in these columns: a StandardPropertyRow when every
    value is there, else a FlaggedPropertyRow with ErrorCode values (2.11.5). A PtypUnspecified
    column gives the value's own type (String8 for strings unless `unicode`)."""
    values = []
    flagged = False
    for tag in columns:
        ptype = tag & 0xFFFF
        if ptype == PT_UNSPECIFIED:
            found_type, value = view.typed(tag)
            if found_type == PT_UNICODE and not unicode:
                found_type = PT_STRING8
        else:
            found_type, value = ptype, column_value(view, tag)
        error = None
        if value is MISSING or found_type in (PT_OBJECT, PT_UNSPECIFIED):
            error = EC_NOT_FOUND
        elif limit is not None and variable_size((tag & 0xFFFF0000) | found_type, value) > limit:
            error = EC_MAPI_OOM
        if error is not None:
            flagged = True
            item = {"Flag": 0x0A, "PropertyValue": error}
            if ptype == PT_UNSPECIFIED:
                item["PropertyType"] = PT_ERROR
        else:
            item = {"Flag": 0x00, "PropertyValue": value}
            if ptype == PT_UNSPECIFIED:
                item["PropertyType"] = found_type
        values.append(item)
    if not flagged:
        for item in values:
            del item["Flag"]
    return {"Flag": 0x01 if flagged else 0x00, "ValueArray": values}


def column_value(view: View, tag: int):
    """A column's value; an MV_INSTANCE column shows the first value of the multi-valued property."""
    if tag & MV_INSTANCE:
        values = view.get(tag & ~MV_INSTANCE)
        return values[0] if values is not MISSING and values else MISSING
    return view.get(tag)


def variable_size(tag: int, value) -> int:
    """What PropertySizeLimit applies to (MS-OXCPRPT 2.2.2.1): the size of a string, binary or
    multi-valued value (restrictions.value_size); fixed-size values count 0."""
    return value_size(tag, value) if isinstance(value, (str, bytes, bytearray, list)) else 0


# Restrictions (MS-OXCDATA 2.12: server/restrictions.py) ----------------------------------------------

class _Views(Rows):
    """A mailbox table's rows: a message's recipients and attachments are its subobjects."""

    def value(self, row: View, tag: int):
        return row.get(tag)

    def subobjects(self, row: View, tag: int) -> list[View]:
        item = row.item
        if tag >> 16 == RECIPIENTS_TAG >> 16:
            return [View(row.mailbox, r) for r in getattr(item, "recipients", ())]
        if tag >> 16 == ATTACHMENTS_TAG >> 16:
            return [View(row.mailbox, a) for a in getattr(item, "attachments", {}).values()]
        return []


VIEWS = _Views()
