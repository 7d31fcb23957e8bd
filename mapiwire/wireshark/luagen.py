"""The Wireshark Lua plugin, generated from the protocol definitions (STYLE.md 3.1 product 5, 3.6).

`generate()` walks the same construct objects the Python side parses with: the 24 request types
of `mapihttp.BODIES`, the ROPs of `rops.ROP_BY_ID`, the auxiliary blocks of `aux.AUX_BLOCKS`,
and whatever they reach. It emits one self-contained Lua 5.2 script: ProtoField declarations,
value-string tables, one dissect function per structure (`D["RopLogonRequest"]`), the ROP,
body and auxiliary-block dispatch tables, and the hand-written runtime (`runtime.lua`, inlined).

Every construct class is emitted by a rule of `Generator.emit`; a class without a rule is a
`LuaGenError`, never a silent omission. `this` expressions are translated by walking the
construct.expr objects (BinExpr, UniExpr, Path), never by rewriting their repr.

Field abbreviations are lowercase dotted paths: `mapihttp.<request type>.<field>` for bodies,
`rop.<ROP name without "Rop">.<field>` for ROP buffers (with the common ROP header fields as
`rop.id`, `rop.logonid`, `rop.inputhandleindex`, `rop.returnvalue` ...), and
`<proto>.<structure>.<field>` for shared structures (proto `oxcdata` for MS-OXCDATA, `rop` for
those of the ROP modules, `mapihttp` otherwise).
"""

from __future__ import annotations

import importlib
import operator
import os
import re
from dataclasses import dataclass, field

import construct as c
from construct.expr import BinExpr, FuncPath, Path, UniExpr

from ..dissect import context as decoding_context
from ..dissect.defs import addressbook, aux, core, mapihttp, oxcdata, proptypes, ropbuffer, rpcext
from ..dissect.defs.errorcodes import ERROR_CODES
from ..dissect.defs.rops import MODULES as ROP_MODULES
from ..dissect.defs.rops import ROP_BY_ID
from ..dissect.defs.rops.ropids import ROP_IDS
from ..dissect.transport import CONTEXT_COOKIE_NAMES, RESPONSE_CODES

RUNTIME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime.lua")
NAMED_ID_FLOOR = 0x8000  # MS-OXPROPS 1.3.1: property ids from 0x8000 are named properties

PROTOS = {
    "mapihttp": "MAPI over HTTP (MS-OXCMAPIHTTP)",
    "rop": "MAPI Remote Operations (MS-OXCROPS)",
    "oxcdata": "MAPI data structures (MS-OXCDATA)",
}

# Fields whose abbreviation is the protocol's own, whatever structure they are in.
COMMON_FIELDS = {
    "rop": {"RopId": "id", "LogonId": "logonid", "InputHandleIndex": "inputhandleindex",
            "OutputHandleIndex": "outputhandleindex", "ReturnValue": "returnvalue", "RopSize": "ropsize",
            "RopsList": "ropslist", "ServerObjectHandleTable": "serverobjecthandletable"},
    "mapihttp": {"StatusCode": "statuscode", "ErrorCode": "errorcode", "AuxiliaryBufferSize": "auxiliarybuffersize",
                 "AuxiliaryBuffer": "auxiliarybuffer"},
    "oxcdata": {},
}

# How the runtime reads each property type's value (MS-OXCDATA 2.11.1), by the single type.
# oxcdata.CODECS is walked: a type there without an entry here is a generator error.
VALUE_KINDS = {
    0x0001: "null", 0x0002: "i16", 0x0003: "i32", 0x0004: "f32", 0x0005: "f64", 0x0006: "currency",
    0x0007: "floatingtime", 0x000A: "errorcode", 0x000B: "boolean", 0x000D: "object", 0x0014: "i64",
    0x001E: "string8", 0x001F: "string", 0x0040: "time", 0x0048: "guid", 0x00FB: "serverid",
    0x00FD: "restriction", 0x00FE: "ruleaction", 0x0102: "binary",
}

# Fields the runtime adds by itself: (abbrev, kind, label, base, value strings).
RUNTIME_FIELDS = [
    ("mapihttp.request_type", "string", "Request type (X-RequestType)", None, None),
    ("mapihttp.request_id", "string", "X-RequestId", None, None),
    ("mapihttp.response_code", "uint32", "X-ResponseCode", "DEC", "RESPONSE_CODES"),
    ("mapihttp.request_frame", "framenum", "Request in frame", None, None),
    ("mapihttp.meta", "string", "Meta-tag", None, None),
    ("mapihttp.additional_header", "string", "Additional header", None, None),
    ("mapihttp.undecoded", "bytes", "Undecoded", None, None),
    ("mapihttp.text", "string", "Text", None, None),
    ("mapihttp.aux.unknown", "bytes", "Unknown auxiliary block", None, None),
    ("mapihttp.addressbookpropertyvalue.hasvalue", "uint8", "HasValue", "HEX", None),
    ("mapihttp.addressbookpropertyrow.flags", "uint8", "Flags", "HEX", None),
    ("oxcdata.propertytag", "uint32", "Property tag", "HEX", None),
    ("oxcdata.propertytag.name", "string", "Property name", None, None),
    ("rop.name", "string", "ROP", None, None),
    ("rop.id", "uint8", "RopId", "HEX", "ROP_NAMES"),
    ("rop.undecoded", "bytes", "Undecoded ROP bytes", None, None),
    ("oxcdata.propertyrow.flag", "uint8", "Flag", "HEX", None),
    ("oxcdata.typedpropertyvalue.propertytype", "uint16", "PropertyType", "HEX", "PROPERTY_TYPES"),
    ("oxcdata.flaggedpropertyvalue.flag", "uint8", "Flag", "HEX", None),
    ("oxcdata.restriction.restricttype", "uint8", "RestrictType", "HEX", "RESTRICT_TYPES"),
    ("oxcdata.value.count", "uint32", "COUNT", "DEC", None),
    ("oxcdata.value.integer16", "int16", "PtypInteger16", "DEC", None),
    ("oxcdata.value.integer32", "int32", "PtypInteger32", "DEC", None),
    ("oxcdata.value.floating32", "float", "PtypFloating32", None, None),
    ("oxcdata.value.floating64", "double", "PtypFloating64", None, None),
    ("oxcdata.value.currency", "int64", "PtypCurrency", "DEC", None),
    ("oxcdata.value.floatingtime", "double", "PtypFloatingTime", None, None),
    ("oxcdata.value.errorcode", "uint32", "PtypErrorCode", "HEX", "ERROR_CODES"),
    ("oxcdata.value.boolean", "uint8", "PtypBoolean", "DEC", None),
    ("oxcdata.value.object", "uint32", "PtypObject", "HEX", None),
    ("oxcdata.value.integer64", "int64", "PtypInteger64", "DEC", None),
    ("oxcdata.value.string8", "string", "PtypString8", None, None),
    ("oxcdata.value.string", "string", "PtypString", None, None),
    ("oxcdata.value.time", "uint64", "PtypTime", "DEC", None),
    ("oxcdata.value.guid", "guid", "PtypGuid", None, None),
    ("oxcdata.value.binary", "bytes", "PtypBinary", None, None),
    ("oxcdata.value.serverid", "bytes", "PtypServerId", None, None),
]

