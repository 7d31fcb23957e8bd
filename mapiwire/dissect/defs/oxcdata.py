"""MS-OXCDATA data structures shared by the ROPs: ids and entry ids (2.2), property names and
problems (2.6, 2.7), rows (2.8), property tags (2.9), property values (2.11), restrictions (2.12)
and sort orders (2.13). Error codes (2.4) are in `errorcodes.py`.

Three named custom constructs carry what construct cannot say statically; the JSON normaliser
and wireshark/luagen.py know each by name:

- `PropertyValue(type_expr, count_size)`: a value laid out by its property type (2.11.1).
- `PropertyRow(columns_expr, column_count)`: a StandardPropertyRow or FlaggedPropertyRow whose
  values follow the columns of the table (2.8.1).
- `Restriction(count_size, max_depth)`: the 12 restriction types, recursive with a depth bound
  (2.12); each type's own fields are a declarative Struct in `Restriction.bodies`.

COUNT widths (2.11.1.1): in ROP buffers a PtypBinary byte count is 2 bytes and every PtypMultiple
value count is 4 bytes; in extended rules ([MS-OXORULE] 2.2.4) and MAPI/HTTP both are 4 bytes.
`count_size` is the width of the byte counts (2 or 4); PtypMultiple value counts are always 4.
The same `count_size` gives the width of RestrictCount (2.12.1.1, 2.12.2.1) and of the RuleAction
counts ([MS-OXORULE] 2.2.5). PtypServerId keeps its explicit 16-bit COUNT in both contexts.

`CODECS[count_size]` is the pair (readers, writers) of dicts keyed by property type behind
PropertyValue and PropertyRow, for modules that frame the same value encodings differently.

Ids: a Folder ID / Message ID (2.2.1.1, 2.2.1.2) is `{ReplicaId: int, GlobalCounter: 6 bytes}`;
the counter is kept as its wire bytes (JSON shows hex), not turned into a number.
"""

from __future__ import annotations

import struct as _struct
import uuid
from codecs import utf_16_le_decode as _utf_16_le_decode

import construct as c
from construct import (Bytes, Construct, If, IfThenElse, Int8ul, Int16ul, Int32ul, Pass, Rebuild, Switch,
                       evaluate, len_, this)

from .budget import budget_of
from .core import (AsciiZ, BoundedArray, Enum, EnumValue, FileTimeValue, Flags, Guid, GuidValue, HexBytes, SizeOf,
                   Sized, StateMissing, UnicodeZ, remaining, struct)
from .errorcodes import ERROR_CODES, ErrorCode
from .proptypes import MULTI_VALUE_FLAG, MULTI_VALUE_INSTANCE, PROPERTY_TYPES, PropertyType

# 2.9 PropertyTag -------------------------------------------------------------------------------

PropertyTag = struct(
    "MS-OXCDATA 2.9 PropertyTag Structure",
    "PropertyType" / PropertyType,
    "PropertyId" / Int16ul,
)


def tag_value(tag) -> int:
    """The 32-bit property tag 0xIIIITTTT of a parsed PropertyTag (or of an int, unchanged)."""
    if isinstance(tag, int):
        return int(tag)
    return (int(tag["PropertyId"]) << 16) | int(tag["PropertyType"])


def tag_container(value: int) -> c.Container:
    """The parsed form of a 32-bit property tag: `{PropertyType, PropertyId}`."""
    ptype = value & 0xFFFF
    return c.Container(PropertyType=EnumValue(ptype, PROPERTY_TYPES.get(ptype)), PropertyId=value >> 16)


def optional_sized(condition, size_name: str, size_subcon: Construct, name: str, subcon: Construct) -> tuple:
    """`core.sized_field` for a size and field present only when `condition` holds."""
    return (size_name / If(condition, SizeOf(size_subcon, name)),
            name / If(condition, Sized(this[size_name], subcon, name, size_subcon)))


# 2.2.1 Folder ID, Message ID, GID, LongTermID ---------------------------------------------------

FolderID = struct(
    "MS-OXCDATA 2.2.1.1 Folder ID Structure",
    "ReplicaId" / Int16ul,
    "GlobalCounter" / Bytes(6),
)

MessageID = struct(
    "MS-OXCDATA 2.2.1.2 Message ID Structure",
    "ReplicaId" / Int16ul,
    "GlobalCounter" / Bytes(6),
)

GID = struct(
    "MS-OXCDATA 2.2.1.3 Global Identifier Structure",
    "DatabaseGuid" / Guid,
    "GlobalCounter" / Bytes(6),
)

LongTermID = struct(
    "MS-OXCDATA 2.2.1.3.1 LongTermID Structure",
    "DatabaseGuid" / Guid,
    "GlobalCounter" / Bytes(6),
    "Pad" / Int16ul,
)

# 2.2.4 Messaging object entry ids ----------------------------------------------------------------

STORE_OBJECT_TYPES = {  # 2.2.4 ObjectType (alternate names eitLT*)
    0x0001: "PrivateFolder", 0x0003: "PublicFolder", 0x0005: "MappedPublicFolder",
    0x0007: "PrivateMessage", 0x0009: "PublicMessage", 0x000B: "MappedPublicMessage",
    0x000C: "PublicNewsgroupFolder",
}

FolderEntryID = struct(
    "MS-OXCDATA 2.2.4.1 Folder EntryID Format",
    "Flags" / Int32ul,
    "ProviderUID" / Guid,
    "FolderType" / Enum(Int16ul, STORE_OBJECT_TYPES),
    "DatabaseGuid" / Guid,
    "GlobalCounter" / Bytes(6),
    "Pad" / Int16ul,
)

