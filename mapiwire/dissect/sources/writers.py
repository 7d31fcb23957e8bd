"""`Exchange`s in, pcap/pcapng captures out: for tests, `bench/` and the sample-capture builder.

Each connection gets a three-way handshake, data segmented by the MSS with correct sequence
and acknowledgement numbers, and a FIN exchange at the end. Options damage the delivery the way
real captures are damaged: reordered segments, retransmissions, overlapping retransmissions and
segments lost by the capture (a gap).
"""

from __future__ import annotations

import os
import random
import struct
import sys
from array import array
from collections import defaultdict
from ipaddress import ip_address
from typing import BinaryIO, Iterable, Sequence

from ..exchange import Exchange, HttpMessage

__all__ = ["LINKTYPES", "build_frame", "build_packets", "serialize", "write_capture",
           "write_pcap", "write_pcapng"]

LINKTYPES = {"null": 0, "ether": 1, "raw": 101, "sll": 113, "sll2": 276}
_FIN, _SYN, _RST, _PSH, _ACK = 0x01, 0x02, 0x04, 0x08, 0x10
_STEP = 20e-6  # seconds between two segments of a burst
_BASE_TIME = 1_700_000_000.0


# -- HTTP ----------------------------------------------------------------------------------------


def serialize(msg: HttpMessage, chunks: Sequence[int] | None = None) -> bytes:
    """The wire form of a message (RFC 7230 3). Headers are written as given; a body with
    `Transfer-Encoding: chunked` is chunked (4.1) at the sizes in `chunks` (or `msg.chunks`),
    the rest in one chunk. Content-Length is added only if the message has a body and neither
    framing header."""
    if msg.method:
        head = f"{msg.method} {msg.target or '/'} {msg.version}\r\n"
    else:
        head = f"{msg.version} {msg.status} {msg.reason}\r\n"
    headers = list(msg.headers)
    codings = msg.header_all("Transfer-Encoding")
    chunked = bool(codings) and ",".join(codings).split(",")[-1].strip().lower() == "chunked"
    if msg.body and not codings and msg.header("Content-Length") is None:
        headers.append(("Content-Length", str(len(msg.body))))
    out = [head.encode("latin-1")]
    out += [f"{name}: {value}\r\n".encode("latin-1") for name, value in headers]
    out.append(b"\r\n")
    if not chunked:
        out.append(msg.body)
        return b"".join(out)
    sizes = chunks if chunks is not None else getattr(msg, "chunks", None) or ()
    body = msg.body
    at = 0
    for size in sizes:
        piece = body[at:at + size]
        if piece:
            out += [b"%x\r\n" % len(piece), piece, b"\r\n"]
        at += len(piece)
    if at < len(body):
        out += [b"%x\r\n" % (len(body) - at), body[at:], b"\r\n"]
    out.append(b"0\r\n\r\n")
    return b"".join(out)


# -- frames --------------------------------------------------------------------------------------


