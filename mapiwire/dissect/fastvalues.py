"""Buffer readers of property values and rows for the generated fast parser (fastgen.py).

Made from the same table as the interpreted readers, `oxcdata.value_layouts()` (MS-OXCDATA
2.11.1), each reader is `read(buf, pos) -> (value, next pos)` on the body's bytes: one dispatch
per property type, `struct.unpack_from` on the buffer, no stream calls. They give the values the
interpreted readers give, for well-formed bytes only: anything short or odd raises, and the
caller (fastpath.parse) has construct parse the body, so errors keep their `where` and `offset`.
Types whose values are structures of their own (PtypRestriction, PtypRuleAction) have no reader
here: a value of those types makes the body go to construct.
"""

from __future__ import annotations

import operator
from codecs import latin_1_decode as _latin1, utf_16_le_decode as _utf16
import struct as _struct

import construct as c

from .defs import addressbook, oxcdata
from .defs.core import EnumValue, FileTimeValue, FlagsValue, GuidValue
from .defs.errorcodes import ERROR_CODES
from .defs.proptypes import PROPERTY_TYPES

_U16, _U32 = _struct.Struct("<H").unpack_from, _struct.Struct("<I").unpack_from


class Refused(c.ConstructError):
    """Bytes the fast readers do not take: construct parses the body instead."""


# Named values are made once per distinct wire value and shared: EnumValue, FlagsValue and
# GuidValue are never changed after they are made (a UUID cannot be), so a shared one is the
# same input to every consumer. Each cache is bounded; past the bound values are made each time.
CACHE_LIMIT = 4096


def enum_value(cache: dict, mapping: dict, value: int) -> EnumValue:
    """core.Enum._decode: EnumValue(value, its name in `mapping`), one per value in `cache`."""
    made = cache.get(value)
    if made is None:
        made = EnumValue(value, mapping.get(value))
        if len(cache) < CACHE_LIMIT:
            cache[value] = made
    return made


def flags_value(cache: dict, items: tuple, value: int) -> FlagsValue:
    """core.Flags._decode (`items`: its mapping's (name, bit) pairs), one per value in `cache`."""
    made = cache.get(value)
    if made is None:
        made = FlagsValue(value, tuple(n for n, bit in items if bit and value & bit == bit))
        if len(cache) < CACHE_LIMIT:
            cache[value] = made
    return made


GUIDS: dict = {}


def guid_value(data: bytes) -> GuidValue:
    """GuidValue(bytes_le=data), one per distinct 16 bytes."""
    made = GUIDS.get(data)
    if made is None:
        made = GuidValue(bytes_le=data)
        if len(GUIDS) < CACHE_LIMIT:
            GUIDS[data] = made
    return made


def _scalar(fmt: str, wrap):
    codec = _struct.Struct(fmt)
    size, unpack = codec.size, codec.unpack_from
    if wrap is None:
        def read(buf, pos):
            return unpack(buf, pos)[0], pos + size
    else:
        def read(buf, pos):
            return wrap(unpack(buf, pos)[0]), pos + size
    return read


_ERRORS: dict = {}
_TYPES: dict = {}
_ROW_FLAGS: dict = {}


def _read_error(buf, pos):
    value = _U32(buf, pos)[0]
    return enum_value(_ERRORS, ERROR_CODES, value), pos + 4


def _read_boolean(buf, pos):
    byte = buf[pos]
    return (bool(byte) if byte < 2 else byte), pos + 1


def _read_guid(buf, pos):
    data = buf[pos:pos + 16]
    if len(data) != 16:
        raise Refused("short GUID")
    return guid_value(data), pos + 16


def string_reader(terminator: bytes, decode):
    """A null-terminated string: the first terminator at a whole number of units from `pos`."""
    unit = len(terminator)

    def read(buf, pos):
        end = buf.find(terminator, pos)
        while end != -1 and (end - pos) % unit:
            end = buf.find(terminator, end + 1)
        if end == -1:
            raise Refused("no terminator")
        return decode(buf[pos:end]), end + unit
    return read


def _read_unicode(buf, pos):
    """PtypString (oxcdata.decode_utf16), the terminator at an even distance from `pos`."""
    end = buf.find(b"\0\0", pos)
    while end != -1 and (end - pos) & 1:
        end = buf.find(b"\0\0", end + 1)
    if end == -1:
        raise Refused("no terminator")
    return _utf16(buf[pos:end], "surrogatepass", True)[0], end + 2