MessageEntryID = struct(
    "MS-OXCDATA 2.2.4.2 Message EntryID Format",
    "Flags" / Int32ul,
    "ProviderUID" / Guid,
    "MessageType" / Enum(Int16ul, STORE_OBJECT_TYPES),
    "FolderDatabaseGuid" / Guid,
    "FolderGlobalCounter" / Bytes(6),
    "Pad1" / Int16ul,
    "MessageDatabaseGuid" / Guid,
    "MessageGlobalCounter" / Bytes(6),
    "Pad2" / Int16ul,
)

StoreObjectEntryID = struct(
    "MS-OXCDATA 2.2.4.3 Store Object EntryID Structure (the fields up to MailboxDN)",
    "Flags" / Int32ul,
    "ProviderUID" / Guid,
    "Version" / Int8ul,
    "Flag" / Int8ul,
    "DLLFileName" / Bytes(14),
    "WrappedFlags" / Int32ul,
    "WrappedProviderUID" / Guid,
    "WrappedType" / Int32ul,
    "ServerShortname" / AsciiZ,
    "MailboxDN" / AsciiZ,
)

# 2.2.5 Address book entry ids --------------------------------------------------------------------

ONE_OFF_FLAGS = {"M": 0x0001, "L": 0x2000, "R": 0x4000, "U": 0x8000}  # MAE (0x0060), Format (0x001E) stay in the value

OneOffEntryID = struct(
    "MS-OXCDATA 2.2.5.1 One-Off EntryID Structure",
    "Flags" / Int32ul,
    "ProviderUID" / Guid,
    "Version" / Int16ul,
    "OneOffFlags" / Flags(Int16ul, ONE_OFF_FLAGS),  # Pad, MAE, Format, M, U, R, L, Pad
    "DisplayName" / IfThenElse((this.OneOffFlags & 0x8000) != 0, UnicodeZ, AsciiZ),
    "AddressType" / IfThenElse((this.OneOffFlags & 0x8000) != 0, UnicodeZ, AsciiZ),
    "EmailAddress" / IfThenElse((this.OneOffFlags & 0x8000) != 0, UnicodeZ, AsciiZ),
)

AddressBookEntryID = struct(
    "MS-OXCDATA 2.2.5.2 Address Book EntryID Structure",
    "Flags" / Int32ul,
    "ProviderUID" / Guid,
    "Version" / Int32ul,
    "Type" / Int32ul,
    "X500DN" / AsciiZ,
)

# 2.6.1 PropertyName, 2.7 PropertyProblem ----------------------------------------------------------

PROPERTY_NAME_KINDS = {0x00: "LID", 0x01: "Name", 0xFF: "NoName"}  # 2.6.1 Kind: identified by LID / Name / none

PropertyName = struct(
    "MS-OXCDATA 2.6.1 PropertyName Structure",
    "Kind" / Enum(Int8ul, PROPERTY_NAME_KINDS),
    "GUID" / Guid,
    "LID" / If(this.Kind == 0x00, Int32ul),
    *optional_sized(this.Kind == 0x01, "NameSize", Int8ul, "Name", UnicodeZ),
)

PropertyProblem = struct(
    "MS-OXCDATA 2.7 PropertyProblem Structure",
    "Index" / Int16ul,
    "PropertyTag" / PropertyTag,
    "ErrorCode" / ErrorCode,
)

# 2.11.2.1 PropertyValue ----------------------------------------------------------------------------


def _read(stream, size: int, path) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise c.StreamError(f"needs {size} bytes, {len(data)} left", path=path)
    return data


def _scalar(fmt: str, wrap=None):
    """Reader and writer of one fixed-size value."""
    codec = _struct.Struct(fmt)
    size, unpack, pack = codec.size, codec.unpack, codec.pack
    if wrap is None:
        def read(stream, context, path):
            data = stream.read(size)
            if len(data) != size:
                raise c.StreamError(f"needs {size} bytes, {len(data)} left", path=path)
            return unpack(data)[0]
    else:
        def read(stream, context, path):
            data = stream.read(size)
            if len(data) != size:
                raise c.StreamError(f"needs {size} bytes, {len(data)} left", path=path)
            return wrap(unpack(data)[0])

    def write(value, stream, context, path):
        stream.write(pack(value))
    return read, write, size


def _read_boolean(stream, context, path):
    byte = _read(stream, 1, path)[0]
    return bool(byte) if byte < 2 else byte  # MUST be 0 or 1; any other byte is kept as it was


def _write_boolean(value, stream, context, path):
    stream.write(bytes((int(value) & 0xFF,)))


def _read_error(stream, context, path):
    value = int.from_bytes(_read(stream, 4, path), "little")
    return EnumValue(value, ERROR_CODES.get(value))


_ERROR_VALUES = {name: value for value, name in ERROR_CODES.items()}


def _write_error(value, stream, context, path):
    if isinstance(value, str):
        try:
            value = _ERROR_VALUES[value]
        except KeyError:
            raise c.MappingError(f"no error code named {value!r}", path=path) from None
    stream.write(int(value).to_bytes(4, "little"))


def _read_guid(stream, context, path):
    return GuidValue(bytes_le=_read(stream, 16, path))


def _write_guid(value, stream, context, path):
    if isinstance(value, str):
        value = uuid.UUID(value.strip("{}"))
    stream.write(value.bytes_le)


