"""The building blocks every definition is made of.

Definitions are plain construct trees (STYLE.md 3.1): `Struct`, the `Int*ul` fields, `If`,
`Switch`, `Bytes(this.x)` and `this` expressions, plus the few *named custom constructs* below.
Each custom construct parses, builds, and is known by name to the JSON normaliser and to the
Lua generator (wireshark/luagen.py), which refuses any class it does not know.

Values:
- `EnumValue` / `FlagsValue` are ints that carry their names (JSON adds `<Field>Name`).
- `FileTimeValue` is the raw 64-bit FILETIME (an int) that renders as ISO 8601.
- `GuidValue` is a `uuid.UUID` that renders in registry form.
"""

from __future__ import annotations

import datetime
import io
import uuid

import construct as c
from construct import Construct, ConstructError, Subconstruct, stream_read, stream_tell, stream_write

from .budget import budget_of

# Wire values with names ----------------------------------------------------------------------


class EnumValue(int):
    """An int read from the wire, with the spec's name for it (or None)."""

    name: str | None

    def __new__(cls, value: int, name: str | None):
        obj = int.__new__(cls, value)
        obj.name = name
        return obj

    def __repr__(self):
        return f"{self.name}({int(self):#x})" if self.name else hex(int(self))


class FlagsValue(int):
    """An int of bit flags, with the names of the bits that are set."""

    names: tuple[str, ...]

    def __new__(cls, value: int, names: tuple[str, ...]):
        obj = int.__new__(cls, value)
        obj.names = names
        return obj

    @property
    def name(self) -> str:
        return "|".join(self.names)

    def __repr__(self):
        return f"{self.name or '0'}({int(self):#x})"


class FileTimeValue(int):
    """A FILETIME (MS-DTYP 2.3.3): 100 ns intervals since 1601-01-01 UTC."""

    def iso(self) -> str:
        if int(self) in (0, 0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF):
            return str(int(self))
        try:
            dt = datetime.datetime(1601, 1, 1) + datetime.timedelta(microseconds=int(self) // 10)
        except OverflowError:
            return str(int(self))
        frac = int(self) % 10_000_000
        return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac:07d}".rstrip("0") if frac else "") + "Z"


class GuidValue(uuid.UUID):
    """A GUID, little-endian on the wire (MS-DTYP 2.3.4), shown in registry form."""

    def registry(self) -> str:
        return "{" + str(self).upper() + "}"


# Named custom constructs ---------------------------------------------------------------------


class Enum(c.Adapter):
    """An integer field whose values have names: parses to `EnumValue`, builds from int or name."""

    def __init__(self, subcon: Construct, mapping: dict[int, str]):
        super().__init__(subcon)
        self.mapping = dict(mapping)
        self.reverse = {v: k for k, v in self.mapping.items()}

    def _decode(self, obj, context, path):
        return EnumValue(obj, self.mapping.get(obj))

    def _encode(self, obj, context, path):
        if isinstance(obj, str):
            try:
                return self.reverse[obj]
            except KeyError:
                raise c.MappingError(f"no value named {obj!r}", path=path) from None
        return int(obj)


class OpenEnum(Enum):
    """An integer from an open set of values, some of which have names (code pages, language
    identifiers): parses and builds as `Enum`; displays put the number first and the name after
    it (`1252 (Western European)`), and a value without a name is just its number."""


class Flags(c.Adapter):
    """A bit-flags field: parses to `FlagsValue` (names of the set bits, in mapping order)."""

    def __init__(self, subcon: Construct, mapping: dict[str, int]):
        super().__init__(subcon)
        self.mapping = dict(mapping)

    def _decode(self, obj, context, path):
        names = tuple(n for n, bit in self.mapping.items() if bit and obj & bit == bit)
        return FlagsValue(obj, names)

    def _encode(self, obj, context, path):
        if isinstance(obj, (list, tuple, set)):
            value = 0
            for name in obj:
                value |= self.mapping[name]
            return value
        return int(obj)


class StringZ(Construct):
    """A null-terminated string: 8-bit (`AsciiZ`, latin-1 so any byte round-trips) or
    UTF-16LE (`UnicodeZ`, surrogates passed through). Reads in chunks, bounded by the stream."""

    def __init__(self, encoding: str, unit: int):
        super().__init__()
        self.encoding = encoding
        self.unit = unit
        self.terminator = b"\x00" * unit
        self.errors = "surrogatepass" if unit == 2 else "strict"

    def _parse(self, stream, context, path):
        start = stream_tell(stream, path)
        chunks = bytearray()
        while True:
            block = stream.read(256)
            if not block:
                raise c.StreamError(f"string at offset {start} has no terminator", path=path)
            scan_from = max(0, len(chunks) - len(chunks) % self.unit)
            chunks += block
            pos = chunks.find(self.terminator, scan_from)
            while pos != -1 and pos % self.unit:
                pos = chunks.find(self.terminator, pos + 1)
            if pos != -1:
                stream.seek(start + pos + self.unit)
                return bytes(chunks[:pos]).decode(self.encoding, self.errors)

    def _build(self, obj, stream, context, path):
        data = obj.encode(self.encoding, self.errors) + self.terminator
        stream_write(stream, data, len(data), path)
        return obj

    def _sizeof(self, context, path):
        raise c.SizeofError("variable-length string", path=path)


