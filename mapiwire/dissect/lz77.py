"""LZ77 + DIRECT2 compression and XOR obfuscation of RPC_HEADER_EXT payloads.

MS-OXCRPC 3.1.4.1.1.2 "Compression Algorithm" (3.1.7.2 in older revisions): LZ77
(3.1.4.1.1.2.1) serialised with the DIRECT2 encoding (3.1.4.1.1.2.2: .1 Bitmask, .2 Encoding
Metadata, .3 Match Distance, .4 Match Length). MS-OXCRPC 3.1.4.1.1.3: obfuscation, every byte
XOR 0xA5. The same wire format is [MS-XCA] 2.3/2.4 "Plain LZ77", whose 3.1 examples are our
golden vectors.

Stream format, as the decoder reads it:

* a 32-bit little-endian bitmask, consumed from its most significant bit; after 32 bits the
  next 4 input bytes are the next bitmask;
* bit 0: one literal byte;
* bit 1 with the input exhausted: the end of the stream (the encoder MUST write this end
  bit, in a fresh bitmask if the last one is full; unused bits after it are set to 1);
* bit 1 otherwise: a uint16 LE ``m``: distance ``(m >> 3) + 1`` (1..8192), length code
  ``m & 7``: 0..6 give 3..9; 7 takes a nibble (the low one of a fresh byte, or the high one
  of the byte a previous length left half used) for 10..24; nibble 15 takes one more byte
  for 25..279; byte 255 takes a uint16 ``w`` for ``w + 3`` (280..65538). [MS-XCA] adds a
  uint32 after ``w == 0``; MS-OXCRPC never needs it (SizeActual <= 0xFFFF), the decoder
  accepts it and the encoder never writes it.
* a match copies ``length`` bytes from ``distance`` bytes back, and may overlap itself.

Sender order is compress then XOR; a receiver undoes XOR, then decompresses (3.1.4.1.1.1).
"""

from __future__ import annotations

import struct

from mapiwire.errors import MalformedError

__all__ = ["compress", "decompress", "xor", "DEFAULT_CAP", "WINDOW", "MAX_MATCH"]

DEFAULT_CAP = 0x100000  # largest SizeActual decompress() accepts unless told otherwise
WINDOW = 8192  # 13-bit distance field, distance - 1 stored
MIN_MATCH = 3
MAX_MATCH = 65538  # longest length the uint16 escape can carry (w + 3)
MAX_CHAIN = 24  # candidates the encoder tries per position

_U32 = struct.Struct("<I").unpack_from
_U16 = struct.Struct("<H").unpack_from
_P16 = struct.Struct("<H").pack
_P32 = struct.Struct("<I").pack
_XOR_TABLE = bytes(b ^ 0xA5 for b in range(256))


def xor(data: bytes) -> bytes:
    """MS-OXCRPC 3.1.4.1.1.3: XOR every byte with 0xA5 (its own inverse)."""
    return bytes(data).translate(_XOR_TABLE)


def _bad(what: str, offset: int) -> MalformedError:
    return MalformedError(what, where="lz77", offset=offset)


def decompress(data: bytes, size_actual: int, cap: int = DEFAULT_CAP) -> bytes:
    """Decode a DIRECT2/LZ77 stream into exactly `size_actual` bytes.

    Raises MalformedError (where="lz77", offset = input offset of the offending element)
    when `size_actual` exceeds `cap`, the input ends inside an element or where a bitmask
    is due, the output would exceed `size_actual`, the stream ends short of it, or a match
    reaches before the start of the output. Never returns more than `size_actual` bytes.
    """
    if not isinstance(data, bytes):
        data = bytes(data)
    if size_actual < 0 or size_actual > cap:
        raise _bad(f"SizeActual {size_actual} outside 0..{cap}", 0)
    end = len(data)
    last = end - 1  # match metadata (two bytes) starts before it
    out = bytearray()
    pos = 0  # len(out)
    ip = 0
    half = -1  # input offset of a byte whose high nibble the next length uses
    while True:
        if ip + 4 > end:
            raise _bad("input ends where a bitmask is due (no end bit)", ip)
        flags = _U32(data, ip)[0]
        ip += 4
        nbits = 32  # bits of `flags` not yet used; `flags` < 2**nbits
        while nbits:
            # The zero bits ahead of the next 1 are a run of literals: copy them at once.
            lit = nbits - flags.bit_length()
            if lit:
                if ip + lit > end:
                    raise _bad(f"input ends inside a run of {lit} literals", end)
                if pos + lit > size_actual:
                    raise _bad(f"literals overrun SizeActual {size_actual}", ip)
                out += data[ip:ip + lit]
                ip += lit
                pos += lit
                nbits -= lit
                if not nbits:
                    break
            nbits -= 1
            flags ^= 1 << nbits
            if ip >= last:
                if ip == end:  # the end bit
                    if pos != size_actual:
                        raise _bad(f"stream ends after {pos} of {size_actual} bytes", ip)
                    return bytes(out)
                raise _bad("input ends inside match metadata", ip)
            at = ip
            m = _U16(data, ip)[0]
            ip += 2
            dist = (m >> 3) + 1
            length = m & 7
            if length == 7:
                if half < 0:
                    if ip >= end:
                        raise _bad("input ends before the length nibble", at)
                    length = data[ip] & 15
                    half = ip
                    ip += 1
                else:
                    length = data[half] >> 4
                    half = -1
                if length == 15:
                    if ip >= end:
                        raise _bad("input ends before the length byte", at)
                    length = data[ip]
                    ip += 1
                    if length == 255:
                        if ip + 2 > end:
                            raise _bad("input ends inside the 16-bit length", at)
                        length = _U16(data, ip)[0]
                        ip += 2
                        if length == 0:  # MS-XCA 2.4.4 32-bit escape
                            if ip + 4 > end:
                                raise _bad("input ends inside the 32-bit length", at)
                            length = _U32(data, ip)[0]
                            ip += 4
                        length += 3
                    else:
                        length += 25
                else:
                    length += 10
            else:
                length += 3
            if dist > pos:
                raise _bad(f"match distance {dist} reaches before the output start ({pos} out)", at)
            if pos + length > size_actual:
                raise _bad(f"match of {length} bytes overruns SizeActual {size_actual}", at)
            start = pos - dist
            if length <= dist:
                out += out[start:start + length]
            else:  # overlapping: the last `dist` bytes repeat
                reps, rest = divmod(length, dist)
                chunk = out[start:pos]
                out += chunk * reps
                out += chunk[:rest]
            pos += length


