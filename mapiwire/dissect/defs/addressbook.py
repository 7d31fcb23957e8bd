"""Request and response bodies of the address book endpoint and their common structures.

MS-OXCMAPIHTTP 2.2.1.1-2.2.1.8 (AddressBookPropertyValue ... LargePropertyTagArray) and 2.2.5.1-2.2.5.19
(Bind ... GetAddressBookUrl: request body, success response body and failure response body each), with
the MS-OXNSPI structures they carry (2.2.8 STAT, 2.2.9 entry IDs, 2.2.7.1 StringsArray_r).

Property values use the MS-OXCDATA 2.11.1 encodings with 32-bit COUNT fields (MS-OXCDATA 2.11.1 names
the MAPI/HTTP address book context as one with 32-bit counts). The type of an AddressBookPropertyValue
is not on the wire; it comes from the context (`AddressBookPropertyValue(this.PropertyType)`, or the
column list for AddressBookPropertyRow). `ADDRESS_BOOK` is the registry of the 19 request types.
"""

from __future__ import annotations

import construct as c
from construct import Check, Const, Construct, If, Int8ul, Int16ul, Int32sl, Int32ul, Pass, Rebuild, Select, Switch
from construct import len_, this

from .body import BodyDef, aux, failure
from .core import AsciiZ, BoundedArray, Enum, Flags, Guid, OpenEnum, UnicodeZ, remaining, report, sized_field, struct
from .errorcodes import ErrorCode
from .locales import CODE_PAGE_NAMES, Lcid
from .oxcdata import CODECS, FLAGGED_VALUE_FLAGS, PropertyTag, Restriction
from .proptypes import MULTI_VALUE_FLAG, PROPERTY_TYPE_CODES, PropertyType

MAX_COUNT = 100_000  # PropertyTagCount, ExplicitTableCount, StringsArray_r Count: "limited to 100,000"


def optional(has_name: str, name: str, subcon: Construct) -> tuple:
    """A Boolean Has-field (1 byte) and the field it announces (present when non-zero)."""
    return has_name / Int8ul, name / If(this[has_name] != 0, subcon)


# 2.2.1.1 AddressBookPropertyValue ------------------------------------------------------------

PTYP_UNSPECIFIED, PTYP_NULL, PTYP_ERROR_CODE = 0x0000, 0x0001, 0x000A
HAS_VALUE_TYPES = {0x001E, 0x001F, 0x0102}  # PtypString8, PtypString, PtypBinary; plus every PtypMultiple
ELEMENT_TYPES = {0x101E: 0x001E, 0x101F: 0x001F, 0x1102: 0x0102}  # multi-valued types whose elements have HasValue
READERS, WRITERS = CODECS[4]  # MS-OXCDATA 2.11.1 value codecs with 32-bit COUNT fields


def type_code(value) -> int:
    """A PropertyType given as number or name ("PtypString") -> its number."""
    return PROPERTY_TYPE_CODES[value] if isinstance(value, str) else int(value)


def has_value_byte(ptype: int) -> bool:
    """MS-OXCMAPIHTTP 2.2.1.1: HasValue precedes PtypString, PtypString8, PtypBinary and PtypMultiple values."""
    return ptype in HAS_VALUE_TYPES or bool(ptype & MULTI_VALUE_FLAG)


def codec(table: dict, ptype: int, path: str):
    """The reader or writer of `ptype` in an oxcdata codec table; a type without one is an error."""
    if ptype not in table:
        raise c.MappingError(f"no value encoding for PropertyType {ptype:#06x}", path=path)
    return table[ptype]


