"""One MAPI/HTTP session context as a client keeps it (MS-OXCMAPIHTTP 3.1.5).

The cookie jar (3.1.5.1: store every cookie the server returns, send them all back; a new
context never mixes with the old one's cookies, 3.2.5.6), X-RequestId (2.2.3.3.2: one GUID per
session context, a counter that increases with every request), X-ClientInfo (2.2.3.3.4: one GUID
per client instance, a new counter for each new session context), and the communication-failure
rules of 3.1.7: a failure before or while the request is sent is retried as-is on a new
connection (3.1.7.1); a failure while reading the response (3.1.7.2) raises `ResponseLost`, after
which the caller establishes a new session context (mailbox.py / addressbook.py do).
"""

from __future__ import annotations

import threading
import time
import uuid
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from ..dissect.defs.core import build, parse
from ..dissect.defs.mapihttp import BODIES
from ..dissect.exchange import Exchange, HttpMessage
from ..dissect.transport import MAPI_CONTENT_TYPE, RESPONSE_CODES, parse_inner
from ..errors import MapiwireError
from .auth import Auth
from .http import Connection, ConnectionFailed

CLIENT_APPLICATION = "Outlook/16.0.17928.20114 mapiwire"  # X-ClientApplication (2.2.3.3.1)
NEW_CONTEXT = ("Connect", "Bind")  # request types that create a session context (3.1.5.1)
AUTH_LEGS = 4  # 401 round trips allowed for one request (NTLM needs 2)


class MapiHttpError(MapiwireError):
    """A request failed: HTTP status other than 200, a non-zero X-ResponseCode (2.2.3.3.3) or a
    non-zero StatusCode in the response body. `code` is the X-ResponseCode when there is one."""

    def __init__(self, what: str, *, code: int | None = None, status: int | None = None,
                 exchange: Exchange | None = None):
        super().__init__(what)
        self.code, self.status, self.exchange = code, status, exchange

    @property
    def context_lost(self) -> bool:
        """10 Context Not Found (or 6 Invalid Context Cookie, as some servers say, REPLAY.md 2.9)."""
        return self.code in (6, 10)


class ResponseLost(MapiHttpError):
    """The whole request went out but its response did not come back (3.1.7.2)."""


class ClientInstance:
    """What all sessions of one client share: the X-ClientInfo GUID and its counter (2.2.3.3.4)
    and the X-ClientApplication string."""

    def __init__(self, application: str = CLIENT_APPLICATION):
        self.guid = str(uuid.uuid4()).upper()
        self.counter = 0
        self.application = application
        self._lock = threading.Lock()

    def next_context(self) -> str:
        """X-ClientInfo for a new session context: the next counter."""
        with self._lock:
            self.counter += 1
            return f"{{{self.guid}}}:{self.counter}"


def response_code(message: HttpMessage | None) -> int | None:
    """X-ResponseCode of a response: the one after DONE when present (it reports a late
    failure, 3.2.5.2), else the HTTP header's."""
    if message is None:
        return None
    value = dict(parse_inner(message.body).headers).get("X-ResponseCode") or message.header("X-ResponseCode")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def cookie_updates(message: HttpMessage) -> dict[str, str | None]:
    """Set-Cookie headers (RFC 6265 4.1) -> {name: value, or None for a cookie the server expired}."""
    out: dict[str, str | None] = {}
    for header in message.header_all("Set-Cookie"):
        first, *attributes = header.split(";")
        name, sep, value = first.strip().partition("=")
        if not sep or not name:
            continue
        expired = False
        for attribute in attributes:
            key, _, arg = attribute.strip().partition("=")
            if key.lower() == "max-age" and arg.strip().lstrip("-").isdigit() and int(arg) <= 0:
                expired = True
            elif key.lower() == "expires":
                try:
                    expired = parsedate_to_datetime(arg.strip()).timestamp() < time.time()
                except (TypeError, ValueError):
                    pass
        out[name] = None if expired else value.strip()
    return out


