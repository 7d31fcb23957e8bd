"""Records out: the JSON normaliser and the text tree (DESIGN.md, the JSON contract).

`to_json` turns parsed construct values into plain JSON values: hidden keys (`_...`) dropped,
enum and flag fields as numbers plus a `<Field>Name` sibling, bytes as lowercase hex, GUIDs in
registry form, FILETIMEs as ISO 8601 UTC. Properties carry their MS-OXPROPS names (defs/props.py):
a PropertyTag structure `{PropertyType, PropertyId}` gains a `PropertyName` after PropertyId, and a
property value (a dict with `PropertyTag` and `PropertyValue`: TaggedPropertyValue, the cells of a
PropertyRow) becomes `{"PropertyTag": 0xIIIITTTT, "PropertyName": ..., <its other fields>, "Value": ...}`.
Ids below 0x8000 are PidTag names; ids from 0x8000 are named through `named`, a map of property id
to the name of the PropertyName structure (MS-OXCDATA 2.6.1) a session learned (DecodingContext.named,
`property_name_of`), or ADDRESS_BOOK_NAMES (the address book's fixed tags). An unknown named property
is named `{GUID}:0xLID` or `{GUID}:Name`.

`render_text` prints a record as an indented tree like `tshark -V`, folding each `<Field>Name`
sibling into its field's line and each property value into one `PidTagSubject (0x0037001F): ...` line.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import json
import uuid

import orjson
from construct import Container, ListContainer

from .defs.core import EnumValue, FileTimeValue, FlagsValue, GuidValue
from .defs.props import NAMED_PROPERTIES, PROPERTY_NAMES, PROPERTY_TAG_NAMES
from .defs.errorcodes import ERROR_CODES
from .defs.oxcdata import tag_value
from .defs.proptypes import PROPERTY_TYPES
from .objects import describe
from .summary import diagnostic

PTYP_ERROR_CODE = 0x000A  # MS-OXCDATA 2.11.1

HEX_FIELDS_WIDE = 64  # text rendering shortens longer hex values
HEX_DIGITS = frozenset("0123456789abcdef")


PS_MAPI = "{00020328-0000-0000-C000-000000000046}"  # MS-OXPROPS 1.3.2: LID = the tagged property id
NAMED_ID_FLOOR = 0x8000  # MS-OXPROPS 1.3.1: ids from 0x8000 are named properties (mailbox) or address book tags
ADDRESS_BOOK_NAMES = {prop_id: name for prop_id, name in PROPERTY_NAMES.items() if prop_id >= NAMED_ID_FLOOR}


@functools.lru_cache(maxsize=4096)
def named_property_name(guid, kind: int, key) -> str | None:
    """PidLid/PidName name of a named property (MS-OXCDATA 2.6.1 Kind 0x00 LID / 0x01 Name), else
    `{GUID}:0xLID` / `{GUID}:Name`; None for Kind 0xFF (no name)."""
    registry = guid.registry() if isinstance(guid, GuidValue) else "{" + str(guid).strip("{}").upper() + "}"
    if kind == 0x00:
        lid = int(key)
        if registry == PS_MAPI and lid < NAMED_ID_FLOOR and lid in PROPERTY_NAMES:
            return PROPERTY_NAMES[lid]
        return NAMED_PROPERTIES.get((registry, lid)) or f"{registry}:0x{lid:04X}"
    if kind == 0x01:
        return NAMED_PROPERTIES.get((registry, key)) or f"{registry}:{key}"
    return None


def property_name_of(entry) -> str:
    """The name of a parsed PropertyName structure (MS-OXCDATA 2.6.1), "" when it has none."""
    try:
        kind = int(entry["Kind"])
        return named_property_name(entry["GUID"], kind, entry.get("LID") if kind == 0 else entry.get("Name")) or ""
    except (KeyError, TypeError, ValueError):
        return ""


def property_name(prop_id: int, prop_type: int, named=None) -> str | None:
    """MS-OXPROPS name of a property id (and type, for ids whose names differ by type); from
    0x8000, the name `named` gives the id (the address book's fixed tags also by type)."""
    if prop_id < NAMED_ID_FLOOR:
        return PROPERTY_TAG_NAMES.get((prop_id << 16) | prop_type) or PROPERTY_NAMES.get(prop_id)
    entry = named.get(prop_id) if named else None
    if not entry:
        return None
    return PROPERTY_TAG_NAMES.get((prop_id << 16) | prop_type, entry) if named is ADDRESS_BOOK_NAMES else entry


_AS_IS = frozenset((str, float, bool, int, type(None)))  # exact classes JSON takes as they are
_NAMED_INTS = (EnumValue, FlagsValue)


def to_json(value, named=None):
    """Plain JSON-able value of a parsed construct value (dicts keep field order); `named` maps
    property ids from 0x8000 to what names them (see the module docstring). Fields a layout leaves
    out (None) are left out. A dict is normalised by the plan of its keys (`_plan`)."""
    cls = value.__class__
    if cls in _AS_IS:
        return value
    if cls is Container or isinstance(value, dict):
        keys = tuple(value)
        plan = _PLANS.get(keys)
        if plan is None:
            plan = _plan(keys)
        return plan(value, named)
    if cls is ListContainer or isinstance(value, (list, tuple)):
        out = []
        for item in value:
            cls = item.__class__
            if cls in _AS_IS:
                out.append(item)
            elif cls is Container:  # to_json's dict case, without the call
                keys = tuple(item)
                out.append((_PLANS.get(keys) or _plan(keys))(item, named))
            else:
                out.append(to_json(item, named))
        return out
    if isinstance(value, bool) or isinstance(value, (str, float)):
        return value
    if isinstance(value, FileTimeValue):
        return value.iso()
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, GuidValue):
        return value.registry()
    if isinstance(value, uuid.UUID):
        return "{" + str(value).upper() + "}"
    return str(value)