def _checksum(data: bytes) -> int:
    """Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    words = array("H", data)
    if sys.byteorder == "little":
        words.byteswap()
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _parse_endpoint(text: str) -> tuple[bytes, int]:
    """"10.0.0.5:51234" or "[::1]:443" -> (packed address, port)."""
    host, _, port = text.rpartition(":")
    return ip_address(host.strip("[]")).packed, int(port)


def build_frame(src: bytes, sport: int, dst: bytes, dport: int, seq: int, ack: int, flags: int,
                payload: bytes = b"", *, link: str = "ether", vlan: int | None = None,
                ident: int = 0) -> bytes:
    """One TCP segment in IPv4 or IPv6 (by address length) in the given link layer."""
    tcp = struct.pack(">HHIIHHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (5 << 12) | flags, 65535, 0, 0)
    size = len(tcp) + len(payload)
    if len(src) == 4:
        pseudo = src + dst + struct.pack(">BBH", 0, 6, size)
    else:
        pseudo = src + dst + struct.pack(">IxxxB", size, 6)
    tcp = tcp[:16] + struct.pack(">H", _checksum(pseudo + tcp + payload)) + tcp[18:]
    if len(src) == 4:
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + size, ident & 0xFFFF, 0x4000, 64, 6, 0,
                         src, dst)
        ip = ip[:10] + struct.pack(">H", _checksum(ip)) + ip[12:]
        ethertype, family = 0x0800, 2
    else:
        ip = struct.pack(">IHBB16s16s", 6 << 28, size, 6, 64, src, dst)
        ethertype, family = 0x86DD, 30
    packet = ip + tcp + payload
    if link == "ether":
        macs = (b"\x02\0\0\0\0\x01", b"\x02\0\0\0\0\x02")
        dst_mac, src_mac = macs if sport > dport else macs[::-1]
        tag = struct.pack(">HH", 0x8100, vlan) if vlan is not None else b""
        return dst_mac + src_mac + tag + struct.pack(">H", ethertype) + packet
    if link == "sll":  # packet type, ARPHRD_ETHER, address length, address, protocol
        return struct.pack(">HHH8sH", 0, 1, 6, b"\x02\0\0\0\0\x01", ethertype) + packet
    if link == "sll2":  # protocol, reserved, ifindex, ARPHRD_ETHER, type, address length, address
        return struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, 0, 6, b"\x02\0\0\0\0\x01") + packet
    if link == "null":
        return struct.pack("<I", family) + packet
    if link == "raw":
        return packet
    raise ValueError(f"unknown link type {link!r}")


# -- TCP conversations ---------------------------------------------------------------------------


class _Conversation:
    """Builds the segments of one TCP connection, keeping both sides' sequence numbers."""

    def __init__(self, client: tuple[bytes, int], server: tuple[bytes, int], isn: tuple[int, int],
                 opts: dict, out: list):
        self.ends = (client, server)
        self.seq = [isn[0], isn[1]]
        self.opts = opts
        self.out = out
        self.clock = 0.0

    def emit(self, side: int, flags: int, payload: bytes = b"", seq: int | None = None,
             ack: int | None = None) -> None:
        (src, sport), (dst, dport) = self.ends[side], self.ends[1 - side]
        frame = build_frame(src, sport, dst, dport, self.seq[side] if seq is None else seq,
                            self.seq[1 - side] if ack is None else ack, flags, payload,
                            link=self.opts["link"], vlan=self.opts["vlan"], ident=len(self.out))
        self.out.append((self.clock, len(self.out), frame))
        self.clock += _STEP

    def handshake(self, time: float) -> None:
        self.clock = time - 4 * _STEP
        self.emit(0, _SYN, ack=0)
        self.seq[0] += 1
        self.emit(1, _SYN | _ACK)
        self.seq[1] += 1
        self.emit(0, _ACK)

    def close(self) -> None:
        self.emit(0, _FIN | _ACK)
        self.seq[0] += 1
        self.emit(1, _FIN | _ACK)
        self.seq[1] += 1
        self.emit(0, _ACK)

    def burst(self, side: int, data: bytes, time: float, drops: set) -> None:
        """Send `data` from one side, damaged as the options say, with the receiver's ACKs."""
        opts, rng = self.opts, self.opts["rng"]
        self.clock = max(self.clock, time)
        mss = opts["mss"]
        base = self.seq[side]
        bounds = [(at, min(at + mss, len(data))) for at in range(0, len(data), mss)]
        # Each entry: (start, end, original segment index or None for an extra copy).
        order = [(start, end, i) for i, (start, end) in enumerate(bounds)]
        if opts["overlap"]:
            for i in range(len(bounds) - 1):
                if rng.random() < opts["overlap"]:
                    middle = (bounds[i][0] + bounds[i][1]) // 2
                    end = (bounds[i + 1][0] + bounds[i + 1][1]) // 2
                    order.insert(rng.randint(i + 1, len(order)), (middle, end, None))
        if opts["duplicate"]:
            for start, end, i in list(order):
                if i is not None and rng.random() < opts["duplicate"]:
                    later = order.index((start, end, i)) + 1
                    order.insert(rng.randint(later, len(order)), (start, end, None))
        if opts["reorder"] and rng.random() < opts["reorder"]:
            rng.shuffle(order)
        received = [False] * len(bounds)
        contiguous = 0
        sent = 0
        for start, end, i in order:
            last = i == len(bounds) - 1
            if i is None or i not in drops:
                self.emit(side, _ACK | (_PSH if last else 0), data[start:end], seq=base + start)
            else:
                self.clock += _STEP  # sent, but the capture missed it
            if i is not None:
                received[i] = True
                while contiguous < len(bounds) and received[contiguous]:
                    contiguous += 1
            sent += 1
            if opts["ack_every"] and sent % opts["ack_every"] == 0:
                acked = bounds[contiguous - 1][1] if contiguous else 0
                self.emit(1 - side, _ACK, ack=base + acked)
        self.seq[side] = (base + len(data)) & 0xFFFFFFFF
        if opts["ack_every"] and sent % opts["ack_every"]:
            self.emit(1 - side, _ACK)


