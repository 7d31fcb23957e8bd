"""`mapiwire decode --as STRUCTURE`: one buffer, pasted as hex, decoded like `dissect` would.

Structures: `<type>-request` / `<type>-response` for each of the 24 X-RequestTypes (a response
takes its success or failure layout from StatusCode), `rpc-ext` (an extended buffer; payload
shown as hex), `aux` (an auxiliary buffer), `rop-request` / `rop-response` (ROP buffers back to
back: a RopsList without RopSize or handle table) and `rop-buffer` (a whole ROP input buffer;
with `--request` an output buffer answering it).
"""

from __future__ import annotations


from ..errors import UsageError
from .context import DecodingContext
from .decode import parse_body
from .defs.aux import AuxiliaryBuffer
from .defs.core import HexBytes, struct
from .defs.mapihttp import BODIES
from .defs.ropbuffer import RopInputBuffer, RopList, RopOutputBuffer
from .defs.rpcext import ExtendedBuffer
from .render import to_json

RawExtendedBuffer = ExtendedBuffer(struct("payload as bytes", "Payload" / HexBytes()))

STRUCTURES = {"rpc-ext", "aux", "rop-request", "rop-response", "rop-buffer"}
for _name, _body in BODIES.items():
    if _body.request is not None:
        STRUCTURES |= {f"{_name.lower()}-request", f"{_name.lower()}-response"}


def read_hex(parts) -> bytes:
    """Hex from the command line: several arguments, spaces, `0x` and `:` allowed, or @FILE (raw)."""
    if len(parts) == 1 and parts[0].startswith("@"):
        try:
            with open(parts[0][1:], "rb") as f:
                return f.read()
        except OSError as exc:
            raise UsageError(f"cannot read {parts[0][1:]}: {exc.strerror}") from exc
    text = "".join(parts).replace(" ", "").replace(":", "").replace("\n", "").replace("0x", "")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise UsageError(f"not hex: {exc}") from exc


def decode_as(structure: str, data: bytes, request: bytes | None = None) -> dict:
    """The decoded structure as the JSON contract shapes it, plus its `errors` list."""
    errors: list = []
    params: dict = {}
    if structure in ("rop-response", "rop-buffer") and request is not None:
        ctx = DecodingContext("decode")
        request_rops = parse_body(RopList("request"), request, errors, "request") or []
        ctx.annotate(request_rops, [])
        params = {"request_rops": request_rops, "notify_state": ctx.notify_state}
    if structure == "rop-request":
        definition = RopList("request")
    elif structure == "rop-response":
        definition = RopList("response")
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
    if value is None:
        out = {"Undecoded": data.hex()}
    elif isinstance(value, list):
        out = {"RopsList": to_json(value)}
    else:
        out = to_json(value)
    out["errors"] = errors
    return out