class AddressBookPropertyValue(Construct):
    """MS-OXCMAPIHTTP 2.2.1.1 AddressBookPropertyValue: HasValue (1, optional) + PropertyValue (optional).

    `proptype` (a `this` expression or a number) gives the property type, which is not on the wire.
    HasValue is present only for PtypString, PtypString8, PtypBinary and the PtypMultiple types and MUST
    be 0xFF (PropertyValue follows) or 0x00 (absent); another byte is reported and read as "present".
    PropertyValue is read by the MS-OXCDATA 2.11.1 codecs of oxcdata.py with 32-bit COUNT fields, except
    that inside PtypMultipleString, PtypMultipleString8 and PtypMultipleBinary every element has its
    own HasValue byte.

    Value: `{"HasValue": n, "PropertyValue": v}` (HasValue only where the type has one), v as
    oxcdata.PropertyValue gives it; those multi-valued elements are `{"HasValue": n, "Value": v}`.
    """

    def __init__(self, proptype):
        super().__init__()
        self.proptype = proptype

    def _parse(self, stream, context, path):
        ptype = type_code(c.evaluate(self.proptype, context))
        if not has_value_byte(ptype):
            return c.Container(PropertyValue=self._read(stream, ptype, context, path))
        has = self._read_has_value(stream, context, path)
        return c.Container(HasValue=has, PropertyValue=self._read(stream, ptype, context, path) if has else None)

    def _build(self, obj, stream, context, path):
        ptype = type_code(c.evaluate(self.proptype, context))
        value = obj.get("PropertyValue")
        if not has_value_byte(ptype):
            self._write(value, stream, ptype, context, path)
            return obj
        has = obj.get("HasValue", 0x00 if value is None else 0xFF)
        Int8ul._build(has, stream, context, path)
        if has:
            self._write(value, stream, ptype, context, path)
        return obj

    def _sizeof(self, context, path):
        raise c.SizeofError("variable size", path=path)

    @staticmethod
    def _read_has_value(stream, context, path) -> int:
        has = Int8ul._parsereport(stream, context, path)
        if has not in (0x00, 0xFF):
            report(context, f"{path} -> HasValue", f"HasValue {has:#04x} is neither 0x00 nor 0xFF", stream.tell() - 1)
        return has

    def _read(self, stream, ptype, context, path):
        element = ELEMENT_TYPES.get(ptype)
        if element is None:
            return codec(READERS, ptype, path)(stream, context, path)
        count = Int32ul._parsereport(stream, context, path)
        if count > remaining(stream):  # every element takes at least its HasValue byte
            raise c.RangeError(f"value count {count} is more than the {remaining(stream)} bytes left", path=path)
        read = codec(READERS, element, path)
        values = c.ListContainer()
        for _ in range(count):
            has = self._read_has_value(stream, context, path)
            values.append(c.Container(HasValue=has, Value=read(stream, context, path) if has else None))
        return values

    @staticmethod
    def _write(value, stream, ptype, context, path):
        element = ELEMENT_TYPES.get(ptype)
        if element is None:
            codec(WRITERS, ptype, path)(value, stream, context, path)
            return
        write = codec(WRITERS, element, path)
        Int32ul._build(len(value), stream, context, path)
        for item in value:
            inner = item.get("Value")
            has = item.get("HasValue", 0x00 if inner is None else 0xFF)
            Int8ul._build(has, stream, context, path)
            if has:
                write(inner, stream, context, path)


# 2.2.1.2 - 2.2.1.6 ---------------------------------------------------------------------------

AddressBookTaggedPropertyValue = struct(
    "MS-OXCMAPIHTTP 2.2.1.2 AddressBookTaggedPropertyValue",
    "PropertyType" / PropertyType,
    "PropertyId" / Int16ul,
    "PropertyValue" / AddressBookPropertyValue(this.PropertyType),
)

AddressBookPropertyValueList = struct(
    "MS-OXCMAPIHTTP 2.2.1.3 AddressBookPropertyValueList",
    "PropertyValueCount" / Rebuild(Int32ul, len_(this.PropertyValues)),
    "PropertyValues" / BoundedArray(this.PropertyValueCount, AddressBookTaggedPropertyValue, min_size=4),
)

AddressBookTypedPropertyValue = struct(
    "MS-OXCMAPIHTTP 2.2.1.4 AddressBookTypedPropertyValue",
    "PropertyType" / PropertyType,
    "PropertyValue" / AddressBookPropertyValue(this.PropertyType),
)


def flagged_value(proptype) -> Construct:
    """PropertyValue by Flag (MS-OXCMAPIHTTP 2.2.1.5 table): 0x0 a value of `proptype`, 0x1 none,
    0xA a PtypErrorCode saying why the value is missing; any other Flag is an error."""
    return Switch(this.Flag, {0x0: AddressBookPropertyValue(proptype), 0x1: Pass,
                              0xA: AddressBookPropertyValue(PTYP_ERROR_CODE)}, default=c.Error)


AddressBookFlaggedPropertyValue = struct(
    "MS-OXCMAPIHTTP 2.2.1.5 AddressBookFlaggedPropertyValue (type implied by the context: this._.PropertyType)",
    "Flag" / Enum(Int8ul, FLAGGED_VALUE_FLAGS),
    "PropertyValue" / flagged_value(this._.PropertyType),
)

AddressBookFlaggedPropertyValueWithType = struct(
    "MS-OXCMAPIHTTP 2.2.1.6 AddressBookFlaggedPropertyValueWithType",
    "PropertyType" / PropertyType,
    "Flag" / Enum(Int8ul, FLAGGED_VALUE_FLAGS),
    "PropertyValue" / flagged_value(this.PropertyType),
)