class MapiSession:
    """One session context with one endpoint ("emsmdb" or "nspi") of the server at `base_url`.

    `request()` sends a body and returns the `Exchange` (appended to `exchanges`, which the
    recorder writes); `call()` builds the body from a definition value, checks X-ResponseCode and
    StatusCode and returns the parsed response body.
    """

    def __init__(self, base_url: str, endpoint: str, *, auth: Auth | None = None, mailbox_id: str | None = None,
                 client: ClientInstance | None = None, source_address: str | None = None,
                 ca_file: str | None = None, insecure: bool = False, timeout: float = 30.0,
                 proxy: str | None = None, keylog: str | None = None, exchanges: list | None = None):
        if endpoint not in ("emsmdb", "nspi"):
            raise MapiwireError(f"endpoint must be emsmdb or nspi, not {endpoint!r}")
        self.base_url = base_url.rstrip("/")
        self.endpoint = endpoint
        self.auth = auth
        self.mailbox_id = mailbox_id or (auth.account if auth else None)
        self.client = client or ClientInstance()
        self.options = dict(ca_file=ca_file, insecure=insecure, timeout=timeout, proxy=proxy, keylog=keylog)
        self.source_address = source_address
        self.cookies: dict[str, str] = {}
        self.exchanges: list[Exchange] = exchanges if exchanges is not None else []
        self.request_guid = str(uuid.uuid4()).upper()
        self.counter = 0
        self.client_info = self.client.next_context()
        self.contexts = 0  # session contexts established (or asked for) so far
        self.expiration_ms: int | None = None  # X-ExpirationInfo of the last response (2.2.3.3.8)
        self.connection: Connection | None = None
        self._lock = threading.Lock()

    @property
    def target(self) -> str:
        """/mapi/emsmdb/?MailboxId=... (MS-OXCMAPIHTTP 2.2.1, MailboxId query parameter)."""
        query = f"?MailboxId={quote(self.mailbox_id, safe='@')}" if self.mailbox_id else ""
        return f"/mapi/{self.endpoint}/{query}"

    def open_connection(self, source_address: str | None = None) -> Connection:
        """A new (not yet connected) connection with this session's options."""
        return Connection(self.base_url, source_address=source_address or self.source_address, **self.options)

    def new_connection(self, source_address: str | None = None, how: str = "fin") -> Connection:
        """A network switch: the current connection is closed (FIN or RST), the next request goes
        on a new one, from `source_address` when given; the cookies stay (2.1 of REPLAY.md)."""
        if source_address:
            self.source_address = source_address
        if self.connection is not None:
            self.connection.close(how)
        self.connection = self.open_connection()
        return self.connection

    def new_context(self, reconnect: bool = False) -> None:
        """Before a Connect / Bind: a new X-RequestId GUID and counter (2.2.3.3.2); a new
        X-ClientInfo counter unless this re-establishes the same session (2.2.3.3.4)."""
        with self._lock:
            self.request_guid = str(uuid.uuid4()).upper()
            self.counter = 0
            if self.contexts and not reconnect:
                self.client_info = self.client.next_context()
            self.contexts += 1

    def _headers(self, request_type: str) -> list[tuple[str, str]]:
        with self._lock:
            self.counter += 1
            headers = [("Content-Type", MAPI_CONTENT_TYPE), ("Accept", MAPI_CONTENT_TYPE),
                       ("User-Agent", "mapiwire"), ("X-RequestType", request_type),
                       ("X-RequestId", f"{{{self.request_guid}}}:{self.counter}"),
                       ("X-ClientInfo", self.client_info), ("X-ClientApplication", self.client.application)]
            if self.cookies:
                headers.append(("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        return headers

    def _connection(self) -> Connection:
        if self.connection is None or not self.connection.usable:
            self.connection = self.open_connection()
        return self.connection

    def request(self, request_type: str, body: bytes, *, connection: Connection | None = None,
                cut_after: int | None = None, cut_at_meta: str | None = None, on_meta=None,
                timeout: float | None = None, headers: list[tuple[str, str]] | None = None) -> Exchange:
        """Send one request (with the 401 legs its authentication needs) and return its Exchange.

        A connection that fails before the request is all out is replaced and the request sent
        again as-is (3.1.7.1). A response lost after the request was sent raises ResponseLost.
        `cut_after` / `cut_at_meta` cut the connection on purpose (see http.Connection); the
        Exchange then has a `cut` attribute and no (or a partial) response. `headers` replaces the
        MAPI/HTTP headers this session would add (a request sent again as-is).
        """
        own = connection is None
        conn = connection if connection is not None else self._connection()
        headers = self._headers(request_type) if headers is None else headers
        auth_headers = self.auth.headers(conn) if self.auth else []
        resent = False
        for _ in range(AUTH_LEGS + 1):
            try:
                request = conn.send_request("POST", self.target, headers + auth_headers, body, cut_after=cut_after)
            except ConnectionFailed:
                if resent or not own:
                    raise
                resent = True  # 3.1.7.1: new connection, same cookies, the request as-is
                conn = self.connection = self.open_connection()
                auth_headers = self.auth.headers(conn) if self.auth else []
                continue
            exchange = Exchange(request=request, response=None, connection=f"{conn.local_address}-{conn.peer_address}",
                                client=conn.local_address, server=conn.peer_address)
            if getattr(request, "cut", None):
                exchange.cut = request.cut
                self.exchanges.append(exchange)
                return exchange
            try:
                exchange.response = conn.read_response(on_meta=on_meta, cut_at_meta=cut_at_meta, timeout=timeout)
            except ConnectionFailed as exc:
                exchange.errors.append({"where": "response", "error": str(exc)})
                self.exchanges.append(exchange)
                raise ResponseLost(f"{request_type}: response lost ({exc})", exchange=exchange) from exc
            self.exchanges.append(exchange)
            response = exchange.response
            if getattr(response, "cut", None):
                exchange.cut = response.cut
                return exchange
            if response.status == 401 and self.auth:
                more = self.auth.challenge(conn, response)
                if more:
                    if not conn.usable:
                        conn = self.connection = self.open_connection() if own else conn
                    auth_headers = more
                    continue
            elif self.auth:
                self.auth.accepted(conn)
            self._keep(request_type, response)
            return exchange
        return exchange

    def resend(self, exchange: Exchange, source_address: str | None = None) -> Exchange:
        """MS-OXCMAPIHTTP 3.1.7.1: after a failure while the request was sent, the same request
        (headers and body as they were) on a new connection."""
        request = exchange.request
        self.new_connection(source_address=source_address, how="rst")
        headers = [(k, v) for k, v in request.headers if k.lower() not in ("host", "authorization", "content-length")]
        return self.request(request.header("X-RequestType") or "", request.body, headers=headers)

    def _keep(self, request_type: str, response: HttpMessage) -> None:
        """Cookies and expiration from a response (3.1.5.1, 2.2.3.3.8)."""
        updates = cookie_updates(response)
        with self._lock:
            if request_type in NEW_CONTEXT and response_code(response) == 0 and updates:
                self.cookies = {}  # a new context: never mixed with the old one's cookies (3.2.5.6)
            for name, value in updates.items():
                if value is None:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            expiration = response.header("X-ExpirationInfo")
            if expiration and expiration.strip().isdigit():
                self.expiration_ms = int(expiration)

    def call(self, request_type: str, value: dict | None = None, *, expect_status: tuple = (0,), params=None,
             **request_options):
        """Build the request body from `value` (BODIES[request_type].request), send it, check the
        response and return its parsed body (None for PING). Raises MapiHttpError on an HTTP
        status other than 200, an X-ResponseCode other than 0 or a StatusCode not in
        `expect_status`. `params` go to parse/build (Execute: `logons`, `request_rops`, ...)."""
        body_def = BODIES[request_type]
        params = params or {}
        body = build(body_def.request, value, **params) if body_def.request is not None else b""
        exchange = self.request(request_type, body, **request_options)
        return self.check(request_type, exchange, expect_status=expect_status, params=params)

    def check(self, request_type: str, exchange: Exchange, *, expect_status: tuple = (0,), params=None):
        """The parsed response body of `exchange`, or MapiHttpError."""
        response = exchange.response
        if response is None or getattr(exchange, "cut", None):
            raise ResponseLost(f"{request_type}: response lost (cut {getattr(exchange, 'cut', '')})", exchange=exchange)
        code = response_code(response)
        if response.status != 200:
            raise MapiHttpError(f"{request_type}: HTTP {response.status} {response.reason}",
                                status=response.status, code=code, exchange=exchange)
        if code != 0:
            raise MapiHttpError(f"{request_type}: X-ResponseCode {code} ({RESPONSE_CODES.get(code, 'unknown')})",
                                code=code, status=200, exchange=exchange)
        body_def = BODIES[request_type]
        if body_def.success is None:
            return None
        inner = parse_inner(response.body).body
        status = int.from_bytes(inner[:4], "little") if len(inner) >= 4 else None
        if status is None:
            raise MapiHttpError(f"{request_type}: response body of {len(inner)} bytes", code=code, exchange=exchange)
        definition = body_def.success if status == 0 else body_def.failure
        try:
            value = parse(definition, inner, **(params or {}))
        except Exception as exc:  # the server's bytes do not fit the definition
            raise MapiHttpError(f"{request_type}: response body does not decode: {exc}", code=code,
                                exchange=exchange) from exc
        if status not in expect_status:
            raise MapiHttpError(f"{request_type}: StatusCode {status:#x}", code=code, status=200, exchange=exchange)
        return value

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
