"""Extended buffers: RPC_HEADER_EXT chains with XOR obfuscation and LZ77 compression.

MS-OXCRPC 2.2.2.1 RPC_HEADER_EXT; 3.1.4.1.1.1 extended buffer handling (sender compresses
then obfuscates, receiver reverts XOR then decompresses); 3.1.4.2.1.2 packed buffers.
"""

from __future__ import annotations

import io
import struct as struct_module

import construct as c
from construct import Int16ul, Subconstruct

from .. import lz77
from ...errors import MalformedError
from .budget import PAYLOAD_LIMIT, PAYLOADS_LIMIT, BudgetExceeded, budget_of
from .core import Flags, report, struct

RPC_HEADER_EXT_FLAGS = {"Compressed": 0x0001, "XorMagic": 0x0002, "Last": 0x0004}

RPC_HEADER_EXT = struct(
    "MS-OXCRPC 2.2.2.1 RPC_HEADER_EXT",
    "Version" / Int16ul,
    "Flags" / Flags(Int16ul, RPC_HEADER_EXT_FLAGS),
    "Size" / Int16ul,
    "SizeActual" / Int16ul,
)
HEADER_SIZE = 8
_FOUR_U16_AT = struct_module.Struct("<4H").unpack_from  # a header's fields, for the optional-header test
MAX_PAYLOADS = PAYLOADS_LIMIT  # MS-OXCRPC 3.1.4.2.1.2.2: at most 96 packed payloads in one buffer


def looks_like_header(data: bytes, at: int, left: int) -> bool:
    """Whether the 8 bytes of `data` at `at`, the first of `left` bytes, read as an RPC_HEADER_EXT
    (version 0, known flags, a Size that fits): the optional header of auxiliary buffers."""
    if left < HEADER_SIZE:
        return False
    version, flags, size, _ = _FOUR_U16_AT(data, at)
    return version == 0 and not flags & ~0x7 and size <= left - HEADER_SIZE