# 2.2.1.7 AddressBookPropertyRow --------------------------------------------------------------

class AddressBookPropertyRow(Construct):
    """MS-OXCMAPIHTTP 2.2.1.7 AddressBookPropertyRow: Flags (1) + ValueArray, one entry per column.

    `columns` is a `this` expression for the LargePropertyTagArray of the same body (Columns or
    PropertyTags). Flags MUST be 0x0 or 0x1. By Flags and the column's type, each entry is
    0x0: an AddressBookPropertyValue, or an AddressBookTypedPropertyValue for a PtypUnspecified column;
    0x1: an AddressBookFlaggedPropertyValue, or an AddressBookFlaggedPropertyValueWithType.
    The entry is parsed in a context whose PropertyType is the column's type. A PtypNull column in a
    0x0 row would take no bytes; it is refused so that the work per row stays bounded by its bytes.

    Value: `{"Flags": n, "ValueArray": [entry, ...]}`; each entry also carries its column's PropertyTag.
    """

    PLAIN = AddressBookPropertyValue(this.PropertyType)

    def __init__(self, columns):
        super().__init__()
        self.columns = columns
        # the definitions of its entries (the fast path swaps in its own, fastgen.py)
        self.plain, self.flagged = self.PLAIN, AddressBookFlaggedPropertyValue
        self.typed, self.flagged_typed = AddressBookTypedPropertyValue, AddressBookFlaggedPropertyValueWithType

    def _entries(self, flags, context, path):
        """(column tag, column type, definition of its entry) for every column."""
        columns = c.evaluate(self.columns, context)
        if columns is None:
            raise c.ConstructError("row data without a column list", path=path)
        if flags not in (0x0, 0x1):
            raise c.ValidationError(f"row Flags {flags:#04x} is neither 0x0 nor 0x1", path=path)
        entries = []
        for tag in columns["PropertyTags"]:
            ptype = type_code(tag["PropertyType"])
            if flags == 0x0 and ptype == PTYP_NULL:
                raise c.ConstructError("a PtypNull column has no value bytes in a row with Flags 0x0", path=path)
            if ptype == PTYP_UNSPECIFIED:
                definition = self.typed if flags == 0x0 else self.flagged_typed
            else:
                definition = self.plain if flags == 0x0 else self.flagged
            entries.append((tag, ptype, definition))
        return entries

    @staticmethod
    def _entry_context(context, ptype):
        return c.Container(_=context, _params=context._params, _root=context.get("_root", context),
                           _parsing=context._parsing, _building=context._building, _sizing=context._sizing,
                           PropertyType=ptype)

    def _parse(self, stream, context, path):
        flags = Int8ul._parsereport(stream, context, path)
        values = c.ListContainer()
        for i, (tag, ptype, definition) in enumerate(self._entries(flags, context, path)):
            entry_path = f"{path} -> ValueArray[{i}]"
            entry = definition._parsereport(stream, self._entry_context(context, ptype), entry_path)
            values.append(c.Container(PropertyTag=tag, **entry))  # its column, to name it (not on the wire)
        return c.Container(Flags=flags, ValueArray=values)

    def _build(self, obj, stream, context, path):
        flags = int(obj["Flags"])
        entries = self._entries(flags, context, path)
        if len(entries) != len(obj["ValueArray"]):
            raise c.RangeError(f"{len(obj['ValueArray'])} values for {len(entries)} columns", path=path)
        Int8ul._build(flags, stream, context, path)
        for i, ((_, ptype, definition), value) in enumerate(zip(entries, obj["ValueArray"])):
            definition._build(value, stream, self._entry_context(context, ptype), f"{path} -> ValueArray[{i}]")
        return obj

    def _sizeof(self, context, path):
        raise c.SizeofError("variable size", path=path)


# 2.2.1.8 LargePropertyTagArray ---------------------------------------------------------------

LargePropertyTagArray = struct(
    "MS-OXCMAPIHTTP 2.2.1.8 LargePropertyTagArray",
    "PropertyTagCount" / Rebuild(Int32ul, len_(this.PropertyTags)),
    Check(this.PropertyTagCount <= MAX_COUNT),
    "PropertyTags" / BoundedArray(this.PropertyTagCount, PropertyTag),
)


def large_tag_array(*tags: int) -> dict:
    """A LargePropertyTagArray to build (2.2.1.8), from 32-bit property tags."""
    return {"PropertyTags": [{"PropertyType": tag & 0xFFFF, "PropertyId": tag >> 16} for tag in tags]}


