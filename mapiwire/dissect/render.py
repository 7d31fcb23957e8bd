"""Records out: the JSON normaliser and the text tree (DESIGN.md, the JSON contract).

`to_json` turns parsed construct values into plain JSON values: hidden keys (`_...`) dropped,
enum and flag fields as numbers plus a `<Field>Name` sibling, bytes as lowercase hex, GUIDs in
registry form, FILETIMEs as ISO 8601 UTC. `render_text` prints a record as an indented tree
like `tshark -V`, folding each `<Field>Name` sibling into its field's line.
"""

from __future__ import annotations

import json
import uuid

from .defs.core import EnumValue, FileTimeValue, FlagsValue, GuidValue
from .defs.errorcodes import ERROR_CODES

HEX_FIELDS_WIDE = 64  # text rendering shortens longer hex values


def to_json(value):
    """Plain JSON-able value of a parsed construct value (dicts keep field order)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key.startswith("_"):
                continue
            out[key] = to_json(item)
            if isinstance(item, (EnumValue, FlagsValue)) and item.name:
                out[f"{key}Name"] = item.name
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
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


def dumps(record, indent: int | None = None) -> str:
    return json.dumps(record, indent=indent, ensure_ascii=False)


# Text --------------------------------------------------------------------------------------

NUMBER_AS_HEX = ("Flags", "ReturnValue", "ErrorCode", "StatusCode", "Handle", "Tag", "Code")


def _scalar(key: str, value, siblings: dict) -> str:
    name = siblings.get(f"{key}Name")
    if isinstance(value, bool) or value is None:
        text = str(value).lower() if isinstance(value, bool) else "null"
    elif isinstance(value, int):
        text = f"{value:#x}" if key.endswith(NUMBER_AS_HEX) or name else str(value)
        if name and not key.endswith(NUMBER_AS_HEX):
            text = f"{value}"
    elif isinstance(value, str):
        text = value if len(value) <= HEX_FIELDS_WIDE * 2 else value[:HEX_FIELDS_WIDE * 2] + f"... ({len(value)} chars)"
    else:
        text = str(value)
    return f"{text} ({name})" if name else text


def _lines(value, indent: int, out: list[str]) -> None:
    pad = "    " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("Name") and key[:-4] in value and key != "RopName":
                continue
            if isinstance(item, dict):
                out.append(f"{pad}{key}")
                _lines(item, indent + 1, out)
            elif isinstance(item, list) and any(isinstance(x, (dict, list)) for x in item):
                out.append(f"{pad}{key} [{len(item)}]")
                for i, element in enumerate(item):
                    label = element.get("RopName") if isinstance(element, dict) else None
                    out.append(f"{pad}    [{i}]{' ' + label if label else ''}")
                    _lines(element, indent + 2, out)
            elif isinstance(item, list):
                out.append(f"{pad}{key}: [{', '.join(_scalar(key, x, {}) for x in item)}]")
            else:
                out.append(f"{pad}{key}: {_scalar(key, item, value)}")
    elif isinstance(value, list):
        for i, element in enumerate(value):
            out.append(f"{pad}[{i}]")
            _lines(element, indent + 1, out)
    else:
        out.append(f"{pad}{value}")


def summary(record: dict) -> str:
    """One line per exchange: index, time, endpoints, request type, ROP names, outcome."""
    parts = [f"#{record['index']}", record.get("time") or "-", f"{record.get('client')} -> {record.get('server')}",
             f"[{record.get('session') or '-'}]", str(record.get("request_type") or "?")]
    rops = rop_names(record.get("request"))
    answers = [name for name in rop_names(record.get("response")) if name not in rops]
    head = " ".join(parts) + (": " + ", ".join(rops) if rops else "")
    if answers:  # response-only ROPs: RopNotify, RopPending, RopBackoff, RopBufferTooSmall
        head += " [" + ", ".join(answers) + "]"
    outcome = []
    if record.get("status") is not None:
        outcome.append(f"HTTP {record['status']}")
    if record.get("response_code") is not None:
        outcome.append(f"X-ResponseCode {record['response_code']} ({record.get('response_code_name')})")
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


def render_text(record: dict) -> str:
    out = [summary(record)]
    for section in ("request", "response"):
        if record.get(section) is not None:
            out.append(f"    {section.capitalize()}")
            _lines(record[section], 2, out)
    for error in record.get("errors", []):
        offset = f" at offset {error['offset']}" if "offset" in error else ""
        out.append(f"    [error] {error.get('where', '')}{offset}: {error.get('error')}")
    return "\n".join(out)