def _read_string8(buf, pos):
    """PtypString8 (oxcdata.decode_latin1)."""
    end = buf.find(b"\0", pos)
    if end == -1:
        raise Refused("no terminator")
    return _latin1(buf[pos:end])[0], end + 1


def _read_unicodes(buf, pos):
    """PtypMultipleString: a 4-byte count, then the strings (as _read_unicode, in one loop)."""
    count = _U32(buf, pos)[0]
    pos += 4
    if count * 2 > len(buf) - pos:
        raise Refused("count")
    values = c.ListContainer()
    append, find = values.append, buf.find
    for _ in range(count):
        end = find(b"\0\0", pos)
        while end != -1 and (end - pos) & 1:
            end = find(b"\0\0", end + 1)
        if end == -1:
            raise Refused("no terminator")
        append(_utf16(buf[pos:end], "surrogatepass", True)[0])
        pos = end + 2
    return values, pos


def _binary(count_size: int):
    count = _U16 if count_size == 2 else _U32

    def read(buf, pos):
        size = count(buf, pos)[0]
        pos += count_size
        data = buf[pos:pos + size]
        if len(data) != size:
            raise Refused("short binary")
        return data, pos + size
    return read


def _read_null(buf, pos):
    return None, pos


def _read_server_id(buf, pos):
    size = _U16(buf, pos)[0]
    data = buf[pos + 2:pos + 2 + size]
    if len(data) != size:
        raise Refused("short server id")
    return oxcdata.server_id_value(data), pos + 2 + size


def _multiple(layout: tuple, element_read, min_size: int):
    """PtypMultiple*: a 4-byte count, then the values; scalars are unpacked in one call."""
    kind, argument = layout
    if kind == "unicode":
        return _read_unicodes
    if kind == "scalar" and argument[1] is None:
        code = argument[0][1]
        size = _struct.calcsize(argument[0])

        def read(buf, pos):
            count = _U32(buf, pos)[0]
            pos += 4
            if count * size > len(buf) - pos:
                raise Refused("count")
            return c.ListContainer(_struct.unpack_from(f"<{count}{code}", buf, pos)), pos + count * size
        return read

    def read(buf, pos):
        count = _U32(buf, pos)[0]
        pos += 4
        if count * min_size > len(buf) - pos:
            raise Refused("count")
        values = c.ListContainer()
        for _ in range(count):
            value, pos = element_read(buf, pos)
            values.append(value)
        return values, pos
    return read


def readers(count_size: int) -> dict:
    """PropertyType -> fast reader, for one COUNT width (oxcdata.CODECS' types but PtypRestriction
    and PtypRuleAction)."""
    single = {"error": _read_error, "boolean": _read_boolean, "guid": _read_guid, "unicode": _read_unicode,
              "string8": _read_string8, "binary": _binary(count_size), "null": _read_null,
              "server_id": _read_server_id}
    layouts = oxcdata.value_layouts()

    def reader(layout):
        kind, argument = layout
        if kind == "scalar":
            return _scalar(*argument)
        if kind == "multiple":
            element = layouts[argument]
            made = reader(element)
            return None if made is None else _multiple(element, made, oxcdata.min_value_size(element, count_size))
        return single.get(kind)
    table = {ptype: reader(layout) for ptype, layout in layouts.items()}
    return {ptype: read for ptype, read in table.items() if read is not None}


READERS = {size: readers(size) for size in (2, 4)}
_FLAG_NAMES = oxcdata.PROPERTY_ROW_FLAGS