# MS-OXNSPI structures ------------------------------------------------------------------------

SORT_TYPES = {0x00000000: "SortTypeDisplayName", 0x00000003: "SortTypePhoneticDisplayName",
              0x000003E8: "SortTypeDisplayName_RO", 0x000003E9: "SortTypeDisplayName_W"}
POSITIONS = {0x0: "MID_BEGINNING_OF_TABLE", 0x1: "MID_CURRENT", 0x2: "MID_END_OF_TABLE"}
CODE_PAGES = {0x000004B0: "CP_WINUNICODE", 0x00004F25: "CP_TELETEX"}
ANR_RESULTS = {0x0: "MID_UNRESOLVED", 0x1: "MID_AMBIGUOUS", 0x2: "MID_RESOLVED"}
DISPLAY_TYPES = {0x000: "DT_MAILUSER", 0x001: "DT_DISTLIST", 0x002: "DT_FORUM", 0x003: "DT_AGENT",
                 0x004: "DT_ORGANIZATION", 0x005: "DT_PRIVATE_DISTLIST", 0x006: "DT_REMOTE_MAILUSER",
                 0x100: "DT_CONTAINER", 0x101: "DT_TEMPLATE", 0x102: "DT_ADDRESS_TEMPLATE", 0x200: "DT_SEARCH"}

CodePage = OpenEnum(Int32ul, {**CODE_PAGE_NAMES, **CODE_PAGES})  # MS-OXNSPI 2.2.1.3 names first
MinimalEntryID = Int32ul  # MS-OXNSPI 2.2.9.1: a DWORD; values below 0x10 are signals

STAT = struct(
    "MS-OXNSPI 2.2.8 STAT",
    "SortType" / Enum(Int32ul, SORT_TYPES),
    "ContainerID" / MinimalEntryID,
    "CurrentRec" / OpenEnum(Int32ul, POSITIONS),  # a Minimal Entry ID or a position
    "Delta" / Int32sl,
    "NumPos" / Int32ul,
    "TotalRecs" / Int32ul,
    "CodePage" / CodePage,
    "TemplateLocale" / Lcid,
    "SortLocale" / Lcid,
)


def stat(**fields) -> dict:
    """A STAT to build (MS-OXNSPI 2.2.8) as Outlook sends it: the table's start, sorted by display
    name, code page 1252 and en-US locales; `fields` changed."""
    return {"SortType": 0, "ContainerID": 0, "CurrentRec": 0, "Delta": 0, "NumPos": 0, "TotalRecs": 0,
            "CodePage": 1252, "TemplateLocale": 0x409, "SortLocale": 0x409, **fields}


StringsArray_r = struct(
    "MS-OXNSPI 2.2.7.1 StringsArray_r, as laid out in MS-OXCMAPIHTTP 2.2.5.4.1: Count (4) + 8-bit strings",
    "Count" / Rebuild(Int32ul, len_(this.Strings)),
    Check(this.Count <= MAX_COUNT),
    "Strings" / BoundedArray(this.Count, AsciiZ),
)

EphemeralEntryID = struct(
    "MS-OXNSPI 2.2.9.2 EphemeralEntryID",
    "IDType" / Const(0x87, Int8ul),
    "R1" / Int8ul,
    "R2" / Int8ul,
    "R3" / Int8ul,
    "ProviderUID" / Guid,
    "R4" / Int32ul,
    "DisplayType" / Enum(Int32ul, DISPLAY_TYPES),
    "MId" / MinimalEntryID,
)

PermanentEntryID = struct(
    "MS-OXNSPI 2.2.9.3 PermanentEntryID",
    "IDType" / Const(0x00, Int8ul),
    "R1" / Int8ul,
    "R2" / Int8ul,
    "R3" / Int8ul,
    "ProviderUID" / Guid,
    "R4" / Int32ul,
    "DisplayTypeString" / Enum(Int32ul, DISPLAY_TYPES),
    "DistinguishedName" / AsciiZ,
)

# MS-OXCMAPIHTTP 2.2.5.10.1 gives EntryIds as EphemeralEntryID/PermanentEntryID structures back to back.
# Both implementations written against live servers (Interop-TestSuites, MAPI Inspector) put a 4-byte
# size before each one, which the spec does not document; this follows the wire.
SizedEntryId = struct(
    "MS-OXCMAPIHTTP 2.2.5.10.1 EntryIds element: size (4, undocumented) + EphemeralEntryID or PermanentEntryID",
    *sized_field("EntryIdSize", Int32ul, "EntryId", Select(EphemeralEntryID, PermanentEntryID)),
)


