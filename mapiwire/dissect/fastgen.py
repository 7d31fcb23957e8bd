"""A fast parser generated from the definitions (DESIGN.md principle 6), checked against construct.

`FastTree().fast(definition)` gives a construct that parses exactly like `definition` (the same
Containers, ListContainers, EnumValues ..., key for key) when the bytes are well formed. It is
made by walking the same construct objects `wireshark/luagen.py` walks:

- every `Struct` becomes one generated Python function: runs of fixed-size fields are read with
  one `struct.unpack`, `If`/`Switch`/`Check`/`Const`/`Bytes` and `this` expressions are inlined,
  nested structures are direct calls, and the context is the Container construct would build;
- the named custom constructs that only hold other definitions (`Sized`, `BoundedArray`,
  `ExtendedBuffer`, `Array`, ...) are shallow copies whose subcons are the fast ones, so their own
  code (bounds, budget, state) runs unchanged; `RopList` gets `FastRopList`, the same walk over
  the ROP registry with the fast ROP definitions;
- anything else (property values and rows, restrictions, auxiliary blocks, ...) is the original
  construct, called as construct would call it.

The fast tree is only for well-formed bytes: the caller (`fastpath.parse`) gives up on any
exception or any `errors` entry a construct reports, and the body is parsed by construct, the
reference, so errors keep their `where` and `offset`.
"""

from __future__ import annotations

import copy
import io
import operator
import struct as _struct

import construct as c
from construct.expr import BinExpr, Path, UniExpr

from .defs import core, ropbuffer, rpcext
from .defs.core import EnumValue, FileTimeValue, FlagsValue, GuidValue

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/", operator.floordiv: "//",
          operator.mod: "%", operator.pow: "**", operator.xor: "^", operator.rshift: ">>", operator.lshift: "<<",
          operator.and_: "&", operator.or_: "|", operator.eq: "==", operator.ne: "!=", operator.lt: "<",
          operator.le: "<=", operator.gt: ">", operator.ge: ">="}
_PREFIX = {operator.not_: "not ", operator.neg: "-", operator.pos: "+", operator.invert: "~"}
_FORMATS = {"<B", "<H", "<L", "<I", "<Q", "<b", "<h", "<l", "<i", "<q", "<f", "<d"}


class Generated(c.Construct):
    """A Struct parsed by its generated function."""

    def __init__(self, function, original):
        super().__init__()
        self._parse = function
        self.original = original