def address_book_value(buf, pos, ptype: int):
    """addressbook.AddressBookPropertyValue (MS-OXCMAPIHTTP 2.2.1.1) of type `ptype` at `pos`:
    HasValue where the type has one, the value by the 32-bit COUNT readers; a HasValue other than
    0x00 or 0xFF (which construct reports) is refused."""
    element = addressbook.ELEMENT_TYPES.get(ptype)
    if not addressbook.has_value_byte(ptype):
        value, pos = READERS[4][ptype](buf, pos)
        return c.Container(PropertyValue=value), pos
    has = buf[pos]
    pos += 1
    if has not in (0x00, 0xFF):
        raise Refused("HasValue")
    if not has:
        return c.Container(HasValue=has, PropertyValue=None), pos
    if element is None:
        value, pos = READERS[4][ptype](buf, pos)
        return c.Container(HasValue=has, PropertyValue=value), pos
    count = _U32(buf, pos)[0]
    pos += 4
    if count > len(buf) - pos:
        raise Refused("count")
    read = READERS[4][element]
    values = c.ListContainer()
    for _ in range(count):
        item_has = buf[pos]
        pos += 1
        if item_has not in (0x00, 0xFF):
            raise Refused("HasValue")
        item = None
        if item_has:
            item, pos = read(buf, pos)
        values.append(c.Container(HasValue=item_has, Value=item))
    return c.Container(HasValue=has, PropertyValue=values), pos


# Row functions are made for a column-type signature the second time a column list has it (a
# one-off list is read by the loop), for at most ROW_COLUMNS_LIMIT columns and ROW_FUNCTIONS_LIMIT
# signatures: what odd input can make the process compile stays bounded.
ROW_FUNCTIONS_LIMIT = 1024
ROW_COLUMNS_LIMIT = 64
_ROW_FUNCTIONS: dict = {}  # (count_size, flagged, PropertyTypes) -> row function or None
_ROW_SEEN: set = set()  # the signatures met once
_UNSET = object()  # a row function not looked up yet
_PTYPE_OF = operator.itemgetter("PropertyType")


_FIXED_CODES = {"error": "I", "boolean": "B", "guid": "16s"}  # fixed-size kinds besides "scalar"
_FIXED_WRAPS = {"error": "_enum(_ERRORS, ERROR_CODES, {})", "boolean": "(bool({0}) if {0} < 2 else {0})",
                "guid": "_guid({})"}


def _fixed(layout: tuple):
    """(struct code, wrapping expression) of a fixed-size value, else None."""
    kind, argument = layout
    if kind == "scalar":
        return argument[0][1], "{}" if argument[1] is None else "FileTimeValue({})"
    if kind in _FIXED_CODES:
        return _FIXED_CODES[kind], _FIXED_WRAPS[kind]
    return None


def _global(names: dict, obj) -> str:
    """A fresh global name of the generated row code for `obj`."""
    name = f"G{len(names)}"
    names[name] = obj
    return name


def _value_lines(layout: tuple, ptype: int, local: str, count_size: int, names: dict, ind: str) -> list:
    """Statements reading one value of this layout at `pos` into `local`, moving `pos` on."""
    kind, _ = layout
    fixed = _fixed(layout)
    if fixed is not None:
        codec = _struct.Struct("<" + fixed[0])
        unpack = _global(names, codec.unpack_from)
        return [f"{ind}r{local}, = {unpack}(buf, pos)", f"{ind}pos += {codec.size}",
                f"{ind}{local} = {fixed[1].format(f'r{local}')}"]
    if kind in ("unicode", "string8"):
        terminator, decode = (("b'\\0\\0'", "_utf16({}, 'surrogatepass', True)[0]") if kind == "unicode"
                              else ("b'\\0'", "_latin1({})[0]"))
        lines = [f"{ind}e = buf.find({terminator}, pos)"]
        if kind == "unicode":
            lines.append(f"{ind}while e != -1 and (e - pos) & 1: e = buf.find({terminator}, e + 1)")
        return lines + [f"{ind}if e < 0: raise Refused('no terminator')",
                        f"{ind}{local} = {decode.format('buf[pos:e]')}", f"{ind}pos = e + {2 if kind == 'unicode' else 1}"]
    if kind == "binary":
        return [f"{ind}n, = {'_U16' if count_size == 2 else '_U32'}(buf, pos)", f"{ind}pos += {count_size}",
                f"{ind}{local} = buf[pos:pos + n]", f"{ind}if len({local}) != n: raise Refused('short binary')",
                f"{ind}pos += n"]
    if kind == "null":
        return [f"{ind}{local} = None"]
    return [f"{ind}{local}, pos = {_global(names, READERS[count_size][ptype])}(buf, pos)"]