def build_packets(
    exchanges: Iterable[Exchange],
    *,
    mss: int = 1460,
    link: str = "ether",
    vlan: int | None = None,
    isn: tuple[int, int] | None = None,
    handshake: bool = True,
    close: bool = True,
    ack_every: int = 2,
    reorder: float = 0.0,
    duplicate: float = 0.0,
    overlap: float = 0.0,
    drop: Iterable[tuple[int, str, int]] = (),
    seed: int = 0,
) -> list[tuple[float, bytes]]:
    """The frames of the exchanges' TCP connections, as (time, frame) sorted by time.

    Exchanges sharing `connection` share one TCP connection (keep-alive; a request time before
    the previous response time makes it pipelined). A message's `chunks` attribute, if set,
    gives the chunk sizes of a chunked body. Damage: `reorder` is the chance that a burst's
    segments are shuffled, `duplicate` that a segment is retransmitted later in its burst,
    `overlap` that a retransmission straddles two segments; `drop` lists
    (exchange index, "request" or "response", segment index) segments the capture misses.
    Times: each message's `time` if set, else 10 ms steps from 2023-11-14.
    """
    opts = {"mss": mss, "link": link, "vlan": vlan, "ack_every": ack_every, "reorder": reorder,
            "duplicate": duplicate, "overlap": overlap, "rng": random.Random(seed)}
    drops = defaultdict(set)
    for index, side, segment in drop:
        drops[(index, side)].add(segment)
    groups: dict[str, list] = {}
    for index, exchange in enumerate(exchanges):
        groups.setdefault(exchange.connection or f"#{index}", []).append((index, exchange))
    out: list = []
    clock = _BASE_TIME
    for number, members in enumerate(groups.values()):
        first = members[0][1]
        client = _parse_endpoint(first.client or f"10.0.0.5:{50000 + number % 15000}")
        server = _parse_endpoint(first.server or "10.0.0.1:80")
        rng = opts["rng"]
        conv = _Conversation(client, server, isn or (rng.getrandbits(32), rng.getrandbits(32)),
                             opts, out)
        bursts = []
        for index, exchange in members:
            for side, msg in ((0, exchange.request), (1, exchange.response)):
                if msg is None:
                    continue
                if msg.time is None:
                    clock += 0.01
                when = msg.time if msg.time is not None else clock
                if side == 1 and exchange.request is not None and exchange.request.time:
                    when = max(when, exchange.request.time)
                bursts.append((when, index, side, msg))
        bursts.sort(key=lambda b: (b[0], b[1], b[2]))
        if handshake:
            conv.handshake(bursts[0][0] if bursts else clock)
        for when, index, side, msg in bursts:
            conv.burst(side, serialize(msg), when,
                       drops.get((index, "request" if side == 0 else "response"), set()))
        if close:
            conv.clock += 1e-3
            conv.close()
    out.sort(key=lambda p: (p[0], p[1]))
    return [(time, frame) for time, _, frame in out]