# Fields shared by the bodies -----------------------------------------------------------------

def minimal_ids(mid: Construct = MinimalEntryID) -> tuple:
    """HasMinimalIds (1) + MinimalIdCount (4) + MinimalIds, the last two present when the first is non-zero."""
    present = this.HasMinimalIds != 0
    return ("HasMinimalIds" / Int8ul,
            "MinimalIdCount" / If(present, Rebuild(Int32ul, len_(this.MinimalIds))),
            "MinimalIds" / If(present, BoundedArray(this.MinimalIdCount, mid)))


def columns_and_rows(has_name: str, columns_name: str) -> tuple:
    """Has-flag, column list, RowCount and RowData (one AddressBookPropertyRow per row, its values
    following the column list) of a response."""
    present = this[has_name] != 0
    return (has_name / Int8ul,
            columns_name / If(present, LargePropertyTagArray),
            "RowCount" / If(present, Rebuild(Int32ul, len_(this.RowData))),
            "RowData" / If(present, BoundedArray(this.RowCount, AddressBookPropertyRow(this[columns_name]))))


# 2.2.5.1 Bind --------------------------------------------------------------------------------

BindRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.1.1 Bind Request Type Request Body",
    "Flags" / Flags(Int32ul, {"fAnonymousLogin": 0x00000020}),
    *optional("HasState", "State", STAT),
    *aux(),
)

BindSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.1.2 Bind Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "ServerGuid" / Guid,
    *aux(),
)

BindFailure = failure("MS-OXCMAPIHTTP 2.2.5.1.3 Bind Request Type Failure Response Body")

# 2.2.5.2 Unbind ------------------------------------------------------------------------------

UnbindRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.2.1 Unbind Request Type Request Body",
    "Reserved" / Int32ul,
    *aux(),
)

UnbindSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.2.2 Unbind Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *aux(),
)

UnbindFailure = failure("MS-OXCMAPIHTTP 2.2.5.2.3 Unbind Request Type Failure Response Body")

# 2.2.5.3 CompareMIds (CompareMinIds) ---------------------------------------------------------

CompareMIdsRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.3.1 CompareMinIds Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasState", "State", STAT),
    "MinimalId1" / MinimalEntryID,
    "MinimalId2" / MinimalEntryID,
    *aux(),
)

CompareMIdsSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.3.2 CompareMinIds Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "Result" / Int32sl,
    *aux(),
)

CompareMIdsFailure = failure("MS-OXCMAPIHTTP 2.2.5.3.3 CompareMinIds Request Type Failure Response Body")

# 2.2.5.4 DNToMId (DnToMinId) -----------------------------------------------------------------

DNToMIdRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.4.1 DnToMinId Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasNames", "Names", StringsArray_r),
    *aux(),
)

DNToMIdSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.4.2 DnToMinId Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *minimal_ids(),
    *aux(),
)

DNToMIdFailure = failure("MS-OXCMAPIHTTP 2.2.5.4.3 DnToMinId Request Type Failure Response Body")

# 2.2.5.5 GetMatches --------------------------------------------------------------------------

GetMatchesRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.5.1 GetMatches Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasState", "State", STAT),
    *minimal_ids(),
    "InterfaceOptionFlags" / Int32ul,
    *optional("HasFilter", "Filter", Restriction(count_size=4)),  # 32-bit RestrictCount in MAPI/HTTP
    "HasPropertyName" / Int8ul,
    "PropertyNameGuid" / If(this.HasPropertyName != 0, Guid),
    "PropertyNameId" / If(this.HasPropertyName != 0, Int32ul),
    "RowCount" / Int32ul,
    *optional("HasColumns", "Columns", LargePropertyTagArray),
    *aux(),
)

GetMatchesSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.5.2 GetMatches Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *optional("HasState", "State", STAT),
    *minimal_ids(),
    *columns_and_rows("HasColumnsAndRows", "Columns"),
    *aux(),
)

GetMatchesFailure = failure("MS-OXCMAPIHTTP 2.2.5.5.3 GetMatches Request Type Failure Response Body")

# 2.2.5.6 GetPropList -------------------------------------------------------------------------

GetPropListRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.6.1 GetPropList Request Type Request Body",
    "Flags" / Flags(Int32ul, {"fSkipObjects": 0x00000001}),
    "MinimalId" / MinimalEntryID,
    "CodePage" / CodePage,
    *aux(),
)

GetPropListSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.6.2 GetPropList Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *optional("HasPropertyTags", "PropertyTags", LargePropertyTagArray),
    *aux(),
)