def _string_reader(terminator: bytes, decode, fallback: Construct):
    """A null-terminated string: one short read finds most strings; longer ones go to `fallback`."""
    unit = len(terminator)

    def read(stream, context, path):
        start = stream.tell()
        chunk = stream.read(128)
        end = chunk.find(terminator)
        while end != -1 and end % unit:
            end = chunk.find(terminator, end + 1)
        if end == -1:
            stream.seek(start)
            return fallback._parse(stream, context, path)
        stream.seek(start + end + unit)
        return decode(chunk[:end])
    return read


def decode_utf16(data: bytes) -> str:
    return _utf_16_le_decode(data, "surrogatepass", True)[0]


def decode_latin1(data: bytes) -> str:
    return data.decode("latin-1")


_read_unicode = _string_reader(b"\0\0", decode_utf16, UnicodeZ)
_read_string8 = _string_reader(b"\0", decode_latin1, AsciiZ)


def _write_unicode(value, stream, context, path):
    stream.write(value.encode("utf-16-le", "surrogatepass") + b"\0\0")


def _write_string8(value, stream, context, path):
    stream.write(value.encode("latin-1") + b"\0")


def _as_bytes(value) -> bytes:
    return bytes.fromhex(value) if isinstance(value, str) else bytes(value)


def _binary(count_size: int):
    """PtypBinary: a COUNT of `count_size` bytes, then that many bytes."""
    limit = 1 << (8 * count_size)

    def read(stream, context, path):
        size = int.from_bytes(_read(stream, count_size, path), "little")
        return _read(stream, size, path)

    def write(value, stream, context, path):
        data = _as_bytes(value)
        if len(data) >= limit:
            raise c.ConstructError(f"{len(data)} bytes do not fit a {count_size}-byte COUNT", path=path)
        stream.write(len(data).to_bytes(count_size, "little") + data)
    return read, write


def _multiple(element_read, element_write, min_size: int):
    """PtypMultiple*: a 4-byte value COUNT, then that many values of the single type."""
    def read(stream, context, path):
        count = int.from_bytes(_read(stream, 4, path), "little")
        left = remaining(stream)
        if count * min_size > left:
            raise c.RangeError(f"{count} values need at least {count * min_size} bytes, {left} left", path=path)
        return c.ListContainer([element_read(stream, context, path) for _ in range(count)])

    def write(value, stream, context, path):
        stream.write(len(value).to_bytes(4, "little"))
        for item in value:
            element_write(item, stream, context, path)
    return read, write


_ServerIdBody = struct(
    "MS-OXCDATA 2.11.1.4 PtypServerId Type (Ours = 0x01)",
    "Ours" / Int8ul,
    "FolderId" / FolderID,
    "MessageId" / MessageID,
    "Instance" / Int32ul,
)


def _read_server_id(stream, context, path):
    """PtypServerId: a 16-bit COUNT, then either the 21-byte structure (Ours = 0x01) or, when
    Ours is 0x00 or the size differs, client-defined bytes kept raw."""
    size = int.from_bytes(_read(stream, 2, path), "little")
    return server_id_value(_read(stream, size, path))


def server_id_value(data: bytes):
    """The value of PtypServerId bytes (after the COUNT): the structure when Ours is 0x01 and
    the size is 21, else the bytes."""
    if len(data) == 21 and data[0] == 0x01:
        return _ServerIdBody.parse(data)
    return data


def _write_server_id(value, stream, context, path):
    data = _ServerIdBody.build(value) if isinstance(value, dict) else _as_bytes(value)
    if len(data) > 0xFFFF:
        raise c.ConstructError(f"{len(data)} bytes do not fit the 16-bit COUNT", path=path)
    stream.write(len(data).to_bytes(2, "little") + data)


def _read_null(stream, context, path):
    return None


def _write_null(value, stream, context, path):
    pass


def _construct_codec(registry: dict, count_size: int):
    """Reader and writer delegating to `registry[count_size]` (looked up at call time: the
    Restriction and RuleAction definitions are made after the codec tables they appear in)."""
    def read(stream, context, path):
        return registry[count_size]._parsereport(stream, context, path)

    def write(value, stream, context, path):
        registry[count_size]._build(value, stream, context, path)
    return read, write


RESTRICTIONS: dict = {}  # count_size -> Restriction, filled below
RULE_ACTIONS: dict = {}  # count_size -> RuleAction, filled below


# 2.11.1 the layout of each property type's value: (kind, argument). MV_INSTANCE types (2.11.1.4)
# carry one value of their single type. PtypObject / PtypEmbeddedTable (2.11.1.5) has no value
# layout of its own (stores refuse it in RopGetPropertiesSpecific): read as 4 bytes, like the
# reserved long of [MS-OXNSPI] PROP_VAL_UNION.
_SINGLE_LAYOUTS = {
    0x0002: ("scalar", ("<h", None)), 0x0003: ("scalar", ("<i", None)), 0x0004: ("scalar", ("<f", None)),
    0x0005: ("scalar", ("<d", None)), 0x0006: ("scalar", ("<q", None)), 0x0007: ("scalar", ("<d", None)),
    0x0014: ("scalar", ("<q", None)), 0x0040: ("scalar", ("<Q", FileTimeValue)), 0x000A: ("error", None),
    0x000B: ("boolean", None), 0x0048: ("guid", None), 0x001F: ("unicode", None), 0x001E: ("string8", None),
    0x0102: ("binary", None),
}
_MULTIPLE_OF = (0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x0014, 0x001E, 0x001F, 0x0040, 0x0048, 0x0102)
_OTHER_LAYOUTS = {0x0001: ("null", None), 0x000D: ("scalar", ("<I", None)), 0x00FB: ("server_id", None),
                  0x00FD: ("restriction", None), 0x00FE: ("rule_action", None)}


