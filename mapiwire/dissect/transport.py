"""MAPI/HTTP over HTTP: X- headers, cookies and the PROCESSING / PENDING / DONE inner stream.

MS-OXCMAPIHTTP 2.2.2 (common request/response format), 2.2.3 (headers), 2.2.7 (response
meta-tags), 3.2.5.2 (additional headers after DONE). Pure functions over `HttpMessage`s; the
inner stream parser is incremental (h11 style) so it can be fed one byte at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# MS-OXCMAPIHTTP 2.2.3.3.3 X-ResponseCode
RESPONSE_CODES = {
    0: "Success", 1: "Unknown Failure", 2: "Invalid Verb", 3: "Invalid Path", 4: "Invalid Header",
    5: "Invalid Request Type", 6: "Invalid Context Cookie", 7: "Missing Header", 8: "Anonymous Not Allowed",
    9: "Too Large", 10: "Context Not Found", 11: "No Privilege", 12: "Invalid Request Body",
    13: "Missing Cookie", 14: "Reserved", 15: "Invalid Sequence", 16: "Endpoint Disabled",
    17: "Invalid Response", 18: "Endpoint Shutting Down",
}

# MS-OXCMAPIHTTP 2.2.3.1.1 X-RequestType: the request types of the mailbox (2.2.4) and address book
# (2.2.5) endpoints; defs/mapihttp.BODIES defines a body for each (tests/dissect/test_transport.py).
REQUEST_TYPES = frozenset((
    "Connect", "Execute", "Disconnect", "NotificationWait", "PING", "Bind", "Unbind", "CompareMIds", "DNToMId",
    "GetMatches", "GetPropList", "GetProps", "GetSpecialTable", "GetTemplateInfo", "ModLinkAtt", "ModProps",
    "QueryRows", "QueryColumns", "ResolveNames", "ResortRestriction", "SeekEntries", "UpdateStat", "GetMailboxUrl",
    "GetAddressBookUrl"))
REQUEST_TYPES_LOWER = frozenset(name.lower() for name in REQUEST_TYPES)

META_TAGS = (b"PROCESSING", b"PENDING", b"DONE")  # MS-OXCMAPIHTTP 2.2.7
_META_RUN = re.compile(rb"(?:(?:PROCESSING|PENDING)\r\n)*DONE\r\n")  # meta-tag lines up to the first DONE
MAX_LINE = 8192
MAX_HEADERS = 100

MAPI_CONTENT_TYPE = "application/mapi-http"


def endpoint_of(path: str) -> str | None:
    """"emsmdb" or "nspi" from the request path (/mapi/emsmdb/?MailboxId=..., /mapi/nspi/...)."""
    lowered = path.lower()
    if "/emsmdb" in lowered:
        return "emsmdb"
    if "/nspi" in lowered:
        return "nspi"
    return None


def is_mapi(request_headers, response_headers=()) -> bool:
    """An exchange is MAPI/HTTP when either side says `Content-Type: application/mapi-http`
    or the request carries an X-RequestType header."""
    for name, value in list(request_headers) + list(response_headers):
        lname = name.lower()
        if lname == "x-requesttype":
            return True
        if lname == "content-type" and value.split(";")[0].strip().lower() == MAPI_CONTENT_TYPE:
            return True
    return False


def is_record(exchange) -> bool:
    """Whether an exchange (exchange.Exchange) becomes a record: a MAPI/HTTP exchange, a MAPI/HTTP
    response whose request was not captured, or a problem the reader found outside any request."""
    request, response = exchange.request, exchange.response
    if request is not None:
        return is_mapi(request.headers, response.headers if response else ())
    if response is not None:
        return is_mapi((), response.headers)
    return bool(exchange.errors)


def parse_cookies(header_values: list[str]) -> dict[str, str]:
    """`Cookie: a=1; b=2` (MS-OXCMAPIHTTP 2.2.3.2.4) -> {"a": "1", "b": "2"}."""
    cookies: dict[str, str] = {}
    for value in header_values:
        for part in value.split(";"):
            name, sep, val = part.strip().partition("=")
            if sep and name:
                cookies[name] = val
    return cookies


def parse_set_cookies(header_values: list[str]) -> dict[str, str]:
    """`Set-Cookie: name=value; path=/; ...` headers (2.2.3.2.3) -> {name: value}."""
    cookies: dict[str, str] = {}
    for value in header_values:
        name, sep, val = value.split(";", 1)[0].strip().partition("=")
        if sep and name:
            cookies[name] = val
    return cookies


CONTEXT_COOKIE_NAMES = ("sid",)  # other servers' names for it: gromox's http service sends `sid` and `sequence`


def context_cookie(cookies: dict[str, str]) -> str | None:
    """The session context cookie among a request's cookies. Names are implementation-specific
    (MS-OXCMAPIHTTP 3.2.5.1): Exchange uses MapiContext (with MapiSequence), gromox `sid` (with
    `sequence`). A name with "context" in it, or a known one; any other cookie (X-BEResource, a
    load balancer's) is not a session, and the caller falls back to the X-RequestId GUID."""
    for name, value in cookies.items():
        if value and ("context" in name.lower() or name.lower() in CONTEXT_COOKIE_NAMES):
            return value
    return None


_ID = re.compile(r"^\s*(\{?[0-9A-Fa-f-]{36}\}?):(\d+)\s*$")


def split_request_id(value: str | None) -> tuple[str, int] | None:
    """`{GUID}:counter` (X-RequestId 2.2.3.3.2, X-ClientInfo 2.2.3.3.4) -> (GUID, counter)."""
    if not value:
        return None
    match = _ID.match(value)
    return (match.group(1).strip("{}").upper(), int(match.group(2))) if match else None


@dataclass
class InnerStream:
    """The de-chunked response body: meta-tags, additional headers, then the response body
    (MS-OXCMAPIHTTP 2.2.7):  PROCESSING CRLF *(PENDING CRLF) DONE CRLF *(header CRLF) CRLF body.

    Feed bytes with `feed()`, then `close()`. A body that does not start with a meta-tag is all
    body (`meta` stays empty), as sent with failures (text/html) or by non-chunking servers.
    """

    meta: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    state: str = "meta"  # meta -> headers -> body
    _buffer: bytes = b""  # an incomplete line, kept for the next feed
    _body: list = field(default_factory=list)  # the body's parts (bytes or views of them)
    _offset: int = 0  # offset of the unconsumed bytes in the inner stream

    @property
    def body(self) -> bytes:
        return b"".join(self._body)

    @property
    def body_size(self) -> int:
        return sum(map(len, self._body))

    def feed(self, data: bytes) -> None:
        if type(data) is not bytes:
            data = bytes(data)  # never a view of the caller's buffer
        if self.state == "body":
            self._body.append(data)
            return
        buf = self._buffer + data if self._buffer else data
        if self.state == "meta" and self._whole_head(buf):
            return
        pos = 0  # the unconsumed bytes start at buf[pos] (stream offset self._offset)
        while True:
            end = buf.find(b"\r\n", pos)
            if end < 0:
                rest = buf[pos:]
                if self.state == "meta" and not any(t.startswith(rest[:len(t)]) for t in META_TAGS):
                    if self.meta:
                        self._error(f"{rest[:40]!r} where a meta-tag was expected")
                    self._to_body(buf, pos)
                elif len(rest) > MAX_LINE:
                    self._error(f"line longer than {MAX_LINE} bytes")
                    self._to_body(buf, pos)
                else:
                    self._buffer = rest
                return
            line = buf[pos:end]
            if self.state == "meta":
                if line in META_TAGS:
                    self.meta.append(line.decode())
                    if line == b"DONE":
                        self.state = "headers"
                elif not self.meta:
                    self._to_body(buf, pos)
                    return
                else:
                    self._error(f"{line[:40]!r} where a meta-tag was expected")
                    self._to_body(buf, pos)
                    return
            elif not line:
                self._offset += end + 2 - pos
                self._to_body(buf, end + 2)
                return
            else:
                name, sep, value = line.decode("latin-1").partition(":")
                if not sep or not name.strip() or len(self.headers) >= MAX_HEADERS:
                    self._error(f"{line[:40]!r} is not a header line after DONE")
                    self._to_body(buf, pos)
                    return
                self.headers.append((name.strip(), value.strip()))
            self._offset += end + 2 - pos
            pos = end + 2

    def _whole_head(self, buf: bytes) -> bool:
        """The usual case at once: meta-tags up to DONE, well-formed additional headers and their
        blank line all in `buf` (else False, nothing consumed: the line loop takes it)."""
        tags = _META_RUN.match(buf)
        if tags is None:
            return False
        start = tags.end()
        end = buf.find(b"\r\n\r\n", start - 2)
        if end < 0:
            return False
        headers = []
        if end >= start:
            for line in buf[start:end].decode("latin-1").split("\r\n"):
                name, sep, value = line.partition(":")
                if not sep or not name.strip() or len(headers) + len(self.headers) >= MAX_HEADERS:
                    return False
                headers.append((name.strip(), value.strip()))
        self.meta += buf[:start - 2].decode("ascii").split("\r\n")
        self.headers += headers
        self._offset += end + 4
        self._to_body(buf, end + 4)
        return True

    def close(self) -> None:
        if self.state == "meta" and self.meta:
            self._error("response ended before DONE")
        elif self.state == "headers":
            self._error("response ended inside the additional headers after DONE")
        if self._buffer:
            self._body.append(self._buffer)
            self._buffer = b""

    def _to_body(self, buf: bytes, pos: int) -> None:
        """The rest, from buf[pos], is body (a view: copied once, when `body` is asked for)."""
        self.state = "body"
        self._buffer = b""
        if pos < len(buf):
            self._body.append(memoryview(buf)[pos:] if pos else buf)

    def _error(self, what: str) -> None:
        self.errors.append({"where": "response.meta", "error": what, "offset": self._offset})


def response_code(header: str | None, inner: InnerStream, errors: list) -> tuple[int | None, int | None]:
    """(X-ResponseCode, the one after DONE) of a response (MS-OXCMAPIHTTP 2.2.3.3.3: the header,
    which a streamed response repeats among the headers after its DONE meta-tag; the later one
    wins). A value that is not a number is an `errors` entry."""
    code = inner_code = None
    after_done = dict(inner.headers).get("X-ResponseCode") if inner.headers else None
    for source, value in (("headers", header), ("additional_headers", after_done)):
        if value is None:
            continue
        try:
            code = int(value.strip())
        except ValueError:
            errors.append({"where": f"response.{source}", "error": f"X-ResponseCode {value!r} is not a number"})
        if source == "additional_headers":
            inner_code = code
    return code, inner_code


def parse_inner(body: bytes) -> InnerStream:
    """The inner stream of a whole response body."""
    inner = InnerStream()
    inner.feed(body)
    inner.close()
    return inner