GetPropListFailure = failure("MS-OXCMAPIHTTP 2.2.5.6.3 GetPropList Request Type Failure Response Body")

# 2.2.5.7 GetProps ----------------------------------------------------------------------------

RETRIEVAL_FLAGS = {"fSkipObjects": 0x00000001, "fEphID": 0x00000002}

GetPropsRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.7.1 GetProps Request Type Request Body",
    "Flags" / Flags(Int32ul, RETRIEVAL_FLAGS),
    *optional("HasState", "State", STAT),
    *optional("HasPropertyTags", "PropertyTags", LargePropertyTagArray),
    *aux(),
)

GetPropsSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.7.2 GetProps Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "CodePage" / CodePage,
    *optional("HasPropertyValues", "PropertyValues", AddressBookPropertyValueList),
    *aux(),
)

GetPropsFailure = failure("MS-OXCMAPIHTTP 2.2.5.7.3 GetProps Request Type Failure Response Body")

# 2.2.5.8 GetSpecialTable ---------------------------------------------------------------------

GetSpecialTableRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.8.1 GetSpecialTable Request Type Request Body",
    "Flags" / Flags(Int32ul, {"NspiAddressCreationTemplates": 0x00000002, "NspiUnicodeStrings": 0x00000004}),
    *optional("HasState", "State", STAT),
    *optional("HasVersion", "Version", Int32ul),
    *aux(),
)

GetSpecialTableSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.8.2 GetSpecialTable Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "CodePage" / CodePage,
    *optional("HasVersion", "Version", Int32ul),
    "HasRows" / Int8ul,
    "RowsCount" / If(this.HasRows != 0, Rebuild(Int32ul, len_(this.Rows))),
    "Rows" / If(this.HasRows != 0, BoundedArray(this.RowsCount, AddressBookPropertyValueList, min_size=4)),
    *aux(),
)

GetSpecialTableFailure = failure("MS-OXCMAPIHTTP 2.2.5.8.3 GetSpecialTable Request Type Failure Response Body")

# 2.2.5.9 GetTemplateInfo ---------------------------------------------------------------------

TEMPLATE_FLAGS = {"TI_TEMPLATE": 0x00000001, "TI_SCRIPT": 0x00000004, "TI_EMT": 0x00000010,
                  "TI_HELPFILE_NAME": 0x00000020, "TI_HELPFILE_CONTENTS": 0x00000040}

GetTemplateInfoRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.9.1 GetTemplateInfo Request Type Request Body",
    "Flags" / Flags(Int32ul, TEMPLATE_FLAGS),
    "DisplayType" / Enum(Int32ul, DISPLAY_TYPES),
    *optional("HasTemplateDn", "TemplateDn", AsciiZ),
    "CodePage" / CodePage,
    "LocaleId" / Lcid,
    *aux(),
)

GetTemplateInfoSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.9.2 GetTemplateInfo Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "CodePage" / CodePage,
    *optional("HasRow", "Row", AddressBookPropertyValueList),
    *aux(),
)

GetTemplateInfoFailure = failure("MS-OXCMAPIHTTP 2.2.5.9.3 GetTemplateInfo Request Type Failure Response Body")

# 2.2.5.10 ModLinkAtt -------------------------------------------------------------------------

ModLinkAttRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.10.1 ModLinkAtt Request Type Request Body",
    "Flags" / Flags(Int32ul, {"fDelete": 0x00000001}),
    "PropertyTag" / PropertyTag,
    "MinimalId" / MinimalEntryID,
    "HasEntryIds" / Int8ul,
    "EntryIdCount" / If(this.HasEntryIds != 0, Rebuild(Int32ul, len_(this.EntryIds))),
    "EntryIds" / If(this.HasEntryIds != 0, BoundedArray(this.EntryIdCount, SizedEntryId, min_size=4)),
    *aux(),
)

ModLinkAttSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.10.2 ModLinkAtt Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *aux(),
)

ModLinkAttFailure = failure("MS-OXCMAPIHTTP 2.2.5.10.3 ModLinkAtt Request Type Failure Response Body")

# 2.2.5.11 ModProps ---------------------------------------------------------------------------

ModPropsRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.11.1 ModProps Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasState", "State", STAT),
    *optional("HasPropertyTags", "PropertyTags", LargePropertyTagArray),  # the properties to remove
    *optional("HasPropertyValues", "PropertyValues", AddressBookPropertyValueList),
    *aux(),
)

ModPropsSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.11.2 ModProps Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *aux(),
)

ModPropsFailure = failure("MS-OXCMAPIHTTP 2.2.5.11.3 ModProps Request Type Failure Response Body")