def value_layouts() -> dict:
    """Every property type with a value layout -> (kind, argument): ("scalar", (struct format,
    wrapping class or None)), ("multiple", element type), or a kind with no argument ("error",
    "boolean", "guid", "unicode", "string8", "binary", "null", "server_id", "restriction",
    "rule_action"). The readers and writers below, and the fast path's readers (fastvalues.py),
    are made from this one table."""
    layouts = dict(_SINGLE_LAYOUTS)
    for ptype in _MULTIPLE_OF:
        layouts[ptype | MULTI_VALUE_FLAG] = ("multiple", ptype)
        layouts[ptype | MULTI_VALUE_FLAG | MULTI_VALUE_INSTANCE] = _SINGLE_LAYOUTS[ptype]
    layouts.update(_OTHER_LAYOUTS)
    return layouts


def min_value_size(layout: tuple, count_size: int) -> int:
    """The fewest bytes a value of this layout takes (bounds a PtypMultiple count)."""
    kind, argument = layout
    if kind == "scalar":
        return _struct.calcsize(argument[0])
    return {"error": 4, "guid": 16, "unicode": 2, "binary": count_size}.get(kind, 1)


def _codecs(count_size: int) -> tuple[dict, dict]:
    """Readers and writers of every property type, keyed by PropertyType, for one COUNT width."""
    single = {"error": (_read_error, _write_error), "boolean": (_read_boolean, _write_boolean),
              "guid": (_read_guid, _write_guid), "unicode": (_read_unicode, _write_unicode),
              "string8": (_read_string8, _write_string8), "binary": _binary(count_size),
              "null": (_read_null, _write_null), "server_id": (_read_server_id, _write_server_id),
              "restriction": _construct_codec(RESTRICTIONS, count_size),
              "rule_action": _construct_codec(RULE_ACTIONS, count_size)}
    layouts = value_layouts()

    def codec(layout):
        kind, argument = layout
        if kind == "scalar":
            return _scalar(*argument)[:2]
        if kind == "multiple":
            element = layouts[argument]
            return _multiple(*codec(element), min_value_size(element, count_size))
        return single[kind]
    table = {ptype: codec(layout) for ptype, layout in layouts.items()}
    return {k: v[0] for k, v in table.items()}, {k: v[1] for k, v in table.items()}


CODECS = {size: _codecs(size) for size in (2, 4)}


def _write(writer, value, stream, context, path) -> None:
    """Run a value writer; a value it cannot write is a ConstructError naming the value."""
    try:
        writer(value, stream, context, path)
    except (TypeError, ValueError, AttributeError, LookupError, OverflowError, _struct.error) as exc:
        raise c.ConstructError(f"cannot write {value!r}: {exc}", path=path) from None


def _unknown(ptype: int, path) -> c.ConstructError:
    if ptype == 0x0000:
        return c.MappingError("PtypUnspecified (0x0000) has no value layout; the value needs its own PropertyType",
                              path=path)
    return c.MappingError(f"unknown property type {ptype:#06x}", path=path)


class PropertyValue(Construct):
    """MS-OXCDATA 2.11.2.1 PropertyValue Structure: the value of a property whose type comes
    from `type_expr` (a `this` expression or an int), laid out as MS-OXCDATA 2.11.1 says for
    that type. `count_size` is the width of the PtypBinary byte counts (2 in ROP buffers, 4 in
    extended rules and MAPI/HTTP). An unknown type is a MappingError naming it.

    Values: ints (Integer16/32/64, Currency signed; Object as its 4 bytes), floats, bool for
    Boolean (a byte other than 0/1 stays an int), EnumValue for ErrorCode, FileTimeValue,
    GuidValue, str (String: UTF-16LE; String8: latin-1 so every byte round-trips), bytes,
    None for Null, lists for PtypMultiple*, a Container for ServerId (or bytes when the
    client defined it), Restriction and RuleAction.
    """

    def __init__(self, type_expr, count_size: int = 2):
        super().__init__()
        if count_size not in (2, 4):
            raise ValueError("count_size is 2 or 4")
        self.type_expr = type_expr
        self.count_size = count_size
        self.readers, self.writers = CODECS[count_size]

    def _parse(self, stream, context, path):
        ptype = int(evaluate(self.type_expr, context))
        reader = self.readers.get(ptype)
        if reader is None:
            raise _unknown(ptype, path)
        return reader(stream, context, path)

    def _build(self, obj, stream, context, path):
        ptype = int(evaluate(self.type_expr, context))
        writer = self.writers.get(ptype)
        if writer is None:
            raise _unknown(ptype, path)
        _write(writer, obj, stream, context, path)
        return obj

    def _sizeof(self, context, path):
        raise c.SizeofError("a property value's size depends on its type and content", path=path)


# 2.11.3 - 2.11.7 ------------------------------------------------------------------------------------

FLAGGED_VALUE_FLAGS = {0x0: "Present", 0x1: "NotPresent", 0xA: "Error"}  # 2.11.5: value / none / PtypErrorCode


def typed_property_value(count_size: int = 2) -> Construct:
    return struct(
        "MS-OXCDATA 2.11.3 TypedPropertyValue Structure",
        "PropertyType" / PropertyType,
        "PropertyValue" / PropertyValue(this.PropertyType, count_size),
    )


def tagged_property_value(count_size: int = 2) -> Construct:
    return struct(
        "MS-OXCDATA 2.11.4 TaggedPropertyValue Structure",
        "PropertyTag" / PropertyTag,
        "PropertyValue" / PropertyValue(this.PropertyTag.PropertyType, count_size),
    )


