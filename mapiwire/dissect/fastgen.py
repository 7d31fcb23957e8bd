"""A fast parser generated from the definitions (DESIGN.md principle 6), checked against construct.

`FastTree().fast(definition)` gives a construct that parses exactly like `definition` (the same
Containers, ListContainers, EnumValues ..., key for key) when the bytes are well formed. It is
made by walking the same construct objects `wireshark/luagen.py` walks:

- every `Struct` becomes one generated Python function on the body's bytes and a position
  (`struct.unpack_from`, no stream calls): runs of fixed-size fields are read with one unpack,
  `If`/`Switch`/`Check`/`Const`/`Bytes`/`Sized`/`BoundedArray`, strings and `this` expressions are
  inlined, nested structures are direct calls, fields are locals; the construct context (`ctx`)
  is made only by a Struct that hands it to something that reads it;
- property values and rows (`oxcdata.PropertyValue`, `PropertyRow`, the address book's
  `AddressBookPropertyValue`) go to the buffer readers of fastvalues.py, made from oxcdata's
  layout table: one dispatch per property type, rows by a function generated per column types;
- the named custom constructs that only hold other definitions (`Sized`, `BoundedArray`,
  `Array`, `Restriction`, `AddressBookPropertyRow`, ...) are shallow copies whose definitions
  are the fast ones, so their own code (bounds, budget, state) runs unchanged; `RopList` gets
  `FastRopList`, the same walk over the ROP registry with the fast ROP definitions, each ROP
  made directly as its RopsList item; `ExtendedBuffer` gets `FastExtendedBuffer` and
  `AuxBlocks` `FastAuxBlocks`: the same walks of the RPC_HEADER_EXT chain and of the auxiliary
  blocks on the buffer, headers and blocks read by their generated functions, the same lz77
  helpers and budget; these three are called by the generated code directly on the buffer;
- anything else is the original construct, called as construct would call it.
  Enum, Flags and GUID values are made once per distinct wire value (fastvalues.py).

The fast tree is only for well-formed bytes: the caller (`fastpath.parse`) gives up on any
exception or any `errors` entry a construct reports, and the body is parsed by construct, the
reference, so errors keep their `where` and `offset`.
"""

from __future__ import annotations

import codecs
import copy
import io
import operator
import struct as _struct

import construct as c
from construct.expr import BinExpr, Path, UniExpr

from . import fastvalues, lz77
from .defs import addressbook, aux, core, oxcdata, ropbuffer, rpcext
from .defs.budget import MAX_ROPS, BudgetExceeded
from .defs.core import EnumValue, FileTimeValue, FlagsValue, GuidValue

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/", operator.floordiv: "//",
          operator.mod: "%", operator.pow: "**", operator.xor: "^", operator.rshift: ">>", operator.lshift: "<<",
          operator.and_: "&", operator.or_: "|", operator.eq: "==", operator.ne: "!=", operator.lt: "<",
          operator.le: "<=", operator.gt: ">", operator.ge: ">="}
_PREFIX = {operator.not_: "not ", operator.neg: "-", operator.pos: "+", operator.invert: "~"}
INLINE_FIELDS = 8  # a nested Struct of at most this many fields that reads no context is written in place
_U32 = _struct.Struct("<I").unpack_from
_FORMATS = {"<B", "<H", "<L", "<I", "<Q", "<b", "<h", "<l", "<i", "<q", "<f", "<d"}


class Generated(c.Construct):
    """A Struct parsed by its generated function `inner(stream, buf, pos, context, params, path)
    -> (value, pos)`, on the bytes `buf` of `stream` (its getvalue(): no copy) from `pos`.
    `wants_context`: the function reads its caller's real construct context (its own context's
    `_`, or it makes a context of its own), so a caller must hand it one."""

    def __init__(self, original):
        super().__init__()
        self.original = original
        self.inner = None
        self.item = None  # a ROP's: (..., path, RopName) -> (its RopsList item, pos)
        self.wants_context = True  # until its function is made
        self.inline = False  # written in place in the functions of the Structs that hold it

    def _parse(self, stream, context, path):
        obj, pos = self.inner(stream, stream.getvalue(), stream.tell(), context, context["_params"], path)
        stream.seek(pos)
        return obj


def _through_stream(made):
    """The (stream, buf, pos, ...) -> (value, pos) form of a construct that is not generated."""
    def parse(stream, buf, pos, context, params, path):
        stream.seek(pos)
        value = made._parsereport(stream, context, path)
        return value, stream.tell()
    return parse


def _item_of(parse):
    """The RopsList item form of a ROP parser: RopId, RopName, then the ROP's fields in order."""
    def item(stream, buf, pos, context, params, path, name):
        value, pos = parse(stream, buf, pos, context, params, path)
        made = c.Container(RopId=value["RopId"], RopName=name)
        dict.update(made, value)  # the other fields after these two, in their order
        return made, pos
    return item