_PLANS: dict = {}  # keys of a dict, in order -> the function that normalises dicts with those keys
MAX_PLANS = 4096  # dicts of other shapes (only odd input makes so many) are normalised unplanned
TAG_FIELDS = ("PropertyType", "PropertyId")


def _plan(keys: tuple):
    """The normaliser of dicts with exactly these keys, in this order: what to_json does field by
    field, with what depends only on the keys (hidden `_` fields, a tag's own fields, the `Name`
    sibling's key) decided once, so that a plain scalar field costs one class test."""
    tagged = "PropertyType" in keys and "PropertyId" in keys  # a tag, or a SortOrder (MS-OXCDATA 2.13.1)
    names = [f"v{n}" if not key.startswith("_") and not (tagged and key in TAG_FIELDS) else "_"
             for n, key in enumerate(keys)]
    if "PropertyValue" in keys and ("PropertyTag" in keys or tagged):
        plan = _property_value_plan(keys)
    elif tagged and all(name == "_" for name in names):
        plan = _tag_plan  # a PropertyTag structure (MS-OXCDATA 2.9): nothing but the tag
    else:
        scope = {"AS_IS": _AS_IS, "NAMED_INTS": _NAMED_INTS, "field": _normalised_field, "to_json": to_json,
                 "Container": Container, "PLANS": _PLANS, "make_plan": _plan, "property_tag": property_tag}
        exec(compile(_plan_source(keys, names, tagged), "<mapiwire to_json plan>", "exec"), scope)  # noqa: S102
        plan = scope["plan"]
    if len(_PLANS) < MAX_PLANS:
        _PLANS[keys] = plan
    return plan