def _flagged_value(type_expr, count_size: int) -> Construct:
    return Switch(this.Flag, {0x0: PropertyValue(type_expr, count_size), 0x1: Pass, 0xA: ErrorCode}, default=c.Error)


def FlaggedPropertyValue(type_expr, count_size: int = 2) -> Construct:  # noqa: N802 (spec name)
    """MS-OXCDATA 2.11.5 FlaggedPropertyValue Structure; `type_expr` is evaluated inside it
    (use `this._` for the enclosing structure)."""
    return struct(
        "MS-OXCDATA 2.11.5 FlaggedPropertyValue Structure",
        "Flag" / Enum(Int8ul, FLAGGED_VALUE_FLAGS),
        "PropertyValue" / _flagged_value(type_expr, count_size),
    )


def flagged_property_value_with_type(count_size: int = 2) -> Construct:
    return struct(
        "MS-OXCDATA 2.11.6 FlaggedPropertyValueWithType Structure",
        "PropertyType" / PropertyType,
        "Flag" / Enum(Int8ul, FLAGGED_VALUE_FLAGS),
        "PropertyValue" / _flagged_value(this.PropertyType, count_size),
    )


TypedPropertyValue = typed_property_value(2)
TaggedPropertyValue = tagged_property_value(2)
FlaggedPropertyValueWithType = flagged_property_value_with_type(2)

TYPED_STRING_TYPES = {  # 2.11.7 StringType
    0x00: "NoString", 0x01: "Empty", 0x02: "String8", 0x03: "ReducedUnicode", 0x04: "Unicode",
}

TypedString = struct(
    "MS-OXCDATA 2.11.7 TypedString Structure",
    "StringType" / Enum(Int8ul, TYPED_STRING_TYPES),
    "String" / Switch(this.StringType, {0x00: Pass, 0x01: Pass, 0x02: AsciiZ, 0x03: AsciiZ, 0x04: UnicodeZ},
                      default=c.Error),
)

# 2.12 Restrictions -------------------------------------------------------------------------------------

RESTRICT_TYPES = {
    0x00: "AndRestriction", 0x01: "OrRestriction", 0x02: "NotRestriction", 0x03: "ContentRestriction",
    0x04: "PropertyRestriction", 0x05: "ComparePropertiesRestriction", 0x06: "BitMaskRestriction",
    0x07: "SizeRestriction", 0x08: "ExistRestriction", 0x09: "SubObjectRestriction",
    0x0A: "CommentRestriction", 0x0B: "CountRestriction",
}
FUZZY_LEVEL_LOW = {0x0000: "FL_FULLSTRING", 0x0001: "FL_SUBSTRING", 0x0002: "FL_PREFIX"}
FUZZY_LEVEL_HIGH = {"FL_IGNORECASE": 0x0001, "FL_IGNORENONSPACE": 0x0002, "FL_LOOSE": 0x0004}
RELOPS = {
    0x00: "RELOP_LT", 0x01: "RELOP_LE", 0x02: "RELOP_GT", 0x03: "RELOP_GE", 0x04: "RELOP_EQ",
    0x05: "RELOP_NE", 0x06: "RELOP_RE", 0x64: "RELOP_MEMBER_OF_DL",
}
BITMAP_RELOPS = {0x00: "BMR_EQZ", 0x01: "BMR_NEZ"}

_RestrictType = Enum(Int8ul, RESTRICT_TYPES)
_DEPTH = "_restriction_depth"