# 2.2.5.12 QueryRows --------------------------------------------------------------------------

QueryRowsRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.12.1 QueryRows Request Type Request Body",
    "Flags" / Flags(Int32ul, RETRIEVAL_FLAGS),
    *optional("HasState", "State", STAT),
    "ExplicitTableCount" / Rebuild(Int32ul, len_(this.ExplicitTable)),
    Check(this.ExplicitTableCount <= MAX_COUNT),
    "ExplicitTable" / BoundedArray(this.ExplicitTableCount, MinimalEntryID),
    "RowCount" / Int32ul,
    *optional("HasColumns", "Columns", LargePropertyTagArray),
    *aux(),
)

QueryRowsSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.12.2 QueryRows Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *optional("HasState", "State", STAT),
    *columns_and_rows("HasColumnsAndRows", "Columns"),
    *aux(),
)

QueryRowsFailure = failure("MS-OXCMAPIHTTP 2.2.5.12.3 QueryRows Request Type Failure Response Body")

# 2.2.5.13 QueryColumns -----------------------------------------------------------------------

QueryColumnsRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.13.1 QueryColumns Request Type Request Body",
    "Reserved" / Int32ul,
    "MapiFlags" / Flags(Int32ul, {"NspiUnicodeProptypes": 0x80000000}),
    *aux(),
)

QueryColumnsSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.13.2 QueryColumns Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *optional("HasColumns", "Columns", LargePropertyTagArray),
    *aux(),
)

QueryColumnsFailure = failure("MS-OXCMAPIHTTP 2.2.5.13.3 QueryColumns Request Type Failure Response Body")

# 2.2.5.14 ResolveNames -----------------------------------------------------------------------

ResolveNamesRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.14.1 ResolveNames Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasState", "State", STAT),
    *optional("HasPropertyTags", "PropertyTags", LargePropertyTagArray),
    "HasNames" / Int8ul,
    "NameCount" / If(this.HasNames != 0, Rebuild(Int32ul, len_(this.NameValues))),
    "NameValues" / If(this.HasNames != 0, BoundedArray(this.NameCount, UnicodeZ, min_size=2)),
    *aux(),
)

ResolveNamesSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.14.2 ResolveNames Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "CodePage" / CodePage,
    *minimal_ids(OpenEnum(Int32ul, ANR_RESULTS)),  # Minimal Entry IDs, or one of the three results
    *columns_and_rows("HasRowsAndCols", "PropertyTags"),
    *aux(),
)

ResolveNamesFailure = failure("MS-OXCMAPIHTTP 2.2.5.14.3 ResolveNames Request Type Failure Response Body")

# 2.2.5.15 ResortRestriction ------------------------------------------------------------------

ResortRestrictionRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.15.1 ResortRestriction Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasState", "State", STAT),
    *minimal_ids(),
    *aux(),
)

ResortRestrictionSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.15.2 ResortRestriction Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *optional("HasState", "State", STAT),
    *minimal_ids(),
    *aux(),
)

ResortRestrictionFailure = failure("MS-OXCMAPIHTTP 2.2.5.15.3 ResortRestriction Request Type Failure Response Body")

# 2.2.5.16 SeekEntries ------------------------------------------------------------------------

SeekEntriesRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.16.1 SeekEntries Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasState", "State", STAT),
    *optional("HasTarget", "Target", AddressBookTaggedPropertyValue),
    "HasExplicitTable" / Int8ul,
    "ExplicitTableCount" / If(this.HasExplicitTable != 0, Rebuild(Int32ul, len_(this.ExplicitTable))),
    If(this.HasExplicitTable != 0, Check(this.ExplicitTableCount <= MAX_COUNT)),
    "ExplicitTable" / If(this.HasExplicitTable != 0, BoundedArray(this.ExplicitTableCount, MinimalEntryID)),
    *optional("HasColumns", "Columns", LargePropertyTagArray),
    *aux(),
)

SeekEntriesSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.16.2 SeekEntries Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *optional("HasState", "State", STAT),
    *columns_and_rows("HasColumnsAndRows", "Columns"),
    *aux(),
)

SeekEntriesFailure = failure("MS-OXCMAPIHTTP 2.2.5.16.3 SeekEntries Request Type Failure Response Body")

# 2.2.5.17 UpdateStat -------------------------------------------------------------------------

UpdateStatRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.17.1 UpdateStat Request Type Request Body",
    "Reserved" / Int32ul,
    *optional("HasState", "State", STAT),
    "DeltaRequested" / Int8ul,
    *aux(),
)

UpdateStatSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.17.2 UpdateStat Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    *optional("HasState", "State", STAT),
    *optional("HasDelta", "Delta", Int32sl),
    *aux(),
)

UpdateStatFailure = failure("MS-OXCMAPIHTTP 2.2.5.17.3 UpdateStat Request Type Failure Response Body")

# 2.2.5.18 GetMailboxUrl ----------------------------------------------------------------------

GetMailboxUrlRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.18.1 GetMailboxUrl Request Type Request Body",
    "Flags" / Int32ul,
    "ServerDn" / UnicodeZ,
    *aux(),
)

GetMailboxUrlSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.18.2 GetMailboxUrl Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "ServerUrl" / UnicodeZ,
    *aux(),
)

GetMailboxUrlFailure = failure("MS-OXCMAPIHTTP 2.2.5.18.3 GetMailboxUrl Request Type Failure Response Body")

# 2.2.5.19 GetAddressBookUrl ------------------------------------------------------------------

GetAddressBookUrlRequest = struct(
    "MS-OXCMAPIHTTP 2.2.5.19.1 GetAddressBookUrl Request Type Request Body",
    "Flags" / Int32ul,
    "UserDn" / UnicodeZ,
    *aux(),
)

GetAddressBookUrlSuccess = struct(
    "MS-OXCMAPIHTTP 2.2.5.19.2 GetAddressBookUrl Request Type Success Response Body",
    "StatusCode" / Int32ul,
    "ErrorCode" / ErrorCode,
    "ServerUrl" / UnicodeZ,
    *aux(),
)

GetAddressBookUrlFailure = failure("MS-OXCMAPIHTTP 2.2.5.19.3 GetAddressBookUrl Request Type Failure Response Body")


# Registry ------------------------------------------------------------------------------------

# (X-RequestType, section, request, success, failure), in MS-OXCMAPIHTTP 2.2.5 order.
BODIES = [
    ("Bind", "2.2.5.1", BindRequest, BindSuccess, BindFailure),
    ("Unbind", "2.2.5.2", UnbindRequest, UnbindSuccess, UnbindFailure),
    ("CompareMIds", "2.2.5.3", CompareMIdsRequest, CompareMIdsSuccess, CompareMIdsFailure),
    ("DNToMId", "2.2.5.4", DNToMIdRequest, DNToMIdSuccess, DNToMIdFailure),
    ("GetMatches", "2.2.5.5", GetMatchesRequest, GetMatchesSuccess, GetMatchesFailure),
    ("GetPropList", "2.2.5.6", GetPropListRequest, GetPropListSuccess, GetPropListFailure),
    ("GetProps", "2.2.5.7", GetPropsRequest, GetPropsSuccess, GetPropsFailure),
    ("GetSpecialTable", "2.2.5.8", GetSpecialTableRequest, GetSpecialTableSuccess, GetSpecialTableFailure),
    ("GetTemplateInfo", "2.2.5.9", GetTemplateInfoRequest, GetTemplateInfoSuccess, GetTemplateInfoFailure),
    ("ModLinkAtt", "2.2.5.10", ModLinkAttRequest, ModLinkAttSuccess, ModLinkAttFailure),
    ("ModProps", "2.2.5.11", ModPropsRequest, ModPropsSuccess, ModPropsFailure),
    ("QueryRows", "2.2.5.12", QueryRowsRequest, QueryRowsSuccess, QueryRowsFailure),
    ("QueryColumns", "2.2.5.13", QueryColumnsRequest, QueryColumnsSuccess, QueryColumnsFailure),
    ("ResolveNames", "2.2.5.14", ResolveNamesRequest, ResolveNamesSuccess, ResolveNamesFailure),
    ("ResortRestriction", "2.2.5.15", ResortRestrictionRequest, ResortRestrictionSuccess, ResortRestrictionFailure),
    ("SeekEntries", "2.2.5.16", SeekEntriesRequest, SeekEntriesSuccess, SeekEntriesFailure),
    ("UpdateStat", "2.2.5.17", UpdateStatRequest, UpdateStatSuccess, UpdateStatFailure),
    ("GetMailboxUrl", "2.2.5.18", GetMailboxUrlRequest, GetMailboxUrlSuccess, GetMailboxUrlFailure),
    ("GetAddressBookUrl", "2.2.5.19", GetAddressBookUrlRequest, GetAddressBookUrlSuccess, GetAddressBookUrlFailure),
]


ADDRESS_BOOK = [BodyDef(request_type, "nspi", f"MS-OXCMAPIHTTP {section}", request, success, fail)
                for request_type, section, request, success, fail in BODIES]