def _row_source(ptypes: tuple, count_size: int, flagged: bool, names: dict) -> str:
    """Python for `row(buf, pos, tags) -> (ValueArray, pos)`: the values of a StandardPropertyRow
    or FlaggedPropertyRow (2.8.1.1, 2.8.1.2) whose columns have these types, unrolled: in a
    standard row fixed-size values in runs of one unpack; strings and binaries in place, other
    types through their reader. `names` receives the globals it uses."""
    layouts = oxcdata.value_layouts()
    lines = ["def row(buf, pos, tags):"]
    run: list = []  # (value local, struct code, wrap) of consecutive fixed-size values

    def flush():
        if run:
            codec = _struct.Struct("<" + "".join(code for _, code, _ in run))
            unpack = _global(names, codec.unpack_from)
            lines.append(f"    {', '.join(f'r{local}' for local, _, _ in run)}, = {unpack}(buf, pos)")
            lines.append(f"    pos += {codec.size}")
            lines.extend(f"    {local} = {wrap.format(f'r{local}')}" for local, _, wrap in run)
            run.clear()
    for i, ptype in enumerate(ptypes):
        layout, local = layouts[ptype], f"v{i}"
        if flagged:  # 2.11.5 FlaggedPropertyValue: 0x0 the value, 0x1 none, 0xA an ErrorCode
            lines += [f"    g{i} = buf[pos]", "    pos += 1", f"    if g{i} == 0:"]
            lines += _value_lines(layout, ptype, local, count_size, names, "        ")
            lines += [f"    elif g{i} == 1:", f"        {local} = None", f"    elif g{i} == 10:"]
            lines += _value_lines(layouts[0x000A], 0x000A, local, count_size, names, "        ")
            lines += ["    else:", "        raise Refused('value flag')"]
        elif _fixed(layout) is not None:
            run.append((local, *_fixed(layout)))
        else:
            flush()
            lines += _value_lines(layout, ptype, local, count_size, names, "    ")
    flush()
    flag = ", Flag=g{0}" if flagged else ""
    items = ", ".join(f"Container(PropertyTag=tags[{i}]{flag.format(i)}, PropertyValue=v{i})" for i in range(len(ptypes)))
    lines.append(f"    return ListContainer([{items}]), pos")
    return "\n".join(lines) + "\n"


def row_function(ptypes: tuple, count_size: int, flagged: bool):
    """The generated reader of the values of rows with columns of these types, or None (a type
    without a fast reader, or not made: see ROW_FUNCTIONS_LIMIT)."""
    key = (count_size, flagged, ptypes)
    if key in _ROW_FUNCTIONS:
        return _ROW_FUNCTIONS[key]
    if len(ptypes) > ROW_COLUMNS_LIMIT or len(_ROW_FUNCTIONS) >= ROW_FUNCTIONS_LIMIT:
        return None
    if key not in _ROW_SEEN:
        if len(_ROW_SEEN) < 4 * ROW_FUNCTIONS_LIMIT:
            _ROW_SEEN.add(key)
        return None
    function = None
    if all(ptype in READERS[count_size] for ptype in ptypes):
        names = {"Container": c.Container, "ListContainer": c.ListContainer, "FileTimeValue": FileTimeValue,
                 "Refused": Refused, "_enum": enum_value, "_ERRORS": _ERRORS, "ERROR_CODES": ERROR_CODES,
                 "_guid": guid_value, "_U16": _U16, "_U32": _U32, "_utf16": _utf16, "_latin1": _latin1}
        exec(compile(_row_source(ptypes, count_size, flagged, names), "<mapiwire row>", "exec"), names)
        function = names["row"]
    _ROW_FUNCTIONS[key] = function
    return function