class Restriction(Construct):
    """MS-OXCDATA 2.12 Restrictions: RestrictType (1 byte), then the fields of that type, read
    from the declarative Struct `bodies[RestrictType]`. Parses to one Container with RestrictType
    first; nested restrictions are Containers too. `count_size` is the width of RestrictCount
    (2 in ROPs, 4 in extended rules and MAPI/HTTP) and of the PtypBinary counts inside values.
    A restriction nested deeper than `max_depth` levels is a ConstructError; the depth is counted
    in `_params["_restriction_depth"]`, so levels reached through PtypRestriction values count too."""

    def __init__(self, count_size: int = 2, max_depth: int = 32):
        super().__init__()
        self.count_size = count_size
        self.max_depth = max_depth
        count = Int16ul if count_size == 2 else Int32ul
        tagged = tagged_property_value(count_size)
        self.bodies = {
            0x00: struct(
                "MS-OXCDATA 2.12.1.1 AndRestriction Structure",
                "RestrictCount" / Rebuild(count, len_(this.Restricts)),
                "Restricts" / BoundedArray(this.RestrictCount, self, min_size=1)),
            0x01: struct(
                "MS-OXCDATA 2.12.2.1 OrRestriction Structure",
                "RestrictCount" / Rebuild(count, len_(this.Restricts)),
                "Restricts" / BoundedArray(this.RestrictCount, self, min_size=1)),
            0x02: struct(
                "MS-OXCDATA 2.12.3.1 NotRestriction Structure",
                "Restriction" / self),
            0x03: struct(
                "MS-OXCDATA 2.12.4.1 ContentRestriction Structure",
                "FuzzyLevelLow" / Enum(Int16ul, FUZZY_LEVEL_LOW),
                "FuzzyLevelHigh" / Flags(Int16ul, FUZZY_LEVEL_HIGH),
                "PropertyTag" / PropertyTag,
                "TaggedValue" / tagged),
            0x04: struct(
                "MS-OXCDATA 2.12.5.1 PropertyRestriction Structure",
                "RelOp" / Enum(Int8ul, RELOPS),
                "PropTag" / PropertyTag,
                "TaggedValue" / tagged),
            0x05: struct(
                "MS-OXCDATA 2.12.6.1 ComparePropertiesRestriction Structure",
                "RelOp" / Enum(Int8ul, RELOPS),
                "PropTag1" / PropertyTag,
                "PropTag2" / PropertyTag),
            0x06: struct(
                "MS-OXCDATA 2.12.7.1 BitMaskRestriction Structure",
                "BitmapRelOp" / Enum(Int8ul, BITMAP_RELOPS),
                "PropTag" / PropertyTag,
                "Mask" / Int32ul),
            0x07: struct(
                "MS-OXCDATA 2.12.8.1 SizeRestriction Structure",
                "RelOp" / Enum(Int8ul, RELOPS),
                "PropTag" / PropertyTag,
                "Size" / Int32ul),
            0x08: struct(
                "MS-OXCDATA 2.12.9.1 ExistRestriction Structure",
                "PropTag" / PropertyTag),
            0x09: struct(
                "MS-OXCDATA 2.12.10.1 SubObjectRestriction Structure",
                "Subobject" / PropertyTag,
                "Restriction" / self),
            0x0A: struct(
                "MS-OXCDATA 2.12.11.1 CommentRestriction Structure",
                "TaggedValuesCount" / Rebuild(Int8ul, len_(this.TaggedValues)),
                "TaggedValues" / BoundedArray(this.TaggedValuesCount, tagged, min_size=4),
                "RestrictionPresent" / Int8ul,
                "Restriction" / If(this.RestrictionPresent != 0, self)),
            0x0B: struct(
                "MS-OXCDATA 2.12.12 CountRestriction Structure",
                "Count" / Int32ul,
                "SubRestriction" / self),
        }

    def _enter(self, context, path) -> int:
        params = context._params
        depth = params.get(_DEPTH, 0)
        if depth >= self.max_depth:
            raise c.ExplicitError(f"restriction nested deeper than {self.max_depth}", path=path)
        params[_DEPTH] = depth + 1
        return depth

    def _parse(self, stream, context, path):
        restrict_type = _RestrictType._parsereport(stream, context, path)
        body = self.bodies.get(int(restrict_type))
        if body is None:
            raise c.MappingError(f"unknown RestrictType {int(restrict_type):#04x}", path=path)
        depth = self._enter(context, path)
        try:
            fields = body._parsereport(stream, context, path)
        finally:
            context._params[_DEPTH] = depth
        obj = c.Container(RestrictType=restrict_type)
        obj.update((k, v) for k, v in fields.items() if k != "_io")
        return obj

    def _build(self, obj, stream, context, path):
        restrict_type = obj["RestrictType"]
        if isinstance(restrict_type, str):
            restrict_type = _RestrictType.reverse.get(restrict_type, -1)
        body = self.bodies.get(int(restrict_type))
        if body is None:
            raise c.MappingError(f"unknown RestrictType {restrict_type!r}", path=path)
        _RestrictType._build(int(restrict_type), stream, context, path)
        depth = self._enter(context, path)
        try:
            body._build(obj, stream, context, path)
        finally:
            context._params[_DEPTH] = depth
        return obj

    def _sizeof(self, context, path):
        raise c.SizeofError("a restriction's size depends on its content", path=path)


# [MS-OXORULE] 2.2.5 RuleAction (the PtypRuleAction value) -------------------------------------------

ACTION_TYPES = {
    0x01: "OP_MOVE", 0x02: "OP_COPY", 0x03: "OP_REPLY", 0x04: "OP_OOF_REPLY", 0x05: "OP_DEFER_ACTION",
    0x06: "OP_BOUNCE", 0x07: "OP_FORWARD", 0x08: "OP_DELEGATE", 0x09: "OP_TAG", 0x0A: "OP_DELETE",
    0x0B: "OP_MARK_AS_READ",
}


def rule_action(count_size: int = 2) -> Construct:
    """[MS-OXORULE] 2.2.5 RuleAction: NoOfActions, then ActionBlocks each bounded by its
    ActionLength (2 bytes in standard rules, 4 in extended rules). ActionData stays raw bytes:
    its layout depends on ActionType ([MS-OXORULE] 2.2.5.1.2) and belongs to oxorule.py."""
    count = Int16ul if count_size == 2 else Int32ul
    action_block = struct(
        "MS-OXORULE 2.2.5.1 ActionBlock Structure",
        "ActionLength" / Rebuild(count, len_(this.ActionData) + 9),
        "ActionType" / Enum(Int8ul, ACTION_TYPES),
        "ActionFlavor" / Int32ul,
        "ActionFlags" / Int32ul,
        "ActionData" / Bytes(this.ActionLength - 9),
    )
    return struct(
        "MS-OXORULE 2.2.5 RuleAction Structure",
        "NoOfActions" / Rebuild(count, len_(this.ActionBlocks)),
        "ActionBlocks" / BoundedArray(this.NoOfActions, action_block, min_size=count_size + 9),
    )


RESTRICTIONS.update({size: Restriction(size) for size in (2, 4)})
RULE_ACTIONS.update({size: rule_action(size) for size in (2, 4)})

# 2.8.1 PropertyRow, 2.8.2 PropertyRowSet ------------------------------------------------------------

PROPERTY_ROW_FLAGS = {0x00: "StandardPropertyRow", 0x01: "FlaggedPropertyRow"}


