"""TLS captures in, `Exchange`s out: tshark decrypts, our HTTP parser does the rest.

tshark runs as a subprocess (never pyshark's PDML: 20-30 times slower) with the key log
(`-o tls.keylog_file:KEYS`, or the secrets a pcapng carries from `editcap --inject-secrets`).
Its HTTP dissectors are disabled and every TLS port decodes as "data" (else a heuristic
dissector, e.g. RDPMT, may claim a record of binary body), so every decrypted TLS record (and
the payload of plain TCP connections) reaches the "data" dissector, whose `data.data` field
tshark prints as hex: lossless, NUL bytes included, unlike `http.file_data`, which tshark 4.0
cuts at the first NUL.
The decrypted bytes of each direction of each `tcp.stream` then go through `HttpParser`, as
in the pcap reader: same header spelling and order, same de-chunking, pipelining and errors.
tshark's output is read line by line as it comes (`-T fields`, one line per frame).
"""

from __future__ import annotations

import heapq
import os
import re
import shutil
import subprocess
import tempfile
from collections import deque
from typing import Iterator

from ...errors import MalformedError
from ..exchange import Exchange, HttpMessage
from .http import MAX_BODY, HttpParser, Stamp, take_frames

__all__ = ["read_exchanges", "tshark_command", "undecrypted_note"]

FIELDS = ("frame.time_epoch", "frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
          "ipv6.dst", "tcp.dstport", "tcp.flags", "tls.record.content_type",
          "tls.record.opaque_type", "data.data", "tls.record.length")
# Frames worth printing: payload, TLS records (to notice what was not decrypted), SYN/FIN/RST.
DISPLAY_FILTER = ("tcp && (data || tls || tcp.flags.syn == 1 || tcp.flags.fin == 1"
                  " || tcp.flags.reset == 1)")
PREFS = ("tcp.desegment_tcp_streams:TRUE", "tcp.reassemble_out_of_order:TRUE",
         "tls.desegment_ssl_records:TRUE")
_SYN, _FIN, _RST, _ACK = 0x02, 0x01, 0x04, 0x10
_REQUEST_START = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24} ")
_H2_PREFACE = b"PRI * HTTP/2.0\r\n"


def tshark_command(path: str | None, keylog: str | None, *, interface: str | None = None,
                   capture_filter: str | None = None) -> list[str]:
    """The tshark command line that prints one line of `FIELDS` per interesting frame, reading
    `path` or capturing live on `interface` (each frame printed as it comes, `-l`)."""
    source = ["-r", path] if interface is None else ["-l", "-i", interface] + (
        ["-f", capture_filter] if capture_filter else [])
    cmd = ["tshark", "-n", *source, "-Y", DISPLAY_FILTER, "--disable-protocol", "http",
           "--disable-protocol", "http2", "-d", "tls.port==1-65535,data",
           "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for pref in PREFS + ((f"tls.keylog_file:{keylog}",) if keylog else ()):
        cmd += ["-o", pref]
    for name in FIELDS:
        cmd += ["-e", name]
    return cmd


def read_exchanges(path: str | os.PathLike, keylog: str | os.PathLike | None = None, *,
                   max_body: int = MAX_BODY, max_hold: int = 10_000) -> Iterator[Exchange]:
    """Stream the HTTP exchanges of a capture, TLS decrypted with `keylog` (an SSLKEYLOGFILE
    file; None: the secrets embedded in the pcapng). Exchanges come in request order (within
    `max_hold` held back). Problems found at once (no tshark, unreadable file or key log)
    raise `MalformedError`; later ones become `errors` entries.
    """
    path = os.fspath(path)
    keylog = os.fspath(keylog) if keylog is not None else None
    if shutil.which("tshark") is None:
        raise MalformedError("tshark is needed to decrypt TLS captures and was not found on PATH "
                             "(Debian: apt-get install tshark)", where="tshark")
    for name, what in ((path, "capture"), (keylog, "key log")):
        if name is not None and not os.access(name, os.R_OK):
            raise MalformedError(f"cannot read the {what} {name}", where="file")
    return _run(tshark_command(path, keylog), _Tracker(max_body, max_hold, "key log" if keylog else "embedded"))


def undecrypted_note(servers: dict[str, int], remedy: str) -> dict:
    """The `errors` entry of a capture whose TLS was not decrypted: each server with the bytes
    left undecoded, and what would decrypt them."""
    shown = ", ".join(f"{server} ({size:,} bytes)" for server, size in list(servers.items())[:10])
    more = f" and {len(servers) - 10} more servers" if len(servers) > 10 else ""
    return {"where": "tls", "error": f"TLS not decrypted: {shown}{more}; {remedy}"}


def _run(cmd: list[str], tracker: _Tracker, started=None) -> Iterator[Exchange]:
    """tshark's frames through `tracker`; `started(proc)` is called once tshark runs (live
    capture uses it to stop tshark on Ctrl-C)."""
    with tempfile.TemporaryDirectory(prefix="mapiwire-tshark-") as home, \
            tempfile.TemporaryFile() as stderr:
        env = dict(os.environ, HOME=home, WIRESHARK_CONFIG_DIR=home, LC_ALL="C")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=stderr, env=env, bufsize=1024 * 1024)
        if started is not None:
            started(proc)
        lines = 0
        try:
            for line in proc.stdout:
                lines += 1
                tracker.frame(line.rstrip(b"\r\n").split(b"\t"))
                yield from tracker.drain()
            status = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        stderr.seek(0)
        problem = _tshark_error(stderr.read(64 * 1024))
    if status != 0 and not lines:
        raise MalformedError(f"tshark could not read the capture: {problem or f'status {status}'}",
                             where="tshark")
    if status != 0:
        tracker.notes.append({"where": "tshark",
                              "error": problem or f"tshark ended with status {status}"})
    tracker.finish()
    yield from tracker.drain()
    notes = tracker.notes + tracker.undecrypted_note()
    if notes:
        yield Exchange(None, None, errors=notes)