class FastRopList(c.Construct):
    """`ropbuffer.RopList` with the fast ROP definitions: the same walk (its `_State` pairs the
    responses with their requests), for well-formed lists only (MS-OXCROPS 2.2.1)."""

    def __init__(self, direction: str, tree: FastTree):
        from .defs.rops import ROP_BY_ID

        super().__init__()
        self.direction = direction
        self.tree = tree
        self.rops = ROP_BY_ID
        self.parsers: dict[int, object] = {}  # id(ROP definition) -> its fast parse function

    def _parse(self, stream, context, path):
        params = context._params
        state = ropbuffer._State(params, self.direction)
        budget = params.get("budget")
        ready, parsers, update = self.tree.ready, self.parsers, dict.update
        request = self.direction == "request"
        items = c.ListContainer()
        end = len(stream.getvalue())
        while stream.tell() < end:
            start = stream.tell()
            head = stream.read(6)
            stream.seek(start)
            rop = self.rops[head[0]]
            if budget is not None:
                budget.take("rops", 1, path)
            if request:
                state.before_request(head)
                definition = rop.request
            else:
                state.before_response(head[0], int.from_bytes(head[1:5], "little") if len(head) >= 5 else None)
                if len(head) == 6 and rop.has_return_value:
                    definition = rop.response_shape(int.from_bytes(head[2:6], "little"))
                else:
                    definition = rop.response
            parser = parsers.get(id(definition))
            if parser is None:
                made = ready(definition)
                parser = parsers[id(definition)] = made._parse if made.parsed is None else made._parsereport
            value = parser(stream, context, path)
            state.after(value)
            item = c.Container(RopId=value["RopId"], RopName=rop.name)
            update(item, value)  # the other fields after these two, in their order
            items.append(item)
        state.done()
        return items


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
        if isinstance(con, (core.Sized, core.BoundedArray, core.SizeOf, rpcext.ExtendedBuffer, c.Array, c.Rebuild)):
            clone = copy.copy(con)
            clone.subcon = self.fast(con.subcon)
            if isinstance(con, rpcext.ExtendedBuffer):
                clone.header = self.fast(con.header)
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

    def _struct(self, con: c.Struct):
        if any(isinstance(_strip(sc), (c.StopIf,)) for sc in con.subcons):
            return con
        function_name = "parse_" + self.name(con, "S")
        generated = Generated(None, con)
        self.made[id(con)] = generated  # recursive structures call themselves
        self.keep.append(con)
        writer = _Writer(self)
        lines = [f"def {function_name}(stream, context, path):",
                 "    obj = Container()",
                 "    obj['_io'] = stream",
                 f"    ctx = Container(_=context, _params=context['_params'], _root=None, _parsing=context['_parsing'], "
                 f"_building=context['_building'], _sizing=context['_sizing'], _subcons={self.name(con._subcons)}, "
                 "_io=stream, _index=context.get('_index', None))",
                 "    ctx['_root'] = context.get('_root', ctx)"]
        lines += writer.members(con.subcons, "    ")
        lines.append("    return obj")
        self.pending.append((function_name, "\n".join(lines), generated))
        return generated

    def bind(self) -> None:
        """Compile the functions generated since the last call, as one module (its code object
        cached on disk by the hash of its source, `fastpath.cached_code`), and give each
        Generated construct its function."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        source = "\n\n".join(text for _, text, _ in pending) + "\n"
        namespace = dict(self.objects, **_RUNTIME)
        exec(self.compiler(source), namespace)
        for function_name, _, generated in pending:
            generated._parse = namespace[function_name]
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


def _read_exact(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise c.StreamError(f"needs {size} bytes, {len(data)} left")
    return data


def _left(stream) -> int:
    """core.remaining for the BytesIO streams parsing uses (getvalue does not copy)."""
    return len(stream.getvalue()) - stream.tell()


def _flags(value: int, items: tuple, names: dict) -> FlagsValue:
    """core.Flags._decode, with the names of each value seen kept in `names` (one dict per field)."""
    found = names.get(value)
    if found is None:
        found = tuple(n for n, bit in items if bit and value & bit == bit)
        if len(names) < 4096:
            names[value] = found
    return FlagsValue(value, found)


def _check_failed(what: str):
    raise c.CheckError(what)


_RUNTIME = {"Container": c.Container, "ListContainer": c.ListContainer, "EnumValue": EnumValue,
            "FlagsValue": FlagsValue, "FileTimeValue": FileTimeValue, "GuidValue": GuidValue,
            "_read_exact": _read_exact, "_flags": _flags, "_check_failed": _check_failed, "_left": _left,
            "BytesIO": io.BytesIO}


class _Writer:
    """The statements of one generated Struct function."""

    def __init__(self, tree: FastTree):
        self.tree = tree
        self.locals = 0

    def local(self, stem: str) -> str:
        self.locals += 1
        return f"{stem}{self.locals}"

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
            if name:
                lines.append(f"{ind}obj[{name!r}] = ctx[{name!r}] = {value}")
        return lines + self.flush(run, ind)

    def flush(self, run: list, ind: str) -> list[str]:
        if not run:
            return []
        fmt = "<" + "".join(f for _, f, _ in run)
        size = _struct.calcsize(fmt)
        unpack = self.tree.name(_struct.Struct(fmt).unpack, "U")
        values = [self.local("f") for _ in run]
        lines = [f"{ind}{', '.join(values)}, = {unpack}(_read_exact(stream, {size}))"]
        for (name, _, wrap), value in zip(run, values):
            if name:
                lines.append(f"{ind}obj[{name!r}] = ctx[{name!r}] = {wrap.format(value)}")
        return lines

    def fixed(self, con):
        """(struct format, wrapping expression) of a fixed-size field, else None."""
        inner = _strip(con)
        if type(inner) is c.FormatField and inner.fmtstr in _FORMATS:
            return inner.fmtstr[1], "{}"
        if type(inner)._parse is core.GuidField._parse:
            return "16s", "GuidValue(bytes_le={})"
        if _same_decode(inner) and inner.parsed is None:
            base = _strip(inner.subcon)
            if not (type(base) is c.FormatField and base.fmtstr in _FORMATS and base.fmtstr[1] not in "fd"):
                return None
            if isinstance(inner, core.Enum):
                mapping = self.tree.name(inner.mapping, "M")
                return base.fmtstr[1], f"EnumValue({{0}}, {mapping}.get({{0}}))"
            if isinstance(inner, core.Flags):
                items = self.tree.name(tuple(inner.mapping.items()), "M")
                return base.fmtstr[1], f"_flags({{}}, {items}, {self.tree.name({}, 'M')})"
            return base.fmtstr[1], "FileTimeValue({})"
        return None

    def value(self, con, target: str, ind: str) -> list[str]:
        """Statements that parse `con` from `stream` in the context `ctx` into `target`."""
        inner = _strip(con)
        fixed = self.fixed(inner)
        if fixed is not None:
            return self.flush_one(fixed, target, ind)
        if type(inner) is c.Struct:
            made = self.tree.fast(inner)
            if isinstance(made, Generated):
                return [f"{ind}{target} = {self.tree.name(made, 'G')}._parse(stream, ctx, path)"]
        if inner is c.Pass:
            return [f"{ind}{target} = None"]
        if isinstance(inner, (c.Rebuild, core.SizeOf)) and inner.parsed is None:
            return self.value(inner.subcon, target, ind)
        if isinstance(inner, c.Check) and inner.parsed is None:
            return [f"{ind}if not ({self.expr(inner.func)}): _check_failed({('check failed: ' + repr(inner.func))!r})",
                    f"{ind}{target} = None"]
        if isinstance(inner, c.IfThenElse) and inner.parsed is None:
            return ([f"{ind}if {self.expr(inner.condfunc)}:"] + self.value(inner.thensubcon, target, ind + "    ")
                    + [f"{ind}else:"] + self.value(inner.elsesubcon, target, ind + "    "))
        if isinstance(inner, c.Switch) and inner.parsed is None:
            key = self.local("k")
            lines = [f"{ind}{key} = {self.expr(inner.keyfunc)}"]
            index = {k: i for i, k in enumerate(inner.cases)}
            if inner.cases:
                which = self.local("i")
                lines.append(f"{ind}{which} = {self.tree.name(index, 'M')}.get({key}, -1)")
                for i, case in enumerate(inner.cases.values()):
                    lines.append(f"{ind}{'if' if i == 0 else 'elif'} {which} == {i}:")
                    lines += self.value(case, target, ind + "    ")
                lines.append(f"{ind}else:")
                return lines + self.value(inner.default, target, ind + "    ")
            return lines + self.value(inner.default, target, ind)
        if isinstance(inner, c.Const) and inner.parsed is None:
            expected = self.tree.name(inner.value, "M")
            return self.value(inner.subcon, target, ind) + [
                f"{ind}if {target} != {expected}: _check_failed('not the constant')"]
        if type(inner) is core.BoundedArray and inner.parsed is None:
            return self.bounded_array(inner, target, ind)
        if type(inner) is core.Sized and inner.parsed is None:
            return self.sized(inner, target, ind)
        if isinstance(inner, c.Bytes) and inner.parsed is None:
            length = self.local("n")
            return [f"{ind}{length} = {self.expr(inner.length)}",
                    f"{ind}if {length} < 0: _check_failed('negative length')",
                    f"{ind}{target} = _read_exact(stream, {length})"]
        return [f"{ind}{target} = {self.tree.name(self.tree.fast(inner))}._parsereport(stream, ctx, path)"]

    def bounded_array(self, inner, target: str, ind: str) -> list[str]:
        """core.BoundedArray inlined: the count checked against the bytes left and taken from the
        budget, then the elements, `_index` set as construct sets it."""
        count, items, index, element, budget = (self.local(x) for x in ("n", "a", "i", "e", "b"))
        lines = [f"{ind}{count} = {self.expr(inner.count)}",
                 f"{ind}if {count} < 0 or {count} * {inner.min_size} > _left(stream): _check_failed('count')",
                 f"{ind}{budget} = ctx['_params'].get('budget')",
                 f"{ind}if {budget} is not None: {budget}.take('values', {count}, path)",
                 f"{ind}{items} = ListContainer()",
                 f"{ind}for {index} in range({count}):",
                 f"{ind}    ctx['_index'] = {index}"]
        lines += self.value(inner.subcon, element, ind + "    ")
        return lines + [f"{ind}    {items}.append({element})", f"{ind}{target} = {items}"]

    def sized(self, inner, target: str, ind: str) -> list[str]:
        """core.Sized inlined: exactly `length` bytes, parsed in a stream of their own, all used."""
        length, outer = self.local("n"), self.local("s")
        lines = [f"{ind}{length} = {self.expr(inner.length)}",
                 f"{ind}if {length} < 0 or {length} > _left(stream): _check_failed('size')",
                 f"{ind}{outer} = stream",
                 f"{ind}stream = BytesIO(_read_exact(stream, {length}))"]
        lines += self.value(inner.subcon, target, ind)
        return lines + [f"{ind}if stream.tell() != {length}: _check_failed('left over')", f"{ind}stream = {outer}"]

    def flush_one(self, fixed, target: str, ind: str) -> list[str]:
        fmt, wrap = fixed
        size = _struct.calcsize("<" + fmt)
        unpack = self.tree.name(_struct.Struct("<" + fmt).unpack, "U")
        raw = self.local("f")
        return [f"{ind}{raw}, = {unpack}(_read_exact(stream, {size}))", f"{ind}{target} = {wrap.format(raw)}"]

    def expr(self, e) -> str:
        """Python for a construct expression evaluated in `ctx` (construct's `evaluate`)."""
        if e is None or isinstance(e, (bool, int, float, str)):
            return repr(e)
        if isinstance(e, Path):
            parts = []
            path = e
            while True:
                attrs = vars(path)
                if attrs["_Path__parent"] is None:
                    if attrs["_Path__name"] != "this":
                        return f"{self.tree.name(e, 'E')}(ctx)"
                    return "ctx" + "".join(f"[{p!r}]" for p in reversed(parts))
                parts.append(attrs["_Path__field"])
                path = attrs["_Path__parent"]
        if isinstance(e, BinExpr) and e.op in _INFIX:
            return f"({self.expr(e.lhs)} {_INFIX[e.op]} {self.expr(e.rhs)})"
        if isinstance(e, UniExpr) and e.op in _PREFIX:
            return f"({_PREFIX[e.op]}{self.expr(e.operand)})"
        if callable(e):
            return f"{self.tree.name(e, 'E')}(ctx)"
        return self.tree.name(e, "M")
