"""MS-OXCTABL: Table ROPs (MS-OXCROPS 2.2.5.1 - 2.2.5.19).

Layouts from MS-OXCROPS 2.2.5; flag and enumeration names from MS-OXCTABL 2.2.2. The rows in
RopQueryRows, RopFindRow and RopExpandRow responses follow the table's columns, which the
decoding context hands over as `this._params.request_rop._columns` (the PropertyTags of the
last RopSetColumns request on that table: see ropbuffer.py).
"""

from construct import If, Int8ul, Int16ul, Int32sl, Int32ul, Int64ul, Rebuild, len_, this

from ..core import BoundedArray, Enum, Flags, Remaining, Sized, SizeOf, sized_field, struct
from ..errorcodes import ErrorCode
from ..oxcdata import PropertyRow, PropertyRowSet, PropertyTag, Restriction, SortOrder
from .base import RopDef

# MS-OXCTABL 2.2.2.1.1 Predefined Bookmarks (0x00-0x02) and 2.2.2.1.2 Custom Bookmarks
# (BOOKMARK_CUSTOM 0x03: RopFindRow's Origin only, with its Bookmark field)
BOOKMARKS = {0x00: "BOOKMARK_BEGINNING", 0x01: "BOOKMARK_CURRENT", 0x02: "BOOKMARK_END", 0x03: "BOOKMARK_CUSTOM"}
# MS-OXCTABL 2.2.2.1.3 TableStatus
TABLE_STATUS = {
    0x00: "TBLSTAT_COMPLETE", 0x09: "TBLSTAT_SORTING", 0x0A: "TBLSTAT_SORT_ERROR",
    0x0B: "TBLSTAT_SETTING_COLS", 0x0D: "TBLSTAT_SETCOL_ERROR", 0x0E: "TBLSTAT_RESTRICTING",
    0x0F: "TBLSTAT_RESTRICT_ERROR",
}
# MS-OXCTABL 2.2.2.1.4 asynchronous flags (SetColumnsFlags, SortTableFlags, RestrictFlags); 0x00 = synchronous
ASYNC_FLAGS = {"TBL_ASYNC": 0x01}
# MS-OXCTABL 2.2.2.5.1 QueryRowsFlags; Advance is 0x00
QUERY_ROWS_FLAGS = {"NoAdvance": 0x01, "EnablePackedBuffers": 0x02}
# MS-OXCTABL 2.2.2.14.1 FindRowFlags; Forwards is 0x00
FIND_ROW_FLAGS = {"Backwards": 0x01}

TableStatus = Enum(Int8ul, TABLE_STATUS)
Origin = Enum(Int8ul, BOOKMARKS)