class FastAddressBookValue(c.Construct):
    """addressbook.AddressBookPropertyValue read by fastvalues.address_book_value."""

    def __init__(self, original):
        super().__init__()
        self.proptype = original.proptype

    def _parse(self, stream, context, path):
        ptype = addressbook.type_code(c.evaluate(self.proptype, context))
        value, pos = fastvalues.address_book_value(stream.getvalue(), stream.tell(), ptype)
        stream.seek(pos)
        return value


class FastRopList(c.Construct):
    """`ropbuffer.RopList` with the fast ROP definitions: the same walk (its `_State` pairs the
    responses with their requests), on the buffer, for well-formed lists only (MS-OXCROPS 2.2.1)."""

    def __init__(self, direction: str, tree: FastTree):
        from .defs.rops import ROP_BY_ID

        super().__init__()
        self.direction = direction
        self.tree = tree
        self.rops = ROP_BY_ID
        self.parsers: dict[int, object] = {}  # id(ROP definition) -> FastRopList.parser
        self.entries: dict[int, tuple] = {}  # RopId -> FastRopList.entry

    def parser(self, definition):
        """The (stream, buf, pos, context, params, path, RopName) -> (RopsList item, pos) function
        of a ROP definition."""
        parser = self.parsers.get(id(definition))
        if parser is None:
            if definition is None:
                raise c.ConstructError("no buffer of this direction")
            made = self.tree.ready(definition)
            if isinstance(made, Generated) and made.item is not None:
                parser = made.item
            else:
                parser = _item_of(made.inner if isinstance(made, Generated) else _through_stream(made))
            self.parsers[id(definition)] = parser
        return parser

    def entry(self, rop_id: int) -> tuple:
        """(RopDef, the parser of its request or of its success response) of a RopId."""
        rop = self.rops[rop_id]  # an unknown RopId: construct reports it
        definition = rop.request if self.direction == "request" else rop.response
        made = self.entries[rop_id] = (rop, None if definition is None else self.parser(definition))
        return made

    def _parse(self, stream, context, path):
        items, pos = self.read(stream, stream.getvalue(), stream.tell(), context, context["_params"], path)
        stream.seek(pos)
        return items

    def read(self, stream, buf, pos, context, params, path):
        """(RopsList, pos) from `pos` to the end of `buf`, `stream` being over `buf` (the items' `_io`)."""
        state = ropbuffer._State(params, self.direction)
        budget = params.get("budget")
        entries, parser_of = self.entries, self.parser
        request = self.direction == "request"
        unsolicited = ropbuffer.UNSOLICITED
        items = c.ListContainer()
        append = items.append
        allowed = budget.left["rops"] if budget is not None else MAX_ROPS  # taken once, after the walk
        end = len(buf)
        while pos < end:
            if len(items) >= allowed:
                raise BudgetExceeded("ROPs past the budget")  # construct parses the body and reports it
            rop_id = buf[pos]
            rop, parser = entries.get(rop_id) or self.entry(rop_id)
            if request:
                state.before_request(buf[pos:pos + 2])
            else:  # the handle matters to unsolicited ROPs only (_State.before_response)
                state.before_response(rop_id, int.from_bytes(buf[pos + 1:pos + 5], "little")
                                      if rop_id in unsolicited and end - pos >= 5 else None)
                if rop.has_return_value and end - pos >= 6:  # else the entry's: that of rop.response
                    return_value, = _U32(buf, pos + 2)
                    if return_value:
                        parser = parser_of(rop.response_shape(return_value))
            if parser is None:
                raise c.ConstructError("no buffer of this direction")
            item, pos = parser(stream, buf, pos, context, params, path, rop.name)
            if request and rop_id == ropbuffer.ROP_LOGON:  # _State.after: what a RopLogon request says
                state.after(item)
            append(item)
        if budget is not None:
            budget.take("rops", len(items), path)
        state.done()
        return items, pos