def _common(data: bytes, a: int, b: int, limit: int) -> int:
    """Length of the common prefix of data[a:] and data[b:] (a < b), at most `limit`.

    The callers' candidates share their first 3 bytes already.
    """
    k = MIN_MATCH
    short = limit if limit < 16 else 16
    while k < short and data[a + k] == data[b + k]:  # most matches are short
        k += 1
    if k < short or k == limit:
        return k
    step = 32
    while k < limit:  # gallop with slice compares, then bisect the failing block
        e = k + step if k + step < limit else limit
        if data[a + k:a + e] == data[b + k:b + e]:
            k = e
            step <<= 1
            continue
        lo, hi = k, e  # data[a:a+lo] matches, data[a:a+hi] does not
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            if data[a + lo:a + mid] == data[b + lo:b + mid]:
                lo = mid
            else:
                hi = mid
        return lo
    return limit


def compress(data: bytes) -> bytes:
    """Encode `data` as a DIRECT2/LZ77 stream that decompress() (and Exchange) can read.

    Greedy parse; a hash chain over 3-byte prefixes, at most MAX_CHAIN candidates within
    WINDOW bytes; matches of 3..MAX_MATCH bytes (longer runs become several matches).
    """
    data = bytes(data)
    n = len(data)
    out = bytearray(4)  # room for the first bitmask
    mask_at = 0
    flags = 0
    nflags = 0
    half = -1  # offset in `out` of a byte whose high nibble is still free
    head: dict[bytes, int] = {}
    prev = [-1] * n
    last_key = n - MIN_MATCH  # last position with a full 3-byte prefix
    head_get = head.get
    i = 0
    while i < n:
        best = 0
        if i <= last_key:
            key = data[i:i + 3]
            cand = head_get(key, -1)
            head[key] = i
            prev[i] = cand
            floor = i - WINDOW if i > WINDOW else 0  # the oldest position a match may start at
            if cand >= floor:  # the newest candidate, then up to MAX_CHAIN - 1 older ones
                limit = n - i if n - i < MAX_MATCH else MAX_MATCH
                best = _common(data, cand, i, limit)
                best_dist = i - cand
                tries = MAX_CHAIN - 1
                while best < limit and tries:
                    cand = prev[cand]
                    if cand < floor:
                        break
                    tries -= 1
                    if data[cand + best] == data[i + best]:  # can it be longer than `best`?
                        length = _common(data, cand, i, limit)
                        if length > best:
                            best = length
                            best_dist = i - cand
        nflags += 1
        if best >= MIN_MATCH:
            flags |= 1 << (32 - nflags)
            mdist = (best_dist - 1) << 3
            if best < 10:
                out += _P16(mdist | (best - 3))
            else:
                out += _P16(mdist | 7)
                v = best - 10
                nibble = 15 if v > 15 else v
                if half < 0:
                    half = len(out)
                    out.append(nibble)
                else:
                    out[half] |= nibble << 4
                    half = -1
                if v >= 15:
                    v = best - 25
                    if v < 255:
                        out.append(v)
                    else:
                        out.append(255)
                        out += _P16(best - 3)
            # Index the positions the match covers; only the tail of long ones.
            j = i + 1 if best <= 64 else i + best - 32
            stop = min(i + best, last_key + 1)
            while j < stop:
                key = data[j:j + 3]
                prev[j] = head_get(key, -1)
                head[key] = j
                j += 1
            i += best
        else:
            out.append(data[i])
            i += 1
        if nflags == 32:
            out[mask_at:mask_at + 4] = _P32(flags)
            mask_at = len(out)
            out += b"\0\0\0\0"
            flags = 0
            nflags = 0
    # End bit after the last element, remaining bits padded with 1s ([MS-XCA] 3.1).
    flags |= (1 << (32 - nflags)) - 1
    out[mask_at:mask_at + 4] = _P32(flags)
    return bytes(out)