# 2.2.5.1 RopSetColumns (0x12)
RopSetColumnsRequest = struct(
    "MS-OXCROPS 2.2.5.1.1 RopSetColumns ROP Request Buffer (SetColumnsFlags: MS-OXCTABL 2.2.2.2.1); "
    "its PropertyTags become the table's columns",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "SetColumnsFlags" / Flags(Int8ul, ASYNC_FLAGS),
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

RopSetColumnsResponse = struct(
    "MS-OXCROPS 2.2.5.1.2 RopSetColumns ROP Success Response Buffer (TableStatus: MS-OXCTABL 2.2.2.1.3)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "TableStatus" / TableStatus,
)

# 2.2.5.2 RopSortTable (0x13)
RopSortTableRequest = struct(
    "MS-OXCROPS 2.2.5.2.1 RopSortTable ROP Request Buffer (SortTableFlags: MS-OXCTABL 2.2.2.3.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "SortTableFlags" / Flags(Int8ul, ASYNC_FLAGS),
    "SortOrderCount" / Rebuild(Int16ul, len_(this.SortOrders)),
    "CategoryCount" / Int16ul,
    "ExpandedCount" / Int16ul,
    "SortOrders" / BoundedArray(this.SortOrderCount, SortOrder),
)

RopSortTableResponse = struct(
    "MS-OXCROPS 2.2.5.2.2 RopSortTable ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "TableStatus" / TableStatus,
)

# 2.2.5.3 RopRestrict (0x14)
RopRestrictRequest = struct(
    "MS-OXCROPS 2.2.5.3.1 RopRestrict ROP Request Buffer (RestrictFlags: MS-OXCTABL 2.2.2.4.1; "
    "RestrictionDataSize 0: no restriction)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "RestrictFlags" / Flags(Int8ul, ASYNC_FLAGS),
    "RestrictionDataSize" / SizeOf(Int16ul, "RestrictionData"),
    "RestrictionData" / If(this.RestrictionDataSize != 0,
                           Sized(this.RestrictionDataSize, Restriction(), "RestrictionData", Int16ul)),
)

RopRestrictResponse = struct(
    "MS-OXCROPS 2.2.5.3.2 RopRestrict ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "TableStatus" / TableStatus,
)

# 2.2.5.4 RopQueryRows (0x15)
RopQueryRowsRequest = struct(
    "MS-OXCROPS 2.2.5.4.1 RopQueryRows ROP Request Buffer (QueryRowsFlags: MS-OXCTABL 2.2.2.5.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "QueryRowsFlags" / Flags(Int8ul, QUERY_ROWS_FLAGS),
    "ForwardRead" / Int8ul,
    "RowCount" / Int16ul,
)

RopQueryRowsResponse = struct(
    "MS-OXCROPS 2.2.5.4.2 RopQueryRows ROP Success Response Buffer (Origin: MS-OXCTABL 2.2.2.1.1; "
    "RowData follows the table's columns)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "Origin" / Origin,
    "RowCount" / Rebuild(Int16ul, len_(this.RowData)),
    "RowData" / PropertyRowSet(this.RowCount, this._params.request_rop._columns),
)

# 2.2.5.5 RopAbort (0x38)
RopAbortRequest = struct(
    "MS-OXCROPS 2.2.5.5.1 RopAbort ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopAbortResponse = struct(
    "MS-OXCROPS 2.2.5.5.2 RopAbort ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "TableStatus" / TableStatus,
)

# 2.2.5.6 RopGetStatus (0x16)
RopGetStatusRequest = struct(
    "MS-OXCROPS 2.2.5.6.1 RopGetStatus ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopGetStatusResponse = struct(
    "MS-OXCROPS 2.2.5.6.2 RopGetStatus ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "TableStatus" / TableStatus,
)

# 2.2.5.7 RopQueryPosition (0x17)
RopQueryPositionRequest = struct(
    "MS-OXCROPS 2.2.5.7.1 RopQueryPosition ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopQueryPositionResponse = struct(
    "MS-OXCROPS 2.2.5.7.2 RopQueryPosition ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "Numerator" / Int32ul,
    "Denominator" / Int32ul,
)

# 2.2.5.8 RopSeekRow (0x18)
RopSeekRowRequest = struct(
    "MS-OXCROPS 2.2.5.8.1 RopSeekRow ROP Request Buffer (Origin: MS-OXCTABL 2.2.2.1.1)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "Origin" / Origin,
    "RowCount" / Int32sl,
    "WantRowMovedCount" / Int8ul,
)

RopSeekRowResponse = struct(
    "MS-OXCROPS 2.2.5.8.2 RopSeekRow ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "HasSoughtLess" / Int8ul,
    "RowsSought" / Int32sl,
)

# 2.2.5.9 RopSeekRowBookmark (0x19)
RopSeekRowBookmarkRequest = struct(
    "MS-OXCROPS 2.2.5.9.1 RopSeekRowBookmark ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    *sized_field("BookmarkSize", Int16ul, "Bookmark", Remaining),
    "RowCount" / Int32sl,
    "WantRowMovedCount" / Int8ul,
)

RopSeekRowBookmarkResponse = struct(
    "MS-OXCROPS 2.2.5.9.2 RopSeekRowBookmark ROP Success Response Buffer (RowsSought read signed: "
    "2.2.5.9.2 calls it unsigned yet says it carries the direction, and MS-OXCTABL has this ROP act as "
    "RopSeekRow, whose RowsSought is signed, MS-OXCROPS 2.2.5.8.2 / MS-OXCTABL 2.2.2.9.2)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "RowNoLongerVisible" / Int8ul,
    "HasSoughtLess" / Int8ul,
    "RowsSought" / Int32sl,
)

# 2.2.5.10 RopSeekRowFractional (0x1A)
RopSeekRowFractionalRequest = struct(
    "MS-OXCROPS 2.2.5.10.1 RopSeekRowFractional ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "Numerator" / Int32ul,
    "Denominator" / Int32ul,
)

RopSeekRowFractionalResponse = struct(
    "MS-OXCROPS 2.2.5.10.2 RopSeekRowFractional ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.5.11 RopCreateBookmark (0x1B)
RopCreateBookmarkRequest = struct(
    "MS-OXCROPS 2.2.5.11.1 RopCreateBookmark ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopCreateBookmarkResponse = struct(
    "MS-OXCROPS 2.2.5.11.2 RopCreateBookmark ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    *sized_field("BookmarkSize", Int16ul, "Bookmark", Remaining),
)

# 2.2.5.12 RopQueryColumnsAll (0x37)
RopQueryColumnsAllRequest = struct(
    "MS-OXCROPS 2.2.5.12.1 RopQueryColumnsAll ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopQueryColumnsAllResponse = struct(
    "MS-OXCROPS 2.2.5.12.2 RopQueryColumnsAll ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "PropertyTagCount" / Rebuild(Int16ul, len_(this.PropertyTags)),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)

# 2.2.5.13 RopFindRow (0x4F)
RopFindRowRequest = struct(
    "MS-OXCROPS 2.2.5.13.1 RopFindRow ROP Request Buffer (FindRowFlags: MS-OXCTABL 2.2.2.14.1; "
    "Origin: MS-OXCTABL 2.2.2.1.1, BOOKMARK_CUSTOM for the Bookmark given)",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "FindRowFlags" / Flags(Int8ul, FIND_ROW_FLAGS),
    "RestrictionDataSize" / SizeOf(Int16ul, "RestrictionData"),
    "RestrictionData" / If(this.RestrictionDataSize != 0,
                           Sized(this.RestrictionDataSize, Restriction(), "RestrictionData", Int16ul)),
    "Origin" / Origin,
    *sized_field("BookmarkSize", Int16ul, "Bookmark", Remaining),
)

RopFindRowResponse = struct(
    "MS-OXCROPS 2.2.5.13.2 RopFindRow ROP Success Response Buffer (RowData follows the table's columns)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "RowNoLongerVisible" / Int8ul,
    "HasRowData" / Int8ul,
    "RowData" / If(this.HasRowData != 0, PropertyRow(this._params.request_rop._columns)),
)

# 2.2.5.14 RopFreeBookmark (0x89)
RopFreeBookmarkRequest = struct(
    "MS-OXCROPS 2.2.5.14.1 RopFreeBookmark ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    *sized_field("BookmarkSize", Int16ul, "Bookmark", Remaining),
)

RopFreeBookmarkResponse = struct(
    "MS-OXCROPS 2.2.5.14.2 RopFreeBookmark ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.5.15 RopResetTable (0x81)
RopResetTableRequest = struct(
    "MS-OXCROPS 2.2.5.15.1 RopResetTable ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
)

RopResetTableResponse = struct(
    "MS-OXCROPS 2.2.5.15.2 RopResetTable ROP Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
)

# 2.2.5.16 RopExpandRow (0x59)
RopExpandRowRequest = struct(
    "MS-OXCROPS 2.2.5.16.1 RopExpandRow ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "MaxRowCount" / Int16ul,
    "CategoryId" / Int64ul,
)

RopExpandRowResponse = struct(
    "MS-OXCROPS 2.2.5.16.2 RopExpandRow ROP Success Response Buffer (RowData follows the table's columns)",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "ExpandedRowCount" / Int32ul,
    "RowCount" / Rebuild(Int16ul, len_(this.RowData)),
    "RowData" / PropertyRowSet(this.RowCount, this._params.request_rop._columns),
)

# 2.2.5.17 RopCollapseRow (0x5A)
RopCollapseRowRequest = struct(
    "MS-OXCROPS 2.2.5.17.1 RopCollapseRow ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "CategoryId" / Int64ul,
)

RopCollapseRowResponse = struct(
    "MS-OXCROPS 2.2.5.17.2 RopCollapseRow ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    "CollapsedRowCount" / Int32ul,
)

# 2.2.5.18 RopGetCollapseState (0x6B)
RopGetCollapseStateRequest = struct(
    "MS-OXCROPS 2.2.5.18.1 RopGetCollapseState ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "RowId" / Int64ul,
    "RowInstanceNumber" / Int32ul,
)

RopGetCollapseStateResponse = struct(
    "MS-OXCROPS 2.2.5.18.2 RopGetCollapseState ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    *sized_field("CollapseStateSize", Int16ul, "CollapseState", Remaining),
)

# 2.2.5.19 RopSetCollapseState (0x6C)
RopSetCollapseStateRequest = struct(
    "MS-OXCROPS 2.2.5.19.1 RopSetCollapseState ROP Request Buffer",
    "RopId" / Int8ul,
    "LogonId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    *sized_field("CollapseStateSize", Int16ul, "CollapseState", Remaining),
)

RopSetCollapseStateResponse = struct(
    "MS-OXCROPS 2.2.5.19.2 RopSetCollapseState ROP Success Response Buffer",
    "RopId" / Int8ul,
    "InputHandleIndex" / Int8ul,
    "ReturnValue" / ErrorCode,
    *sized_field("BookmarkSize", Int16ul, "Bookmark", Remaining),
)


ROPS: list[RopDef] = [
    RopDef(0x12, "RopSetColumns", "MS-OXCROPS 2.2.5.1", request=RopSetColumnsRequest, response=RopSetColumnsResponse),
    RopDef(0x13, "RopSortTable", "MS-OXCROPS 2.2.5.2", request=RopSortTableRequest, response=RopSortTableResponse),
    RopDef(0x14, "RopRestrict", "MS-OXCROPS 2.2.5.3", request=RopRestrictRequest, response=RopRestrictResponse),
    RopDef(0x15, "RopQueryRows", "MS-OXCROPS 2.2.5.4", request=RopQueryRowsRequest, response=RopQueryRowsResponse),
    RopDef(0x38, "RopAbort", "MS-OXCROPS 2.2.5.5", request=RopAbortRequest, response=RopAbortResponse),
    RopDef(0x16, "RopGetStatus", "MS-OXCROPS 2.2.5.6", request=RopGetStatusRequest, response=RopGetStatusResponse),
    RopDef(0x17, "RopQueryPosition", "MS-OXCROPS 2.2.5.7",
           request=RopQueryPositionRequest, response=RopQueryPositionResponse),
    RopDef(0x18, "RopSeekRow", "MS-OXCROPS 2.2.5.8", request=RopSeekRowRequest, response=RopSeekRowResponse),
    RopDef(0x19, "RopSeekRowBookmark", "MS-OXCROPS 2.2.5.9",
           request=RopSeekRowBookmarkRequest, response=RopSeekRowBookmarkResponse),
    RopDef(0x1A, "RopSeekRowFractional", "MS-OXCROPS 2.2.5.10",
           request=RopSeekRowFractionalRequest, response=RopSeekRowFractionalResponse),
    RopDef(0x1B, "RopCreateBookmark", "MS-OXCROPS 2.2.5.11",
           request=RopCreateBookmarkRequest, response=RopCreateBookmarkResponse),
    RopDef(0x37, "RopQueryColumnsAll", "MS-OXCROPS 2.2.5.12",
           request=RopQueryColumnsAllRequest, response=RopQueryColumnsAllResponse),
    RopDef(0x4F, "RopFindRow", "MS-OXCROPS 2.2.5.13", request=RopFindRowRequest, response=RopFindRowResponse),
    RopDef(0x89, "RopFreeBookmark", "MS-OXCROPS 2.2.5.14",
           request=RopFreeBookmarkRequest, response=RopFreeBookmarkResponse),
    RopDef(0x81, "RopResetTable", "MS-OXCROPS 2.2.5.15", request=RopResetTableRequest, response=RopResetTableResponse),
    RopDef(0x59, "RopExpandRow", "MS-OXCROPS 2.2.5.16", request=RopExpandRowRequest, response=RopExpandRowResponse),
    RopDef(0x5A, "RopCollapseRow", "MS-OXCROPS 2.2.5.17",
           request=RopCollapseRowRequest, response=RopCollapseRowResponse),
    RopDef(0x6B, "RopGetCollapseState", "MS-OXCROPS 2.2.5.18",
           request=RopGetCollapseStateRequest, response=RopGetCollapseStateResponse),
    RopDef(0x6C, "RopSetCollapseState", "MS-OXCROPS 2.2.5.19",
           request=RopSetCollapseStateRequest, response=RopSetCollapseStateResponse),
]
