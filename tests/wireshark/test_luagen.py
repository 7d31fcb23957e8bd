"""The Lua generator: the committed plugin is what it generates, and it refuses what it cannot emit."""

import os
import re

import construct as c
import pytest
from click.testing import CliRunner
from construct import Int8ul, Int16ul, If, Switch, this

from mapiwire.cli import main
from mapiwire.dissect.defs.core import BoundedArray, Enum, Flags, struct
from mapiwire.wireshark import luagen
from mapiwire.wireshark.luagen import Generator, LuaGenError, Scope

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, "wireshark", "mapiwire.lua")


@pytest.fixture(scope="module")
def generated():
    return luagen.generate()


def test_committed_plugin_is_what_export_generates(generated):
    result = CliRunner().invoke(main, ["export", "lua"])
    assert result.exit_code == 0, result.output
    assert result.output == generated
    with open(PLUGIN, encoding="utf-8") as f:
        committed = f.read()
    assert committed == generated, "wireshark/mapiwire.lua is stale: run `mapiwire export lua -o wireshark/mapiwire.lua`"


def test_export_writes_a_file(tmp_path, generated):
    target = tmp_path / "out.lua"
    result = CliRunner().invoke(main, ["export", "lua", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == generated


def test_output_is_deterministic(generated):
    assert luagen.generate() == generated


def _code_only(lua: str) -> str:
    """The Lua text without comments and string literals."""
    lua = re.sub(r'"(?:\\.|[^"\\\n])*"', '""', lua)
    return re.sub(r"--[^\n]*", "", lua)


def test_lua_5_2_only(generated):
    code = _code_only(generated)
    assert not re.search(r"//|&|\||<<|>>|~(?!=)", code), "Lua 5.3 operators"
    assert "string.unpack" not in code and "utf8." not in code


def test_every_rop_and_body_has_its_functions(generated):
    from mapiwire.dissect.defs.mapihttp import BODIES
    from mapiwire.dissect.defs.rops import ROP_BY_ID

    for rop_id, rop in ROP_BY_ID.items():
        line = next(line for line in generated.splitlines() if line.startswith(f"    [{rop_id:#04x}] = {{name = "))
        assert f'"{rop.name}"' in line
        assert ("request = D[" in line) == (rop.request is not None), rop.name
        assert ("response = D[" in line) == (rop.response is not None), rop.name
    for name in BODIES:
        assert f'    ["{name.lower()}"] = {{name = "{name}"' in generated


def test_fields_follow_the_naming_rules(generated):
    abbrevs = re.findall(r'^F\["([^"]+)"\] = ProtoField', generated, re.M)
    assert len(abbrevs) == len(set(abbrevs))
    for abbrev in abbrevs:
        assert re.fullmatch(r"(mapihttp|rop|oxcdata)(\.[0-9a-z_]+)+", abbrev), abbrev
    for expected in ("mapihttp.request_type", "mapihttp.response_code", "rop.name", "rop.id", "rop.returnvalue",
                     "rop.logon.logonflags", "rop.logon.logonflags.private", "rop.getreceivefolder.messageclass",
                     "rop.queryrows.rowcount", "mapihttp.connect.userdn", "oxcdata.folderid.replicaid"):
        assert expected in abbrevs, expected


def test_value_strings_carry_the_spec_names(generated):
    assert '[254] = "RopLogon"' in generated  # ROP names (MS-OXCROPS 2.2.2)
    assert '[1144] = "ecWrongServer"' in generated  # error codes (MS-OXCDATA 2.4)
    assert '[31] = "PtypString"' in generated  # property types (MS-OXCDATA 2.11.1)
    assert '[235405315] = "PidTagMessageSize"' in generated  # property tags (MS-OXPROPS)


class Unknown(c.Construct):
    """A construct class the generator has no emitter for."""

    def _parse(self, stream, context, path):
        return None


def _emit(definition):
    gen = Generator()
    gen.function_for(definition, "mapihttp", "Test")
    gen.drain()
    return "\n".join(line for fn in gen.functions.values() for line in fn.lines)


@pytest.mark.parametrize("definition", [
    struct("test", "A" / Unknown()),
    struct("test", "A" / c.Computed(this.x)),
    struct("test", "A" / c.Padded(4, Int8ul)),
    struct("test", "A" / If(this.x == 1, Unknown())),
    struct("test", "A" / BoundedArray(this.n, Unknown())),
    struct("test", "A" / c.Int32ub),  # big-endian: not a MAPI field
    struct("test", c.Padding(2)),  # unnamed member
], ids=["custom", "Computed", "Padded", "inside If", "inside BoundedArray", "big-endian", "unnamed"])
def test_unknown_construct_is_a_generator_error(definition):
    with pytest.raises(LuaGenError):
        _emit(definition)


@pytest.mark.parametrize("expression", [
    this.a ** 2,  # no Lua 5.2 form through bit32/arithmetics here
    (this.a & 1) | (this.b == 2),  # a number or-ed with a boolean
    c.len_(this.items),  # functions only in Rebuild
    c.obj_ == 1,  # roots other than this
])
def test_untranslatable_expressions_are_generator_errors(expression):
    with pytest.raises(LuaGenError):
        Generator().expr(expression)


@pytest.mark.parametrize("expression, lua", [
    (this.RowCount, "t.RowCount"),
    (this._._.RecipientColumns, "t._._.RecipientColumns"),
    (this["end"], 't["end"]'),
    (this.n * 2 - 1, "((t.n * 2) - 1)"),
    (this.Flags & 0x8000, "band(t.Flags, 32768)"),
    ((this.Flags & 0x8000) != 0, "(band(t.Flags, 32768) ~= 0)"),
    ((this.a == 1) | (this.b == 2), "((t.a == 1) or (t.b == 2))"),
    ((this.a != 0) & ~(this.b == 2), "((t.a ~= 0) and (not (t.b == 2)))"),
    (this._params.request_rop._columns, 'R.param(ctx, "request_rop", "_columns")'),
    (this._params.private_logon == False, '(R.param(ctx, "private_logon") == false)'),  # noqa: E712
])
def test_expressions_are_translated_structurally(expression, lua):
    assert Generator().expr(expression)[0] == lua


def test_emitted_function_shapes():
    definition = struct(
        "MS-TEST 1 Test Structure",
        "Kind" / Enum(Int8ul, {1: "One"}),
        "Bits" / Flags(Int16ul, {"Low": 0x1, "High": 0x8000}),
        "Count" / Int16ul,
        "Items" / BoundedArray(this.Count, Int16ul),
        "Tail" / Switch(this.Kind, {1: Int8ul}, default=c.Error),
    )
    code = _emit(definition)
    assert 't.Kind = R.uint(c, st, F["mapihttp.test.kind"], 1)' in code
    assert 't.Bits = R.flags(c, st, F["mapihttp.test.bits"], 2, FB[1])' in code
    assert "R.count(c, t.Count, 2)" in code
    assert 'R.fail("Error field was activated during parsing")' in code


def test_fields_that_cannot_share_an_abbreviation_are_an_error():
    gen = Generator()
    scope = Scope("mapihttp", "mapihttp.test")
    gen.leaf_field(scope, "Value", "uint16")
    gen.leaf_field(scope, "Value", "uint32")  # a wider integer: the same field, widened
    assert gen.fields["mapihttp.test.value"].kind == "uint32"
    with pytest.raises(LuaGenError):
        gen.leaf_field(scope, "Value", "string")


def test_property_type_readers_cover_the_python_codecs():
    kinds = Generator().value_kinds()
    from mapiwire.dissect.defs.oxcdata import CODECS

    assert set(kinds) == set(CODECS[2][0])
    assert kinds[0x101F] == "mv_string" and kinds[0x301F] == "string" and kinds[0x0102] == "binary"


def test_named_property_table_is_props_named_properties(generated):
    """GEN.NAMED_PROPERTIES holds every (property set GUID, LID or name) of MS-OXPROPS that
    mapiwire names (defs/props.py NAMED_PROPERTIES), grouped by GUID."""
    from mapiwire.dissect.defs.props import NAMED_PROPERTIES

    block = generated[generated.index("GEN.NAMED_PROPERTIES = {"):generated.index("GEN.PS_MAPI = ")]
    table = {}
    for guid, entries in re.findall(r'^    \["(\{[0-9A-F-]+\})"\] = \{\n(.*?)^    \},', block, re.M | re.S):
        for key, name in re.findall(r'\[(0x[0-9a-f]+|"(?:\\.|[^"\\])*")\] = "([^"]+)"', entries):
            table[(guid, int(key, 16) if key.startswith("0x") else key[1:-1].replace('\\"', '"'))] = name
    assert table == NAMED_PROPERTIES
    assert '["Keywords"] = "PidNameKeywords"' in block and '[0x8580] = "PidLidInternetAccountName"' in block