def _plan_source(keys: tuple, names: list, tagged: bool) -> str:
    """Python for `plan(value, named)`: `names` are the locals of the fields in order, "_" for
    the fields left out (hidden ones, and a tag's own fields, which property_tag turns into the
    tag's shape)."""
    lines = ["def plan(value, named):"]
    if keys:
        lines.append(f"    {', '.join(names)}, = value.values()")
    lines.append("    out = property_tag(value, named)" if tagged else "    out = {}")
    for name, key in zip(names, keys):
        if name == "_":
            continue
        if key in OBJECT_FIELDS:
            lines.append(f"    if {name} is not None: out[{key!r}] = {name}")
            continue
        lines += [f"    if {name} is not None:",
                  f"        if {name}.__class__ in AS_IS: out[{key!r}] = {name}",
                  f"        elif {name}.__class__ in NAMED_INTS:",
                  f"            out[{key!r}] = int({name})",
                  f"            if {name}.name: out[{key + 'Name'!r}] = {name}.name"]
        if key in SPECIAL_FIELDS:
            lines.append(f"        else: field(out, {key!r}, {name}, named)")
        else:  # a nested structure takes its plan here, without to_json's call
            lines += [f"        elif {name}.__class__ is Container:",
                      f"            out[{key!r}] = (PLANS.get(k := tuple({name})) or make_plan(k))({name}, named)",
                      f"        else: out[{key!r}] = to_json({name}, named)"]
    lines.append("    return out")
    return "\n".join(lines) + "\n"


def _tag_plan(value, named) -> dict:
    return property_tag((int(value["PropertyId"]) << 16) | int(value["PropertyType"]), named)


def _normalised_field(out: dict, key: str, item, named) -> None:
    """Put a SPECIAL_FIELDS field that is neither a plain scalar nor an enum or flags into `out`:
    a nested tag flattened, else as `_field` says."""
    if key == "PropertyTag" and _is_tag(item):
        out.update(property_tag(item, named))  # a tag field: its contract shape, flattened
        return
    out[key] = _field(key, item, named)


GLOBAL_COUNTERS = ("GlobalCounter", "FolderGlobalCounter", "MessageGlobalCounter")
ADDRESS_FIELDS = ("ClientIP", "ClientIPMask")  # MS-OXCRPC 2.2.2.2.15 AUX_PERF_CLIENTINFO
MAC_FIELDS = ("MacAddress",)
OBJECT_FIELDS = ("InputObject", "OutputObject", "NotificationObject")  # objects.py makes them plain JSON values
SPECIAL_FIELDS = frozenset(("PropertyTag", "LogonTime", *GLOBAL_COUNTERS, *ADDRESS_FIELDS, *MAC_FIELDS))
LOGON_TIME_FIELDS = ("Seconds", "Minutes", "Hour", "DayOfWeek", "Day", "Month", "Year")


def _field(key: str, item, named):
    """A field's JSON value, with the few fields whose wire form is not how people read them:
    a GlobalCounter as the unsigned 48-bit integer it is (MS-OXCDATA 2.2.1.1, big-endian on the
    wire), IP and MAC addresses in their usual notation, RopLogon's LogonTime as one time."""
    if isinstance(item, (bytes, bytearray)):
        if key in GLOBAL_COUNTERS and len(item) == 6:
            return int.from_bytes(item, "big")
        if key in ADDRESS_FIELDS and len(item) in (4, 16):
            return str(ipaddress.ip_address(bytes(item)))
        if key in MAC_FIELDS and len(item) == 6:
            return ":".join(f"{b:02x}" for b in item)
    if key == "LogonTime" and isinstance(item, dict) and tuple(k for k in item if k[0] != "_") == LOGON_TIME_FIELDS:
        return _logon_time(item) or to_json(item, named)
    return to_json(item, named)


def _logon_time(value: dict) -> str | None:
    """MS-OXCROPS 2.2.3.1.2.1 LogonTime as ISO 8601 (the server's clock; no zone on the wire)."""
    try:
        when = datetime.datetime(int(value["Year"]), int(value["Month"]), int(value["Day"]), int(value["Hour"]),
                                 int(value["Minutes"]), int(value["Seconds"]))
    except (ValueError, OverflowError):
        return None
    return when.isoformat()


def _is_tag(value) -> bool:
    """A parsed PropertyTag structure (MS-OXCDATA 2.9): exactly PropertyType and PropertyId."""
    return isinstance(value, dict) and "PropertyType" in value and "PropertyId" in value and _public(value) == 2


def _public(value: dict) -> int:
    """How many fields a parsed structure has (construct adds `_io` and such)."""
    return sum(1 for key in value if not key.startswith("_"))