_CMP = {operator.eq: "==", operator.ne: "~=", operator.lt: "<", operator.le: "<=", operator.gt: ">",
        operator.ge: ">="}
_ARITH = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.mod: "%"}
_BIT = {operator.and_: "band", operator.or_: "bor", operator.xor: "bxor", operator.lshift: "lshift",
        operator.rshift: "rshift"}
_LOGIC = {operator.and_: "and", operator.or_: "or"}

_FORMATS = {"<B": ("uint8", 1), "<H": ("uint16", 2), "<L": ("uint32", 4), "<I": ("uint32", 4), "<Q": ("uint64", 8),
            "<b": ("int8", 1), "<h": ("int16", 2), "<l": ("int32", 4), "<i": ("int32", 4), "<q": ("int64", 8),
            "<f": ("float", 4), "<d": ("double", 8)}
_WIDTH = {"uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8, "int8": 1, "int16": 2, "int32": 4, "int64": 8}

# plain integer fields shown in hex: ids, handles, tags, masks, status codes
_HEX_NAME = re.compile(r"(PropertyIds?|Handle|Tag|Mask|StatusCode|Flags?)$")

LUA_KEYWORDS = {"and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
                "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"}


class LuaGenError(Exception):
    """A definition the generator cannot turn into Lua (an unknown construct class, an
    expression it cannot translate, two fields that cannot share an abbreviation)."""


@dataclass
class FieldSpec:
    abbrev: str
    kind: str  # uint8..uint64, int8..int64, float, double, string, bytes, none, guid, bool, framenum
    label: str
    base: str | None = None  # "DEC" / "HEX"
    vs: str | None = None  # name of a value-string table
    mask: int | None = None
    bits: int | None = None  # width of a bool field's parent, in bits
    blurb: str | None = None


@dataclass
class Scope:
    """Where a structure's fields get their abbreviations."""

    proto: str
    ns: str  # e.g. "rop.logon"

    def abbrev(self, name: str) -> str:
        common = COMMON_FIELDS[self.proto].get(name)
        return f"{self.proto}.{common}" if common else f"{self.ns}.{_lower(name)}"


@dataclass
class Function:
    name: str
    lines: list[str] = field(default_factory=list)


def _lower(name: str) -> str:
    return re.sub(r"[^0-9a-z_]", "_", name.lower())


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _ident(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None and name not in LUA_KEYWORDS


def _member(base: str, name: str) -> str:
    return f"{base}.{name}" if _ident(name) else f"{base}[{_lua_string(name)}]"


def _path_parts(path: Path) -> list:
    """this.a.b -> ["a", "b"] (construct keeps the parts in private attributes)."""
    parts = []
    while True:
        attrs = vars(path)
        parent = attrs["_Path__parent"]
        if parent is None:
            if attrs["_Path__name"] != "this":
                raise LuaGenError(f"expression root {attrs['_Path__name']!r} is not `this`")
            return list(reversed(parts))
        parts.append(attrs["_Path__field"])
        path = parent


def _docs(con) -> str:
    docs = ""
    while isinstance(con, c.Renamed):
        docs = docs or (con.docs or "")
        con = con.subcon
    return docs


def _strip(con):
    """A construct without its Renamed wrappers (names and docs)."""
    while isinstance(con, c.Renamed):
        con = con.subcon
    return con


class Generator:
    """One walk over the definitions, collecting fields, value strings, functions and tables."""

    def __init__(self):
        self.fields: dict[str, FieldSpec] = {}
        self.value_strings: dict[tuple, str] = {}  # frozen mapping -> VS name
        self.vs_order: list[tuple[str, dict]] = []
        self.flag_bits: list[list[str]] = []  # FB[n]: abbrevs of one Flags field's bits
        self.flag_index: dict[tuple, int] = {}
        self.constants: list[str] = []  # K[n] Lua expressions
        self.functions: dict[int, Function] = {}  # id(construct) -> its function
        self.function_names: set[str] = set()
        self.pending: list = []
        self.restrictions: dict[str, dict] = {}  # "<count size>:<max depth>" -> {RestrictType: function}
        self.names = self._global_names()
        self.locals = 0
        named = {"ROP_NAMES": {k: v[0] for k, v in ROP_IDS.items()}, "ERROR_CODES": ERROR_CODES,
                 "PROPERTY_TYPES": proptypes.PROPERTY_TYPES, "RESPONSE_CODES": RESPONSE_CODES,
                 "RESTRICT_TYPES": oxcdata.RESTRICT_TYPES}
        self.property_tags, self.property_ids = property_names()
        named["PROPERTY_TAGS"] = self.property_tags
        aliases = {name: self.vs(mapping, name.lower()) for name, mapping in named.items()}
        for abbrev, kind, label, base, vs in RUNTIME_FIELDS:
            self.add_field(FieldSpec(abbrev, kind, label, base, aliases.get(vs)))

    # names -----------------------------------------------------------------------------------

    @staticmethod
    def _global_names() -> dict[int, tuple[str, str]]:
        """id(construct) -> (proto, module-level name) for every named definition."""
        names: dict[int, tuple[str, str]] = {}
        modules = [(oxcdata, "oxcdata")] + [(m, "rop") for m in [ropbuffer] + ROP_MODULES] + [
            (rpcext, "mapihttp"), (aux, "mapihttp"), (mapihttp, "mapihttp"), (addressbook, "mapihttp"),
            (core, "mapihttp")]
        for module, proto in modules:
            for name, value in vars(module).items():
                if isinstance(value, c.Construct) and id(value) not in names:
                    names[id(value)] = (proto, name.lstrip("_"))
        return names

    def _function_name(self, wanted: str) -> str:
        name, n = wanted, 1
        while name in self.function_names:
            n += 1
            name = f"{wanted}_{n}"
        self.function_names.add(name)
        return name

    def structure_name(self, con, hint: str) -> tuple[str, str]:
        """(proto, name) of a structure: its module-level name, else the name its docs give
        ("MS-OXCDATA 2.12.1.1 AndRestriction Structure"), else `hint`."""
        for candidate in self._renamed_chain(con):
            if id(candidate) in self.names:
                return self.names[id(candidate)]
        match = re.match(r"^(MS-[A-Z]+) [\d.]+ (\w+) Structure", _docs(con))
        if match:
            return ("oxcdata" if match.group(1) in ("MS-OXCDATA", "MS-OXORULE") else "mapihttp"), match.group(2)
        raise LuaGenError(f"structure without a name: {hint} ({_docs(con)!r})")

    @staticmethod
    def _renamed_chain(con):
        while True:
            yield con
            if not isinstance(con, c.Renamed):
                return
            con = con.subcon

    # fields and value strings ---------------------------------------------------------------------

    def vs(self, mapping: dict, name: str | None = None) -> str:
        key = tuple(sorted((int(k), str(v if isinstance(v, str) else v[0])) for k, v in mapping.items()))
        if key not in self.value_strings:
            vs_name = name or f"vs{len(self.value_strings) + 1}"
            self.value_strings[key] = vs_name
            self.vs_order.append((vs_name, dict(key)))
        return self.value_strings[key]

    def add_field(self, spec: FieldSpec) -> str:
        old = self.fields.get(spec.abbrev)
        if old is None:
            self.fields[spec.abbrev] = spec
        elif old.kind != spec.kind:
            if old.kind in _WIDTH and spec.kind in _WIDTH and old.kind[0] == spec.kind[0]:
                if _WIDTH[spec.kind] > _WIDTH[old.kind]:
                    old.kind = spec.kind  # the same field, wider somewhere (e.g. 16- and 32-bit counts)
            else:
                raise LuaGenError(f"field {spec.abbrev}: {old.kind} here, {spec.kind} elsewhere")
        elif old.vs != spec.vs and old.vs and spec.vs:
            raise LuaGenError(f"field {spec.abbrev}: two different value-string tables")
        elif spec.vs and not old.vs:
            old.vs = spec.vs
        return f'F["{spec.abbrev}"]'

    def leaf_field(self, scope: Scope, name: str, kind: str, base: str | None = None, vs: str | None = None,
                   blurb: str | None = None) -> str:
        return self.add_field(FieldSpec(scope.abbrev(name), kind, name, base, vs, blurb=blurb))

    def container_field(self, scope: Scope, name: str) -> str:
        return self.add_field(FieldSpec(scope.abbrev(name), "none", name))

    def flags_bits(self, abbrev: str, mapping: dict, size: int) -> str:
        key = (abbrev, tuple(mapping.items()))
        if key not in self.flag_index:
            bits = []
            for bit_name, mask in mapping.items():
                if not mask:
                    continue
                single = mask & (mask - 1) == 0
                kind = "bool" if single else f"uint{size * 8}"
                self.add_field(FieldSpec(f"{abbrev}.{_lower(bit_name)}", kind, bit_name, None if single else "HEX",
                                         mask=mask, bits=size * 8))
                bits.append(f"{abbrev}.{_lower(bit_name)}")
            self.flag_bits.append(bits)
            self.flag_index[key] = len(self.flag_bits)
        return f"FB[{self.flag_index[key]}]"

    def constant(self, value) -> str:
        self.constants.append(self.lua_constant(value))
        return f"K[{len(self.constants)}]"

    def lua_constant(self, value) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, str):
            return _lua_string(value)
        if value is None:
            return "nil"
        if isinstance(value, dict):
            items = ", ".join(f"{k} = {self.lua_constant(v)}" for k, v in value.items() if _ident(k))
            return "{" + items + "}"
        if isinstance(value, (list, tuple)):
            return "{" + ", ".join(self.lua_constant(v) for v in value) + "}"
        raise LuaGenError(f"constant of type {type(value).__name__} has no Lua form")

    # expressions -------------------------------------------------------------------------------

    def expr(self, e, this: str = "t") -> tuple[str, str]:
        """(Lua code, "bool" or "num") of a construct expression or constant."""
        if isinstance(e, bool):
            return ("true" if e else "false"), "bool"
        if isinstance(e, int):
            return str(int(e)), "num"
        if e is None:
            return "nil", "num"
        if isinstance(e, (list, tuple)):
            return self.constant(list(e)), "num"
        if isinstance(e, Path):
            parts = _path_parts(e)
            if not parts:
                raise LuaGenError("bare `this` has no Lua form")
            if parts[0] == "_params":
                if len(parts) == 1:
                    raise LuaGenError("bare `this._params` has no Lua form")
                return "R.param(ctx, " + ", ".join(_lua_string(str(p)) for p in parts[1:]) + ")", "num"
            if parts[0] == "_root":
                raise LuaGenError("`this._root` is not supported")
            code = this
            for part in parts:
                if not isinstance(part, str):
                    raise LuaGenError(f"path part {part!r} is not a name")
                code = _member(code, part)
            return code, "num"
        if isinstance(e, BinExpr):
            lhs, ltype = self.expr(e.lhs, this)
            rhs, rtype = self.expr(e.rhs, this)
            if e.op in _CMP:
                return f"({lhs} {_CMP[e.op]} {rhs})", "bool"
            if e.op in _LOGIC and (ltype == "bool" or rtype == "bool"):
                if ltype != rtype:
                    raise LuaGenError(f"{e!r}: {_LOGIC[e.op]} of a boolean and a number")
                return f"({lhs} {_LOGIC[e.op]} {rhs})", "bool"
            if e.op in _BIT:
                return f"{_BIT[e.op]}({lhs}, {rhs})", "num"
            if e.op in _ARITH:
                return f"({lhs} {_ARITH[e.op]} {rhs})", "num"
            if e.op is operator.floordiv:
                return f"math.floor({lhs} / {rhs})", "num"
            raise LuaGenError(f"operator {e.op.__name__} in {e!r} has no Lua form")
        if isinstance(e, UniExpr):
            operand, otype = self.expr(e.operand, this)
            if e.op is operator.not_:
                return f"(not {operand})", "bool"
            if e.op is operator.neg:
                return f"(-{operand})", "num"
            raise LuaGenError(f"operator {e.op.__name__} in {e!r} has no Lua form")
        if isinstance(e, FuncPath):
            raise LuaGenError(f"{e!r}: function expressions are only allowed in Rebuild")
        if isinstance(e, dict):
            return self.constant(e), "num"
        raise LuaGenError(f"expression {e!r} ({type(e).__name__}) has no Lua form")

    def cond(self, e) -> str:
        code, kind = self.expr(e)
        return code if kind == "bool" else f"({code} ~= 0)"

    # functions ---------------------------------------------------------------------------------

    def new_local(self, stem: str) -> str:
        self.locals += 1
        return f"{stem}{self.locals}"

    def function_for(self, con, proto: str, name: str, ns: str | None = None) -> str:
        """The D[...] function that parses `con` (a structure, or any construct wrapped), made once."""
        key = id(con)
        if key in self.functions:
            return f'D["{self.functions[key].name}"]'
        fn = Function(self._function_name(name))
        self.functions[key] = fn
        self.pending.append((fn, con, Scope(proto, ns or f"{proto}.{_lower(name)}")))
        return f'D["{fn.name}"]'

    def struct_function(self, con, hint: str) -> str:
        """The function of a (possibly Renamed) Struct, named after the structure."""
        for candidate in self._renamed_chain(con):
            if id(candidate) in self.functions:
                return f'D["{self.functions[id(candidate)].name}"]'
        proto, name = self.structure_name(con, hint)
        # one function per structure object: the named one in the chain, else the Struct itself
        key = next((x for x in self._renamed_chain(con) if id(x) in self.names), _strip(con))
        return self.function_for(key, proto, name)

    def drain(self):
        while self.pending:
            fn, con, scope = self.pending.pop(0)
            self.locals = 0
            body = _strip(con)
            lines = [f'D["{fn.name}"] = function(c, tree, p, ctx, f)']
            if isinstance(body, c.Struct):
                lines.append("    local t = {_ = p}")
                lines.append("    local st, s0 = R.open(tree, c, f)")
                for sub in body.subcons:
                    lines += self.member(sub, scope, "    ")
                if body is _strip(oxcdata.PropertyTag):
                    lines.append("    R.tag_summary(st, c, s0, t, ctx)")
                lines.append("    R.close(st, c, s0)")
                lines.append("    return t")
            else:
                lines.append("    local t = p")
                lines.append("    local v")
                lines += self.emit(body, "v", "tree", None, scope, "    ", label="f")
                lines.append("    return v")
            lines.append("end")
            fn.lines = lines

    def member(self, sub, scope: Scope, ind: str) -> list[str]:
        """One member of a Struct."""
        name = sub.name if isinstance(sub, c.Renamed) else None
        inner = _strip(sub)
        if name is None:
            if isinstance(inner, c.Check):
                return [f"{ind}if not {self.cond(inner.func)} then R.fail({_lua_string('check failed: ' + repr(inner.func))}) end"]
            if isinstance(inner, c.IfThenElse) and isinstance(_strip(inner.thensubcon), c.Check) and \
                    _strip(inner.elsesubcon) is c.Pass:
                check = _strip(inner.thensubcon)
                return [f"{ind}if {self.cond(inner.condfunc)} and not {self.cond(check.func)} then "
                        f"R.fail({_lua_string('check failed: ' + repr(check.func))}) end"]
            raise LuaGenError(f"unnamed struct member {type(inner).__name__} ({scope.ns})")
        blurb = _docs(sub) or None
        return self.emit(sub, _member("t", name), "st", name, scope, ind, blurb=blurb)

    # the emit rules, one per construct class ------------------------------------------------------

    def emit(self, con, target: str, tree: str, name: str | None, scope: Scope, ind: str,
             label: str | None = None, blurb: str | None = None) -> list[str]:
        """Lua statements that parse `con` at cursor `c`, add its items to `tree` and assign the
        value to `target`. `name` is the spec field name (None for array elements, which use
        the Lua expression `label` for their subtree instead)."""
        inner = _strip(con)
        kind = type(inner)

        def fld(lua_kind, base=None, vs=None):
            if name is None:
                raise LuaGenError(f"{kind.__name__} without a field name ({scope.ns})")
            return self.leaf_field(scope, name, lua_kind, base, vs, blurb)

        def holder():
            """What a structure-like value is shown under: its field, or the element label."""
            if name is not None:
                return self.container_field(scope, name)
            return label or "nil"

        if isinstance(inner, c.Struct):
            fn = self.struct_function(con, f"{scope.ns}.{name}")
            return [f"{ind}{target} = {fn}(c, {tree}, t, ctx, {holder()})"]
        if isinstance(inner, core.OpenEnum):  # the number, then its name where it has one
            fmt = self._format(inner.subcon)
            names = self.vs(inner.mapping)
            return [f"{ind}{target} = R.named(c, {tree}, {fld(fmt[0], 'DEC')}, {fmt[1]}, VS.{names})"]
        if isinstance(inner, core.Enum):
            fmt = self._format(inner.subcon)
            vs = self.vs(inner.mapping)
            base = "HEX" if fmt[1] >= 4 else "DEC"
            return [f"{ind}{target} = R.uint(c, {tree}, {fld(fmt[0], base, vs)}, {fmt[1]})"]
        if isinstance(inner, core.Flags):
            fmt = self._format(inner.subcon)
            abbrev_ref = fld(fmt[0], "HEX")
            bits = self.flags_bits(abbrev_ref[3:-2], inner.mapping, fmt[1])
            return [f"{ind}{target} = R.flags(c, {tree}, {abbrev_ref}, {fmt[1]}, {bits})"]
        if isinstance(inner, core.FileTimeField):
            return [f"{ind}{target} = R.filetime(c, {tree}, {fld('uint64', 'DEC')})"]
        if isinstance(inner, c.FormatField):
            lua_kind, size = self._format(inner)
            base = None if lua_kind in ("float", "double") else "HEX" if name and _HEX_NAME.search(name) else "DEC"
            f = fld(lua_kind, base)
            if lua_kind in ("float", "double"):
                return [f"{ind}{target} = R.float(c, {tree}, {f}, {size})"]
            if size == 8:
                return [f"{ind}{target} = R.u64(c, {tree}, {f}, {'true' if lua_kind == 'int64' else 'false'})"]
            reader = "R.sint" if lua_kind.startswith("int") else "R.uint"
            return [f"{ind}{target} = {reader}(c, {tree}, {f}, {size})"]
        if isinstance(inner, core.GuidField):
            return [f"{ind}{target} = R.guid(c, {tree}, {fld('guid')})"]
        if isinstance(inner, core.StringZ):
            if (inner.encoding, inner.unit) == ("latin-1", 1):
                return [f"{ind}{target} = R.strz(c, {tree}, {fld('string')})"]
            if (inner.encoding, inner.unit) == ("utf-16-le", 2):
                return [f"{ind}{target} = R.ustrz(c, {tree}, {fld('string')})"]
            raise LuaGenError(f"StringZ with encoding {inner.encoding!r}")
        if isinstance(inner, c.Bytes):
            length = self.expr(inner.length)[0]
            return [f"{ind}{target} = R.bytes(c, {tree}, {fld('bytes')}, {length})"]
        if isinstance(inner, core.HexBytes):
            length = "nil" if inner.length is None else self.expr(inner.length)[0]
            return [f"{ind}{target} = R.bytes(c, {tree}, {fld('bytes')}, {length})"]
        if isinstance(inner, core.U32List):
            return [f"{ind}{target} = R.u32list(c, {tree}, {fld('uint32', 'HEX')})"]
        if inner is c.Pass:
            return []
        if inner is c.Error:
            return [f"{ind}R.fail(\"Error field was activated during parsing\")"]
        if isinstance(inner, c.IfThenElse):
            then = self.emit(inner.thensubcon, target, tree, name, scope, ind + "    ", label, blurb)
            other = self.emit(inner.elsesubcon, target, tree, name, scope, ind + "    ", label, blurb)
            lines = [f"{ind}if {self.cond(inner.condfunc)} then"] + then
            if other:
                lines += [f"{ind}else"] + other
            return lines + [f"{ind}end"]
        if isinstance(inner, c.Switch):
            key = self.new_local("k")
            lines = [f"{ind}local {key} = {self.expr(inner.keyfunc)[0]}"]
            first = True
            for case_key, case in inner.cases.items():
                lines.append(f"{ind}{'if' if first else 'elseif'} {key} == {self.lua_constant(case_key)} then")
                lines += self.emit(case, target, tree, name, scope, ind + "    ", label, blurb)
                first = False
            default = self.emit(inner.default, target, tree, name, scope, ind + "    ", label, blurb)
            if first:
                return lines + default
            if default:
                lines += [f"{ind}else"] + default
            return lines + [f"{ind}end"]
        if isinstance(inner, c.Rebuild):
            return self.emit(inner.subcon, target, tree, name, scope, ind, label, blurb)
        if isinstance(inner, core.SizeOf):
            return self.emit(inner.subcon, target, tree, name, scope, ind, label, blurb)
        if isinstance(inner, core.Sized):
            n = self.new_local("n")
            # the bytes are known: a subcon whose columns are unknown leaves them as hex (core.Sized)
            ok, err = self.new_local("ok"), self.new_local("err")
            lines = [f"{ind}do", f"{ind}    local {n} = {self.expr(inner.length)[0]}",
                     f"{ind}    local c = R.sub(c, {n})", f"{ind}    local {ok}, {err} = pcall(function()"]
            lines += self.emit(inner.subcon, target, tree, name, scope, ind + "        ", label, blurb)
            return lines + [f"{ind}    end)", f"{ind}    if {ok} then R.finish(c, {n}) else {target} = R.kept(c, {tree}, {err}, {n}) end",
                            f"{ind}end"]
        if isinstance(inner, (c.Array, core.BoundedArray, c.GreedyRange)):
            return self.emit_array(inner, target, tree, name, scope, ind, blurb)
        if isinstance(inner, c.Const):
            if not isinstance(inner.value, int):
                raise LuaGenError(f"Const of {type(inner.value).__name__}")
            lines = self.emit(inner.subcon, target, tree, name, scope, ind, label, blurb)
            return lines + [f"{ind}if {target} ~= {inner.value} then "
                            f"R.fail({_lua_string(f'{name} is not the constant {inner.value:#x}')}) end"]
        if isinstance(inner, c.Select):
            alternatives = []
            for alternative in inner.subcons:
                if not isinstance(_strip(alternative), c.Struct):
                    raise LuaGenError("Select of something else than structures")
                alternatives.append(self.struct_function(alternative, f"{scope.ns}.{name}"))
            return [f"{ind}{target} = R.select(c, {tree}, t, ctx, {holder()}, {{{', '.join(alternatives)}}})"]
        return self.emit_custom(inner, target, tree, name, scope, ind, label, blurb, holder)

    def emit_array(self, inner, target, tree, name, scope, ind, blurb) -> list[str]:
        element = inner.subcon
        element_name = self._element_label(element, name)
        a, i, at, s0 = (self.new_local(x) for x in ("a", "i", "at", "s"))
        lines = [f"{ind}do", f"{ind}    local {a} = {{}}"]
        if isinstance(inner, c.GreedyRange):
            lines.append(f"{ind}    local {at}, {s0} = R.list({tree}, c, {_lua_string(name or 'items')}, nil)")
            lines.append(f"{ind}    while c.pos < c.stop do")
            lines.append(f"{ind}        local {i} = #{a} + 1")
        else:
            count = self.expr(inner.count)[0]
            n = self.new_local("n")
            if isinstance(inner, core.BoundedArray):
                lines.append(f"{ind}    local {n} = R.count(c, {count}, {inner.min_size})")
            else:
                lines.append(f"{ind}    local {n} = {count}")
            lines.append(f"{ind}    local {at}, {s0} = R.list({tree}, c, {_lua_string(name or 'items')}, {n})")
            lines.append(f"{ind}    for {i} = 1, {n} do")
        element_label = f'"{element_name} [" .. ({i} - 1) .. "]"'
        structured = self._structured(element)
        lines += self.emit(element, f"{a}[{i}]", at, None if structured else name, scope, ind + "        ",
                           label=element_label, blurb=blurb)
        lines += [f"{ind}    end", f"{ind}    R.close({at}, c, {s0})"]
        if isinstance(inner, c.GreedyRange):  # the count is known only now
            lines.append(f'{ind}    if {at} then {at}:append_text(" (" .. #{a} .. ")") end')
        return lines + [f"{ind}    {target} = {a}", f"{ind}end"]

    def _structured(self, con) -> bool:
        """Whether a value is shown as a subtree (needs a label) rather than as one field."""
        inner = _strip(con)
        return isinstance(inner, (c.Struct, c.Switch, c.Select, oxcdata.PropertyRow, oxcdata.Restriction,
                                  addressbook.AddressBookPropertyRow, addressbook.AddressBookPropertyValue,
                                  oxcdata.PropertyValue))

    def _element_label(self, element, name) -> str:
        inner = _strip(element)
        if isinstance(inner, c.Struct):
            return self.structure_name(element, f"{name} element")[1]
        return type(inner).__name__ if self._structured(element) else (name or "item")

    @staticmethod
    def _format(con) -> tuple[str, int]:
        inner = _strip(con)
        if not isinstance(inner, c.FormatField) or inner.fmtstr not in _FORMATS:
            raise LuaGenError(f"integer field {con!r} is not a little-endian FormatField")
        return _FORMATS[inner.fmtstr]

    def emit_custom(self, inner, target, tree, name, scope, ind, label, blurb, holder) -> list[str]:
        """The named custom constructs of the definitions (core.py, oxcdata.py, aux.py, ...)."""
        if isinstance(inner, rpcext.ExtendedBuffer):
            payload = _strip(inner.subcon)
            if isinstance(payload, c.Struct):
                fn = self.struct_function(inner.subcon, f"{scope.ns}.{name}")
            else:
                proto, payload_name = self.names.get(id(inner.subcon), ("mapihttp", type(payload).__name__))
                fn = self.function_for(inner.subcon, proto, payload_name)
            what = _lua_string(name or "payload")
            return [f"{ind}{target} = R.extended_buffer(c, {tree}, t, ctx, {'true' if inner.optional else 'false'}, "
                    f"{fn}, {holder()}, {what})"]
        if isinstance(inner, ropbuffer.RopList):
            return [f"{ind}{target} = R.rop_list(c, {tree}, t, ctx, {_lua_string(inner.direction)})"]
        if isinstance(inner, aux.AuxBlocks):
            self.struct_function(aux.AUX_HEADER, "AUX_HEADER")
            for block_name, definition in aux.AUX_BLOCKS.values():
                self.struct_function(definition, block_name)
            return [f"{ind}{target} = R.aux_blocks(c, {tree}, t, ctx)"]
        if isinstance(inner, aux.OffsetString):
            kind = "bytes" if inner.size_field else "string"
            f = self.leaf_field(scope, name, kind, blurb=blurb)
            size = _lua_string(inner.size_field) if inner.size_field else "nil"
            return [f"{ind}{target} = R.offset_string(c, {tree}, {f}, t, {_lua_string(inner.offset_field)}, "
                    f"{'true' if inner.unicode else 'false'}, {size}, ctx)"]
        if isinstance(inner, oxcdata.PropertyValue):
            ptype = self.expr(inner.type_expr)[0]
            text = "nil" if name else label or "nil"  # a named value follows its PropertyTag, which names it
            owner = "t" if name else "nil"
            return [f"{ind}{target} = R.property_value(c, {tree}, {ptype}, {inner.count_size}, ctx, {text}, {owner})"]
        if isinstance(inner, oxcdata.PropertyRow):
            columns = self.expr(inner.columns_expr)[0]
            count = "nil" if inner.column_count is None else self.expr(inner.column_count)[0]
            return [f"{ind}{target} = R.property_row(c, {tree}, {columns}, {count}, {inner.count_size}, ctx, {holder()})"]
        if isinstance(inner, oxcdata.Restriction):
            key = self.restriction(inner)
            return [f"{ind}{target} = R.restriction(c, {tree}, {_lua_string(key)}, t, ctx, {holder()})"]
        if isinstance(inner, addressbook.AddressBookPropertyValue):
            ptype = self.expr(inner.proptype)[0]
            text = "nil" if name else label or "nil"
            owner = "t" if name else "nil"
            return [f"{ind}{target} = R.ab_property_value(c, {tree}, {ptype}, ctx, {text}, {owner})"]
        if isinstance(inner, addressbook.AddressBookPropertyRow):
            columns = self.expr(inner.columns)[0]
            for definition in (addressbook.AddressBookTypedPropertyValue, addressbook.AddressBookFlaggedPropertyValue,
                               addressbook.AddressBookFlaggedPropertyValueWithType):
                self.struct_function(definition, "address book value")
            return [f"{ind}{target} = R.ab_property_row(c, {tree}, {columns}, t, ctx, {holder()})"]
        raise LuaGenError(f"no Lua emitter for construct class {type(inner).__module__}.{type(inner).__name__}"
                          f" (field {name!r} in {scope.ns})")

    def restriction(self, inner) -> str:
        """The key of a Restriction's generated bodies ("<count size>:<max depth>"); every
        instance with the same parameters has the same bodies, so they are made once."""
        key = f"{inner.count_size}:{inner.max_depth}"
        if key not in self.restrictions:
            self.restrictions[key] = {rtype: self.struct_function(body, "restriction body")
                                      for rtype, body in inner.bodies.items()}
        return key

    # the whole plugin ----------------------------------------------------------------------------

    def walk(self) -> dict:
        """Make the functions of every body, ROP and auxiliary block; returns the dispatch tables."""
        tables: dict = {"bodies": [], "rops": []}
        for rop_id, rop in ROP_BY_ID.items():
            ns = f"rop.{_lower(rop.name[3:] if rop.name.startswith('Rop') else rop.name)}"
            entry = {"id": rop_id, "name": rop.name, "rv": rop.has_return_value, "errors": {}}
            for role, definition in (("request", rop.request), ("response", rop.response), ("failure", rop.failure)):
                if definition is not None:
                    proto_name = self.names.get(id(definition), (None, f"{rop.name}{role.capitalize()}"))[1]
                    entry[role] = self.function_for(definition, "rop", proto_name, ns)
            for value, definition in rop.error_shapes.items():
                proto_name = self.names.get(id(definition), (None, f"{rop.name}Error{value:08X}"))[1]
                entry["errors"][value] = self.function_for(definition, "rop", proto_name, ns)
            tables["rops"].append(entry)
        for body in mapihttp.BODIES.values():
            ns = f"mapihttp.{_lower(body.request_type)}"
            entry = {"name": body.request_type, "endpoint": body.endpoint}
            for role, definition in (("request", body.request), ("success", body.success), ("failure", body.failure)):
                if definition is not None:
                    proto_name = self.names.get(id(definition), (None, f"{body.request_type}{role.capitalize()}"))[1]
                    entry[role] = self.function_for(definition, "mapihttp", proto_name, ns)
                    entry[role + "_label"] = _docs(definition) or proto_name
            tables["bodies"].append(entry)
        tables["rpc_header_ext"] = self.struct_function(rpcext.RPC_HEADER_EXT, "RPC_HEADER_EXT")
        tables["aux_header"] = self.struct_function(aux.AUX_HEADER, "AUX_HEADER")
        tables["aux"] = [(version * 256 + block_type, block_name, self.struct_function(definition, block_name))
                         for (version, block_type), (block_name, definition) in aux.AUX_BLOCKS.items()]
        tables["server_id"] = self.struct_function(oxcdata._ServerIdBody, "PtypServerId")
        tables["rule_actions"] = {size: self.struct_function(definition, "RuleAction")
                                  for size, definition in oxcdata.RULE_ACTIONS.items()}
        tables["restriction_by_size"] = {size: self.restriction(definition)
                                         for size, definition in oxcdata.RESTRICTIONS.items()}
        tables["ab"] = {key: self.struct_function(definition, key) for key, definition in (
            ("typed", addressbook.AddressBookTypedPropertyValue),
            ("flagged", addressbook.AddressBookFlaggedPropertyValue),
            ("flagged_with_type", addressbook.AddressBookFlaggedPropertyValueWithType))}
        self.drain()
        return tables

    def value_kinds(self) -> dict[int, str]:
        """PropertyType -> Lua reader kind, for every type oxcdata.CODECS reads."""
        kinds = {}
        for ptype in sorted(oxcdata.CODECS[2][0]):
            single = ptype & ~(proptypes.MULTI_VALUE_FLAG | proptypes.MULTI_VALUE_INSTANCE)
            if single not in VALUE_KINDS:
                raise LuaGenError(f"property type {ptype:#06x} has no Lua value reader")
            multiple = ptype & proptypes.MULTI_VALUE_FLAG and not ptype & proptypes.MULTI_VALUE_INSTANCE
            kinds[ptype] = ("mv_" if multiple else "") + VALUE_KINDS[single]
        if set(oxcdata.CODECS[4][0]) != set(oxcdata.CODECS[2][0]):
            raise LuaGenError("the 2- and 4-byte COUNT codecs read different property types")
        return kinds

    def render(self, tables: dict) -> str:
        out = [
            "-- mapiwire.lua: Wireshark dissector for MAPI over HTTP (MS-OXCMAPIHTTP) and the ROPs it carries.",
            "-- Generated by `mapiwire export lua` (mapiwire/wireshark/luagen.py) from the protocol definitions;",
            "-- do not edit. Install: copy to ~/.local/lib/wireshark/plugins/ (see wireshark/README.md).",
            "-- Needs Wireshark >= 4.0 (Lua 5.2).",
            "",
            "local P = {",
        ]
        out += [f"    {name} = Proto({_lua_string(name)}, {_lua_string(desc)})," for name, desc in PROTOS.items()]
        out += ["}", "local F, FB, VS, D, K, GEN = {}, {}, {}, {}, {}, {}", ""]
        with open(RUNTIME, encoding="utf-8") as f:
            runtime = f.read()
        self._check_runtime(runtime)
        out += ["-- runtime.lua (hand-written) " + "-" * 60, runtime.rstrip("\n"), ""]
        out.append("-- value strings " + "-" * 70)
        for vs_name, mapping in self.vs_order:
            items = ", ".join(f"[{k}] = {_lua_string(v)}" for k, v in sorted(mapping.items()))
            out.append(f"VS.{vs_name} = {{{items}}}")
        out.append("")
        out.append("-- fields " + "-" * 77)
        for spec in self.fields.values():
            out.append(self._field_decl(spec))
        out.append("")
        for n, bits in enumerate(self.flag_bits, 1):
            out.append(f"FB[{n}] = {{{', '.join(f'F[{_lua_string(b)}]' for b in bits)}}}")
        out.append("")
        out.append("-- constants " + "-" * 74)
        for n, value in enumerate(self.constants, 1):
            out.append(f"K[{n}] = {value}")
        out.append("")
        out.append("-- one function per structure " + "-" * 56)
        for fn in sorted(self.functions.values(), key=lambda f: f.name):
            out += fn.lines
        out.append("")
        out.append("-- dispatch tables and constants " + "-" * 54)
        out += self._tables(tables)
        out += ["", "R.register()", ""]
        return "\n".join(out)

    @staticmethod
    def _field_decl(spec: FieldSpec) -> str:
        """ProtoField.<kind>(abbrev, name, ...): the optional arguments differ by kind."""
        blurb = _lua_string(spec.blurb) if spec.blurb else "nil"
        vs = f"VS.{spec.vs}" if spec.vs else "nil"
        mask = hex(spec.mask) if spec.mask else "nil"
        if spec.kind == "bool":
            extra = [str(spec.bits), "nil", mask, blurb]
        elif spec.kind in _WIDTH:
            extra = [f"base.{spec.base or 'DEC'}", vs, mask, blurb]
        elif spec.kind == "framenum":
            extra = ["base.NONE", "nil", "nil", blurb]
        elif spec.kind in ("string", "bytes", "float", "double"):
            extra = ["nil", blurb]
        elif spec.kind in ("none", "guid"):
            extra = [blurb]
        else:
            raise LuaGenError(f"field {spec.abbrev}: no ProtoField for kind {spec.kind}")
        while extra and extra[-1] == "nil":
            extra.pop()
        args = ", ".join([_lua_string(spec.abbrev), _lua_string(spec.label)] + extra)
        return f"F[{_lua_string(spec.abbrev)}] = ProtoField.{spec.kind}({args})"

    def _check_runtime(self, runtime: str) -> None:
        for abbrev in re.findall(r'F\["([^"]+)"\]', runtime):
            if abbrev not in self.fields:
                raise LuaGenError(f"runtime.lua uses field {abbrev} that is not declared")

    def _tables(self, tables: dict) -> list[str]:
        out = ["GEN.ROPS = {"]
        for rop in tables["rops"]:
            parts = [f"name = {_lua_string(rop['name'])}", f"rv = {'true' if rop['rv'] else 'false'}"]
            for role in ("request", "response", "failure"):
                if role in rop:
                    parts.append(f"{role} = {rop[role]}")
            errors = ", ".join(f"[{value:#010x}] = {fn}" for value, fn in rop["errors"].items())
            parts.append(f"errors = {{{errors}}}")
            out.append(f"    [{rop['id']:#04x}] = {{{', '.join(parts)}}},")
        out += ["}", "GEN.BODIES = {"]
        for body in tables["bodies"]:
            parts = [f"name = {_lua_string(body['name'])}", f"endpoint = {_lua_string(body['endpoint'])}"]
            for role in ("request", "success", "failure"):
                if role in body:
                    parts.append(f"{role} = {body[role]}")
                    parts.append(f"{role}_label = {_lua_string(body[role + '_label'])}")
            out.append(f"    [{_lua_string(body['name'].lower())}] = {{{', '.join(parts)}}},")
        out.append("}")
        out.append("GEN.AUX_BLOCKS = {")
        out += [f"    [{key:#06x}] = {{name = {_lua_string(name)}, parse = {fn}}}," for key, name, fn in tables["aux"]]
        out.append("}")
        out.append(f"GEN.RPC_HEADER_EXT = {tables['rpc_header_ext']}")
        out.append(f"GEN.AUX_HEADER = {tables['aux_header']}")
        out.append(f"GEN.MAX_PAYLOADS = {rpcext.MAX_PAYLOADS}")
        out.append("GEN.CONTEXT_COOKIE_NAMES = {" + ", ".join(f"[{_lua_string(n)}] = true" for n in CONTEXT_COOKIE_NAMES) + "}")
        out.append(f"GEN.SERVER_ID = {tables['server_id']}")
        out.append("GEN.RULE_ACTIONS = {" + ", ".join(f"[{k}] = {v}" for k, v in tables["rule_actions"].items()) + "}")
        out.append("GEN.RESTRICTIONS = {")
        for key, bodies in self.restrictions.items():
            depth = int(key.split(":")[1])
            items = ", ".join(f"[{rtype:#04x}] = {fn}" for rtype, fn in bodies.items())
            out.append(f"    [{_lua_string(key)}] = {{max_depth = {depth}, bodies = {{{items}}}}},")
        out.append("}")
        out.append("GEN.RESTRICTION_BY_SIZE = {" + ", ".join(
            f"[{k}] = {_lua_string(v)}" for k, v in tables["restriction_by_size"].items()) + "}")
        kinds = self.value_kinds()
        out.append("GEN.PTYPES = {")
        out += [f"    [{ptype:#06x}] = {_lua_string(kind)}," for ptype, kind in kinds.items()]
        out.append("}")
        out.append(f"GEN.MULTI_VALUE_FLAG = {proptypes.MULTI_VALUE_FLAG:#06x}")
        out.append("GEN.AB = {")
        out += [f"    {key} = {fn}," for key, fn in tables["ab"].items()]
        out.append("    HAS_VALUE_TYPES = {" + ", ".join(f"[{t:#06x}] = true" for t in sorted(addressbook.HAS_VALUE_TYPES)) + "},")
        out.append("    ELEMENT_TYPES = {" + ", ".join(
            f"[{k:#06x}] = {v:#06x}" for k, v in sorted(addressbook.ELEMENT_TYPES.items())) + "},")
        out.append(f"    PTYP_UNSPECIFIED = {addressbook.PTYP_UNSPECIFIED}, PTYP_NULL = {addressbook.PTYP_NULL},")
        out.append("}")
        out.append(f"GEN.ROP_LOGON = {ropbuffer.ROP_LOGON:#04x}")
        out.append("GEN.UNSOLICITED = {" + ", ".join(f"[{k:#04x}] = true" for k in sorted(ropbuffer.UNSOLICITED)) + "}")
        ctx = decoding_context
        out.append("GEN.CTX = {")
        for const in ("NO_HANDLE", "ROP_RELEASE", "ROP_GET_PROPERTIES_SPECIFIC", "ROP_SET_COLUMNS", "ROP_LOGON",
                      "ROP_READ_RECIPIENTS", "ROP_GET_PROPERTY_IDS_FROM_NAMES", "ROP_GET_NAMES_FROM_PROPERTY_IDS",
                      "ROP_QUERY_NAMED_PROPERTIES", "WARN_WITH_ERRORS"):
            out.append(f"    {const} = {getattr(ctx, const):#x},")
        out.append("    TABLE_ROW_ROPS = {" + ", ".join(f"[{r:#04x}] = true" for r in ctx.TABLE_ROW_ROPS) + "},")
        out.append("    RECIPIENT_COLUMN_ROPS = {" + ", ".join(
            f"{{{r:#04x}, {_lua_string(index)}}}" for r, index in ctx.RECIPIENT_COLUMN_ROPS.items()) + "},")
        out.append("}")
        out.append("GEN.PROPERTY_NAMES = {")
        out += [f"    [{prop_id:#06x}] = {_lua_string(name)}," for prop_id, name in sorted(self.property_ids.items())]
        out.append("}")
        out += named_property_tables()
        out.append("GEN.FIELD_ORDER = {")
        out += [f"    {_lua_string(abbrev)}," for abbrev in self.fields]
        out.append("}")
        return out


def property_names() -> tuple[dict[int, str], dict[int, str]]:
    """(32-bit tag -> name, property id -> name) of the PidTag properties (ids below 0x8000), from
    mapiwire/dissect/defs/props.py (MS-OXPROPS) when that module exists; empty tables otherwise.
    Ids from 0x8000 are named properties, whose names depend on the session: the runtime names them
    with the tables of `named_property_tables()`."""
    try:
        props = importlib.import_module("mapiwire.dissect.defs.props")
    except ImportError:
        return {}, {}
    ids = {k: v for k, v in getattr(props, "PROPERTY_NAMES", {}).items() if k < NAMED_ID_FLOOR}
    tags = {(k << 16) | t: getattr(props, "PROPERTY_TAG_NAMES", {}).get((k << 16) | t, ids[k])
            for k, t in getattr(props, "PROPERTY_TYPES_OF", {}).items() if k in ids}
    tags.update({k: v for k, v in getattr(props, "PROPERTY_TAG_NAMES", {}).items() if k >> 16 < NAMED_ID_FLOOR})
    return tags, ids


def _packed(items: list[str], indent: str, width: int = 118) -> list[str]:
    """Table items several to a line."""
    lines, line = [], indent
    for item in items:
        if line != indent and len(line) + len(item) + 2 > width:
            lines.append(line.rstrip())
            line = indent
        line += item + ", "
    if line != indent:
        lines.append(line.rstrip())
    return lines


def named_property_tables() -> list[str]:
    """GEN.NAMED_PROPERTIES (property set GUID -> {LID or string name -> PidLid/PidName name}),
    GEN.PS_MAPI, and the address book's names of ids from 0x8000 (GEN.ADDRESS_BOOK_NAMES by id,
    GEN.ADDRESS_BOOK_TAG_NAMES by tag), from mapiwire/dissect/defs/props.py and render.py: how the
    runtime names property ids from 0x8000, as render.property_name does."""
    from ..dissect import render

    props = importlib.import_module("mapiwire.dissect.defs.props")
    by_set: dict[str, dict] = {}
    for (guid, key), name in props.NAMED_PROPERTIES.items():
        by_set.setdefault(guid, {})[key] = name
    out = ["GEN.NAMED_PROPERTIES = {"]
    for guid in sorted(by_set):
        keys = sorted(by_set[guid], key=lambda k: (isinstance(k, str), k))
        items = [f"[{k:#06x}] = {_lua_string(by_set[guid][k])}" if isinstance(k, int)
                 else f"[{_lua_string(k)}] = {_lua_string(by_set[guid][k])}" for k in keys]
        out.append(f"    [{_lua_string(guid)}] = {{")
        out += _packed(items, " " * 8)
        out.append("    },")
    out.append("}")
    out.append(f"GEN.PS_MAPI = {_lua_string(render.PS_MAPI)}")
    out.append("GEN.ADDRESS_BOOK_NAMES = {")
    out += _packed([f"[{k:#06x}] = {_lua_string(v)}" for k, v in sorted(render.ADDRESS_BOOK_NAMES.items())], "    ")
    out.append("}")
    tags = {k: v for k, v in props.PROPERTY_TAG_NAMES.items() if k >> 16 >= NAMED_ID_FLOOR}
    out.append("GEN.ADDRESS_BOOK_TAG_NAMES = {")
    out += _packed([f"[{k:#010x}] = {_lua_string(v)}" for k, v in sorted(tags.items())], "    ")
    out.append("}")
    return out


def generate() -> str:
    """The complete Lua plugin as text."""
    gen = Generator()
    tables = gen.walk()
    return gen.render(tables)
