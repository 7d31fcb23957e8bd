"""Run tshark with the generated plugin and compare what it shows with mapiwire's own decode.

`tshark_pdml()` runs `tshark -r FILE -X lua_script:PLUGIN -T pdml` in an empty configuration
(HOME and WIRESHARK_CONFIG_DIR set to a temporary directory), stderr kept apart. `lua_messages()`
reads every MAPI/HTTP message the plugin dissected from the PDML, with the HTTP headers of the
message before it. `compare_capture()` pairs them with the records of
`mapiwire.dissect.decode.Decoder` by X-RequestId and compares, exchange by exchange: request
type, X-ResponseCode, the RopIds and names in order, every field of every ROP and of the body
(numbers, strings, bytes, GUIDs, nested structures and lists, absent optional fields), the names
of properties where the plugin labels a tag (PidTag names, and the PidLid / PidName names of
named properties the session mapped), the text of a text/html failure, and that problems are
reported on both sides.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.sources import open_capture
from mapiwire.wireshark.luagen import COMMON_FIELDS

TSHARK = shutil.which("tshark")
COMMON = {abbrev: name for names in COMMON_FIELDS.values() for name, abbrev in names.items()}
# keys of the JSON records that are not on the wire (names added to numbers, pairing state, ...)
NOT_ON_WIRE = {"RopName", "PropertyName", "PropertyTypeName", "PropertyTag", "_columns", "_logon_flags",
               "InputObject", "OutputObject", "NotificationObject"}  # what the session knows of the handles
ISO = re.compile(r"^\d{4}-\d\d-\d\dT")
BYTES = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2})+$")


def tshark_pdml(capture: str, plugin: str | None, home: str, *options: str) -> tuple[str, str]:
    """PDML and stderr of tshark on `capture` with the Lua `plugin` (None: without it)."""
    env = dict(os.environ, HOME=home, WIRESHARK_CONFIG_DIR=home, XDG_CONFIG_HOME=home)
    script = ["-X", f"lua_script:{plugin}"] if plugin else []
    proc = subprocess.run([TSHARK, "-r", capture, *script, "-T", "pdml", *options],
                          capture_output=True, env=env, timeout=300, check=False)
    # exit status 2 with complete output: the capture file itself is cut short (a damaged capture)
    if proc.returncode != 0 and not (proc.returncode == 2 and proc.stdout.rstrip().endswith(b"</pdml>")):
        raise AssertionError(f"tshark failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def lua_errors(pdml: str, stderr: str) -> list[str]:
    """Lua errors tshark reported: on stderr, in the tree, or as the plugin's own dissector-error
    expert info (a Lua error the plugin caught)."""
    found = [line for line in stderr.splitlines() if "lua" in line.lower() or "error" in line.lower()]
    found += re.findall(r'showname="(Lua Error[^"]*)"', pdml)
    found += re.findall(r'<field name="mapihttp.dissector_error"[^>]*showname="([^"]*)"', pdml)
    return found


@dataclass
class LuaMessage:
    frame: int
    direction: str  # "request" / "response"
    headers: dict
    proto: ET.Element

    def field(self, name: str):
        el = self.proto.find(f".//field[@name='{name}']")
        return None if el is None else el.get("show")

    def rops(self) -> list[ET.Element]:
        """The ROPs of the RopsList: ROP trees not nested in another ROP (RopBufferTooSmall
        carries the unprocessed request ROPs inside it)."""
        found: list[ET.Element] = []

        def walk(el):
            for child in el:
                if child.tag == "proto" and child.get("name") == "rop":
                    found.append(child)
                else:
                    walk(child)

        walk(self.proto)
        return found

    def experts(self) -> list[str]:
        out = []
        for el in self.proto.iter("field"):
            if el.get("name") in ("mapihttp.malformed", "mapihttp.missing_context", "mapihttp.dissector_error"):
                out.append(el.get("showname") or "")
        return out

    def body(self) -> ET.Element | None:
        for el in self.proto:
            if el.get("name") == "_ws.lua.text" and (el.get("showname") or "").startswith("MS-OXCMAPIHTTP"):
                return el
        return None


def lua_messages(pdml: str) -> list[LuaMessage]:
    out = []
    for packet in ET.fromstring(pdml).iter("packet"):
        frame = int(packet.find("proto[@name='frame']/field[@name='frame.number']").get("show"))
        http = None
        for proto in packet:
            if proto.get("name") == "http":
                http = proto
            elif proto.get("name") == "mapihttp":
                lines = [el.get("show") or "" for el in http.iter("field")
                         if el.get("name") in ("http.request.line", "http.response.line")] if http is not None else []
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                request = http is not None and http.find(".//field[@name='http.request']") is not None
                message = LuaMessage(frame, "request" if request else "response", headers, proto)
                # a message shown after the frame's last HTTP message (the post-dissector) names its own
                message.headers["x-requestid"] = message.field("mapihttp.request_id")
                out.append(message)
    return out


def python_records(capture: str, keylog: str | None = None, tls: bool = False) -> list[dict]:
    decoder = Decoder()
    exchanges = open_capture(capture, keylog=keylog, tls=tls)
    return [r for r in (decoder.decode(e) for e in exchanges) if r is not None]


def rops_of(body) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("RopBuffer"), dict):
        return []
    buffer = body["RopBuffer"]
    return [rop for payload in buffer.get("Payloads", [buffer]) for rop in payload.get("RopsList") or []]


@dataclass
class Result:
    compared: int = 0  # leaf values found equal
    mismatches: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # values mapiwire has and the plugin does not show
    names: int = 0  # property names found equal
    side: str = "request"  # of the message being compared

    def bad(self, where, what):
        self.mismatches.append(f"{where}: {what}")


def _children(el):
    return [ch for ch in el if ch.tag in ("field", "proto")]


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def find_child(el, key: str):
    """The item of `el` that shows the value of `key`: a field whose abbreviation ends with the
    key, or a text subtree named after it ("RowData (40)", "RPC_HEADER_EXT")."""
    low = re.sub(r"[^0-9a-z_]", "_", key.lower())
    for ch in _children(el):
        name = ch.get("name") or ""
        if name == "_ws.lua.text":
            shown = ch.get("showname") or ""
            if shown == key or shown.startswith(key + " ("):
                return ch
        elif name and (_last(name) == low and COMMON.get(_last(name)) in (None, key) or COMMON.get(_last(name)) == key):
            return ch
    return None


def _number(text: str | None):
    """A number shown by the plugin; bytes (`00:00:00:00:00:1d`) read as a big-endian number, as
    mapiwire gives a GlobalCounter (MS-OXCDATA 2.2.1.1)."""
    if text is None:
        return None
    if BYTES.match(text):
        return int(text.replace(":", ""), 16)
    try:
        return int(text, 0)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def value_child(el, after=None):
    """The item showing a property value inside `el`: a value field (oxcdata.value.*), the subtree
    of a multi-valued or structured value, the first one after `after`."""
    children = _children(el)
    if after is not None:
        children = children[children.index(after) + 1:]
    for ch in children:
        name = ch.get("name") or ""
        if name.startswith("oxcdata.value.") and name != "oxcdata.value.count":
            return ch
        if name == "_ws.lua.text" and re.search(r"\b\d+ values\b", ch.get("showname") or ""):
            return ch
    return None


NAMED_ID_FLOOR = 0x8000


def _tag_of(py: dict) -> int | None:
    """The 32-bit tag of a PropertyTag structure or of a property value, else None."""
    tag = py.get("PropertyTag")
    if isinstance(tag, int) and not isinstance(tag, bool):
        return tag
    if isinstance(py.get("PropertyId"), int) and isinstance(py.get("PropertyType"), int):
        return (py["PropertyId"] << 16) | py["PropertyType"]
    return None


def lua_property_name(el, tag: int) -> tuple[bool, str | None]:
    """(whether the plugin labels `tag` on `el` or its direct children, the name it gives).
    Labels read name first: a tag "PropertyTag [0]: PidTagSubject (PtypString, 0x0037001F)", a
    value or a value's subtree "PidTagSubject: Quarterly report (PtypString, 0x0037001F)" or
    "PidTagDisplayName (PtypString, 0x3001001F)"; a tag without a name leads ("0x8001001F
    (PtypString)", "0x8001001F: 7 (PtypInteger32)"); a named property's name is also the
    oxcdata.propertytag.name field."""
    items = [el] + _children(el)
    for item in items:
        if item.get("name") == "oxcdata.propertytag.name":
            return True, item.get("show")
    hexed = f"0x{tag:08X}"
    named = re.compile(r" \((?:[A-Za-z0-9]+, )?" + hexed + r"\)$")
    unnamed = re.compile(r"(^|: )" + hexed + r"($|[ :])")
    for item in items:
        text = item.get("showname") or ""
        match = named.search(text)
        if match:
            head = text[:match.start()]
            if item.find("field[@name='oxcdata.propertytag']") is not None:  # a PropertyTag: "Field: Name"
                return True, head.rsplit(": ", 1)[-1]
            return True, head.split(": ", 1)[0]  # a value: "Name: value"
        if unnamed.search(text):
            return True, None
    return False, None


def compare_name(py: dict, el, where: str, result: Result) -> None:
    """The name mapiwire gives a property (`PropertyName`) against the plugin's label, where the
    plugin labels the tag. A request may lack the name of a named property that its own response
    maps (mapiwire names a request after its response; the plugin cannot)."""
    tag = _tag_of(py)
    if tag is None:
        return
    shown, name = lua_property_name(el, tag)
    if not shown:
        return
    expected = py.get("PropertyName")
    if name == expected:
        result.names += 1
    elif not (name is None and result.side == "request" and tag >> 16 >= NAMED_ID_FLOOR):
        result.bad(where, f"property 0x{tag:08X} named {expected!r} in mapiwire, {name!r} in the plugin")


def compare_value(py, el, where: str, result: Result) -> None:
    """`py` (a JSON value from mapiwire) against the PDML item `el` that shows it."""
    if isinstance(py, dict):
        compare_dict(py, el, where, result)
    elif isinstance(py, list):
        items = [i for i in _children(el) if i.get("name") not in ("_ws.expert", "oxcdata.value.count")]
        compare_list(py, items, where, result)
    elif isinstance(py, bool) or py is None:
        return
    elif isinstance(py, (int, float)):
        shown = _number(el.get("show"))
        if shown is None or abs(shown - py) > 1e-6 * max(1, abs(py)):
            result.bad(where, f"mapiwire {py}, plugin {el.get('show')!r}")
        else:
            result.compared += 1
    elif isinstance(py, str):
        shown, raw = el.get("show"), el.get("value")
        if _same_text(py, shown) or raw == py or (shown or "").upper() == py.strip("{}").upper():
            result.compared += 1
        elif ISO.match(py) and (_number(shown) is not None or len(_children(el)) > 1):
            result.compared += 1  # a FILETIME (the number plus its date in Wireshark) or LogonTime's fields
        elif _address(py) is not None and _address(py) == (shown or "").replace(":", ""):
            result.compared += 1  # an IP address: its bytes in Wireshark
        else:
            result.bad(where, f"mapiwire {py!r}, plugin {shown!r}")


def _address(text: str) -> str | None:
    """The bytes of an IP address in hex, else None."""
    try:
        return ipaddress.ip_address(text).packed.hex()
    except ValueError:
        return None


def _shown(text: str) -> str:
    """A string as the PDML `show` attribute gives it back: Wireshark writes control characters as
    `\\xN` (lowercase hex, no padding) except tab, newline and CR, which the XML attribute turns
    into spaces (CR LF into one); surrogates that are not valid Unicode show as U+FFFD."""
    out = []
    for ch in text.replace("\r\n", "\n"):  # an XML parser reads a CR LF in an attribute as one LF
        if ch in "\t\n\r":
            out.append(" ")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def _same_text(py: str, shown: str | None) -> bool:
    return shown is not None and (shown == py or shown == _shown(py))


def compare_list(py: list, items: list, where: str, result: Result) -> None:
    if len(items) < len(py):
        result.bad(where, f"{len(py)} items in mapiwire, {len(items)} shown")
        return
    for i, (value, item) in enumerate(zip(py, items)):
        compare_value(value, item, f"{where}[{i}]", result)


def _wire_keys(item: dict) -> list:
    return [k for k in item if k not in NOT_ON_WIRE and not k.startswith("_") and not (
        k.endswith("Name") and k[:-4] in item)]


def compare_row_values(values: list, el, where: str, result: Result) -> None:
    """The ValueArray of a PropertyRow / AddressBookPropertyRow: after the row's Flag(s), one item
    per value: the value's own field, or a subtree when it has more (PropertyType, Flag, HasValue)."""
    children = [ch for ch in _children(el) if ch.get("name") not in (
        "oxcdata.propertyrow.flag", "mapihttp.addressbookpropertyrow.flags", "_ws.expert")]
    for i, item in enumerate(values):
        if i >= len(children):
            result.bad(where, f"{len(values)} values in mapiwire, {len(children)} shown")
            return
        keys = _wire_keys(item) if isinstance(item, dict) else []
        if keys in (["Value"], ["PropertyValue"]) and children[i].get("name") != "_ws.lua.text":
            compare_name(item, children[i], f"{where}[{i}]", result)
            compare_value(item[keys[0]], children[i], f"{where}[{i}]", result)
        else:
            compare_dict(item, children[i], f"{where}[{i}]", result)


def compare_dict(py: dict, el, where: str, result: Result) -> None:
    compare_name(py, el, where, result)
    for key in _wire_keys(py):
        value = py[key]
        child = find_child(el, key)
        if child is None and key == "ValueArray" and isinstance(value, list):
            compare_row_values(value, el, f"{where}.{key}", result)
            continue
        if child is None and key in ("Value", "PropertyValue") and not isinstance(value, dict):
            child = value_child(el)
        if child is None and isinstance(value, dict):
            compare_dict(value, el, f"{where}.{key}", result)  # shown flat, in the same subtree
            continue
        if child is None and isinstance(value, list) and value and isinstance(value[0], dict) and "RopId" in value[0]:
            # ROPs inside a ROP (RopBufferTooSmall's RequestBuffers): ROP trees under this one
            nested = [ch for ch in el.iter("proto") if ch.get("name") == "rop" and ch is not el]
            compare_rops(value, nested, f"{where}.{key}", result)
            continue
        if child is None:
            if value not in (None, [], {}):
                result.missing.append(f"{where}.{key}")
            continue
        if value is None:
            if child.get("name") != "_ws.lua.text":
                result.bad(f"{where}.{key}", f"absent in mapiwire, plugin shows {child.get('show')!r}")
            continue
        if isinstance(value, list) and child.get("showname") == key:
            # repeated items under their own name (RPC_HEADER_EXT of each payload)
            siblings = [ch for ch in _children(el) if ch.get("showname") == key]
            compare_list(value, siblings, f"{where}.{key}", result)
            continue
        compare_value(value, child, f"{where}.{key}", result)


def compare_rops(py_rops: list, lua_rops: list, where: str, result: Result) -> None:
    py_ids = [rop.get("RopId") for rop in py_rops]
    lua_ids = [_number(r.find("field[@name='rop.id']").get("show")) if r.find("field[@name='rop.id']") is not None
               else None for r in lua_rops]
    if py_ids != lua_ids:
        result.bad(where, f"RopIds {py_ids} in mapiwire, {lua_ids} in the plugin")
        return
    for i, (py, lua) in enumerate(zip(py_rops, lua_rops)):
        name = py.get("RopName")
        if name and lua.get("showname") != name:
            result.bad(f"{where}[{i}]", f"name {name} in mapiwire, {lua.get('showname')} in the plugin")
        if "Undecoded" in py:
            if lua.find("field[@name='rop.undecoded']") is None:
                result.bad(f"{where}[{i}]", "undecoded in mapiwire, decoded by the plugin")
            continue
        compare_dict(py, lua, f"{where}[{i}].{name}", result)


def body_errors(record: dict, side: str) -> list:
    return [e for e in record["errors"] if (e.get("where") or "").startswith(side)]


def compare_capture(capture: str, plugin: str, home: str, keylog: str | None = None,
                    tls: bool = False) -> tuple[Result, dict]:
    """Decode `capture` both ways and compare; returns the result and some counts. `keylog`: a
    TLS key log for both; `tls`: the capture embeds its TLS secrets."""
    options = ("-o", f"tls.keylog_file:{keylog}") if keylog else ()
    pdml, stderr = tshark_pdml(capture, plugin, home, *options)
    errors = lua_errors(pdml, stderr)
    messages = lua_messages(pdml)
    records = python_records(capture, keylog, tls)
    result = Result()
    if errors:
        result.bad("tshark", f"Lua errors: {errors}")
    by_id: dict[tuple, list] = {}
    for message in messages:
        by_id.setdefault((message.headers.get("x-requestid"), message.direction), []).append(message)
    counts = {"records": len(records), "messages": len(messages), "rops": 0,
              "request_types": {r["request_type"] for r in records}}
    for record in records:
        where = f"#{record['index']} {record['request_type']}"
        seen_request = True
        for side in ("request", "response"):
            queue = by_id.get((record["request_id"], side)) or []
            body = record.get(side)
            if not queue:
                # the plugin sees application/mapi-http bodies and text/html responses with an
                # X-ResponseCode: no body (a PING request), no message
                if side == "request" and body and body != {"Undecoded": ""} and record["request_type"] != "PING":
                    result.bad(where, f"no {side} dissected by the plugin")
                seen_request = False
                continue
            if side == "request":
                seen_request = True
            message = queue.pop(0)
            compare_message(record, side, message, f"{where} {side}", result, reports=side == "request" or seen_request)
            counts["rops"] += len(rops_of(body))
    return result, counts


def compare_message(record: dict, side: str, message: LuaMessage, where: str, result: Result,
                    reports: bool = True) -> None:
    """One message: type, code, ROPs, body fields, and (`reports`) that problems are reported on
    both sides (not for a response whose request the plugin never saw: it says so)."""
    result.side = side
    lua_type = message.field("mapihttp.request_type")
    if (record["request_type"] or "") != (lua_type or ""):
        result.bad(where, f"request type {record['request_type']!r} in mapiwire, {lua_type!r} in the plugin")
    if side == "response" and message.field("mapihttp.response_code") is not None:
        code = _number(message.field("mapihttp.response_code"))
        if code != record["response_code"]:
            result.bad(where, f"response code {record['response_code']} in mapiwire, {code} in the plugin")
    body = record.get(side) or {}
    # mapiwire keeps a body or payload that fails anywhere as hex, where the plugin shows what it
    # could dissect before the failure: only the reports are compared then
    buffer = body.get("RopBuffer") if isinstance(body, dict) else None
    payloads = (buffer.get("Payloads", [buffer]) if isinstance(buffer, dict) else [])
    if "Undecoded" not in body and not any("Undecoded" in payload for payload in payloads):
        compare_rops(rops_of(body), message.rops(), f"{where}.RopsList", result)
    if isinstance(body, dict) and "text" in body and not _same_text(body["text"], message.field("mapihttp.text")):
        result.bad(where, f"text {body['text']!r} in mapiwire, {message.field('mapihttp.text')!r} in the plugin")
    lua_body = message.body()
    if lua_body is not None and isinstance(body, dict) and "Undecoded" not in body:
        flat = {k: v for k, v in body.items() if k not in ("RopBuffer", "meta", "additional_headers", "text")}
        compare_dict(flat, lua_body, where, result)
    python_problems = body_errors(record, side)
    lua_problems = message.experts()
    if not reports:
        return
    if python_problems and not lua_problems:
        result.bad(where, f"mapiwire reports {python_problems}, the plugin nothing")
    if lua_problems and not python_problems:
        result.bad(where, f"the plugin reports {lua_problems}, mapiwire nothing")