class PropertyRow(Construct):
    """MS-OXCDATA 2.8.1 PropertyRow: Flag (0x00 StandardPropertyRow 2.8.1.1, 0x01
    FlaggedPropertyRow 2.8.1.2), then one value per column. The columns come from
    `columns_expr`, a `this` expression (e.g. `this._params.columns`) giving PropertyTag
    Containers or 32-bit tags; `column_count` (optional expression) keeps only the first N.
    A PtypUnspecified column carries a TypedPropertyValue (standard) or a
    FlaggedPropertyValueWithType (flagged). Columns that evaluate to None (the table's column
    set is unknown, e.g. the capture started after RopSetColumns) raise a ConstructError.

    Value: `{Flag, ValueArray: [{PropertyTag, [PropertyType,] [Flag,] PropertyValue}, ...]}`;
    PropertyTag is the column's tag (not on the wire; build ignores it). In a flagged row a
    value with Flag 0x1 is None and one with Flag 0xA is its ErrorCode.
    """

    def __init__(self, columns_expr, column_count=None, count_size: int = 2):
        super().__init__()
        self.columns_expr = columns_expr
        self.column_count = column_count
        self.count_size = count_size
        self.readers, self.writers = CODECS[count_size]
        self._cache = (None, None, ())

    def _columns(self, context, path) -> tuple:
        """((tag Container, PropertyType, reader or None), ...) for the columns, cached while the
        same list is seen (a PropertyRowSet's rows share one list)."""
        columns = evaluate(self.columns_expr, context)
        if columns is None:
            raise StateMissing("columns unknown: the ROP that set them (RopSetColumns on the table, "
                               "RopOpenMessage for recipient rows) is not in the capture", path=path)
        count = None if self.column_count is None else int(evaluate(self.column_count, context))
        cached_columns, cached_count, cached = self._cache
        if cached_columns is columns and cached_count == count:
            return cached
        if count is not None:
            if count > len(columns):
                raise c.RangeError(f"{count} columns asked for, {len(columns)} known", path=path)
            columns_used = list(columns)[:count]
        else:
            columns_used = columns
        result = []
        for column in columns_used:
            value = tag_value(column)
            ptype = value & 0xFFFF
            tag = column if isinstance(column, dict) else tag_container(value)
            result.append((tag, ptype, self.readers.get(ptype) if ptype else None))
        result = tuple(result)
        self._cache = (columns, count, result)
        return result

    def _parse(self, stream, context, path):
        columns = self._columns(context, path)
        budget = budget_of(context)
        if budget is not None:  # a PtypNull column takes no byte: the budget bounds the values
            budget.take("values", len(columns), path)
        flag = _read(stream, 1, path)[0]
        if flag > 1:
            raise c.MappingError(f"PropertyRow Flag {flag:#04x} is neither 0x00 nor 0x01", path=path)
        values = c.ListContainer()
        append = values.append
        container = c.Container
        for tag, ptype, reader in columns:
            if not flag and reader is not None:  # the common case: a StandardPropertyRow value
                append(container(PropertyTag=tag, PropertyValue=reader(stream, context, path)))
                continue
            item = container(PropertyTag=tag)
            if ptype == 0x0000:
                ptype = int.from_bytes(_read(stream, 2, path), "little")
                item["PropertyType"] = EnumValue(ptype, PROPERTY_TYPES.get(ptype))
                reader = self.readers.get(ptype)
            if flag:
                value_flag = _read(stream, 1, path)[0]
                item["Flag"] = value_flag
                if value_flag == 0x1:
                    item["PropertyValue"] = None
                    append(item)
                    continue
                if value_flag == 0xA:
                    item["PropertyValue"] = _read_error(stream, context, path)
                    append(item)
                    continue
                if value_flag != 0x0:
                    raise c.MappingError(f"FlaggedPropertyValue Flag {value_flag:#04x} is not 0x0, 0x1 or 0xA",
                                         path=path)
            if reader is None:
                raise _unknown(ptype, path)
            item["PropertyValue"] = reader(stream, context, path)
            append(item)
        return c.Container(Flag=EnumValue(flag, PROPERTY_ROW_FLAGS[flag]), ValueArray=values)

    def _build(self, obj, stream, context, path):
        columns = self._columns(context, path)
        flag = int(obj["Flag"])
        items = obj["ValueArray"]
        if flag > 1:
            raise c.MappingError(f"PropertyRow Flag {flag:#04x} is neither 0x00 nor 0x01", path=path)
        if len(items) != len(columns):
            raise c.RangeError(f"{len(items)} values for {len(columns)} columns", path=path)
        stream.write(bytes((flag,)))
        for (_, ptype, _), item in zip(columns, items):
            if ptype == 0x0000:
                ptype = int(item["PropertyType"])
                stream.write(ptype.to_bytes(2, "little"))
            if flag:
                value_flag = int(item["Flag"])
                stream.write(bytes((value_flag,)))
                if value_flag == 0x1:
                    continue
                if value_flag == 0xA:
                    _write(_write_error, item["PropertyValue"], stream, context, path)
                    continue
            writer = self.writers.get(ptype)
            if writer is None:
                raise _unknown(ptype, path)
            _write(writer, item["PropertyValue"], stream, context, path)
        return obj

    def _sizeof(self, context, path):
        raise c.SizeofError("a row's size depends on its columns and values", path=path)


def PropertyRowSet(count_expr, columns_expr, count_size: int = 2) -> Construct:  # noqa: N802 (spec name)
    """MS-OXCDATA 2.8.2 PropertyRowSet's rows: `count_expr` PropertyRows back to back (the
    RowCount field itself belongs to the enclosing structure). Each row takes at least one byte,
    so the count is checked against the bytes left before the loop."""
    return BoundedArray(count_expr, PropertyRow(columns_expr, count_size=count_size), min_size=1)