class FastExtendedBuffer(c.Construct):
    """`rpcext.ExtendedBuffer` on the buffer, for well-formed buffers only (MS-OXCRPC 2.2.2.1,
    3.1.4.1.1.1): the same walk of the RPC_HEADER_EXT chain, each header read by its generated
    function, payloads reverted and decompressed by the same lz77 helpers and paid for by the same
    `_afford`, each payload read by its fast definition from its own stream, the same Container.
    Wherever construct would report a problem it raises: fastpath then leaves the body to construct."""

    def __init__(self, original: rpcext.ExtendedBuffer, tree: FastTree):
        super().__init__()
        self.optional = original.optional
        self.header = tree.fast(original.header)
        self.payload = tree.fast(original.subcon)
        if not isinstance(self.header, Generated):
            raise TypeError("RPC_HEADER_EXT is a generated Struct")
        # the payload reads its caller's context (construct hands it the buffer's own context); the
        # auxiliary blocks read only their own fields and `_params` (aux.OffsetString, AuxBlock)
        self.wants_context = not isinstance(self.payload, FastAuxBlocks) and not (
            isinstance(self.payload, Generated) and not self.payload.wants_context)

    def _read_payload(self, data: bytes, context, params, path):
        """A payload parsed from a stream of its own, to its last byte (ExtendedBuffer._payload)."""
        payload = self.payload
        sub = io.BytesIO(data)
        if isinstance(payload, Generated):
            value, pos = payload.inner(sub, data, 0, context, params, path)
        elif isinstance(payload, FastAuxBlocks):
            value, pos = payload.read(sub, data, 0, context, params, path)
        else:
            value = payload._parsereport(sub, context, path)
            pos = sub.tell()
        if pos != len(data):
            raise c.StreamError("bytes left over after the payload")
        return value

    def read(self, stream, buf, pos, context, params, path):
        """(value, pos) of the buffer from `pos` to the end of `buf`, as ExtendedBuffer._parse."""
        end = len(buf)
        if self.optional and not rpcext.looks_like_header(buf, pos, end - pos):
            return self._read_payload(buf[pos:], context, params, path), end
        read_header = self.header.inner
        headers = ListContainer()
        payloads = []
        while True:
            if end - pos < rpcext.HEADER_SIZE:
                raise c.StreamError("RPC_HEADER_EXT needs 8 bytes")
            start = pos
            header, pos = read_header(stream, buf, pos, context, params, path)
            size, flags = header["Size"], header["Flags"]
            if size > end - pos:
                raise c.StreamError("RPC_HEADER_EXT.Size is more than the bytes left")
            wire = buf[pos:pos + size]
            pos += size
            header["_wire"] = wire
            data = lz77.xor(wire) if flags & 0x2 else wire
            if not rpcext.ExtendedBuffer._afford(header, context, path, start, len(headers)):
                raise c.ConstructError("a payload past the budget")  # reported: construct parses the body
            if flags & 0x1:
                data = lz77.decompress(data, header["SizeActual"])
            elif size != header["SizeActual"]:
                raise c.ConstructError("uncompressed payload with Size != SizeActual")
            headers.append(header)
            header["_plain"] = data
            payloads.append(self._read_payload(data, context, params, path))
            if flags & 0x4:
                break
            if len(headers) >= rpcext.MAX_PAYLOADS or pos == end:
                raise c.ConstructError("no Last flag")
        if len(payloads) == 1:
            return c.Container(RPC_HEADER_EXT=headers, **payloads[0]), pos
        return c.Container(RPC_HEADER_EXT=headers, Payloads=ListContainer(payloads)), pos

    def _parse(self, stream, context, path):
        value, pos = self.read(stream, stream.getvalue(), stream.tell(), context, context["_params"], path)
        stream.seek(pos)
        return value


class FastAuxBlocks(aux.AuxBlocks):
    """`aux.AuxBlocks` with the fast AUX_HEADER and block definitions (its `block`, an `aux.AuxBlock`
    copy), and a buffer entry point: the walk of `AuxBlocks._parse` and `AuxBlock._parse`, each
    AUX_HEADER and block read by its generated function (MS-OXCRPC 2.2.2.2, 3.1.4.1.2)."""

    def read(self, stream, buf, pos, context, params, path):
        """(value, pos) of the blocks from `pos` to the end of `buf`."""
        blocks = ListContainer()
        end = len(buf)
        if pos == end:
            return c.Container(Blocks=blocks), pos
        read_header, known = self.block.header.inner, self.block.blocks
        while pos < end:
            start = pos
            header, pos = read_header(stream, buf, pos, context, params, path)
            size = header["Size"]
            if size < aux.AUX_HEADER_SIZE or start + size > end:
                raise c.StreamError("AUX_HEADER.Size does not fit the bytes left")
            pos = start + size
            body = buf[start + aux.AUX_HEADER_SIZE:pos]
            name, definition = known.get((int(header["Version"]), int(header["Type"])), (None, None))
            if definition is None:  # skipped by Size (3.1.4.1.2)
                blocks.append(c.Container(AUX_HEADER=header, Unknown=body))
                continue
            saved = params.get("aux_block")
            params["aux_block"] = buf[start:pos]  # what OffsetString reads its strings from
            try:
                if isinstance(definition, Generated):
                    value = definition.inner(io.BytesIO(body), body, 0, context, params, path)[0]
                else:
                    value = definition._parsereport(io.BytesIO(body), context, path)
            finally:
                params["aux_block"] = saved
            blocks.append(c.Container(AUX_HEADER=header, **{name: value}))
        return c.Container(Blocks=blocks), pos