def property_tag(tag, named=None) -> dict:
    """The contract's shape of a property tag: `{"PropertyTag": 0xIIIITTTT, "PropertyName": ...,
    "PropertyTypeName": ...}` (names where known)."""
    number = tag if tag.__class__ is int else tag_value(tag)
    fixed = _FIXED_TAGS.get(number)
    if fixed is not None:
        return fixed.copy()
    if number >> 16 < NAMED_ID_FLOOR:  # no session names it: the same shape each time, made once
        fixed = _tag_fields(number, None)
        if len(_FIXED_TAGS) < MAX_FIXED_TAGS:
            _FIXED_TAGS[number] = fixed
        return fixed.copy()
    return _tag_fields(number, named)


_FIXED_TAGS: dict[int, dict] = {}  # property_tag's fields of tags whose id is below 0x8000
MAX_FIXED_TAGS = 8192


def _tag_fields(number: int, named) -> dict:
    """property_tag's fields of the 32-bit tag `number`."""
    out = {"PropertyTag": number}
    name = property_name(number >> 16, number & 0xFFFF, named)
    if name is not None:
        out["PropertyName"] = name
    type_name = PROPERTY_TYPES.get(number & 0xFFFF)
    if type_name is not None:
        out["PropertyTypeName"] = type_name
    return out


def _property_value_plan(keys: tuple):
    """The normaliser of property values with these keys, in the contract's shape `{"PropertyTag":
    0xIIIITTTT, "PropertyName": ..., <other fields>, "Value": ...}`: `{PropertyTag, [PropertyType],
    [Flag], PropertyValue}` (TaggedPropertyValue, PropertyRow cells), or the address book's
    `{PropertyType, PropertyId, PropertyValue: {[HasValue], PropertyValue}}` (MS-OXCMAPIHTTP
    2.2.1.2), whose HasValue byte is kept."""
    tagged = "PropertyTag" in keys  # else the address book form carries PropertyType and PropertyId itself
    typed = tagged and "PropertyType" in keys
    skip = ("PropertyTag", "PropertyValue") if tagged else ("PropertyId", "PropertyType", "PropertyValue")
    others = tuple(key for key in keys if key not in skip and not key.startswith("_"))
    flagged = "Flag" in keys

    def plan(value: dict, named) -> dict:
        if tagged:
            tag = value["PropertyTag"]
            if tag.__class__ is not int:
                tag = tag_value(tag)
            prop_type = int(value["PropertyType"]) if typed else tag & 0xFFFF
        else:
            tag = tag_value(value)
            prop_type = tag & 0xFFFF
        out = property_tag(tag, named)
        if prop_type != tag & 0xFFFF:  # a PtypUnspecified column: the value says its type
            name = property_name(tag >> 16, prop_type, named)
            if name is not None:
                out["PropertyName"] = name
        for key in others:
            item = value[key]
            if item is None:
                continue
            if item.__class__ in _AS_IS:
                out[key] = item
                continue
            out[key] = to_json(item, named)
            if item.__class__ in _NAMED_INTS and item.name:
                out[f"{key}Name"] = item.name
        item = value["PropertyValue"]
        if isinstance(item, dict) and "PropertyValue" in item:  # the address book's {[HasValue], PropertyValue}
            if "HasValue" in item:
                out["HasValue"] = to_json(item["HasValue"], named)
            item = item["PropertyValue"]
        if item is None:
            return out
        cls = item.__class__
        if cls in _AS_IS:
            out["Value"] = item
        else:
            out["Value"] = to_json(item, named)
            if cls in _NAMED_INTS and item.name:
                out["ValueName"] = item.name
                return out
        if (prop_type == PTYP_ERROR_CODE or (flagged and value["Flag"] == 0xA)) and isinstance(item, int):
            name = ERROR_CODES.get(int(item))  # MS-OXCDATA 2.4: a PtypErrorCode value
            if name is not None:
                out["ValueName"] = name
        return out

    return plan


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # orjson's form, for what orjson refuses


def dumps(record, indent: int | None = None) -> str:
    """A record as one line of compact JSON (orjson: about five times the standard encoder, see
    bench/README.md), or indented. What orjson refuses (a string with a lone UTF-16 surrogate,
    an integer past 64 bits) goes through the standard encoder in the same compact form."""
    if indent is not None:
        return json.dumps(record, indent=indent, ensure_ascii=False)
    try:
        return orjson.dumps(record).decode()
    except (orjson.JSONEncodeError, TypeError):
        return _ENCODER.encode(record)