# 2.8.3 RecipientRow ------------------------------------------------------------------------------------

RECIPIENT_FLAGS = {  # 2.8.3.1; Type is the 3-bit field 0x0007, Reserved 0x7800
    "R": 0x0080, "S": 0x0040, "T": 0x0020, "D": 0x0010, "E": 0x0008,
    "O": 0x8000, "I": 0x0400, "U": 0x0200, "N": 0x0100,
}
RECIPIENT_ADDRESS_TYPES = {  # 2.8.3.1 Type (RecipientFlags & 0x0007)
    0x0: "NoType", 0x1: "X500DN", 0x2: "MsMail", 0x3: "SMTP", 0x4: "Fax", 0x5: "ProfessionalOfficeSystem",
    0x6: "PersonalDistributionList1", 0x7: "PersonalDistributionList2",
}
DISPLAY_TYPES = {  # 2.8.3.2 DisplayType
    0x00: "MessagingUser", 0x01: "DistributionList", 0x02: "Forum", 0x03: "AutomatedAgent",
    0x04: "AddressBook", 0x05: "PrivateDistributionList", 0x06: "RemoteAddressBook",
}

RecipientFlags = Flags(Int16ul, RECIPIENT_FLAGS)

_X500 = (this.RecipientFlags & 0x0007) == 0x1
_PDL = (this.RecipientFlags & 0x0006) == 0x6  # Type 0x6 or 0x7
_UNICODE = (this.RecipientFlags & 0x0200) != 0


def _recipient_string(mask: int):
    return If((this.RecipientFlags & mask) != 0, IfThenElse(_UNICODE, UnicodeZ, AsciiZ))


def RecipientRow(columns_expr, count_size: int = 2) -> Construct:  # noqa: N802 (spec name)
    """MS-OXCDATA 2.8.3.2 RecipientRow Structure. `columns_expr` gives the RecipientColumns of
    the ROP and is evaluated inside the RecipientRow (use `this._` to reach the ROP's fields);
    RecipientProperties holds the first RecipientColumnCount of them."""
    return struct(
        "MS-OXCDATA 2.8.3.2 RecipientRow Structure",
        "RecipientFlags" / RecipientFlags,
        "AddressPrefixUsed" / If(_X500, Int8ul),
        "DisplayType" / If(_X500, Enum(Int8ul, DISPLAY_TYPES)),
        "X500DN" / If(_X500, AsciiZ),
        *optional_sized(_PDL, "EntryIdSize", Int16ul, "EntryID", HexBytes()),
        *optional_sized(_PDL, "SearchKeySize", Int16ul, "SearchKey", HexBytes()),
        "AddressType" / If((this.RecipientFlags & 0x8007) == 0x8000, AsciiZ),  # Type NoType with O set
        "EmailAddress" / _recipient_string(0x0008),  # E
        "DisplayName" / _recipient_string(0x0010),  # D
        "SimpleDisplayName" / _recipient_string(0x0400),  # I
        "TransmittableDisplayName" / _recipient_string(0x0020),  # T
        "RecipientColumnCount" / Int16ul,
        "RecipientProperties" / PropertyRow(columns_expr, this.RecipientColumnCount, count_size),
    )


# 2.13 Sort orders -----------------------------------------------------------------------------------

SORT_ORDERS = {0x00: "Ascending", 0x01: "Descending", 0x04: "MaximumCategory"}

SortOrder = struct(
    "MS-OXCDATA 2.13.1 SortOrder Structure",
    "PropertyType" / PropertyType,
    "PropertyId" / Int16ul,
    "Order" / Enum(Int8ul, SORT_ORDERS),
)

SortOrderSet = struct(
    "MS-OXCDATA 2.13.2 SortOrderSet Structure",
    "SortOrderCount" / Rebuild(Int16ul, len_(this.SortOrders)),
    "CategorizedCount" / Int16ul,
    "ExpandedCount" / Int16ul,
    "SortOrders" / BoundedArray(this.SortOrderCount, SortOrder),
)

__all__ = [
    "ACTION_TYPES", "AddressBookEntryID", "CODECS", "BITMAP_RELOPS", "DISPLAY_TYPES", "FLAGGED_VALUE_FLAGS",
    "FUZZY_LEVEL_HIGH", "FUZZY_LEVEL_LOW", "FlaggedPropertyValue", "FlaggedPropertyValueWithType", "FolderEntryID",
    "FolderID", "GID", "LongTermID", "MessageEntryID", "MessageID", "OneOffEntryID", "PROPERTY_NAME_KINDS",
    "PROPERTY_ROW_FLAGS", "PropertyName", "PropertyProblem", "PropertyRow", "PropertyRowSet", "PropertyTag",
    "PropertyValue", "RECIPIENT_ADDRESS_TYPES", "RECIPIENT_FLAGS", "RELOPS", "RESTRICTIONS", "RESTRICT_TYPES",
    "RULE_ACTIONS", "RecipientFlags", "RecipientRow", "Restriction", "SORT_ORDERS", "STORE_OBJECT_TYPES",
    "SortOrder", "SortOrderSet", "StoreObjectEntryID", "TYPED_STRING_TYPES", "TaggedPropertyValue",
    "TypedPropertyValue", "TypedString", "flagged_property_value_with_type", "optional_sized", "rule_action",
    "tag_container", "tag_value", "tagged_property_value", "typed_property_value",
]