class FastTree:
    """The fast counterparts of definitions, made once per definition object and kept."""

    def __init__(self, compiler=lambda source: compile(source, "<fastgen>", "exec")):
        self.compiler = compiler  # source -> code object
        self.pending: list[tuple[str, str, Generated]] = []
        self.made: dict[int, c.Construct] = {}
        self.keep: list = []  # the originals, so their ids stay theirs
        self.names: dict[int, str] = {}
        self.objects: dict[str, object] = {}
        self.sources: list[str] = []
        self.namespace = dict(_RUNTIME)  # the globals of every generated function
        self.caches: dict[int, tuple] = {}  # id(Enum/Flags mapping) -> (values made, mapping)
        self.items: dict[int, tuple] = {}  # id(Flags mapping) -> ((name, bit) pairs, mapping)

    # the walk ----------------------------------------------------------------------------------

    def fast(self, con):
        """The fast construct of `con` (None stays None)."""
        if con is None:
            return None
        made = self.made.get(id(con))
        if made is None:
            made = self._make(con)
            self.made[id(con)] = made
            self.keep.append(con)
        return made

    def _make(self, con):
        if isinstance(con, c.Renamed):
            return self.fast(con.subcon) if con.parsed is None else con
        if con.parsed is not None:
            return con
        if type(con) is c.Struct:
            return self._struct(con)
        if type(con) is ropbuffer.RopList:
            return FastRopList(con.direction, self)
        if type(con) is rpcext.ExtendedBuffer:
            return FastExtendedBuffer(con, self)
        if isinstance(con, (core.Sized, core.BoundedArray, core.SizeOf, c.Array, c.Rebuild)):
            clone = copy.copy(con)
            clone.subcon = self.fast(con.subcon)
            return clone
        if type(con) is oxcdata.Restriction:  # its own code, each type's fields generated
            clone = copy.copy(con)
            self.made[id(con)] = clone  # the nested restrictions are this clone
            self.keep.append(con)
            clone.bodies = {key: self.fast(body) for key, body in con.bodies.items()}
            return clone
        if type(con) is addressbook.AddressBookPropertyRow:  # its own code, its entries generated
            clone = copy.copy(con)
            clone.plain = FastAddressBookValue(con.plain)
            clone.flagged, clone.typed, clone.flagged_typed = (
                self.fast(con.flagged), self.fast(con.typed), self.fast(con.flagged_typed))
            return clone
        if type(con) is aux.AuxBlocks:
            clone = copy.copy(con)
            clone.__class__ = FastAuxBlocks
            clone.block = self.fast(con.block)
            if not isinstance(clone.block.header, Generated):
                raise TypeError("AUX_HEADER is a generated Struct")
            return clone
        if type(con) is aux.AuxBlock:
            clone = copy.copy(con)
            clone.header = self.fast(con.header)
            clone.blocks = {key: (name, self.fast(block)) for key, (name, block) in con.blocks.items()}
            return clone
        if isinstance(con, c.IfThenElse):
            clone = copy.copy(con)
            clone.thensubcon, clone.elsesubcon = self.fast(con.thensubcon), self.fast(con.elsesubcon)
            return clone
        if isinstance(con, c.Switch):
            clone = copy.copy(con)
            clone.cases = {k: self.fast(v) for k, v in con.cases.items()}
            clone.default = self.fast(con.default)
            return clone
        return con

    # generated source --------------------------------------------------------------------------

    def name(self, obj, stem: str = "K") -> str:
        """A global name of the generated code for `obj`."""
        key = id(obj)
        if key not in self.names:
            self.names[key] = f"{stem}{len(self.names)}"
            self.objects[self.names[key]] = obj
            self.keep.append(obj)
        return self.names[key]

    def cache(self, mapping) -> str:
        """The global name of the dict of values made for an Enum's or Flags' `mapping`."""
        made = self.caches.get(id(mapping))
        if made is None:
            made = self.caches[id(mapping)] = ({}, mapping)
        return self.name(made[0], "C")

    def flag_items(self, mapping) -> tuple:
        """A Flags mapping's (name, bit) pairs, one tuple per mapping."""
        made = self.items.get(id(mapping))
        if made is None:
            made = self.items[id(mapping)] = (tuple(mapping.items()), mapping)
        return made[0]

    def _struct(self, con: c.Struct):
        if any(isinstance(_strip(sc), (c.StopIf,)) for sc in con.subcons):
            return con
        function_name = "parse_" + self.name(con, "S")
        generated = Generated(con)
        self.made[id(con)] = generated  # recursive structures call themselves
        self.keep.append(con)
        for with_context in (False, True):  # without a context of its own if nothing needs one
            writer = _Writer(self, with_context)
            body = writer.members(con.subcons, "    ")
            if with_context or not writer.needs_context:
                break
        if with_context:
            subcons = self.name(con._subcons)
            body = [f"    ctx = Container(_=context, _params=params, _root=None, _parsing=context['_parsing'], "
                    f"_building=context['_building'], _sizing=context['_sizing'], _subcons={subcons}, "
                    "_io=stream, _index=context.get('_index', None))",
                    "    ctx['_root'] = context.get('_root', ctx)"] + body
        body += ["    return obj, pos"]
        lines = [f"def {function_name}(stream, buf, pos, context, params, path):",
                 "    obj = Container()",
                 "    obj['_io'] = stream"] + body
        if "RopId" in writer.fields:  # a ROP: also its RopsList item, RopName second (ropbuffer.RopList)
            lines += ["", f"def item_{function_name}(stream, buf, pos, context, params, path, name):",
                      "    obj = Container(RopId=None, RopName=name)",
                      "    obj['_io'] = stream"] + body
        generated.wants_context = with_context or writer.uses_parent
        generated.inline = not generated.wants_context and len(con.subcons) <= INLINE_FIELDS
        self.pending.append((function_name, "\n".join(lines), generated))
        return generated

    def bind(self) -> None:
        """Compile the functions generated since the last call, as one module (its code object
        cached on disk by the hash of its source, `fastpath.cached_code`) in the namespace of the
        earlier ones, and give each Generated construct its function."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        source = "\n\n".join(text for _, text, _ in pending) + "\n"
        self.namespace.update(self.objects)
        exec(self.compiler(source), self.namespace)
        for function_name, _, generated in pending:
            generated.inner = self.namespace[function_name]
            generated.item = self.namespace.get("item_" + function_name)
        self.sources.append(source)

    def ready(self, con):
        """`fast(con)` with every function it needs compiled."""
        made = self.fast(con)
        if self.pending:
            self.bind()
        return made


def _same_decode(con) -> bool:
    """An Enum, Flags or FileTime field that decodes as those classes do (a subclass with its own
    `_decode` is called as it is)."""
    return any(isinstance(con, cls) and type(con)._decode is cls._decode
               for cls in (core.Enum, core.Flags, core.FileTimeField))


def _strip(con):
    while isinstance(con, c.Renamed) and con.parsed is None:
        con = con.subcon
    return con


def _check_failed(what: str):
    raise c.CheckError(what)


def _bytes(buf, pos: int, length: int):
    """`length` bytes from `pos` (construct's Bytes / stream_read)."""
    if length < 0:
        raise c.StreamError("negative length")
    data = buf[pos:pos + length]
    if len(data) != length:
        raise c.StreamError(f"needs {length} bytes, {len(data)} left")
    return data, pos + length


def _handles(buf, pos: int):
    """core.U32List: the rest as 4-byte little-endian integers."""
    left = len(buf) - pos
    if left % 4:
        raise c.StreamError("not a whole number of handles")
    return ListContainer(_struct.unpack_from(f"<{left // 4}I", buf, pos)), len(buf)


def _string(con: core.StringZ):
    """The fast reader of a core.StringZ (AsciiZ, UnicodeZ)."""
    encoding, errors = con.encoding, con.errors
    if codecs.lookup(encoding).name == "utf-16-le":
        return fastvalues.string_reader(con.terminator, lambda data: codecs.utf_16_le_decode(data, errors, True)[0])
    if codecs.lookup(encoding).name == "iso8859-1":
        return fastvalues.string_reader(con.terminator, lambda data: codecs.latin_1_decode(data, errors)[0])
    return fastvalues.string_reader(con.terminator, lambda data: data.decode(encoding, errors))


ListContainer = c.ListContainer
_RUNTIME = {"Container": c.Container, "ListContainer": ListContainer, "EnumValue": EnumValue,
            "FlagsValue": FlagsValue, "FileTimeValue": FileTimeValue, "GuidValue": GuidValue,
            "_enum": fastvalues.enum_value, "_flags": fastvalues.flags_value, "_guid": fastvalues.guid_value,
            "_GUIDS": fastvalues.GUIDS, "_check_failed": _check_failed, "_bytes": _bytes, "_handles": _handles,
            "_unpack_from": _struct.unpack_from, "_address_book_value": fastvalues.address_book_value,
            "_type_code": addressbook.type_code, "BytesIO": io.BytesIO}


class _Writer:
    """The statements of one generated Struct function. `with_context`: the function makes the
    construct context (`ctx`) and keeps every field in it; without, fields are only locals and
    `needs_context` says whether something turned out to need one (the Struct is then written
    again with it). `uses_parent`: an expression reads the caller's context (`this._`)."""

    def __init__(self, tree: FastTree, with_context: bool):
        self.tree = tree
        self.with_context = with_context
        self.needs_context = False
        self.uses_parent = False
        self.fields: dict[str, str] = {}  # field name -> the local holding its value
        self.obj = "obj"  # the local of the structure being filled
        self.inlined = False  # filling a nested Struct written inline: its fields are not in `ctx`
        self.locals = 0

    def local(self, stem: str) -> str:
        self.locals += 1
        return f"{stem}{self.locals}"

    @property
    def ctx(self) -> str:
        """The context handed to what this function calls."""
        return "ctx" if self.with_context else "context"

    def context_needed(self) -> str:
        self.needs_context = True
        return "ctx"

    def store(self, name: str | None, value: str, ind: str) -> list[str]:
        if not name:
            return []
        self.fields[name] = value
        if self.with_context and not self.inlined:
            return [f"{ind}obj[{name!r}] = ctx[{name!r}] = {value}"]
        return [f"{ind}{self.obj}[{name!r}] = {value}"]

    def members(self, subcons, ind: str) -> list[str]:
        lines: list[str] = []
        run: list = []  # consecutive fixed-size members: (name, format, wrap)
        for sc in subcons:
            name = sc.name if isinstance(sc, c.Renamed) else None
            fixed = self.fixed(sc)
            if fixed is not None:
                run.append((name, *fixed))
                continue
            lines += self.flush(run, ind)
            run = []
            value = self.local("v")
            lines += self.value(sc, value, ind)
            lines += self.store(name, value, ind)
        return lines + self.flush(run, ind)

    def flush(self, run: list, ind: str) -> list[str]:
        if not run:
            return []
        fmt = "<" + "".join(f for _, f, _ in run)
        codec = _struct.Struct(fmt)
        unpack = self.tree.name(codec.unpack_from, "U")
        raws = [self.local("f") for _ in run]
        lines = [f"{ind}{', '.join(raws)}, = {unpack}(buf, pos)", f"{ind}pos += {codec.size}"]
        for (name, _, wrap), raw in zip(run, raws):
            if not name:
                continue
            if wrap == "{}":
                value = raw
            else:
                value = self.local("v")
                lines.append(f"{ind}{value} = {wrap.format(raw)}")
            lines += self.store(name, value, ind)
        return lines

    def fixed(self, con):
        """(struct format, wrapping expression) of a fixed-size field, else None."""
        inner = _strip(con)
        if type(inner) is c.FormatField and inner.fmtstr in _FORMATS:
            return inner.fmtstr[1], "{}"
        if type(inner)._parse is core.GuidField._parse:
            return "16s", "(_GUIDS.get({0}) or _guid({0}))"
        if _same_decode(inner) and inner.parsed is None:
            base = _strip(inner.subcon)
            if not (type(base) is c.FormatField and base.fmtstr in _FORMATS and base.fmtstr[1] not in "fd"):
                return None
            if isinstance(inner, core.Enum):
                mapping = self.tree.name(inner.mapping, "M")
                cache = self.tree.cache(inner.mapping)
                return base.fmtstr[1], f"({cache}[{{0}}] if {{0}} in {cache} else _enum({cache}, {mapping}, {{0}}))"
            if isinstance(inner, core.Flags):
                cache = self.tree.cache(inner.mapping)
                items = self.tree.name(self.tree.flag_items(inner.mapping), "M")
                return base.fmtstr[1], f"({cache}[{{0}}] if {{0}} in {cache} else _flags({cache}, {items}, {{0}}))"
            return base.fmtstr[1], "FileTimeValue({})"
        return None

    def value(self, con, target: str, ind: str) -> list[str]:
        """Statements that parse `con` from `buf` at `pos` into `target`, moving `pos` on."""
        inner = _strip(con)
        fixed = self.fixed(inner)
        if fixed is not None:
            return self.flush_one(fixed, target, ind)
        if type(inner) is c.Struct:
            made = self.tree.fast(inner)
            if isinstance(made, Generated) and made.inline:
                return self.inline_struct(inner, target, ind)
            if isinstance(made, Generated):
                if made.wants_context:
                    self.context_needed()
                function = "parse_" + self.tree.name(inner, "S")
                return [f"{ind}{target}, pos = {function}(stream, buf, pos, {self.ctx}, params, path)"]
        if inner is c.Pass:
            return [f"{ind}{target} = None"]
        if inner is c.Error:
            return [f"{ind}_check_failed('Error')"]
        if inner.parsed is not None:
            return self.through_stream(inner, target, ind)
        if isinstance(inner, (c.Rebuild, core.SizeOf)):
            return self.value(inner.subcon, target, ind)
        if isinstance(inner, c.Check):
            return [f"{ind}if not ({self.expr(inner.func)}): _check_failed({('check failed: ' + repr(inner.func))!r})",
                    f"{ind}{target} = None"]
        if isinstance(inner, c.IfThenElse):
            return ([f"{ind}if {self.expr(inner.condfunc)}:"] + self.value(inner.thensubcon, target, ind + "    ")
                    + [f"{ind}else:"] + self.value(inner.elsesubcon, target, ind + "    "))
        if isinstance(inner, c.Switch):
            return self.switch(inner, target, ind)
        if isinstance(inner, c.Const):
            expected = self.tree.name(inner.value, "M")
            return self.value(inner.subcon, target, ind) + [
                f"{ind}if {target} != {expected}: _check_failed('not the constant')"]
        if type(inner) is core.BoundedArray:
            return self.bounded_array(inner, target, ind)
        if type(inner) is core.Sized:
            return self.sized(inner, target, ind)
        if type(inner) is ropbuffer.RopList:  # its ROPs' parent context is this Struct's, as in construct
            reader = self.tree.name(self.tree.fast(inner), "R")
            return [f"{ind}{target}, pos = {reader}.read(stream, buf, pos, {self.context_needed()}, params, path)"]
        if type(inner) is rpcext.ExtendedBuffer:
            made = self.tree.fast(inner)
            context = self.context_needed() if made.wants_context else self.ctx
            return [f"{ind}{target}, pos = {self.tree.name(made, 'R')}.read(stream, buf, pos, {context}, params, path)"]
        if isinstance(inner, c.Bytes):
            return [f"{ind}{target}, pos = _bytes(buf, pos, {self.expr(inner.length)})"]
        if type(inner) is core.StringZ:
            return [f"{ind}{target}, pos = {self.tree.name(_string(inner), 'R')}(buf, pos)"]
        if type(inner) is core.HexBytes and inner.length is None:
            return [f"{ind}{target} = buf[pos:]", f"{ind}pos = len(buf)"]
        if type(inner) is core.U32List:
            return [f"{ind}{target}, pos = _handles(buf, pos)"]
        if type(inner) is oxcdata.PropertyValue:
            return self.property_value(inner, target, ind)
        if type(inner) is addressbook.AddressBookPropertyValue:
            ptype = self.local("t")
            return [f"{ind}{ptype} = {self.expr(inner.proptype)}",
                    f"{ind}{target}, pos = _address_book_value(buf, pos, _type_code({ptype}))"]
        if type(inner) is oxcdata.PropertyRow:
            reader = self.tree.name(fastvalues.RowReader(inner), "R")
            return [f"{ind}{target}, pos = {reader}.read(buf, pos, {self.row_columns(inner)}, params)"]
        return self.through_stream(inner, target, ind)

    def inline_struct(self, inner, target: str, ind: str) -> list[str]:
        """A small nested Struct that reads no context, written in place (no call)."""
        saved = self.fields, self.obj, self.inlined
        self.fields, self.obj, self.inlined = {}, self.local("o"), True
        lines = [f"{ind}{self.obj} = Container()", f"{ind}{self.obj}['_io'] = stream"]
        lines += self.members(inner.subcons, ind)
        lines.append(f"{ind}{target} = {self.obj}")
        self.fields, self.obj, self.inlined = saved
        return lines

    def row_columns(self, row) -> str:
        """The columns and column count arguments of a RowReader call for a PropertyRow."""
        count = "None" if row.column_count is None else f"int({self.expr(row.column_count)})"
        return f"{self.expr(row.columns_expr)}, {count}"

    def through_stream(self, inner, target: str, ind: str) -> list[str]:
        """A construct that is not generated, called as construct would call it."""
        context = self.context_needed()
        return [f"{ind}stream.seek(pos)",
                f"{ind}{target} = {self.tree.name(self.tree.fast(inner))}._parsereport(stream, {context}, path)",
                f"{ind}pos = stream.tell()"]

    def switch(self, inner, target: str, ind: str) -> list[str]:
        key = self.local("k")
        lines = [f"{ind}{key} = {self.expr(inner.keyfunc)}"]
        if not inner.cases:
            return lines + self.value(inner.default, target, ind)
        which = self.local("i")
        index = {k: i for i, k in enumerate(inner.cases)}
        lines.append(f"{ind}{which} = {self.tree.name(index, 'M')}.get({key}, -1)")
        for i, case in enumerate(inner.cases.values()):
            lines.append(f"{ind}{'if' if i == 0 else 'elif'} {which} == {i}:")
            lines += self.value(case, target, ind + "    ")
        lines.append(f"{ind}else:")
        return lines + self.value(inner.default, target, ind + "    ")

    def property_value(self, inner, target: str, ind: str) -> list[str]:
        """oxcdata.PropertyValue: one dispatch on the type to its fast reader (fastvalues.py)."""
        ptype, reader = self.local("t"), self.local("r")
        readers = self.tree.name(fastvalues.READERS[inner.count_size], "R")
        return [f"{ind}{ptype} = int({self.expr(inner.type_expr)})",
                f"{ind}{reader} = {readers}.get({ptype})",
                f"{ind}if {reader} is None: _check_failed('no fast reader')",
                f"{ind}{target}, pos = {reader}(buf, pos)"]

    def bounded_array(self, inner, target: str, ind: str) -> list[str]:
        """core.BoundedArray inlined: the count checked against the bytes left and taken from the
        budget, then the elements (plain numbers in one unpack), `_index` set as construct sets it."""
        count, items, index, element, budget = (self.local(x) for x in ("n", "a", "i", "e", "b"))
        lines = [f"{ind}{count} = {self.expr(inner.count)}",
                 f"{ind}if {count} < 0 or {count} * {inner.min_size} > len(buf) - pos: _check_failed('count')",
                 f"{ind}{budget} = params.get('budget')",
                 f"{ind}if {budget} is not None: {budget}.take('values', {count}, path)"]
        row = _strip(inner.subcon)
        if type(row) is oxcdata.PropertyRow and row.parsed is None:  # a PropertyRowSet: the rows in one call
            reader = self.tree.name(fastvalues.RowReader(row), "R")
            columns = self.row_columns(row)
            return lines + [f"{ind}if {count}:",
                            f"{ind}    {target}, pos = {reader}.read_rows(buf, pos, {count}, {columns}, params)",
                            f"{ind}else:", f"{ind}    {target} = ListContainer()"]
        fixed = self.fixed(inner.subcon)
        if fixed is not None and fixed[1] == "{}" and not (self.with_context and not self.inlined):
            size = _struct.calcsize("<" + fixed[0])
            return lines + [f"{ind}{target} = ListContainer(_unpack_from(f'<{{{count}}}{fixed[0]}', buf, pos))",
                            f"{ind}pos += {count} * {size}"]
        lines += [f"{ind}{items} = ListContainer()", f"{ind}for {index} in range({count}):"]
        if self.with_context and not self.inlined:
            lines.append(f"{ind}    ctx['_index'] = {index}")
        lines += self.value(inner.subcon, element, ind + "    ")
        return lines + [f"{ind}    {items}.append({element})", f"{ind}{target} = {items}"]

    def sized(self, inner, target: str, ind: str) -> list[str]:
        """core.Sized inlined: exactly `length` bytes, parsed in a stream of their own, all used."""
        length, outer = self.local("n"), self.local("s")
        lines = [f"{ind}{length} = {self.expr(inner.length)}",
                 f"{ind}if {length} < 0 or {length} > len(buf) - pos: _check_failed('size')",
                 f"{ind}{outer} = stream, buf, pos + {length}",
                 f"{ind}buf = buf[pos:pos + {length}]",
                 f"{ind}stream = BytesIO(buf)",
                 f"{ind}pos = 0"]
        body = self.value(inner.subcon, target, ind)
        if not any("stream" in line for line in body):  # nothing reads the stream of its own
            del lines[4]
        return lines + body + [f"{ind}if pos != {length}: _check_failed('left over')", f"{ind}stream, buf, pos = {outer}"]

    def flush_one(self, fixed, target: str, ind: str) -> list[str]:
        fmt, wrap = fixed
        codec = _struct.Struct("<" + fmt)
        unpack = self.tree.name(codec.unpack_from, "U")
        raw = self.local("f")
        return [f"{ind}{raw}, = {unpack}(buf, pos)", f"{ind}pos += {codec.size}", f"{ind}{target} = {wrap.format(raw)}"]

    def expr(self, e) -> str:
        """Python for a construct expression (construct's `evaluate`): this struct's own fields
        are its locals, `this._params` the params, `this._` the caller's context."""
        if e is None or isinstance(e, (bool, int, float, str)):
            return repr(e)
        if isinstance(e, Path):
            names = []
            path = e
            while vars(path)["_Path__parent"] is not None:
                names.append(vars(path)["_Path__field"])
                path = vars(path)["_Path__parent"]
            if vars(path)["_Path__name"] != "this":
                return f"{self.tree.name(e, 'E')}({self.context_needed()})"
            names.reverse()
            rest = "".join(f"[{p!r}]" for p in names[1:])
            if not names:
                return self.context_needed()
            if names[0] in self.fields:
                return self.fields[names[0]] + rest
            if names[0] == "_params":
                return "params" + rest
            if names[0] == "_" and not self.with_context:
                self.uses_parent = True
                return "context" + rest
            return self.context_needed() + f"[{names[0]!r}]" + rest
        if isinstance(e, BinExpr) and e.op in _INFIX:
            return f"({self.expr(e.lhs)} {_INFIX[e.op]} {self.expr(e.rhs)})"
        if isinstance(e, UniExpr) and e.op in _PREFIX:
            return f"({_PREFIX[e.op]}{self.expr(e.operand)})"
        if callable(e):
            return f"{self.tree.name(e, 'E')}({self.context_needed()})"
        return self.tree.name(e, "M")