# Text --------------------------------------------------------------------------------------

NUMBER_AS_HEX = ("Flags", "ReturnValue", "ErrorCode", "StatusCode", "Handle", "HandleTable", "Tag", "Code",
                 "PropertyId", "PropertyIds", "GlobalCounter")
TAG_NAMES = ("PropertyName", "PropertyTypeName")  # shown with the PropertyTag they name


def _tag_text(value: dict) -> str:
    """`0x0037001F (PidTagSubject, PtypString)` for a dict carrying a PropertyTag number."""
    names = [value[k] for k in TAG_NAMES if isinstance(value.get(k), str)]
    return f"0x{value['PropertyTag']:08X}" + (f" ({', '.join(names)})" if names else "")


def _is_tag_shape(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("PropertyTag"), int) and "Value" not in value


def _tag_label(value) -> str | None:
    """`PidTagSubject (0x0037001F, PtypString)` for a property tag in the contract's shape."""
    if not _is_tag_shape(value) or set(value) - {"PropertyTag", *TAG_NAMES}:
        return None
    name = value.get("PropertyName")
    extra = f", {value['PropertyTypeName']}" if value.get("PropertyTypeName") else ""
    return f"{name} (0x{value['PropertyTag']:08X}{extra})" if name else f"0x{value['PropertyTag']:08X}{extra}"


def _scalar(key: str, value, siblings: dict) -> str:
    name = siblings.get(f"{key}Name")
    if name is None and key == "StatusCode" and isinstance(value, int) and value:
        name = ERROR_CODES.get(value)  # a failure body's StatusCode (MS-OXCMAPIHTTP 2.2.2.2): an error code
    if isinstance(value, bool) or value is None:
        text = str(value).lower() if isinstance(value, bool) else "null"
    elif isinstance(value, int):
        text = f"{value:#x}" if key.endswith(NUMBER_AS_HEX) or name else str(value)
        if name and not key.endswith(NUMBER_AS_HEX):
            text = f"{value}"
    elif isinstance(value, str):
        long_hex = len(value) > HEX_FIELDS_WIDE * 2 and all(ch in HEX_DIGITS for ch in value)
        text = value[:HEX_FIELDS_WIDE * 2] + f"... ({len(value)} chars)" if long_hex else value
    else:
        text = str(value)
    return f"{text} ({name})" if name else text


def _property_label(value) -> str | None:
    """`PidTagSubject (0x0037001F)` for a property value in the contract's shape, else None."""
    if not isinstance(value, dict) or "Value" not in value or not isinstance(value.get("PropertyTag"), int):
        return None
    name = value.get("PropertyName")
    return f"{name} (0x{value['PropertyTag']:08X})" if name else f"0x{value['PropertyTag']:08X}"


def _property_lines(label: str, value: dict, indent: int, out: list[str]) -> None:
    pad = "    " * indent
    extras = [f"{key} {_scalar(key, item, value)}" for key, item in value.items()
              if key not in ("PropertyTag", "Value", "ValueName", *TAG_NAMES)
              and not (key.endswith("Name") and key[:-4] in value) and not isinstance(item, (dict, list))]
    label += f" [{', '.join(extras)}]" if extras else ""
    item = value["Value"]
    if isinstance(item, dict) or (isinstance(item, list) and any(isinstance(x, (dict, list)) for x in item)):
        out.append(f"{pad}{label}")
        _lines(item, indent + 1, out)
    elif isinstance(item, list):
        out.append(f"{pad}{label}: [{', '.join(_scalar('Value', x, {}) for x in item)}]")
    elif isinstance(item, int) and (value.get("ValueName") or value.get("PropertyTypeName") == "PtypErrorCode"):
        name = f" ({value['ValueName']})" if value.get("ValueName") else ""  # an error code (PtypErrorCode, Flag 0xA)
        out.append(f"{pad}{label}: {item:#x}{name}")
    else:
        out.append(f"{pad}{label}: {_scalar('Value', item, value)}")