# -- files ---------------------------------------------------------------------------------------


def _target(target: str | os.PathLike | BinaryIO):
    if isinstance(target, (str, bytes, os.PathLike)):
        return open(target, "wb"), True
    return target, False


def write_pcap(target: str | os.PathLike | BinaryIO, packets: Iterable[tuple[float, bytes]], *,
               link: str = "ether", nanosecond: bool = False, byteorder: str = "<",
               snaplen: int = 262144) -> None:
    """A pcap file: `byteorder` "<" or ">", micro- or nanosecond timestamps."""
    f, owned = _target(target)
    try:
        magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
        f.write(struct.pack(byteorder + "IHHiIII", magic, 2, 4, 0, 0, snaplen, LINKTYPES[link]))
        scale = 10 ** 9 if nanosecond else 10 ** 6
        record = struct.Struct(byteorder + "IIII")
        for time, frame, *_ in packets:
            sec = int(time)
            frac = min(round((time - sec) * scale), scale - 1)
            caplen = min(len(frame), snaplen)
            f.write(record.pack(sec, frac, caplen, len(frame)))
            f.write(frame[:caplen])
    finally:
        if owned:
            f.close()


def _block(endian: str, btype: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(endian + "II", btype, length) + body + struct.pack(endian + "I", length)


def _option(endian: str, code: int, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def write_pcapng(target: str | os.PathLike | BinaryIO, packets: Iterable[tuple], *,
                 interfaces: Sequence[dict] | None = None, link: str = "ether",
                 byteorder: str = "<", secrets: bytes | None = None) -> None:
    """A pcapng file. `packets` items are (time, frame) or (time, frame, interface index);
    `interfaces` is a list of {"link": name, "tsresol": if_tsresol byte (6 = µs, 9 = ns,
    0x80|n = 2^-n), "tsoffset": if_tsoffset seconds (packet times are then counted from it)};
    `secrets` adds a Decryption Secrets Block with a TLS key log."""
    e = byteorder
    f, owned = _target(target)
    try:
        interfaces = interfaces or [{"link": link, "tsresol": 6}]
        f.write(_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
        ticks = []
        for iface in interfaces:
            resol = iface.get("tsresol", 6)
            ticks.append(2 ** (resol & 0x7F) if resol & 0x80 else 10 ** resol)
            options = _option(e, 9, bytes([resol]))
            if "tsoffset" in iface:
                options += _option(e, 14, struct.pack(e + "q", iface["tsoffset"]))
            options += _option(e, 0, b"")
            f.write(_block(e, 1, struct.pack(e + "HHI", LINKTYPES[iface.get("link", link)], 0,
                                             262144) + options))
        if secrets is not None:
            f.write(_block(e, 0x0000000A, struct.pack(e + "II", 0x544C534B, len(secrets))
                           + secrets))
        for time, frame, *rest in packets:
            iface = rest[0] if rest else 0
            sec = int(time)
            stamp = sec * ticks[iface] + round((time - sec) * ticks[iface])
            f.write(_block(e, 6, struct.pack(e + "IIIII", iface, stamp >> 32,
                                             stamp & 0xFFFFFFFF, len(frame), len(frame))
                           + frame))
    finally:
        if owned:
            f.close()


def write_capture(target: str | os.PathLike | BinaryIO, exchanges: Iterable[Exchange], *,
                  format: str = "pcapng", nanosecond: bool = False, byteorder: str = "<",
                  **options) -> None:
    """`build_packets(exchanges, **options)` written as "pcap" or "pcapng"."""
    link = options.get("link", "ether")
    packets = build_packets(exchanges, **options)
    if format == "pcap":
        write_pcap(target, packets, link=link, nanosecond=nanosecond, byteorder=byteorder)
    elif format == "pcapng":
        write_pcapng(target, packets, link=link, byteorder=byteorder)
    else:
        raise ValueError(f"unknown capture format {format!r}")