class ExtendedBuffer(Subconstruct):
    """One or more `RPC_HEADER_EXT` + payload pairs, the last one flagged `Last`
    (MS-OXCRPC 3.1.4.1.1.1). Each payload is reverted/decompressed, then parsed with `subcon`.

    Value: `{"RPC_HEADER_EXT": [header, ...], <payload fields>}` for one payload, or
    `{"RPC_HEADER_EXT": [...], "Payloads": [payload, ...]}` for packed buffers.
    A payload that does not decode keeps its plain bytes as `{"Undecoded": bytes}`.
    With `optional=True` (auxiliary buffers, MS-OXCMAPIHTTP Appendix A <2>) a buffer whose
    first 8 bytes are not a valid header is parsed as a bare payload (no RPC_HEADER_EXT key).
    Build recompresses and re-obfuscates as the header flags say; a payload that did not
    change is written with its captured wire bytes, so parse -> build gives the same bytes.
    """

    def __init__(self, subcon, optional: bool = False):
        super().__init__(subcon)
        self.optional = optional
        self.header = RPC_HEADER_EXT  # parses each header (fastgen.FastExtendedBuffer: its generated function)

    @staticmethod
    def _looks_like_header(stream, left: int) -> bool:
        """Whether the next 8 of the `left` bytes read as an RPC_HEADER_EXT (version 0, known
        flags, a Size that fits)."""
        if left < HEADER_SIZE:
            return False
        here = stream.tell()
        found = looks_like_header(stream.read(HEADER_SIZE), 0, left)
        stream.seek(here)
        return found

    def _payload(self, data: bytes, context, path, offset: int):
        sub = io.BytesIO(data)
        try:
            value = self.subcon._parsereport(sub, context, path)
            if sub.tell() != len(data):
                report(context, path, f"{len(data) - sub.tell()} bytes left over after the payload", offset + sub.tell())
            return value
        except c.ConstructError as exc:
            report(context, path, str(exc).split("\n")[-1], offset + sub.tell())
            return c.Container(Undecoded=data)

    def _parse(self, stream, context, path):
        start = stream.tell()
        end = stream.seek(0, io.SEEK_END)  # the payloads are parsed from copies: `end` stays
        stream.seek(start)
        if self.optional and not self._looks_like_header(stream, end - start):
            return self._payload(stream.read() if end > start else b"", context, path, 0)
        headers = c.ListContainer()
        payloads = []
        while True:
            left = end - start
            if left < HEADER_SIZE:
                raise c.StreamError(f"RPC_HEADER_EXT needs 8 bytes, {left} left", path=path)
            header = self.header._parsereport(stream, context, path)
            size, flags = header["Size"], header["Flags"]
            left -= HEADER_SIZE
            if size > left:
                raise c.StreamError(f"RPC_HEADER_EXT.Size {size} is more than the {left} bytes left", path=path)
            wire = stream.read(size)
            header["_wire"] = wire
            data = lz77.xor(wire) if flags & 0x2 else wire
            if not self._afford(header, context, path, start, len(headers)):
                data = None
            elif flags & 0x1:
                try:
                    data = lz77.decompress(data, header["SizeActual"])
                except MalformedError as exc:
                    report(context, path, f"payload {len(headers)}: {exc.what}", start + HEADER_SIZE + (exc.offset or 0))
                    data = None
            elif size != header["SizeActual"]:
                report(context, path, f"uncompressed payload with Size {size} != SizeActual {header['SizeActual']}", start)
            headers.append(header)
            if data is None:
                payloads.append(c.Container(Undecoded=wire))
            else:
                header["_plain"] = data
                payloads.append(self._payload(data, context, path, 0))
            start = stream.tell()
            if flags & 0x4:
                break
            if len(headers) >= MAX_PAYLOADS:
                report(context, path, f"no Last flag after {MAX_PAYLOADS} payloads", start)
                break
            if start == end:
                report(context, path, "buffer ended before a header with the Last flag", start)
                break
        if len(payloads) == 1:
            return c.Container(RPC_HEADER_EXT=headers, **payloads[0])
        return c.Container(RPC_HEADER_EXT=headers, Payloads=c.ListContainer(payloads))

    @staticmethod
    def _afford(header, context, path, start: int, number: int) -> bool:
        """Whether the body's decoding budget (defs/budget.py) allows this payload's plain bytes;
        a payload past it stays as its wire bytes."""
        budget = budget_of(context)
        if budget is None:
            return True
        if budget.exhausted:
            if not budget.noted:  # once per body: the payloads from here on stay undecoded
                budget.noted = True
                report(context, path, f"decoding budget spent: payload {number} and after are not decoded", start)
            return False
        plain = header["SizeActual"] if header["Flags"] & 0x1 else header["Size"]
        if plain > PAYLOAD_LIMIT:
            report(context, path, f"payload {number}: {plain} bytes, more than the {PAYLOAD_LIMIT} a payload may "
                   "carry (MS-OXCRPC 3.1.4.2.1): not decoded", start)
            return False
        try:
            budget.take("plain", plain, path)
        except BudgetExceeded as exc:
            report(context, path, f"payload {number}: {str(exc).splitlines()[-1]}", start)
            return False
        return True

    def _build_payload(self, payload, context, path) -> bytes:
        if "Undecoded" in payload and not set(payload) - {"Undecoded", "RPC_HEADER_EXT"}:
            data = payload["Undecoded"]
            return bytes.fromhex(data) if isinstance(data, str) else bytes(data)
        sub = io.BytesIO()
        self.subcon._build(payload, sub, context, path)
        return sub.getvalue()

    def _build(self, obj, stream, context, path):
        headers = obj.get("RPC_HEADER_EXT")
        if headers is None:
            stream.write(self._build_payload(obj, context, path))
            return obj
        payloads = obj["Payloads"] if "Payloads" in obj else [obj]
        if len(headers) != len(payloads):
            raise c.ConstructError(f"{len(headers)} headers for {len(payloads)} payloads", path=path)
        for i, (header, payload) in enumerate(zip(headers, payloads)):
            flags = int(header.get("Flags", 0)) & 0x3
            if i == len(payloads) - 1:
                flags |= 0x4
            plain = self._build_payload(payload, context, path)
            if header.get("_plain") is None and plain == header.get("_wire"):
                # a payload that never decoded (bad LZ77): written back exactly as captured
                RPC_HEADER_EXT._build(header, stream, context, path)
                stream.write(plain)
                continue
            if plain == header.get("_plain") and header.get("_wire") is not None and (int(header.get("Flags", 0)) & 0x3) == flags:
                wire = header["_wire"]
            else:
                wire = lz77.compress(plain) if flags & 0x1 else plain
                if flags & 0x1 and len(wire) >= len(plain):  # 3.1.4.1.1.1.2: Size MUST be < SizeActual
                    wire, flags = plain, flags & ~0x1
                if flags & 0x2:
                    wire = lz77.xor(wire)
            if len(plain) > 0xFFFF or len(wire) > 0xFFFF:
                raise c.ConstructError(f"payload of {len(plain)} bytes does not fit a 16-bit Size", path=path)
            RPC_HEADER_EXT._build(dict(Version=header.get("Version", 0), Flags=flags, Size=len(wire),
                                       SizeActual=len(plain)), stream, context, path)
            stream.write(wire)
        return obj

    def _sizeof(self, context, path):
        raise c.SizeofError("variable size", path=path)