INLINE_FIELDS = 5  # a structure of at most this many plain fields is shown on one line


def _inline(value) -> str | None:
    """A small structure of plain fields on one line ("ReplicaId: 1, GlobalCounter: 0000000000a1")."""
    if not isinstance(value, dict) or not value or "RopId" in value:
        return None
    label = _tag_label(value)
    if label is not None:
        return label
    tag = _is_tag_shape(value)
    shown = [k for k in value if not (k.endswith("Name") and k[:-4] in value) and not (tag and k in TAG_NAMES)]
    if len(shown) > INLINE_FIELDS or any(isinstance(value[k], (dict, list)) for k in shown):
        return None
    return ", ".join(f"{k}: {_tag_text(value) if tag and k == 'PropertyTag' else _scalar(k, value[k], value)}"
                     for k in shown)


def _lines(value, indent: int, out: list[str]) -> None:
    pad = "    " * indent
    if isinstance(value, dict):
        tag = _is_tag_shape(value)
        for key, item in value.items():
            if key.endswith("Name") and key[:-4] in value and key not in ("RopName", "PropertyName"):
                continue
            if key == "RopName" and "RopId" in value:
                continue  # shown with RopId
            if tag and key in TAG_NAMES:
                continue  # shown with PropertyTag
            if key in ("InputObject", "OutputObject", "NotificationObject") and isinstance(item, dict):
                handle = f"{item['Handle']:#x} → " if isinstance(item.get("Handle"), int) else ""
                out.append(f"{pad}{key}: {handle}{describe(item)}")
                continue
            if tag and key == "PropertyTag":
                out.append(f"{pad}PropertyTag: {_tag_text(value)}")
                continue
            label = _property_label(item)
            inline = _inline(item)
            if label is not None:
                out.append(f"{pad}{key}")
                _property_lines(label, item, indent + 1, out)
            elif key == "RopId" and value.get("RopName"):
                out.append(f"{pad}RopId: {item:#04x} ({value['RopName']})")
            elif inline is not None:
                out.append(f"{pad}{key}: {inline}")
            elif isinstance(item, dict):
                out.append(f"{pad}{key}")
                _lines(item, indent + 1, out)
            elif isinstance(item, list) and any(isinstance(x, (dict, list)) for x in item):
                out.append(f"{pad}{key} [{len(item)}]")
                for i, element in enumerate(item):
                    label = _property_label(element)
                    if label is not None:
                        _property_lines(label, element, indent + 1, out)
                        continue
                    inline = _inline(element)
                    if inline is not None:
                        out.append(f"{pad}    [{i}] {inline}")
                        continue
                    label = element.get("RopName") if isinstance(element, dict) else None
                    out.append(f"{pad}    [{i}]{' ' + label if label else ''}")
                    _lines(element, indent + 2, out)
            elif isinstance(item, list):
                out.append(f"{pad}{key}: [{', '.join(_scalar(key, x, {}) for x in item)}]")
            else:
                out.append(f"{pad}{key}: {_scalar(key, item, value)}")
    elif isinstance(value, list):
        for i, element in enumerate(value):
            label = _property_label(element)
            if label is not None:
                _property_lines(label, element, indent, out)
                continue
            out.append(f"{pad}[{i}]")
            _lines(element, indent + 1, out)
    else:
        out.append(f"{pad}{value}")


