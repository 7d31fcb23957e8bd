"""`mapiwire decode --as STRUCTURE`: one buffer, pasted as hex, decoded like `dissect` would.

Structures: `<type>-request` / `<type>-response` for each of the 24 X-RequestTypes (a response
takes its success or failure layout from StatusCode), `rpc-ext` (an extended buffer; payload
shown as hex), `aux` (an auxiliary buffer), `rop-request` / `rop-response` (ROP buffers back to
back: a RopsList without RopSize or handle table) and `rop-buffer` (a whole ROP input buffer;
with `--request` an output buffer answering it).
"""

from __future__ import annotations


import re

from ..errors import UsageError
from .context import DecodingContext
from .decode import parse_body
from .defs.aux import AuxiliaryBuffer
from .defs.core import HexBytes, struct
from .defs.mapihttp import BODIES
from .defs.ropbuffer import RopInputBuffer, RopList, RopOutputBuffer
from .defs.rpcext import ExtendedBuffer
from .transport import META_TAGS, parse_inner
from .render import to_json

RawExtendedBuffer = ExtendedBuffer(struct("payload as bytes", "Payload" / HexBytes()))
# One object each: the fast path keeps what it made per definition object, so a definition
# built per call would grow its cache with every decode (found by tools/fuzz.py, issue 9).
REQUEST_ROPS = RopList("request")
RESPONSE_ROPS = RopList("response")

STRUCTURES = {"rpc-ext", "aux", "rop-request", "rop-response", "rop-buffer"}
for _name, _body in BODIES.items():
    if _body.request is not None:
        STRUCTURES |= {f"{_name.lower()}-request", f"{_name.lower()}-response"}


def read_hex(parts) -> bytes:
    """Bytes from the command line: hex in several arguments (spaces, newlines, `0x` and `:`
    allowed), a hex dump as users copy it (Wireshark's "Copy as Hex Dump", `tshark -x`, `xxd`,
    `hexdump -C`: offset, hex and ASCII columns), or @FILE (raw bytes)."""
    if len(parts) == 1 and parts[0].startswith("@"):
        try:
            with open(parts[0][1:], "rb") as f:
                return f.read()
        except OSError as exc:
            raise UsageError(f"cannot read {parts[0][1:]}: {exc.strerror}") from exc
    text = "\n".join(parts)
    dumped = from_dump(text)
    if dumped is not None:
        return dumped
    text = "".join(text.split()).replace(":", "").replace("0x", "")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise UsageError(f"not hex: {exc}") from exc


_DUMP_LINE = re.compile(r"^(\s*)([0-9A-Fa-f]{4,8}):?(?:(\s+)(.*))?$")
MAX_DUMP = 64 * 1024 * 1024  # bytes a dump may expand to (hexdump's `*` repeats lines)
_HEX_TOKEN = re.compile(r"^(?:[0-9A-Fa-f]{2}){1,2}$")


def from_dump(text: str) -> bytes | None:
    """The bytes of a hex dump whose lines start with their offset (which must follow the bytes
    read so far), else None. The ASCII column is told from the hex by the double space before it
    (and `|` for hexdump -C), and for a short last line by where the ASCII column of the full
    lines began."""
    out = bytearray()
    start = ascii_col = None
    lines = 0
    previous, repeated = b"", False
    for line in text.splitlines():
        match = _DUMP_LINE.match(line)
        if match is None:
            if line.strip() == "*" and lines:
                repeated = True  # hexdump: lines like the previous one until the next offset
            elif line.strip() and lines:
                return None
            continue  # a heading ("Frame (98 bytes):") or a blank line
        offset = int(match.group(2), 16)
        if start is None:
            start = offset
        while repeated and previous and len(out) < min(offset - start, MAX_DUMP):
            out += previous
        repeated = False
        if offset - start != len(out):
            return None  # not a dump of these bytes (or plain hex grouped in fours)
        rest = (match.group(4) or "").split("|", 1)[0]
        got = bytearray()
        column = match.start(4)
        for segment in re.split(r"(\s{2,})", rest):
            if not segment.strip():
                column += len(segment)
                continue
            tokens = segment.split()
            if (ascii_col is not None and column >= ascii_col) or not all(_HEX_TOKEN.match(t) for t in tokens):
                if ascii_col is None and got:
                    ascii_col = column
                break
            got += bytes.fromhex("".join(tokens))
            column += len(segment)
        if not got and rest.strip():
            return None
        out += got
        previous = bytes(got)
        lines += 1
    if lines == 1 and start:
        return None  # one line from a non-zero offset: rather plain hex grouped in fours
    return bytes(out) if lines else None


def decode_as(structure: str, data: bytes, request: bytes | None = None) -> dict:
    """The decoded structure as the JSON contract shapes it, plus its `errors` list."""
    errors: list = []
    params: dict = {}
    head: dict = {}
    if data.startswith(META_TAGS):  # a response body still with its meta-tags (MS-OXCMAPIHTTP 2.2.7)
        inner = parse_inner(data)
        errors.extend(inner.errors)
        head = {"meta": inner.meta, **({"additional_headers": dict(inner.headers)} if inner.headers else {})}
        data = inner.body
    if structure in ("rop-response", "rop-buffer") and request is not None:
        ctx = DecodingContext("decode")
        request_rops = parse_body(REQUEST_ROPS, request, errors, "request") or []
        ctx.annotate(request_rops, [])
        params = {"request_rops": request_rops, "notify_state": ctx.notify_state}
    if structure == "rop-request":
        definition = REQUEST_ROPS
    elif structure == "rop-response":
        definition = RESPONSE_ROPS
    elif structure == "rop-buffer":
        definition = RopOutputBuffer if request is not None else RopInputBuffer
    elif structure == "rpc-ext":
        definition = RawExtendedBuffer
    elif structure == "aux":
        definition = AuxiliaryBuffer
    else:
        name, _, side = structure.rpartition("-")
        body = next((b for n, b in BODIES.items() if n.lower() == name), None)
        if body is None or side not in ("request", "response") or body.request is None:
            raise UsageError(f"unknown structure {structure!r}")
        definition = body.request
        if side == "response":
            status = int.from_bytes(data[:4], "little") if len(data) >= 4 else 0
            definition = body.success if status == 0 else body.failure
    value = parse_body(definition, data, errors, structure, **params)
    if request is None and structure in ("rop-response", "rop-buffer"):
        for error in errors:
            if "columns unknown" in error["error"]:
                error["error"] += "; give the request ROPs with --request HEX"
    if value is None:
        out = {"Undecoded": data.hex()}
    elif isinstance(value, list):
        out = {"RopsList": to_json(value)}
    else:
        out = to_json(value)
    out = {**head, **out, "errors": errors}
    return out
