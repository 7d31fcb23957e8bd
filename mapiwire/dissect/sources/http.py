"""Sans-IO HTTP/1.1 message parser (RFC 7230 section 3), in the style of h11.

One `HttpParser` reads one direction of one connection. `feed()` takes the bytes as they come
(any split, down to one byte at a time) and returns the events completed so far: `HttpMessage`
objects and `HttpError` events. An `HttpError` concerns the next message this parser returns
(the one in progress), or, after the last message, no message at all. The parser never raises on
wire data: after malformed input it resynchronises on the next line that looks like a start line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import UsageError
from ..exchange import HttpMessage

MAX_HEADER = 64 * 1024  # start line + header fields + blank line
MAX_BODY = 64 * 1024 * 1024
_MAX_LINE = 8 * 1024  # longest start line or chunk-size line worth waiting for

_TCHAR = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]"  # RFC 7230 3.2.6 token characters
_REQUEST_LINE = rb"(" + _TCHAR + rb"+) ([^\x00-\x20\x7f]+) (HTTP/[0-9]\.[0-9])"  # 3.1.1
_STATUS_LINE = rb"(HTTP/[0-9]\.[0-9]) ([0-9]{3})(?: ([^\r\n]*))?"  # 3.1.2
_LINE = {
    "request": re.compile(_REQUEST_LINE),
    "response": re.compile(_STATUS_LINE),
}
# What a start line looks like before it is complete, for resynchronisation: at a line start
# (or where the stream resumes) an upper-case method; anywhere, since a binary body need not end
# with a newline, a well-known method or a status line. Bounded so that a candidate is recognised
# within _MAX_LINE bytes: the result must not depend on how the data is split.
_TARGET = rb" [^\x00-\x20\x7f]{1,8000} HTTP/"
_METHODS = rb"(?:GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|TRACE|CONNECT|RPC_IN_DATA|RPC_OUT_DATA)"
_STATUS_PREFIX = rb"HTTP/[0-9]\.[0-9] [0-9]{3}"
_AT_LINE_START = {"request": re.compile(rb"[A-Z][A-Z_-]{0,63}" + _TARGET), "response": re.compile(_STATUS_PREFIX)}
_ANYWHERE = {"request": re.compile(rb"(?:(?<=\n)[A-Z][A-Z_-]{0,63}|" + _METHODS + rb")" + _TARGET),
             "response": re.compile(_STATUS_PREFIX)}
_TOKEN = re.compile(_TCHAR.decode("ascii") + "+")
# A whole header field line (name, value) ending in one CRLF or LF, its value's last character not
# whitespace: one match per line of a block means the block is all such lines, the values already
# stripped as the line loop strips them (CRs inside stay).
_FIELD_LINE = re.compile("^(" + _TCHAR.decode("ascii") + "++):[ \t]*+((?:.*[^ \t\r\n])?)\r?\n", re.M)
_NAMES_SEEN: set[str] = set()  # header names already found valid tokens (bounded: names come from the wire)
_NAMES_SEEN_MAX = 512
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_CANDIDATE_TAIL = 16  # a start-line candidate ends within this many bytes after its "HTTP/"


def _valid_name(name: str) -> bool:
    """A header field name is a token (RFC 7230 3.2); valid ones are remembered, up to a bound."""
    if _TOKEN.fullmatch(name) is None:
        return False
    if len(_NAMES_SEEN) < _NAMES_SEEN_MAX:
        _NAMES_SEEN.add(name)
    return True


@dataclass(frozen=True)
class HttpError:
    """Malformed or missing input, as an event (h11's RemoteProtocolError, but as data)."""

    where: str
    error: str
    offset: int | None = None  # byte offset in this direction's stream
    lost_message: bool = False  # a gap took the head of a message: it will never be returned

    def as_record(self) -> dict:
        entry = {"where": self.where, "error": self.error}
        if self.offset is not None:
            entry["offset"] = self.offset
        return entry


class HttpParser:
    """Incremental parser of the HTTP/1.1 messages sent in one direction of a connection.

    `role` is "request" (client to server) or "response". With `midstream=True` the stream is
    assumed to start inside a message: bytes are skipped silently up to the first start line.
    """

    def __init__(
        self,
        role: str,
        *,
        max_body: int = MAX_BODY,
        max_header: int = MAX_HEADER,
        midstream: bool = False,
    ):
        if role not in _LINE:
            raise UsageError(f"role must be 'request' or 'response', not {role!r}")
        self.role = role
        self.max_body = max_body
        self.max_header = max_header
        self.messages = 0  # messages returned so far
        self.heads = 0  # valid start lines seen so far
        self.skipped = 0  # bytes thrown away while resynchronising
        self._line = _LINE[role]
        self._at_line_start = _AT_LINE_START[role]
        self._anywhere = _ANYWHERE[role]
        self._buf: bytes | bytearray = b""  # the fed bytes not yet consumed, from _pos (bytes when one feed)
        self._pos = 0  # first unconsumed byte of _buf
        self._base = 0  # stream offset of _buf[0]
        self._time: float | None = None
        self._bol = True  # _buf[_pos] starts a line (for resynchronisation)
        self._arrivals: list = []  # (stream offset, time) of the feeds still buffered
        self._searched = (-1, -1)  # (from, to) stream offsets _skip searched without a candidate
        self._new_message()
        self._state = self._skip if midstream else self._start

    # -- public interface -------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Stream offset just past the last byte fed (gaps included)."""
        return self._base + len(self._buf)

    @property
    def in_message(self) -> bool:
        """True once a byte of the next message has arrived, until it is complete or dropped."""
        return self._started

    @property
    def message_time(self) -> float | None:
        """Time of the first byte of the message in progress, None between messages."""
        return self._msg_time

    def feed(self, data: bytes, time: float | None = None) -> list:
        """Take the next bytes of the stream; return the completed messages and errors."""
        events: list = []
        if not data:
            return events
        self._time = time
        buf, pos = self._buf, self._pos
        if pos == len(buf):  # all consumed (the usual case): the new bytes are the buffer, not copied
            self._base += pos
            self._buf = data if type(data) is bytes else bytes(data)  # never a caller's buffer
            self._pos = 0
            self._arrivals = [(self._base, time)]
        else:
            if pos:
                if type(buf) is bytearray:
                    del buf[:pos]
                else:
                    buf = buf[pos:]
                self._base += pos
                self._pos = 0
            if type(buf) is not bytearray:
                buf = bytearray(buf)
            arrivals = self._arrivals
            while len(arrivals) > 1 and arrivals[1][0] <= self._base:
                del arrivals[0]
            arrivals.append((self._base + len(buf), time))
            buf += data
            self._buf = buf
        state = self._state
        while state(events):
            state = self._state
        return events

    def gap(self, size: int, time: float | None = None) -> list:
        """`size` bytes of the stream were lost (not captured): keep framing if possible."""
        events: list = []
        if size <= 0 or self._state == self._dead:
            return events
        if time is not None:
            self._time = time
        state = self._state
        offset = self.offset
        in_body = state in (self._body, self._chunk_data, self._eof)
        if in_body and (state == self._eof or size <= self._left):
            # The framing survives: the body is kept up to the gap, the rest is counted only.
            events.append(HttpError(
                "tcp", f"{size} bytes missing from the capture: body truncated at byte "
                f"{self._body_len}", offset))
            self._cut = True
            if state != self._eof:
                self._left -= size
                if not self._left and state == self._body:
                    self._finish(events)
                elif not self._left:
                    self._state = self._chunk_end
        else:
            head_lost = state in (self._start, self._headers)
            events.append(HttpError("tcp", f"{size} bytes missing from the capture", offset,
                                    lost_message=head_lost))
            if self._msg is not None and not head_lost:
                self._finish(events)  # what we have of it, framing lost
            self._new_message()
            self._state = self._skip
            self._bol = True
        self._base += len(self._buf) + size
        self._buf = b""
        self._pos = 0
        return events

    def close(self, time: float | None = None) -> list:
        """End of stream (FIN, RST or end of capture): flush a read-until-close body, report a
        message cut short. `time` is accepted like gap()'s, but a message's `end_time` stays
        the arrival of its last byte."""
        events: list = []
        state = self._state
        if state == self._dead:
            return events
        if state == self._eof:
            self._finish(events)
        elif state in (self._body, self._chunk_size, self._chunk_data, self._chunk_end,
                       self._trailer):
            events.append(HttpError(
                "http", "stream ended before the end of the message body", self.offset))
            self._finish(events)
        elif self._started:
            events.append(HttpError(
                "http", "stream ended inside a message head", self._base + self._pos))
        self._new_message()
        self._state = self._dead
        return events

    # -- states: each returns True to run again, False to wait for more data -----------------

    def _new_message(self) -> None:
        self._msg: HttpMessage | None = None
        self._started = False  # a byte of the next message has arrived
        self._msg_time: float | None = None
        self._parts: list = []
        self._body_len = 0
        self._cut = False  # stop storing body bytes (limit reached or gap)
        self._left = 0  # body or chunk bytes still to come
        self._scan = 0  # stream offset where the blank-line search resumes
        self._trailer_len = 0

    def _fail(self, events: list, what: str, at: int, resume: int, bol: bool = False,
              offset: int | None = None) -> bool:
        """Report a problem at `_buf[at]`, drop the message in progress and resynchronise from
        `_buf[resume]`, which is past the message's first byte (so that parsing progresses)."""
        events.append(HttpError("http", what, self._base + at if offset is None else offset))
        self._new_message()
        self._pos = resume
        self._bol = bol
        self._state = self._skip
        return True

    def _broken_body(self, events: list, what: str, index: int) -> bool:
        """Framing lost inside a body: return what we have of the message, then resync."""
        events.append(HttpError("http", what, self._base + index))
        self._finish(events)
        self._pos = index
        self._bol = False
        self._state = self._skip
        return True

    def _start(self, events: list) -> bool:
        buf, pos = self._buf, self._pos
        end = len(buf)
        while pos < end and buf[pos] in b"\r\n":  # RFC 7230 3.5: ignore empty lines here
            pos += 1
        self._pos = pos
        if pos == end:
            return False
        if not self._started:
            self._started = True
            self._msg_time = self._arrival(self._base + pos)
        newline = buf.find(b"\n", pos)
        if (end if newline < 0 else newline) - pos > _MAX_LINE:
            return self._fail(events, "start line too long", pos, pos + 1)
        if newline < 0:
            return False
        stop = newline
        while stop > pos and buf[stop - 1] == 13:
            stop -= 1
        match = self._line.fullmatch(buf, pos, stop)
        if match is None:
            return self._fail(events, f"invalid {'request' if self.role == 'request' else 'status'}"
                              " line", pos, newline + 1, bol=True)
        self.heads += 1
        msg = HttpMessage(time=self._msg_time)
        if self.role == "request":
            msg.method = match[1].decode("ascii")
            msg.target = match[2].decode("latin-1")
            msg.version = match[3].decode("ascii")
        else:
            msg.version = match[1].decode("ascii")
            msg.status = int(match[2])
            msg.reason = (match[3] or b"").decode("latin-1")
        self._msg = msg
        self._head_start = self._base + pos
        self._pos = newline + 1
        self._scan = self._base + newline + 1
        self._state = self._headers
        return self._headers(events)

    def _headers(self, events: list) -> bool:
        buf, pos = self._buf, self._pos
        end = len(buf)
        if pos < end and buf[pos] == 10:  # no header fields at all
            block_end, after = pos, pos + 1
        elif end - pos >= 2 and buf[pos] == 13 and buf[pos + 1] == 10:
            block_end, after = pos, pos + 2
        elif end - pos < 2 and (pos == end or buf[pos] == 13):
            return False
        else:
            scan = max(pos, self._scan - self._base)
            crlf = buf.find(b"\n\r\n", scan)  # the blank line: the first LF CR LF or LF LF
            lf = buf.find(b"\n\n", scan, end if crlf < 0 else crlf + 2)
            if crlf < 0 and lf < 0:
                if self._base + end - self._head_start > self.max_header:
                    return self._fail(events, f"header block longer than {self.max_header} bytes",
                                      pos, pos, bol=True, offset=self._head_start)
                self._scan = self._base + max(pos, end - 2)
                return False
            block_end, after = (lf + 1, lf + 2) if lf >= 0 else (crlf + 1, crlf + 3)
        if self._base + after - self._head_start > self.max_header:
            return self._fail(events, f"header block longer than {self.max_header} bytes",
                              pos, pos, bol=True, offset=self._head_start)
        headers = self._msg.headers
        line_start = pos
        # One latin-1 decode of the block (byte for byte, so lengths and offsets stay those of the bytes).
        text = buf[pos:block_end].decode("latin-1")
        fields = _FIELD_LINE.findall(text)
        if len(fields) == text.count("\n"):  # the usual block: a valid `name: value` per line, no folding
            headers += fields
            self._pos = after
            return self._framing(events, after)
        for raw in text.split("\n")[:-1]:
            line = raw.rstrip("\r")
            index = line_start
            line_start += len(raw) + 1
            if line[:1] in (" ", "\t") and headers:  # obs-fold (RFC 7230 3.2.4): join
                name, value = headers[-1]
                folded = line.encode("latin-1").strip().decode("latin-1")  # ASCII whitespace only, as bytes strip
                headers[-1] = (name, f"{value} {folded}")
                continue
            name, colon, value = line.partition(":")
            if not colon or (name not in _NAMES_SEEN and not _valid_name(name)):
                return self._fail(events, "invalid header field", index, line_start, bol=True)
            headers.append((name, value.strip(" \t")))
        self._pos = after
        return self._framing(events, after)

    def _framing(self, events: list, index: int) -> bool:
        """Pick the body length rule of RFC 7230 3.3.3."""
        msg = self._msg
        if self.role == "response":
            if 100 <= msg.status < 200:
                if msg.status == 101:  # Switching Protocols: no more HTTP on this stream
                    self._finish(events)
                    self._state = self._dead
                    return False
                self._new_message()  # interim response (100 Continue ...): skip it
                self._state = self._start
                return True
            if msg.status in (204, 304):
                return self._finish(events)
        # Transfer-Encoding and Content-Length values (the lengths first: most names differ in them)
        codings = [value for name, value in msg.headers if len(name) == 17 and name.lower() == "transfer-encoding"]
        declared = [value for name, value in msg.headers if len(name) == 14 and name.lower() == "content-length"]
        if codings:
            if ",".join(codings).split(",")[-1].strip().lower() == "chunked":
                self._state = self._chunk_size
                return self._chunk_size(events)
            if self.role == "request":
                return self._fail(events, "request body with a transfer coding other than chunked",
                                  index, index, bol=True)
            self._state = self._eof
            return True
        lengths = {v.strip() for h in declared for v in h.split(",")}
        if lengths:
            value = lengths.pop()
            if lengths or not (value.isascii() and value.isdigit()):
                return self._fail(events, "invalid Content-Length", index, index, bol=True)
            self._left = int(value)
            if not self._left:
                return self._finish(events)
            self._state = self._body
            return self._body(events)
        if self.role == "request":
            return self._finish(events)
        self._state = self._eof
        return True

    def _store(self, events: list, index: int, size: int) -> None:
        if self._cut:
            return
        room = self.max_body - self._body_len
        if size > room:
            events.append(HttpError(
                "http", f"body longer than {self.max_body} bytes: the rest is dropped",
                self._base + index + room))
            size = room
            self._cut = True
        if size:
            self._parts.append(self._buf[index:index + size])
            self._body_len += size

    def _body(self, events: list) -> bool:
        pos = self._pos
        size = min(len(self._buf) - pos, self._left)
        if not size:
            return False
        self._store(events, pos, size)
        self._pos = pos + size
        self._left -= size
        if self._left:
            return False
        return self._finish(events)

    def _chunk_size(self, events: list) -> bool:  # RFC 7230 4.1
        """A chunk-size line; the chunks that are whole in the buffer (data and CRLF) are taken
        here one after the other, the rest by the _chunk_data and _chunk_end states."""
        buf = self._buf
        end = len(buf)
        while True:
            pos = self._pos
            newline = buf.find(b"\n", pos)
            if (end if newline < 0 else newline) - pos > _MAX_LINE:
                return self._broken_body(events, "chunk-size line too long", pos)
            if newline < 0:
                return False
            size = bytes(buf[pos:newline]).split(b";", 1)[0].strip(b" \t\r")
            if _HEX.fullmatch(size) is None:
                return self._broken_body(events, "invalid chunk size", pos)
            start = newline + 1
            self._pos = start
            left = self._left = int(size, 16)
            if not left:
                self._state = self._trailer
                return self._trailer(events)
            stop = start + left  # where the chunk's CRLF belongs
            if stop < end and (buf[stop] == 10 or (buf[stop] == 13 and stop + 1 < end and buf[stop + 1] == 10)):
                self._store(events, start, left)
                self._left = 0
                self._pos = stop + 1 if buf[stop] == 10 else stop + 2
                continue
            self._state = self._chunk_data
            return True

    def _chunk_data(self, events: list) -> bool:
        pos = self._pos
        size = min(len(self._buf) - pos, self._left)
        if size:
            self._store(events, pos, size)
            self._pos = pos + size
            self._left -= size
        if self._left:
            return False
        self._state = self._chunk_end
        return True

    def _chunk_end(self, events: list) -> bool:
        buf, pos = self._buf, self._pos
        avail = len(buf) - pos
        if not avail:
            return False
        if buf[pos] == 10:
            self._pos = pos + 1
        elif buf[pos] == 13:
            if avail < 2:
                return False
            if buf[pos + 1] != 10:
                return self._broken_body(events, "chunk data not followed by CRLF", pos)
            self._pos = pos + 2
        else:
            return self._broken_body(events, "chunk data not followed by CRLF", pos)
        self._state = self._chunk_size
        return True

    def _trailer(self, events: list) -> bool:
        """Trailer fields after the last chunk: read and ignored (RFC 7230 4.1.2)."""
        buf, pos = self._buf, self._pos
        while True:
            newline = buf.find(b"\n", pos)
            if newline < 0:
                self._pos = pos
                if self._trailer_len + len(buf) - pos > self.max_header:
                    return self._broken_body(events, "trailer section too long", pos)
                return False
            empty = newline == pos or (newline == pos + 1 and buf[pos] == 13)
            self._trailer_len += newline - pos
            if self._trailer_len > self.max_header:
                return self._broken_body(events, "trailer section too long", pos)
            pos = newline + 1
            if empty:
                self._pos = pos
                return self._finish(events)

    def _eof(self, events: list) -> bool:
        """Body delimited by the end of the connection (RFC 7230 3.3.3 rule 7)."""
        pos = self._pos
        size = len(self._buf) - pos
        if size:
            self._store(events, pos, size)
            self._pos = pos + size
        return False

    def _finish(self, events: list) -> bool:
        msg = self._msg
        body = self._parts
        msg.body = bytes(body[0]) if len(body) == 1 else b"".join(body)
        msg.end_time = self._time
        events.append(msg)
        self.messages += 1
        self._new_message()
        self._state = self._start
        return self._pos < len(self._buf)  # else _start would find nothing to read

    def _arrival(self, offset: int) -> float | None:
        """Time of the feed that brought the byte at stream `offset`."""
        for start, time in reversed(self._arrivals):
            if start <= offset:
                return time
        return self._time

    def _skip(self, events: list) -> bool:
        """Resynchronise: drop bytes up to something that looks like a start line.

        Every candidate contains "HTTP/" within its last 12 bytes, so when the search already
        failed on the bytes before (`_searched`) the new bytes are checked for "HTTP/" first:
        many small feeds cost what one large one does, not the kept window each time.
        """
        buf, pos = self._buf, self._pos
        end = len(buf)
        found = None
        start, searched = self._searched
        fresh = max(pos, searched - self._base - _CANDIDATE_TAIL) if start == self._base + pos else pos
        if buf.find(b"HTTP/", fresh) >= 0:
            if self._bol:
                found = self._at_line_start.match(buf, pos)
            if found is None:
                found = self._anywhere.search(buf, pos + 1 if self._bol else pos)
        if found is not None:
            self.skipped += found.start() - pos
            self._pos = found.start()
            self._state = self._start
            return True
        # Keep what may still become a candidate: the last line, at most _MAX_LINE bytes.
        line = buf.rfind(b"\n", pos) + 1
        keep = max(line, end - _MAX_LINE, pos)
        if keep > pos:
            self._bol = keep == line
        self.skipped += keep - pos
        self._pos = keep
        self._searched = (self._base + keep, self._base + end)
        return False

    def _dead(self, events: list) -> bool:
        self._pos = len(self._buf)
        return False


class Stamp(float):
    """A packet's time carrying its frame number (1-based, as Wireshark numbers them): the HTTP
    parser keeps the times of a message's first and last bytes, so they tell its frames."""

    __slots__ = ("frame",)

    def __new__(cls, time: float, frame: int):
        obj = float.__new__(cls, time)
        obj.frame = frame
        return obj


def take_frames(message: HttpMessage) -> None:
    """Move the frame numbers of a message's stamps to `message.frames`; times become floats."""
    first, last = getattr(message.time, "frame", None), getattr(message.end_time, "frame", None)
    if first is not None:
        last = first if last is None else last
        message.frames = (min(first, last), max(first, last))  # reordered segments: the span of frames
    message.time = None if message.time is None else float(message.time)
    message.end_time = None if message.end_time is None else float(message.end_time)