AsciiZ = StringZ("latin-1", 1)
UnicodeZ = StringZ("utf-16-le", 2)


class GuidField(Construct):
    """16-byte GUID (MS-DTYP 2.3.4.1 GUID packet representation)."""

    def _parse(self, stream, context, path):
        return GuidValue(bytes_le=stream_read(stream, 16, path))

    def _build(self, obj, stream, context, path):
        if isinstance(obj, str):
            obj = uuid.UUID(obj.strip("{}"))
        stream_write(stream, obj.bytes_le, 16, path)
        return obj

    def _sizeof(self, context, path):
        return 16


Guid = GuidField()


class FileTimeField(c.Adapter):
    """64-bit FILETIME (MS-DTYP 2.3.3) as `FileTimeValue`."""

    def __init__(self):
        super().__init__(c.Int64ul)

    def _decode(self, obj, context, path):
        return FileTimeValue(obj)

    def _encode(self, obj, context, path):
        return int(obj)


FileTime = FileTimeField()


def remaining(stream) -> int:
    """Bytes left in a seekable stream."""
    here = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(here)
    return end - here


class BoundedArray(Subconstruct):
    """`Array(count, subcon)` that first checks `count * minimum element size <= bytes left`,
    so a count from the wire can never drive a long loop or a large allocation."""

    def __init__(self, count, subcon: Construct, min_size: int | None = None):
        super().__init__(subcon)
        self.count = count
        if min_size is None:
            try:
                min_size = subcon.sizeof()
            except (c.SizeofError, KeyError, AttributeError):
                min_size = 1
        self.min_size = max(1, min_size)

    def _parse(self, stream, context, path):
        count = c.evaluate(self.count, context)
        left = remaining(stream)
        if count < 0 or count * self.min_size > left:
            raise c.RangeError(f"count {count} needs at least {count * self.min_size} bytes, {left} left", path=path)
        budget = budget_of(context)
        if budget is not None:
            budget.take("values", count, path)
        items = c.ListContainer()
        for i in range(count):
            context._index = i
            items.append(self.subcon._parsereport(stream, context, path))
        return items

    def _build(self, obj, stream, context, path):
        count = c.evaluate(self.count, context)
        if count is not None and len(obj) != count:
            raise c.RangeError(f"expected {count} elements, got {len(obj)}", path=path)
        out = c.ListContainer()
        for i, item in enumerate(obj):
            context._index = i
            out.append(self.subcon._build(item, stream, context, path))
        return out

    def _sizeof(self, context, path):
        return c.evaluate(self.count, context) * self.subcon._sizeof(context, path)


class SizeOf(Subconstruct):
    """A length field whose value, on build, is the built size of the field named `target`
    (which must be a `Sized` later in the same Struct). Parses like its subcon."""

    def __init__(self, subcon: Construct, target: str, bias: int = 0):
        super().__init__(subcon)
        self.target = target
        self.bias = bias  # the field counts `bias` bytes besides the target (RopSize counts itself)
        self.flagbuildnone = True  # the value given to build is ignored

    def _parse(self, stream, context, path):
        return self.subcon._parsereport(stream, context, path)

    def _build(self, obj, stream, context, path):
        context[f"_sizeof_{self.target}"] = stream_tell(stream, path)
        self.subcon._build(0, stream, context, path)
        return obj

    def _sizeof(self, context, path):
        return self.subcon._sizeof(context, path)


class StateMissing(c.ExplicitError):
    """What a structure's layout depends on is not known (the capture started after the ROP that
    set it, DESIGN.md principle 3). Inside a `Sized` field the bytes are kept as hex instead."""


class Sized(Subconstruct):
    """`length` bytes holding `subcon`. Parse: reads exactly `length` bytes (checked against
    what is left) and parses the subcon inside them; bytes the subcon leaves are an error, and a
    subcon whose state is missing (`StateMissing`) leaves `{"Undecoded": hex}` and an error entry.
    Build: builds the subcon and patches the matching `SizeOf` field with the size."""

    def __init__(self, length, subcon: Construct, target: str | None = None,
                 size_subcon: Construct | None = None, bias: int = 0):
        super().__init__(subcon)
        self.length = length
        self.target = target
        self.size_subcon = size_subcon
        self.bias = bias

    def _parse(self, stream, context, path):
        length = c.evaluate(self.length, context)
        left = remaining(stream)
        if length < 0 or length > left:
            raise c.StreamError(f"size {length} is more than the {left} bytes left", path=path)
        data = stream.read(length)
        sub = io.BytesIO(data)
        try:
            obj = self.subcon._parsereport(sub, context, path)
        except StateMissing as exc:  # the size is known: keep the bytes, go on after them
            report(context, path, f"{str(exc).strip().splitlines()[-1]}; its {length} bytes kept as hex")
            return c.Container(Undecoded=data.hex())
        extra = length - sub.tell()
        if extra:
            raise c.StreamError(f"{extra} bytes left over inside a {length}-byte field", path=path)
        return obj

    def _build(self, obj, stream, context, path):
        sub = io.BytesIO()
        built = self.subcon._build(obj, sub, context, path)
        data = sub.getvalue()
        size_at = context.get(f"_sizeof_{self.target}") if self.target else None
        if size_at is not None:
            end = stream_tell(stream, path)
            stream.seek(size_at)
            self.size_subcon._build(len(data) + self.bias, stream, context, path)
            stream.seek(end)
        stream_write(stream, data, len(data), path)
        return built

    def _sizeof(self, context, path):
        return c.evaluate(self.length, context)


