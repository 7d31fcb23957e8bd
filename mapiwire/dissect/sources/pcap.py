"""pcap and pcapng files in, `Exchange`s out: link/IP/TCP decoding, TCP reassembly, HTTP pairing.

Everything streams: records are read one at a time, each TCP direction is reassembled with a
bounded out-of-order buffer and fed to an `HttpParser`, and an exchange is handed out as soon as
its response is complete and no earlier request is still waiting (order: request time).

File formats: pcap (tcpdump.org "pcap" draft, both byte orders, micro- and nanosecond magic) and
pcapng (draft-ietf-opsawg-pcapng: SHB 4.1, IDB 4.2 with if_tsresol/if_tsoffset, EPB 4.3,
SPB 4.4, obsolete Packet Block; every other block, e.g. the DSB 4.7 with TLS secrets, is skipped).
"""

from __future__ import annotations

import heapq
import os
import re
import struct
import zlib
from bisect import bisect_right, insort
from collections import deque
from ipaddress import ip_address
from socket import AF_INET, inet_ntop
from typing import BinaryIO, Iterator

from ...errors import MalformedError
from ..exchange import Exchange, HttpMessage
from .http import MAX_BODY, HttpParser, Stamp, take_frames
from .tls import undecrypted_note

__all__ = ["is_pcap", "read_exchanges"]

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e6), b"\xa1\xb2\xc3\xd4": (">", 1e6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e9), b"\xa1\xb2\x3c\x4d": (">", 1e9),
}
_SHB = b"\x0a\x0d\x0d\x0a"
_BOM = {b"\x4d\x3c\x2b\x1a": "<", b"\x1a\x2b\x3c\x4d": ">"}
_MAX_RECORD = 16 * 1024 * 1024  # larger records are taken as corruption
_FIN, _SYN, _RST, _ACK = 0x01, 0x02, 0x04, 0x10
_MASK, _HALF = 0xFFFFFFFF, 0x80000000
_MAX_PROBE = 1024 * 1024  # bytes a mid-connection flow may skip before we call it non-HTTP
_FORGET_AFTER = 120.0  # seconds a closed connection is remembered (late ACKs, numbering)
_MAX_HELD_BYTES = 256 * 1024 * 1024  # body bytes of the exchanges held back for the request order
_PIECE_COST = 128  # bytes of bookkeeping an out-of-order piece costs besides its data
_NEVER = float("inf")
_new_float = float.__new__
_LAST_SECOND = 253402300799.0  # 9999-12-31T23:59:59Z: later packet times cannot be printed


class _Broken(Exception):
    """The capture file is damaged from here on: stop reading it."""

    def __init__(self, what: str, offset: int):
        super().__init__(what)
        self.record = {"where": "capture", "error": what, "offset": offset}


# -- capture files -----------------------------------------------------------------------------