def _tshark_error(text: bytes) -> str:
    """The first meaningful line tshark wrote on stderr (not the "running as root" warning)."""
    for line in text.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line and not line.startswith("Running as user"):
            return line.removeprefix("tshark: ")
    return ""


def _endpoint(addr: str, port: str) -> str:
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


class _Stream:
    """One tcp.stream: who the client is, a parser per direction, the unanswered requests."""

    __slots__ = ("id", "client", "server", "c2s", "s2c", "fifo", "req_errors", "resp_errors",
                 "skip", "syn", "tls", "decrypted", "closed", "fins", "undecoded")

    def __init__(self, number: bytes):
        self.id = f"tcp/{number.decode()}"
        self.client = self.server = ""
        self.c2s = self.s2c = None
        self.fifo: deque = deque()
        self.req_errors: list = []
        self.resp_errors: list = []
        self.skip = False  # not HTTP (or HTTP/2): ignored
        self.syn = False
        self.tls = False  # carried encrypted application data
        self.decrypted = False
        self.undecoded = 0  # bytes of TLS records left encrypted
        self.closed = False
        self.fins = 0  # 1: the client sent its FIN, 2: the server, 3: both


class _Tracker:
    """Per-stream parsing and FIFO pairing; exchanges released in request order."""

    def __init__(self, max_body: int, max_hold: int, secrets: str = "key log"):
        self.secrets = secrets  # where the keys came from: "key log" or "embedded"
        self.max_body = max_body
        self.max_hold = max_hold
        self.streams: dict[bytes, _Stream] = {}
        self.busy: dict[_Stream, float] = {}  # stream -> time of its oldest unanswered request
        self.held: list = []  # heap of (request time, serial, Exchange)
        self.serial = 0
        self.notes: list = []
        self.now = 0.0

    def frame(self, cols: list[bytes]) -> None:
        if len(cols) != len(FIELDS) or not cols[2]:
            return
        (time_, frame_number, number, ip_src, ip6_src, sport, ip_dst, ip6_dst, dport, flags, ctypes,
         otypes, data, lengths) = cols
        try:
            time = float(time_)
            stamp = Stamp(time, int(frame_number))
            bits = int(flags, 16) if flags else 0
            payload = bytes.fromhex(data.replace(b",", b"").decode("ascii")) if data else b""
        except ValueError:
            return  # not what tshark prints: ignore the line
        self.now = time
        stream = self.streams.get(number)
        if stream is None:
            stream = self.streams[number] = _Stream(number)
        if stream.skip or stream.closed:
            return
        src = _endpoint((ip6_src or ip_src).rsplit(b",", 1)[-1].decode(), sport.decode())
        dst = _endpoint((ip6_dst or ip_dst).rsplit(b",", 1)[-1].decode(), dport.decode())
        if b"23" in ctypes.split(b",") or otypes:
            stream.tls = True
            if not data:  # application data tshark could not decrypt
                stream.undecoded += sum(int(n) for n in lengths.split(b",") if n.isdigit())
        if stream.c2s is None:
            if not self._direction(stream, src, dst, bits, payload):
                return
        forward = src == stream.client
        if payload:
            stream.decrypted = True
            if not self._is_http(stream, forward, payload):
                return
            parser = stream.c2s if forward else stream.s2c
            self._route(stream, forward, parser.feed(payload, stamp))
        if bits & _RST or (bits & _FIN and self._half_close(stream, forward, time)):
            self._close(stream, time)

    def _direction(self, stream: _Stream, src: str, dst: str, bits: int, payload: bytes) -> bool:
        """Learn the client from the SYN, else from the first payload."""
        if bits & _SYN:
            stream.syn = True
            client, server = (dst, src) if bits & _ACK else (src, dst)
        elif payload:
            client, server = (dst, src) if payload.startswith(b"HTTP/") else (src, dst)
        else:
            return False
        stream.client, stream.server = client, server
        mid = not stream.syn
        stream.c2s = HttpParser("request", max_body=self.max_body, midstream=mid)
        stream.s2c = HttpParser("response", max_body=self.max_body, midstream=mid)
        return True

    def _is_http(self, stream: _Stream, forward: bool, payload: bytes) -> bool:
        """Skip a stream whose client does not start with an HTTP/1.x request line."""
        if stream.c2s.heads or stream.c2s.offset or stream.s2c.offset or not stream.syn:
            return True
        if not forward:
            stream.skip = not payload.startswith(b"HTTP/")  # the server speaks first
        elif payload.startswith(_H2_PREFACE):
            stream.skip = True
            self.notes.append({"where": "tls", "error": f"{stream.id} ({stream.client} -> "
                               f"{stream.server}) is HTTP/2, which is not decoded"})
        elif not _REQUEST_START.match(payload):
            stream.skip = True
        if stream.skip:
            self._forget(stream)
        return not stream.skip

    def _half_close(self, stream: _Stream, forward: bool, time: float) -> bool:
        """A FIN: flush that direction's parser; True once both directions are closed."""
        stream.fins |= 1 if forward else 2
        parser = stream.c2s if forward else stream.s2c
        self._route(stream, forward, parser.close(time))
        return stream.fins == 3

    def _route(self, stream: _Stream, forward: bool, events: list) -> None:
        """Pair messages FIFO; file each error with the message it concerns."""
        for event in events:
            if type(event) is not HttpMessage:
                (stream.req_errors if forward else stream.resp_errors).append(event.as_record())
                continue
            take_frames(event)
            if forward:
                stream.fifo.append((event, stream.req_errors))
                stream.req_errors = []
            else:
                request, errors = stream.fifo.popleft() if stream.fifo else (None, [])
                self._complete(stream, request, event, errors + stream.resp_errors)
                stream.resp_errors = []
        self._update_busy(stream)

    def _complete(self, stream: _Stream, request, response, errors: list) -> None:
        first = request or response
        when = first.time if first is not None and first.time is not None else self.now
        exchange = Exchange(request, response, stream.id, stream.client, stream.server, errors)
        heapq.heappush(self.held, (when, self.serial, exchange))
        self.serial += 1

    def _update_busy(self, stream: _Stream) -> None:
        if stream.fifo:
            self.busy[stream] = stream.fifo[0][0].time or self.now
        elif stream.c2s is not None and stream.c2s.message_time is not None:
            self.busy[stream] = stream.c2s.message_time  # a request is still arriving
        else:
            self.busy.pop(stream, None)

    def _close(self, stream: _Stream, time: float) -> None:
        """End of a stream: flush both parsers, hand out the unanswered requests."""
        if stream.closed:
            return
        stream.closed = True
        if stream.c2s is not None:
            self._route(stream, True, stream.c2s.close(time))
            self._route(stream, False, stream.s2c.close(time))
            while stream.fifo:
                request, errors = stream.fifo.popleft()
                self._complete(stream, request, None, errors)
        errors = stream.req_errors + stream.resp_errors
        if errors:
            self._complete(stream, None, None, errors)
        self._forget(stream)

    def _forget(self, stream: _Stream) -> None:
        stream.c2s = stream.s2c = None
        stream.fifo.clear()
        stream.req_errors, stream.resp_errors = [], []
        self.busy.pop(stream, None)

    def drain(self) -> Iterator[Exchange]:
        """Exchanges no unanswered earlier request can precede (all of them beyond max_hold)."""
        mark = min(self.busy.values()) if self.busy else float("inf")
        held = self.held
        while held and (held[0][0] <= mark or len(held) > self.max_hold):
            yield heapq.heappop(held)[2]

    def finish(self) -> None:
        """End of the capture: close every stream; `drain` then hands out everything."""
        for stream in list(self.streams.values()):
            self._close(stream, self.now)
        self.busy.clear()

    def undecrypted_note(self) -> list[dict]:
        """One entry naming the servers whose TLS application data stayed encrypted."""
        servers: dict[str, int] = {}
        for stream in self.streams.values():
            if stream.tls and not stream.decrypted:
                servers[stream.server or stream.id] = servers.get(stream.server or stream.id, 0) + stream.undecoded
        if not servers:
            return []
        remedy = ("the key log has no keys for these sessions" if self.secrets == "key log" else
                  "the secrets embedded in the capture do not cover these sessions")
        return [undecrypted_note(servers, remedy + " (or their handshakes were not captured)")]