def sized_field(size_name: str, size_subcon: Construct, name: str, subcon: Construct, bias: int = 0) -> tuple:
    """The two Struct members of a length-prefixed field with both names from the spec:
    `*sized_field("AuxiliaryBufferSize", Int32ul, "AuxiliaryBuffer", AuxBuffer)`.
    `bias`: the size field also counts that many bytes besides the field (RopSize counts itself)."""
    length = c.this[size_name] - bias if bias else c.this[size_name]
    return (size_name / SizeOf(size_subcon, name, bias),
            name / Sized(length, subcon, name, size_subcon, bias))


class HexBytes(Construct):
    """All remaining bytes (or `length` bytes) kept raw; JSON shows them as hex."""

    def __init__(self, length=None):
        super().__init__()
        self.length = length

    def _parse(self, stream, context, path):
        if self.length is None:
            return stream.read()
        length = c.evaluate(self.length, context)
        return stream_read(stream, length, path)

    def _build(self, obj, stream, context, path):
        data = bytes.fromhex(obj) if isinstance(obj, str) else bytes(obj)
        stream_write(stream, data, len(data), path)
        return obj


Remaining = HexBytes()


class U32List(Construct):
    """The rest of the buffer as 4-byte little-endian integers (ServerObjectHandleTable,
    MS-OXCROPS 2.2.1). A length that is not a multiple of 4 is an error."""

    def _parse(self, stream, context, path):
        data = stream.read()
        if len(data) % 4:
            raise c.StreamError(f"{len(data)} bytes is not a whole number of 4-byte handles", path=path)
        return c.ListContainer(int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4))

    def _build(self, obj, stream, context, path):
        data = b"".join(int(h).to_bytes(4, "little") for h in obj)
        stream_write(stream, data, len(data), path)
        return obj


def where(path: str) -> str:
    """construct's error path ("(parsing) -> a -> b") as a dotted field path ("a.b")."""
    path = path.replace("(parsing)", "").replace("(building)", "")
    parts = [p.strip() for p in path.split("->")]
    parts = [p for p in parts if p and p != "None"]  # unnamed wrappers add "None"
    # a list field and its items: "RopsList -> RopsList[3]" reads "RopsList[3]"
    parts = [p for i, p in enumerate(parts) if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "["))]
    return ".".join(parts)


def report(context, path: str, what: str, offset: int | None = None) -> None:
    """Record a decoding problem as data: appended to the `errors` list handed to `parse`
    as a param. Without one (strict use), raise instead."""
    params = context.get("_params") if context is not None else None
    sink = params.get("errors") if params is not None else None
    if sink is None:
        raise c.ConstructError(what, path=path)
    entry = {"where": where(path), "error": what}
    if offset is not None:
        entry["offset"] = offset
    sink.append(entry)


def struct(ref: str, *fields) -> Construct:
    """A Struct with its spec reference as docs: `struct("MS-OXCRPC 2.2.2.1 RPC_HEADER_EXT", ...)`.
    A conditional field (`If`/`IfThenElse`) may be left out of the value given to build: it is
    built from None, which is right when its condition is false and an error when it is true."""
    for sc in fields:
        if isinstance(sc, c.Renamed) and isinstance(sc.subcon, c.IfThenElse):
            sc.flagbuildnone = True
    return c.Struct(*fields) * ref


def parse(definition: Construct, data: bytes, **params):
    """Parse with the package's conventions: always a BytesIO (custom constructs seek),
    params reach the custom constructs as `this._params`."""
    return definition.parse_stream(io.BytesIO(data), **params)


def build(definition: Construct, obj, **params) -> bytes:
    stream = io.BytesIO()
    definition.build_stream(obj, stream, **params)
    return stream.getvalue()


__all__ = [
    "AsciiZ", "BoundedArray", "ConstructError", "Enum", "EnumValue", "FileTime", "FileTimeField",
    "FileTimeValue", "Flags", "FlagsValue", "Guid", "GuidField", "GuidValue", "HexBytes", "Remaining", "SizeOf", "Sized",
    "StringZ", "U32List", "UnicodeZ", "build", "parse", "remaining", "report", "sized_field", "struct",
    "where",
]
