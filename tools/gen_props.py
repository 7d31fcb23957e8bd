"""Generate mapiwire/dissect/defs/props.py from the MS-OXPROPS lists in tools/data/.

Inputs (lines starting with # are comments):
- oxprops-tags.txt: `0xIIII type PidTagName section`, PidTag entries ordered by property id; the
  first line of an id is its primary name; section "-" marks a name of an earlier MS-OXPROPS revision,
  used only for ids that no current entry names.
- oxprops-named.txt: `PidLid|PidNameName set {GUID} LID 0xNNNN type section` or
  `... Name string type section`.
- oxprops-sets.txt: `SET_NAME {GUID} source`.

Output tables: PROPERTY_NAMES (id -> primary PidTag name), PROPERTY_TYPES_OF (id -> the primary name's
type), PROPERTY_ALTERNATES (id -> the other names of the id), PROPERTY_TAG_NAMES (32-bit tag -> name,
for ids shared by names of different types), NAMED_PROPERTIES ((GUID, LID or name) -> PidLid/PidName
name), NAMED_ALTERNATES (the other names of a key), PROPERTY_SETS (GUID -> set name).

Usage: python tools/gen_props.py [--check]   (--check: exit 1 if props.py is stale)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from generated import write_or_check  # noqa: E402
DATA = ROOT / "tools" / "data"
TAGS, NAMED, SETS = DATA / "oxprops-tags.txt", DATA / "oxprops-named.txt", DATA / "oxprops-sets.txt"
OUTPUT = ROOT / "mapiwire" / "dissect" / "defs" / "props.py"
sys.path.insert(0, str(ROOT))

from mapiwire.dissect.defs.proptypes import PROPERTY_TYPE_CODES  # noqa: E402 (needs ROOT on the path)

GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")
SECTION = re.compile(r"^(2\.\d+|-)$")
TYPE_CODES = {**PROPERTY_TYPE_CODES, "PtypEmbeddedTable": 0x000D}  # MS-OXCDATA 2.11.1: same code as PtypObject


def rows(path: Path):
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            yield f"{path.name}:{number}", line.split()


def type_code(where: str, name: str) -> int:
    if name not in TYPE_CODES:
        raise ValueError(f"{where}: unknown property type {name}")
    return TYPE_CODES[name]


def read_sets() -> dict[str, str]:
    sets = {}
    for where, parts in rows(SETS):
        name, guid = parts[0], parts[1]
        if not GUID.match(guid) or name in sets:
            raise ValueError(f"{where}: bad or repeated property set")
        sets[name] = guid
    return sets


def read_tags() -> list[tuple[int, int, str, bool]]:
    """(property id, type, name, current) in file order."""
    out, seen = [], set()
    for where, parts in rows(TAGS):
        if len(parts) != 4 or not parts[2].startswith("PidTag") or not SECTION.match(parts[3]) or parts[2] in seen:
            raise ValueError(f"{where}: expected `0xIIII type PidTagName section`")
        seen.add(parts[2])
        out.append((int(parts[0], 16), type_code(where, parts[1]), parts[2], parts[3] != "-"))
    return out


def read_named(sets: dict[str, str]) -> list[tuple[str, int | str, str, str]]:
    """(GUID, LID or name, canonical name, set name) in file order. Two names can share a key (the
    spec lists PidNameCalendarLocationUrl and PidNameLocationUrl with the same string name)."""
    out, names = [], set()
    for where, parts in rows(NAMED):
        if len(parts) != 7 or parts[3] not in ("LID", "Name") or not SECTION.match(parts[6]):
            raise ValueError(f"{where}: expected `name set {{GUID}} LID|Name key type section`")
        name, set_name, guid, kind, key, ptype = parts[:6]
        type_code(where, ptype)
        if sets.get(set_name) != guid:
            raise ValueError(f"{where}: {set_name} is not {guid} in {SETS.name}")
        if not name.startswith("PidLid" if kind == "LID" else "PidName"):
            raise ValueError(f"{where}: {kind} entries are {'PidLid' if kind == 'LID' else 'PidName'} names")
        key = int(key, 16) if kind == "LID" else key
        if name in names:
            raise ValueError(f"{where}: {name} listed twice")
        names.add(name)
        out.append((guid, key, name, set_name))
    return out


def names_tuple(names: list[str]) -> str:
    return "(" + ", ".join(json.dumps(n) for n in names) + ("," if len(names) == 1 else "") + ")"


def named_key(key: tuple[str, int | str]) -> str:
    guid, lid_or_name = key
    return f'("{guid}", 0x{lid_or_name:04X})' if isinstance(lid_or_name, int) else f'("{guid}", {json.dumps(lid_or_name)})'


def generate(tags, named, sets) -> str:
    primary: dict[int, tuple[int, str]] = {}
    alternates: dict[int, list[str]] = {}
    by_type: dict[int, dict[int, str]] = {}
    for current in (True, False):  # names of earlier revisions only where no current entry names the id
        for prop_id, ptype, name, is_current in tags:
            if is_current != current or (not current and prop_id in primary):
                continue
            if prop_id in primary:
                alternates[prop_id].append(name)
            else:
                primary[prop_id] = (ptype, name)
                alternates[prop_id] = []
            by_type.setdefault(prop_id, {}).setdefault(ptype, name)
    tag_names = {(prop_id << 16) | ptype: name for prop_id, types in by_type.items() if len(types) > 1
                 for ptype, name in types.items()}
    named_primary: dict[tuple[str, int | str], str] = {}
    named_alternates: dict[tuple[str, int | str], list[str]] = {}
    for guid, key, name, _ in named:
        if (guid, key) in named_primary:
            named_alternates.setdefault((guid, key), []).append(name)
        else:
            named_primary[(guid, key)] = name
    lids = sum(isinstance(key, int) for _, key, _, _ in named)
    out = [
        '"""MS-OXPROPS property names (section 2): the PidTag, PidLid and PidName canonical names.',
        "",
        "Generated by tools/gen_props.py from tools/data/oxprops-tags.txt, oxprops-named.txt and",
        "oxprops-sets.txt; do not edit.",
        "",
        f"{len(primary)} property ids with PidTag names, {len(named)} named properties ({lids} PidLid, "
        f"{len(named) - lids} PidName).",
        "PROPERTY_NAMES: property id -> PidTag name (the primary one where several share the id); ids 0x8000",
        "and above are the address book tags of NSPI. PROPERTY_TYPES_OF: property id -> that name's type.",
        "PROPERTY_ALTERNATES: property id -> its other PidTag names. PROPERTY_TAG_NAMES: 32-bit tag -> name,",
        "for the ids whose names differ by type. NAMED_PROPERTIES: (property set GUID, LID or string name)",
        "-> PidLid/PidName name; NAMED_ALTERNATES: the other names of a key. PROPERTY_SETS: property set",
        "GUID -> set name (MS-OXPROPS 1.3.2).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "PROPERTY_NAMES: dict[int, str] = {",
        *(f'    0x{prop_id:04X}: "{name}",' for prop_id, (_, name) in sorted(primary.items())),
        "}",
        "",
        "PROPERTY_TYPES_OF: dict[int, int] = {",
        *(f"    0x{prop_id:04X}: 0x{ptype:04X}," for prop_id, (ptype, _) in sorted(primary.items())),
        "}",
        "",
        "PROPERTY_ALTERNATES: dict[int, tuple[str, ...]] = {",
        *(f"    0x{prop_id:04X}: {names_tuple(names)}," for prop_id, names in sorted(alternates.items())
          if names),
        "}",
        "",
        "PROPERTY_TAG_NAMES: dict[int, str] = {",
        *(f'    0x{tag:08X}: "{name}",' for tag, name in sorted(tag_names.items())),
        "}",
        "",
        "NAMED_PROPERTIES: dict[tuple[str, int | str], str] = {",
        *(f'    {named_key(key)}: "{name}",' for key, name in named_primary.items()),
        "}",
        "",
        "NAMED_ALTERNATES: dict[tuple[str, int | str], tuple[str, ...]] = {",
        *(f"    {named_key(key)}: {names_tuple(names)}," for key, names in named_alternates.items()),
        "}",
        "",
        "PROPERTY_SETS: dict[str, str] = {",
        *(f'    "{guid}": "{name}",' for name, guid in sets.items()),
        "}",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    sets = read_sets()
    text = generate(read_tags(), read_named(sets), sets)
    return write_or_check(OUTPUT, text, argv, "gen_props.py")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