class RowReader:
    """oxcdata.PropertyRow (MS-OXCDATA 2.8.1) on the buffer: the same columns, the same values."""

    def __init__(self, row: oxcdata.PropertyRow):
        self.count_size = row.count_size
        self.readers = READERS[row.count_size]
        self.cache = (None, None, None)
        self.by_value: dict = {}  # tuple of 32-bit tags -> columns()' value

    def columns(self, columns, count) -> tuple:
        """(tags, PropertyTypes, fast readers (None where there is none), [standard row function,
        flagged row function] (looked up when first needed: `function`)) of the columns, as
        PropertyRow._columns."""
        if columns is None:
            raise Refused("columns unknown")
        cached_columns, cached_count, cached = self.cache
        if cached_columns is columns and cached_count == count:
            return cached
        if count is not None:
            if count > len(columns):
                raise Refused("more columns asked for than known")
            used = list(columns)[:count]
        else:
            used = columns
        try:  # parsed PropertyTags: their PropertyType is oxcdata.tag_value's low word
            tags, ptypes = tuple(used), tuple(map(_PTYPE_OF, used))
        except TypeError:  # 32-bit tags: the same list of numbers gives the same columns
            key = tuple(used)
            result = self.by_value.get(key)
            if result is None:
                result = self.made(tuple(oxcdata.tag_container(oxcdata.tag_value(column)) if not isinstance(column, dict)
                                         else column for column in used),
                                   tuple(oxcdata.tag_value(column) & 0xFFFF for column in used))
                if len(self.by_value) < ROW_FUNCTIONS_LIMIT:
                    self.by_value[key] = result
        else:
            result = self.made(tags, ptypes)
        self.cache = (columns, count, result)
        return result

    def made(self, tags: tuple, ptypes: tuple) -> tuple:
        """columns()' value for these tags and types."""
        readers = tuple(map(self.readers.get, ptypes))  # PtypUnspecified (0) has none
        return tags, ptypes, readers, [None, None] if None in readers else [_UNSET, _UNSET]

    def function(self, made: tuple, flag: int):
        """The row function (or None) of columns()' value `made` for rows with this Flag, looked
        up when a row first needs it."""
        function = made[3][flag]
        if function is _UNSET:
            function = made[3][flag] = row_function(made[1], self.count_size, bool(flag))
        return function

    def read(self, buf, pos, columns, count, params):
        """One PropertyRow at `pos`: (its value, the position after it)."""
        made = self.columns(columns, count)
        budget = params.get("budget")
        if budget is not None:
            budget.take("values", len(made[0]), "")
        return self.row(buf, pos, *made)

    def read_rows(self, buf, pos, rows: int, columns, count, params):
        """`rows` (> 0) PropertyRows back to back (2.8.2 PropertyRowSet), the columns looked up
        and the budget taken once."""
        made = self.columns(columns, count)
        tags = made[0]
        budget = params.get("budget")
        if budget is not None:
            budget.take("values", rows * len(tags), "")
        out = c.ListContainer()
        append = out.append
        for _ in range(rows):
            flag = buf[pos]
            function = self.function(made, flag) if flag < 2 else None
            if function is not None:
                values, pos = function(buf, pos + 1, tags)
                append(c.Container(Flag=enum_value(_ROW_FLAGS, _FLAG_NAMES, flag), ValueArray=values))
            else:
                value, pos = self.row(buf, pos, *made)
                append(value)
        return out, pos

    def row(self, buf, pos, tags, ptypes, readers, functions):
        """A PropertyRow with these columns (columns()' value) at `pos`."""
        flag = buf[pos]
        pos += 1
        if flag > 1:
            raise Refused("row flag")
        function = self.function((tags, ptypes, readers, functions), flag)
        if function is not None:
            values, pos = function(buf, pos, tags)
            return c.Container(Flag=enum_value(_ROW_FLAGS, _FLAG_NAMES, flag), ValueArray=values), pos
        values = c.ListContainer()
        append = values.append
        container = c.Container
        for tag, ptype, reader in zip(tags, ptypes, readers):
            if not flag and reader is not None:
                value, pos = reader(buf, pos)
                append(container(PropertyTag=tag, PropertyValue=value))
                continue
            item = container(PropertyTag=tag)
            if ptype == 0x0000:
                ptype = _U16(buf, pos)[0]
                pos += 2
                item["PropertyType"] = enum_value(_TYPES, PROPERTY_TYPES, ptype)
                reader = self.readers.get(ptype)
            if flag:
                value_flag = buf[pos]
                pos += 1
                item["Flag"] = value_flag
                if value_flag == 0x1:
                    item["PropertyValue"] = None
                    append(item)
                    continue
                if value_flag == 0xA:
                    item["PropertyValue"], pos = _read_error(buf, pos)
                    append(item)
                    continue
                if value_flag != 0x0:
                    raise Refused("value flag")
            if reader is None:
                raise Refused("no fast reader")
            item["PropertyValue"], pos = reader(buf, pos)
            append(item)
        return c.Container(Flag=enum_value(_ROW_FLAGS, _FLAG_NAMES, flag), ValueArray=values), pos