def summary(record: dict) -> str:
    """One line per exchange: index, time, endpoints, request type, ROP names, outcome."""
    if not (record.get("client") or record.get("request_type") or record.get("status")):
        return f"#{record['index']} capture: {len(record.get('errors') or ())} problem(s) outside any exchange"
    parts = [f"#{record['index']}", record.get("time") or "-", f"{record.get('client')} -> {record.get('server')}",
             f"[{record.get('session') or '-'}]", str(record.get("request_type") or "?")]
    rops = rop_names(record.get("request"))
    asked = set(rops)  # a set: a list here made the summary n x m on long RopsLists (issue 9)
    answers = [name for name in rop_names(record.get("response")) if name not in asked]
    head = " ".join(parts) + (": " + ", ".join(rops) if rops else "")
    if answers:  # response-only ROPs: RopNotify, RopPending, RopBackoff, RopBufferTooSmall
        head += " [" + ", ".join(answers) + "]"
    outcome = []
    if record.get("status") is not None:
        outcome.append(f"HTTP {record['status']}")
    if record.get("response_code") is not None:
        text = diagnostic(record) if record["response_code"] else None
        said = f': "{text}"' if text else ""
        outcome.append(f"X-ResponseCode {record['response_code']} ({record.get('response_code_name')}{said})")
    response = record.get("response") or {}
    if response.get("StatusCode"):  # a failure body (MS-OXCMAPIHTTP 2.2.4.x.3, 2.2.5.x.3)
        outcome.append(f"StatusCode {response['StatusCode']:#x} {ERROR_CODES.get(response['StatusCode'], '')}".strip())
    if "ErrorCode" in response:
        outcome.append(f"{response['ErrorCode']:#x} {response.get('ErrorCodeName') or ''}".strip())
    if record.get("elapsed_ms") is not None:
        outcome.append(f"{record['elapsed_ms']} ms")
    if record.get("errors"):
        outcome.append(f"{len(record['errors'])} error(s)")
    return head + (" -> " + ", ".join(outcome) if outcome else "")


def rop_names(body) -> list[str]:
    """ROP names of an Execute body, in order (all payloads)."""
    buffer = (body or {}).get("RopBuffer") if isinstance(body, dict) else None
    if not isinstance(buffer, dict):
        return []
    payloads = buffer.get("Payloads", [buffer])
    return [rop.get("RopName") or f"0x{rop.get('RopId', 0):02x}"
            for payload in payloads for rop in payload.get("RopsList", []) or []]


def render_tree(value) -> str:
    """Any decoded value (a JSON-normalised dict or list) as an indented tree."""
    out: list[str] = []
    _lines(value, 0, out)
    return "\n".join(out)


def http_lines(record: dict) -> list[str]:
    """The HTTP layer as a support engineer reads it: method and path, status, the frames of each
    message (to find them in Wireshark), the X- headers (MS-OXCMAPIHTTP 2.2.3.3) and the names of
    the cookies sent and set (their values are secrets)."""
    http = record.get("http") or {}
    frames = record.get("frames") or {}
    out = ["    HTTP"]
    for side, head in (("request", f"{http.get('method', '')} {http.get('path', '')}".strip()),
                       ("response", f"{record.get('status')} {http.get('reason') or ''}".strip())):
        headers = http.get(f"{side}_headers")
        if headers is None:
            continue
        where = f" (frames {frames[side][0]}-{frames[side][1]})" if side in frames and frames[side][0] != frames[side][1] \
            else (f" (frame {frames[side][0]})" if side in frames else "")
        out.append(f"        {side.capitalize()}: {head}{where}")
        for name, value in headers:
            if name.lower().startswith("x-"):
                out.append(f"            {name}: {value}")
        cookies = [part.split("=", 1)[0].strip() for name, value in headers if name.lower() == "cookie"
                   for part in value.split(";") if "=" in part]
        cookies += [value.split("=", 1)[0].strip() for name, value in headers if name.lower() == "set-cookie"]
        if cookies:
            out.append(f"            {'Cookie' if side == 'request' else 'Set-Cookie'}: {', '.join(cookies)}")
    return out if len(out) > 1 else []


def render_text(record: dict) -> str:
    out = [summary(record)]
    out += http_lines(record)
    for section in ("request", "response"):
        if record.get(section) is not None:
            out.append(f"    {section.capitalize()}")
            _lines(record[section], 2, out)
    for side, data in (record.get("hex") or {}).items():  # `dissect --hex`: what `decode --as` takes
        out.append(f"    {side.capitalize()} body (hex, {len(data) // 2} bytes): {data}")
    for error in record.get("errors", []):
        offset = f" at offset {error['offset']}" if "offset" in error else ""
        out.append(f"    [error] {error.get('where', '')}{offset}: {error.get('error')}")
    return "\n".join(out)