def is_pcap(path: str | os.PathLike) -> bool:
    """True if the file starts like a pcap or pcapng capture."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head in _PCAP_MAGICS or head == _SHB


def _open_packets(f: BinaryIO, notes: list) -> Iterator:
    """Check the file header now (MalformedError if unreadable); return the record iterator.
    Problems found later that do not end the reading go to `notes`."""
    head = f.read(4)
    if head in _PCAP_MAGICS:
        rest = f.read(20)
        if len(rest) < 20:
            raise MalformedError("truncated pcap file header", "pcap", 0)
        endian, ticks = _PCAP_MAGICS[head]
        link = struct.unpack(endian + "I", rest[16:20])[0] & 0xFFFF  # upper bits: FCS info
        return _pcap_records(f, endian, ticks, link)
    if head == _SHB:
        rest = f.read(8)
        if len(rest) < 8 or rest[4:8] not in _BOM:
            raise MalformedError("pcapng section header without a byte-order magic", "pcapng", 0)
        return _pcapng_records(f, head + rest, notes)
    raise MalformedError("not a pcap or pcapng file", "capture", 0)


def _pcap_records(f: BinaryIO, endian: str, ticks: float, link: int) -> Iterator:
    """(time, linktype, frame, wire length) of each pcap record."""
    read = f.read
    unpack = struct.Struct(endian + "IIII").unpack
    offset = 24
    while True:
        head = read(16)
        if len(head) < 16:
            if head:
                raise _Broken("truncated pcap record header", offset)
            return
        sec, frac, caplen, wirelen = unpack(head)
        if caplen > _MAX_RECORD:
            raise _Broken(f"pcap record length {caplen} is not plausible", offset)
        frame = read(caplen)
        if len(frame) < caplen:
            raise _Broken("truncated pcap record", offset)
        offset += 16 + caplen
        yield sec + frac / ticks, link, frame, wirelen


def _tsresol(value: int) -> int:
    """Ticks per second of an if_tsresol option (pcapng 4.2): 10^n, or 2^n with the top bit."""
    return 2 ** (value & 0x7F) if value & 0x80 else 10 ** value


def _pcapng_records(f: BinaryIO, first: bytes, notes: list) -> Iterator:
    """(time, linktype, frame, wire length) of each packet block of a pcapng file.

    A packet time is ticks / if_tsresol + if_tsoffset (4.2); one outside 1970..9999 (a
    resolution or offset that does not fit the timestamps) is taken as the previous packet's
    time, with a note per interface."""
    read = f.read
    endian = "<"
    interfaces: list = []  # (linktype, ticks per second, offset seconds, snaplen)
    offset = 0
    last_time = 0.0
    head = first[:8]
    bom = first[8:12]
    while True:
        if head is None:
            head = read(8)
            if not head:
                return
            if len(head) < 8:
                raise _Broken("truncated pcapng block header", offset)
        if head[:4] == _SHB:  # 4.1: a new section, perhaps with the other byte order
            bom = bom or read(4)
            if bom not in _BOM:
                raise _Broken("pcapng section header without a byte-order magic", offset)
            endian = _BOM[bom]
            length = struct.unpack(endian + "I", head[4:8])[0]
            if length < 28 or length % 4 or length > _MAX_RECORD:
                raise _Broken(f"bad pcapng block length {length}", offset)
            body = read(length - 12)
            if len(body) < length - 12 or body[-4:] != head[4:8]:
                raise _Broken("truncated or inconsistent pcapng section header", offset)
            interfaces = []
            offset += length
            head = bom = None
            continue
        btype, length = struct.unpack(endian + "II", head)
        if length < 12 or length % 4 or length > _MAX_RECORD:
            raise _Broken(f"bad pcapng block length {length}", offset)
        body = read(length - 8)
        if len(body) < length - 8:
            raise _Broken("truncated pcapng block", offset)
        if body[-4:] != head[4:8]:
            raise _Broken("pcapng block lengths disagree", offset)
        head = None
        if btype == 6 and length >= 32:  # 4.3 Enhanced Packet Block
            iface, high, low, caplen, wirelen = struct.unpack_from(endian + "IIIII", body)
            if caplen > length - 32:
                raise _Broken("pcapng packet longer than its block", offset)
            if iface < len(interfaces):
                link, ticks, shift, _ = interfaces[iface]
                last_time = _packet_time((high << 32) | low, ticks, shift, last_time, iface, offset, notes)
                yield last_time, link, body[20:20 + caplen], wirelen
        elif btype == 3 and length >= 16 and interfaces:  # 4.4 Simple Packet Block
            wirelen = struct.unpack_from(endian + "I", body)[0]
            link, _, _, snaplen = interfaces[0]
            caplen = min(wirelen, length - 16, snaplen or wirelen)
            yield last_time, link, body[4:4 + caplen], wirelen
        elif btype == 2 and length >= 32:  # obsolete Packet Block (appendix)
            iface, _, high, low, caplen, wirelen = struct.unpack_from(endian + "HHIIII", body)
            if caplen > length - 32:
                raise _Broken("pcapng packet longer than its block", offset)
            if iface < len(interfaces):
                link, ticks, shift, _ = interfaces[iface]
                last_time = _packet_time((high << 32) | low, ticks, shift, last_time, iface, offset, notes)
                yield last_time, link, body[20:20 + caplen], wirelen
        elif btype == 1 and length >= 20:  # 4.2 Interface Description Block
            link, _, snaplen = struct.unpack_from(endian + "HHI", body)
            ticks, shift = 10 ** 6, 0
            for code, value in _options(body[8:-4], endian):
                if code == 9 and value:
                    ticks = _tsresol(value[0])
                elif code == 14 and len(value) >= 8:
                    shift = struct.unpack(endian + "q", value[:8])[0]
            interfaces.append((link, ticks, shift, snaplen))
        offset += length


def _packet_time(stamp: int, ticks: int, shift: int, last: float, iface: int, offset: int,
                 notes: list) -> float:
    """Seconds since the epoch of a pcapng timestamp, or `last` when it is out of range."""
    try:
        time = stamp / ticks + shift
    except OverflowError:
        time = -1.0
    if 0.0 <= time <= _LAST_SECOND:
        return time
    error = f"packet times of interface {iface} out of range (if_tsresol/if_tsoffset): each taken as the " \
        "previous packet's time"
    if not any(note.get("error") == error for note in notes):
        notes.append({"where": "pcapng", "error": error, "offset": offset})
    return last


def _options(data: bytes, endian: str) -> Iterator[tuple[int, bytes]]:
    """(code, value) of each option (pcapng 3.5) up to opt_endofopt."""
    at = 0
    while at + 4 <= len(data):
        code, size = struct.unpack_from(endian + "HH", data, at)
        if code == 0:
            return
        yield code, data[at + 4:at + 4 + size]
        at += 4 + ((size + 3) & ~3)


# -- link, IP and TCP headers ------------------------------------------------------------------

_VLAN = (0x8100, 0x88A8, 0x9100)
_IP_ETHERTYPES = (0x0800, 0x86DD)
_RAW_LINKS = (101, 12, 14, 228, 229)  # DLT_RAW in its spellings, LINKTYPE_IPV4/IPV6
_NULL_LINKS = (0, 108)  # BSD loopback, OpenBSD loopback: 4-byte family, then IP
_V6_EXTENSIONS = (0, 43, 60, 135, 139, 140)  # hop-by-hop, routing, dest. opts, mobility, HIP, shim6
_TCP = struct.Struct(">IIH")  # sequence number, acknowledgment number, data offset and flags
_ETHERNET_IPV4_TCP = struct.Struct(">HBxHxxHxBxx12sIIH")  # from byte 12: ethertype ... TCP flags
_PORTS = struct.Struct(">HH")
_FRAGMENT = "fragment"


def _decode(link: int, frame: bytes):
    """(key, seq, ack, flags, payload, lost) of a TCP segment, `_FRAGMENT` for an IP fragment,
    None for anything else. `key` is source address, destination address, source and
    destination port as bytes (see `_addresses`); `lost` counts payload bytes cut by the snaplen.

    The common frame, Ethernet + IPv4 without options + TCP, is read with one unpack."""
    try:
        if link == 1 and len(frame) >= 54:
            ethertype, first, total, fragment, protocol, key, seq, ack, word = \
                _ETHERNET_IPV4_TCP.unpack_from(frame, 12)
            if ethertype == 0x0800 and first == 0x45 and protocol == 6:
                if fragment & 0x3FFF:  # MF flag or a fragment offset
                    return _FRAGMENT
                end = 14 + total if total else len(frame)  # 0: TSO capture, length unknown
                start = 34 + ((word >> 12) << 2)
                if start > end or start < 54:
                    return None
                payload = frame[start:end]
                return key, seq, ack, word & 0x3F, payload, end - start - len(payload)
        if link == 1:  # Ethernet, with any number of 802.1Q/802.1ad tags
            at = 14
            ethertype = (frame[12] << 8) | frame[13]
            while ethertype in _VLAN:
                ethertype = (frame[at + 2] << 8) | frame[at + 3]
                at += 4
            if ethertype not in _IP_ETHERTYPES:
                return None
        elif link in _RAW_LINKS:
            at = 0
        elif link == 113:  # Linux cooked capture v1: protocol at 14
            if ((frame[14] << 8) | frame[15]) not in _IP_ETHERTYPES:
                return None
            at = 16
        elif link == 276:  # Linux cooked capture v2: protocol at 0
            if ((frame[0] << 8) | frame[1]) not in _IP_ETHERTYPES:
                return None
            at = 20
        elif link in _NULL_LINKS:
            at = 4
        else:
            return None
        version = frame[at] >> 4
        if version == 4:
            ihl = (frame[at] & 0x0F) << 2
            if ihl < 20 or frame[at + 9] != 6:
                return None
            if frame[at + 6] & 0x3F or frame[at + 7]:  # MF flag or a fragment offset
                return _FRAGMENT
            total = (frame[at + 2] << 8) | frame[at + 3]
            end = at + total if total else len(frame)  # 0: TSO capture, length unknown
            addresses = frame[at + 12:at + 20]
            tcp = at + ihl
        elif version == 6:
            size = (frame[at + 4] << 8) | frame[at + 5]
            end = at + 40 + size if size else len(frame)  # 0: jumbogram
            header = frame[at + 6]
            addresses = frame[at + 8:at + 40]
            tcp = at + 40
            while header != 6:
                if header in _V6_EXTENSIONS:
                    header, tcp = frame[tcp], tcp + ((frame[tcp + 1] + 1) << 3)
                elif header == 51:  # AH counts in 4-byte units
                    header, tcp = frame[tcp], tcp + ((frame[tcp + 1] + 2) << 2)
                elif header == 44:
                    return _FRAGMENT
                else:
                    return None
        else:
            return None
        ports = frame[tcp:tcp + 4]
        seq, ack, word = _TCP.unpack_from(frame, tcp + 4)
        start = tcp + ((word >> 12) << 2)
        if start > end or start < tcp + 20:
            return None
        payload = frame[start:end]
        return addresses + ports, seq, ack, word & 0x3F, payload, end - start - len(payload)
    except (IndexError, struct.error):
        return None


def _addresses(key: bytes) -> tuple[bytes, int, bytes, int]:
    """(source address, source port, destination address, destination port) of a segment key."""
    size = (len(key) - 4) >> 1
    sport, dport = _PORTS.unpack_from(key, size << 1)
    return key[:size], sport, key[size:size << 1], dport


def _reverse(key: bytes) -> bytes:
    """The key of the other direction of the same connection."""
    size = (len(key) - 4) >> 1
    return key[size:size << 1] + key[:size] + key[-2:] + key[-4:-2]


def _endpoint(addr: bytes, port: int) -> str:
    if len(addr) == 4:
        return f"{inet_ntop(AF_INET, addr)}:{port}"  # what str(ip_address(addr)) gives, faster
    return f"[{ip_address(addr)}]:{port}"


# -- TCP reassembly ----------------------------------------------------------------------------


class _Flow:
    """One direction of a connection: sequence tracking, out-of-order buffer, HTTP parser."""

    __slots__ = ("parser", "next", "rel", "starts", "pieces", "buffered", "fin", "closed",
                 "max_buffer")

    def __init__(self, parser: HttpParser, max_buffer: int):
        self.parser = parser
        self.next: int | None = None  # next expected sequence number (mod 2**32)
        self.rel = 0  # stream offset of `next` (an unbounded int: wrap-around is harmless)
        self.starts: list[int] = []  # stream offsets of buffered out-of-order pieces, sorted
        self.pieces: dict[int, tuple[bytes, float]] = {}  # offset -> (bytes, arrival time)
        self.buffered = 0
        self.fin: int | None = None  # stream offset of the FIN
        self.closed = False
        self.max_buffer = max_buffer

    def offset_of(self, seq: int) -> int:
        return self.rel + ((seq - self.next + _HALF) & _MASK) - _HALF

    def segment(self, seq: int, data: bytes, time: float) -> list:
        """Take a segment; return the HTTP events it completes."""
        delta = ((seq - self.next + _HALF) & _MASK) - _HALF
        size = len(data)
        if delta == 0 and not self.starts:  # the common case: in order, nothing buffered
            self.next = (seq + size) & _MASK
            self.rel += size
            return self.parser.feed(data, time)
        if delta < 0:  # retransmission or overlap: bytes already delivered win
            if delta + size <= 0:
                return []
            data = data[-delta:]
            seq = self.next
            size += delta
            delta = 0
        if delta == 0:
            self.next = (seq + size) & _MASK
            self.rel += size
            events = self.parser.feed(data, time)
            return events + self._drain() if self.starts else events
        self._insert(self.rel + delta, data, time)
        events = []
        while self.buffered > self.max_buffer:  # give up waiting for the missing bytes
            events += self.advance(self.starts[0], time)
        return events

    def _insert(self, start: int, data: bytes, time: float) -> None:
        """Buffer an out-of-order piece; bytes already buffered win (first seen).

        The buffered pieces are disjoint and sorted by start: a bisect finds the first one the
        new piece can meet, and the walk visits only the pieces it overlaps (at most one per byte
        of the segment), so the cost does not grow with the number of pieces buffered. Each
        piece counts `_PIECE_COST` bytes beyond its data against `max_buffer`.
        """
        starts, pieces = self.starts, self.pieces
        end = start + len(data)
        at = start
        i = bisect_right(starts, start)
        if i:
            before = starts[i - 1]
            at = max(at, before + len(pieces[before][0]))
        cut = []
        count = len(starts)
        while i < count and at < end:
            other = starts[i]
            if other >= end:
                break
            if other > at:
                cut.append((at, data[at - start:other - start]))
            at = max(at, other + len(pieces[other][0]))
            i += 1
        if at < end:
            cut.append((at, data[at - start:]))
        for piece_start, piece in cut:
            insort(starts, piece_start)
            pieces[piece_start] = (piece, time)
            self.buffered += len(piece) + _PIECE_COST

    def _drain(self) -> list:
        """Deliver buffered pieces that are now in order (each with its arrival time)."""
        events = []
        starts, pieces = self.starts, self.pieces
        taken = 0
        while taken < len(starts) and starts[taken] <= self.rel:
            start = starts[taken]
            taken += 1
            piece, arrival = pieces.pop(start)
            self.buffered -= len(piece) + _PIECE_COST
            skip = self.rel - start
            if skip < len(piece):
                piece = piece[skip:]
                self.rel += len(piece)
                self.next = (self.next + len(piece)) & _MASK
                events += self.parser.feed(piece, arrival)
        del starts[:taken]
        return events

    def advance(self, target: int, time: float) -> list:
        """Declare lost the bytes missing before stream offset `target`; deliver buffered ones."""
        events = []
        while self.rel < target:
            if self.starts and self.starts[0] <= self.rel:
                events += self._drain()
                continue
            stop = min(target, self.starts[0]) if self.starts else target
            events += self.parser.gap(stop - self.rel, time)
            self.next = (self.next + stop - self.rel) & _MASK
            self.rel = stop
        if self.starts and self.starts[0] <= self.rel:
            events += self._drain()
        return events

    def finish(self, time: float) -> list:
        """End of this direction: deliver what is buffered (gaps included), close the parser."""
        if self.closed:
            return []
        events = []
        if self.next is not None:
            if self.starts:
                last = self.starts[-1]
                events += self.advance(last + len(self.pieces[last][0]), time)
            if self.fin is not None and self.fin > self.rel:
                events += self.advance(self.fin, time)
        events += self.parser.close()
        self.closed = True
        return events


class _Conn:
    """A TCP connection seen in the capture."""

    __slots__ = ("id", "keys", "client_key", "client", "server", "c2s", "s2c",
                 "fifo", "req_errors", "resp_errors", "confirmed", "midstream", "skip", "done",
                 "syn", "lost", "tls_server")

    def __init__(self, number: int, keys: tuple):
        self.id = f"tcp/{number}"
        self.keys = keys
        self.client_key = None  # the key of the client's segments: unknown until a SYN or a payload tells
        self.client = self.server = ""
        self.c2s = self.s2c = None
        self.fifo: deque = deque()  # (request, its errors) waiting for a response
        self.req_errors: list = []
        self.resp_errors: list = []
        self.confirmed = False  # a valid HTTP start line was seen
        self.midstream = False
        self.skip = False  # not HTTP: ignore its packets
        self.done = False
        self.syn: int | None = None  # the client's ISN, to tell a reused port pair
        self.lost = 0  # responses whose head a capture gap took
        self.tls_server = None  # TLS (not decrypted here): its server, to count the bytes left encrypted


_REQUEST_START = re.compile(rb"[\r\n]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}(?: |\Z)|\Z)")
_REQUEST_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ [^\x00-\x20\x7f]+ HTTP/[0-9]\.[0-9]\r?\n")


def _looks_tls(data: bytes) -> bool:
    """A TLS record header (RFC 8446 5.1): content type 20-23, legacy version 3.x."""
    return len(data) >= 3 and 20 <= data[0] <= 23 and data[1] == 3 and data[2] <= 4


def _body_bytes(exchange: Exchange) -> int:
    return sum(len(m.body) for m in (exchange.request, exchange.response) if m is not None)


class _Tracker:
    """Connections, reassembly and request/response pairing; emits exchanges in request order."""

    def __init__(self, max_body: int, max_buffer: int, max_hold: int, shard: tuple[int, int] | None = None):
        self.shard = shard  # (k, n): follow only the connections of share k of n (see read_exchanges)
        self.max_body = max_body
        self.max_buffer = max_buffer
        self.max_hold = max_hold
        self.conns: dict = {}  # (src, sport, dst, dport) in both orientations -> _Conn
        self.count = 0
        self.busy: dict = {}  # connection -> time of its oldest unanswered request
        self.held: list = []  # heap of completed exchanges: (request time, serial, Exchange, body bytes)
        self.held_bytes = 0  # their bodies' bytes, at most _MAX_HELD_BYTES (beyond, order is best effort)
        self.serial = 0
        self.dirty = False
        self.ready: deque = deque()
        self.closed: deque = deque()  # (close time, connection), for forgetting them
        self.notes: list = []  # capture-level problems, for a final pseudo-exchange
        self.fragments = 0
        self.tls_bytes: dict[str, int] = {}  # server of a TLS connection -> payload bytes not decoded
        self.now = 0.0  # time and number of the last frame
        self.frame = 0

    def packet(self, time: float, number: int, key: bytes, seq: int, ack: int, flags: int, payload: bytes,
               lost: int) -> None:
        """Take one TCP segment (see `_decode`) of frame `number`, captured at `time`."""
        conn = self.conns.get(key)
        if conn is not None and not flags & (_SYN | _FIN | _RST) and not payload and not lost:
            # The common bare ACK: it matters only if it acknowledges bytes the capture lost.
            self.now, self.frame = time, number
            flow = conn.c2s
            if flow is None:  # not HTTP, closed, or its direction still unknown
                return
            other = conn.s2c
            if key != conn.client_key:
                flow, other = other, flow
            if not (flags & _ACK and other.next is not None and not other.closed
                    and ((ack - other.next + _HALF) & _MASK) - _HALF > 0) and flow.fin is None:
                if self.dirty:
                    self._release()
                return
        time = _new_float(Stamp, time)  # Stamp(time, number), without a Python-level __new__
        time.frame = number
        self.now, self.frame = time, number
        if conn is None or (flags & _SYN and not flags & _ACK and seq != conn.syn
                            and conn.client_key is not None):
            if conn is not None:  # a new connection on the same port pair
                self._close(conn, time)
            conn = self._new_conn(key)
        if conn.skip or conn.done:
            if conn.tls_server is not None:
                self.tls_bytes[conn.tls_server] += len(payload)
            if flags & (_FIN | _RST) and not conn.done:
                conn.done = True
                self.closed.append((time, conn))
            return
        if conn.client_key is None and not self._direction(conn, key, flags, payload):
            return
        forward = key == conn.client_key
        flow, other = (conn.c2s, conn.s2c) if forward else (conn.s2c, conn.c2s)
        if flags & _SYN:
            if flow.next is None:
                flow.next = (seq + 1) & _MASK
                if forward and not flags & _ACK:
                    conn.syn = seq
            seq = (seq + 1) & _MASK  # data on a SYN starts after the ISN
        if flags & _RST:
            self._close(conn, time)
            return
        if flags & _ACK and other.next is not None and not other.closed:
            delta = ((ack - other.next + _HALF) & _MASK) - _HALF
            if delta > 0:  # the peer acknowledges bytes we never saw: lost in the capture
                target = other.rel + delta
                if other.fin is not None:
                    target = min(target, other.fin)
                if target > other.rel:
                    self._route(conn, not forward, other.advance(target, time))
                    if conn.skip or self._fin_reached(conn, other, not forward, time):
                        return
        if payload or lost:
            if flow.next is None:
                flow.next = seq
            if not conn.confirmed and self._not_http(conn, forward, flow, seq, payload):
                return
            start = flow.offset_of(seq) if lost else 0
            events = flow.segment(seq, payload, time)
            if lost and flow.rel == start + len(payload):  # in order, but cut by the snaplen
                events += flow.advance(flow.rel + lost, time)
            if events:
                self._route(conn, forward, events)
                if conn.skip:
                    return
            elif forward:
                self._update_busy(conn)
        if flags & _FIN:
            if flow.next is None:
                flow.next = seq
            flow.fin = flow.offset_of(seq) + len(payload) + lost
        if (flow.fin is None or not self._fin_reached(conn, flow, forward, time)) and self.dirty:
            self._release()

    def _fin_reached(self, conn, flow, forward: bool, time: float) -> bool:
        """Close a direction whose bytes up to its FIN are in; True if the connection closed."""
        if flow.fin is None or flow.rel < flow.fin or flow.closed:
            return False
        self._route(conn, forward, flow.finish(time))
        if conn.skip or (conn.c2s.closed and conn.s2c.closed):
            self._close(conn, time)
            return True
        return False

    def _new_conn(self, key: bytes) -> _Conn:
        keys = (key, _reverse(key))
        conn = _Conn(self.count, keys)
        self.count += 1
        for key in keys:
            self.conns[key] = conn
        if self.closed and self.now - self.closed[0][0] > _FORGET_AFTER:
            self._forget()
        return conn

    def _forget(self) -> None:
        closed = self.closed
        while closed and self.now - closed[0][0] > _FORGET_AFTER:
            conn = closed.popleft()[1]
            for key in conn.keys:
                if self.conns.get(key) is conn:
                    del self.conns[key]

    def _direction(self, conn, key: bytes, flags: int, payload: bytes) -> bool:
        """Learn who the client is: from the SYN, else from the payload, else the lower port."""
        src, sport, dst, dport = _addresses(key)
        if flags & _SYN:
            client = (dst, dport) if flags & _ACK else (src, sport)
        elif payload:
            conn.midstream = True
            if _looks_tls(payload):
                server = (dst, dport) if dport < sport else (src, sport)  # a guess: the lower port
                self._skip_tls(conn, _endpoint(*server), len(payload))
                return False
            if _REQUEST_LINE.match(payload):
                client = (src, sport)
            elif payload.startswith(b"HTTP/"):
                client = (dst, dport)
            else:
                client = (src, sport) if sport > dport else (dst, dport)
        else:
            return False
        server = (dst, dport) if client == (src, sport) else (src, sport)
        conn.client_key = key if client == (src, sport) else _reverse(key)
        conn.client, conn.server = _endpoint(*client), _endpoint(*server)
        mid = conn.midstream
        conn.c2s = _Flow(HttpParser("request", max_body=self.max_body, midstream=mid),
                         self.max_buffer)
        conn.s2c = _Flow(HttpParser("response", max_body=self.max_body, midstream=mid),
                         self.max_buffer)
        return True

    def _not_http(self, conn, forward, flow, seq, payload) -> bool:
        """Cheap checks on a connection not yet confirmed as HTTP; skip it if it is not."""
        first = flow.rel == 0 and seq == flow.next
        if first and _looks_tls(payload):
            return self._skip_tls(conn, conn.server, len(payload))
        if conn.midstream:
            if conn.c2s.parser.skipped + conn.s2c.parser.skipped > _MAX_PROBE:
                return self._skip(conn)
        elif first and forward and not _REQUEST_START.match(payload):
            return self._skip(conn)
        elif first and not forward and conn.c2s.rel == 0 and \
                not b"HTTP/".startswith(payload[:5]):
            return self._skip(conn)
        if self.shard is not None and zlib.crc32(min(conn.keys)) % self.shard[1] != self.shard[0]:
            return self._skip(conn)  # another share's: after the TLS check, which every share makes
        return False

    def _skip_tls(self, conn, server: str, size: int) -> bool:
        """A TLS connection: skipped here (tshark decrypts, sources/tls.py), its bytes counted."""
        conn.tls_server = server
        self.tls_bytes[server] = self.tls_bytes.get(server, 0) + size
        return self._skip(conn)

    def _skip(self, conn) -> bool:
        conn.skip = True
        conn.c2s = conn.s2c = None
        conn.fifo.clear()
        conn.req_errors = conn.resp_errors = []
        if self.busy.pop(conn, None) is not None:
            self.dirty = True
        return True

    def _route(self, conn, forward: bool, events: list) -> None:
        """Pair parsed messages FIFO and file errors with the message they concern."""
        if conn.skip:
            return
        for event in events:
            if type(event) is HttpMessage:
                take_frames(event)
                conn.confirmed = True
                if forward:
                    conn.fifo.append((event, conn.req_errors))
                    conn.req_errors = []
                    continue
                while conn.lost and len(conn.fifo) > 1:  # their requests stay unanswered
                    conn.lost -= 1
                    request, errors = conn.fifo.popleft()
                    self._complete(Exchange(request, None, conn.id, conn.client, conn.server,
                                            errors + conn.resp_errors))
                    conn.resp_errors = []
                conn.lost = 0
                if conn.fifo:
                    request, errors = conn.fifo.popleft()
                elif conn.req_errors and not conn.c2s.parser.in_message:
                    request, errors = None, conn.req_errors  # they explain the lost request
                    conn.req_errors = []
                else:
                    request, errors = None, []
                if conn.resp_errors:
                    errors = errors + conn.resp_errors
                    conn.resp_errors = []
                self._complete(Exchange(request, event, conn.id, conn.client, conn.server,
                                        errors))
            else:
                if not conn.confirmed and event.where == "http":
                    if not (conn.c2s.parser.heads or conn.s2c.parser.heads):
                        self._skip(conn)  # never looked like HTTP: not worth an error
                        return
                    conn.confirmed = True
                if event.lost_message and not forward:
                    conn.lost += 1
                (conn.req_errors if forward else conn.resp_errors).append(event.as_record())
        self._update_busy(conn)

    def _update_busy(self, conn) -> None:
        if conn.fifo:
            head = conn.fifo[0][0].time
        else:
            head = conn.c2s.parser.message_time if conn.c2s and not conn.c2s.closed else None
        old = self.busy.get(conn)
        if head is None:
            if old is not None:
                del self.busy[conn]
                self.dirty = True
        elif head != old:
            self.busy[conn] = head
            self.dirty = True

    def _complete(self, exchange: Exchange) -> None:
        msg = exchange.request or exchange.response
        when = msg.time if msg is not None and msg.time is not None else self.now
        size = _body_bytes(exchange)
        heapq.heappush(self.held, (when, self.serial, exchange, size))
        self.held_bytes += size
        self.serial += 1
        self.dirty = True

    def _release(self) -> None:
        """Hand out held exchanges that no unanswered earlier request can precede."""
        mark = min(self.busy.values()) if self.busy else _NEVER
        held = self.held
        while held and (held[0][0] <= mark or len(held) > self.max_hold or self.held_bytes > _MAX_HELD_BYTES):
            _, _, exchange, size = heapq.heappop(held)
            self.held_bytes -= size
            self.ready.append(exchange)
        self.dirty = False

    def _close(self, conn, time: float) -> None:
        """Close both directions, flush unanswered requests and leftover errors."""
        if conn.done or conn.skip:
            if not conn.done:
                conn.done = True
                self.closed.append((time, conn))
            return
        if conn.c2s is not None:
            self._route(conn, True, conn.c2s.finish(time))
        if conn.s2c is not None and not conn.skip:
            self._route(conn, False, conn.s2c.finish(time))
        if not conn.skip:
            last = None
            while conn.fifo:
                request, errors = conn.fifo.popleft()
                last = Exchange(request, None, conn.id, conn.client, conn.server, errors)
                self._complete(last)
            leftover = conn.req_errors + conn.resp_errors
            if leftover:
                if last is None:
                    self._complete(Exchange(None, None, conn.id, conn.client, conn.server,
                                            leftover))
                else:
                    last.errors.extend(leftover)
        conn.done = True
        conn.c2s = conn.s2c = None
        if self.busy.pop(conn, None) is not None:
            self.dirty = True
        self.closed.append((time, conn))
        self._release()

    def finish(self) -> None:
        """End of the capture: close every connection, hand out everything."""
        seen = set()
        for conn in list(self.conns.values()):
            if id(conn) not in seen:
                seen.add(id(conn))
                self._close(conn, Stamp(self.now, self.frame))
        if self.tls_bytes:
            self.notes.append(undecrypted_note(self.tls_bytes, "give the key log with --keylog KEYS, or a pcapng with "
                                               "the secrets embedded (editcap --inject-secrets)"))
        if self.fragments:
            self.notes.append({"where": "ip", "error": f"{self.fragments} IP fragments skipped "
                               "(fragments are not reassembled)"})
        self.max_hold = 0
        self._release()
        if self.notes and (self.shard is None or self.shard[0] == 0):  # every share has them: the first says them
            self.ready.append(Exchange(None, None, errors=self.notes))


# -- entry point -------------------------------------------------------------------------------


def read_exchanges(
    source: str | os.PathLike | BinaryIO,
    *,
    max_body: int = MAX_BODY,
    max_buffer: int = 4 * 1024 * 1024,
    max_hold: int = 10_000,
    shard: tuple[int, int] | None = None,
) -> Iterator[Exchange]:
    """Stream the HTTP exchanges of a pcap/pcapng file (a path or a binary file object).

    Exchanges come in order of request time (of response time when the request was not
    captured). `max_buffer` bounds the out-of-order bytes kept per direction, `max_hold` the
    exchanges held back waiting for an earlier request's response (beyond it order is best
    effort). Raises `MalformedError` at once if the file header is unreadable; a damaged record
    later ends the reading with a final `Exchange(None, None)` carrying the error.

    `shard=(k, n)`: only the exchanges of the TCP connections whose address pair falls in share k
    of n, and the capture's own notes (TLS bytes, fragments, a damaged record) in share 0 only: n
    readers of the same file give, together, what one reader gives (`stats --jobs`).
    """
    owned = isinstance(source, (str, bytes, os.PathLike))
    f = open(source, "rb", buffering=1024 * 1024) if owned else source
    tracker = _Tracker(max_body, max_buffer, max_hold, shard)
    try:
        records = _open_packets(f, tracker.notes)
    except BaseException:
        if owned:
            f.close()
        raise
    return _exchanges(f, owned, records, tracker)


def _exchanges(f, owned: bool, records: Iterator, tracker: _Tracker) -> Iterator[Exchange]:
    ready = tracker.ready
    packet = tracker.packet
    try:
        try:
            for number, (time, link, frame, _) in enumerate(records, 1):
                segment = _decode(link, frame)
                if segment is None:
                    continue
                if segment is _FRAGMENT:
                    tracker.fragments += 1
                    continue
                packet(time, number, *segment)
                while ready:
                    yield ready.popleft()
        except _Broken as broken:
            tracker.notes.append(broken.record)
        tracker.finish()
        while ready:
            yield ready.popleft()
    finally:
        if owned:
            f.close()
