"""The HTTP front of `mapiwire serve` (aiohttp): routes, authentication, request checks, the
session rules of `sessions.py`, and chunked PROCESSING / PENDING / DONE responses.

MS-OXCMAPIHTTP 2.2.2.2 / 2.2.7 / 3.2.5.2: an accepted request gets HTTP 200 with
`Transfer-Encoding: chunked`, `PROCESSING` flushed at once, `PENDING` every X-PendingPeriod while
the work goes on, then `DONE`, the additional headers (X-ResponseCode, X-ElapsedTime,
X-StartTime), a blank line and the body. A refused request gets HTTP 200, its X-ResponseCode
(2.2.3.3.3), `Content-Type: text/html` (2.2.3.2.2) and a short diagnostic page. Only
authentication answers 401 (2.2.2.2).
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import functools
import html
import io
import logging
import time
from dataclasses import dataclass, field
from typing import Callable

from aiohttp import web
from multidict import CIMultiDict

from ..dissect import fastpath
from ..dissect.defs.core import build
from ..dissect.defs.mapihttp import BODIES
from ..dissect.transport import MAPI_CONTENT_TYPE, RESPONSE_CODES, parse_cookies
from . import emsmdb
from .auth import Authenticator, Challenge
from .sessions import CREATES, SEQUENCE_COOKIE, Context, Refusal, SessionTable

log = logging.getLogger("mapiwire.server")

SERVER_APPLICATION = "Exchange/15.02.1544.009"  # X-ServerApplication format, 2.2.3.3.7
UNKNOWN_FAILURE, INVALID_VERB, INVALID_PATH, INVALID_HEADER, INVALID_REQUEST_TYPE = 1, 2, 3, 4, 5
MISSING_HEADER, TOO_LARGE, INVALID_REQUEST_BODY = 7, 9, 12
NSPI_OUT_OF_RESOURCES = 0x8004010E  # MS-OXNSPI 2.2.1.2

ENDPOINT_TYPES = {
    "emsmdb": {name for name, body in BODIES.items() if body.endpoint in ("emsmdb", "both")},
    "nspi": {name for name, body in BODIES.items() if body.endpoint in ("nspi", "both")},
}


@dataclass
class Options:
    """What `mapiwire serve` takes (times in seconds, sizes in bytes)."""

    host: str = "127.0.0.1"
    port: int = 8080
    auth: str = "none"
    session_timeout: float = 900.0
    pending_period: float = 30.0
    notification_wait_limit: float = 300.0
    slow_ms: float = 0.0
    mapi_http: bool = True
    internal_url: str | None = None
    external_url: str | None = None
    max_sessions: int = 20_000
    max_body: int = 1 << 20
    passwords: dict[str, str] | None = None  # user -> password (--users); None: the fixture's
    log_path: str | None = None
    server_application: str = SERVER_APPLICATION


@dataclass
class Result:
    """What a request type's work produced: the body after DONE and its inner X-ResponseCode."""

    body: bytes = b""
    code: int = 0
    rops: list[str] = field(default_factory=list)


class RequestLog:
    """One line per request (time, client, user, request type, X-RequestId, X-ResponseCode,
    ROP names, elapsed), to a file or stderr, and the last lines in memory for tests."""

    def __init__(self, path: str | None, echo: bool):
        self.lines: collections.deque[str] = collections.deque(maxlen=10_000)
        self._file = open(path, "a", encoding="utf-8") if path else None  # flushed by flush(), each second
        self._echo = echo and not path

    def write(self, *, start: float, client: str, user: str | None, request_type: str, request_id: str,
              code: int | str, rops: list[str], elapsed_ms: float) -> None:
        stamp = f"{_log_second(int(start))}.{int(start % 1 * 1000):03d}Z"
        line = (f"{stamp} {client} {user or '-'} {request_type or '-'} {request_id or '-'} {code} "
                f"{','.join(rops) or '-'} {elapsed_ms:.1f}ms")
        self.lines.append(line)
        if self._file:
            self._file.write(line + "\n")
        elif self._echo:
            import sys
            print(line, file=sys.stderr, flush=True)

    def flush(self) -> None:
        if self._file:
            self._file.flush()

    def close(self) -> None:
        if self._file:
            self._file.close()


class MapiServer:
    """The server's state: store, session table, authentication, log; `application()` gives
    the aiohttp Application. `mailbox_factory(store, user)` and `addressbook_factory(store, user,
    mailbox_url=, addressbook_url=)` make the per-context objects (the STORE's MailboxSession and
    the ADDRESS BOOK's AddressBookSession by default); `autodiscover` answers Autodiscover."""

    def __init__(self, store, options: Options, *, mailbox_factory: Callable | None = None,
                 addressbook_factory: Callable | None = None, autodiscover: Callable | None = None,
                 echo_log: bool = False, tls: bool = False):
        self.store = store
        self.options = options
        self.tls = tls
        self.mailbox_factory = mailbox_factory
        self.addressbook_factory = addressbook_factory
        self.autodiscover = autodiscover
        self.sessions = SessionTable(options.session_timeout, options.max_sessions, on_destroy=self._destroyed)
        passwords = options.passwords if options.passwords is not None else {
            u.alias: u.password for u in store.users if getattr(u, "password", None)}
        org = getattr(store, "organization", {}) or {}
        domains = tuple(d for d in (str(org.get("name", "")).upper(), str(org.get("domain", ""))) if d)
        self.auth = Authenticator(options.auth, passwords, self._resolve, domains)
        self.log = RequestLog(options.log_path, echo_log)
        self.url = ""  # set once listening: scheme://host:port

    # users ----------------------------------------------------------------------------------

    def _resolve(self, name: str) -> str | None:
        user = self.store.user(name)
        if user is None and "\\" in name:
            user = self.store.user(name.split("\\", 1)[1])
        return user.alias if user is not None else None

    def _destroyed(self, context: Context) -> None:
        payload, context.payload = context.payload, None
        event = context.extra.get("event")
        if event is not None:
            event.set()
        close = getattr(payload, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                log.exception("closing a session context")

    # the application ---------------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self.options.max_body + 1)
        app.router.add_route("*", r"/{prefix:[Aa]utodiscover}/{name:[Aa]utodiscover\.xml}", self.handle_autodiscover)
        if self.options.mapi_http:
            app.router.add_route("*", "/mapi/{tail:.*}", self.handle_mapi)
        app.on_startup.append(self._start_sweeper)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _start_sweeper(self, app) -> None:
        async def sweep():
            period = max(0.05, min(self.options.session_timeout / 2, 1.0))
            while True:
                await asyncio.sleep(period)
                self.sessions.expire()
                self.log.flush()

        self._sweeper = asyncio.ensure_future(sweep())

    async def _cleanup(self, app) -> None:
        self._sweeper.cancel()
        for context in list(self.sessions._contexts.values()):
            self.sessions.destroy(context)
        self.auth.close()
        self.log.close()

    # autodiscover --------------------------------------------------------------------------------

    async def handle_autodiscover(self, request: web.Request) -> web.StreamResponse:
        """MS-OXDSCLI POX Autodiscover, answered by the ADDRESS BOOK's autodiscover()."""
        start, t0 = time.time(), time.monotonic()
        try:
            user = self.auth.authenticate(request.headers.get("Authorization"), request.transport)
        except Challenge as challenge:
            return self._challenge(request, challenge, start, t0, "Autodiscover")
        if request.content_length is not None and request.content_length > self.options.max_body:
            response = web.Response(status=413, text="request too large")
            response.force_close()
            self._log(request, user, "Autodiscover", 413, [], start, t0)
            return response
        body = await self._read_body(request)
        if body is None:
            response = web.Response(status=413, text="request too large")
            response.force_close()
            return response
        status, content_type, payload = self.autodiscover(
            body, store=self.store, internal_url=self.options.internal_url or self.url,
            external_url=self.options.external_url, mapi_http=self.options.mapi_http,
            capability=request.headers.get("X-MapiHttpCapability"))
        self._log(request, user, "Autodiscover", status, [], start, t0)
        return web.Response(status=status, body=payload, headers={"Content-Type": content_type})

    # MAPI/HTTP -------------------------------------------------------------------------------------

    async def handle_mapi(self, request: web.Request) -> web.StreamResponse:
        start, t0 = time.time(), time.monotonic()
        request_type = request.headers.get("X-RequestType", "")
        try:
            user = self.auth.authenticate(request.headers.get("Authorization"), request.transport)
        except Challenge as challenge:
            return self._challenge(request, challenge, start, t0, request_type)
        try:
            return await self._mapi(request, request_type, user, start, t0)
        except Exception:  # never a traceback on the wire: log it, answer Unknown Failure
            log.exception("request %s failed", request_type)
            return self._refuse(request, user, UNKNOWN_FAILURE, "the server failed to process the request",
                                start, t0, close=True)

    async def _mapi(self, request: web.Request, request_type: str, user, start, t0) -> web.StreamResponse:
        endpoint = _endpoint(request.path)
        if endpoint is None:
            return self._refuse(request, user, INVALID_PATH, f"no MAPI/HTTP endpoint at {request.path}", start, t0)
        if request.method != "POST":
            return self._refuse(request, user, INVALID_VERB, f"{request.method} is not POST", start, t0)
        if not request_type:
            return self._refuse(request, user, MISSING_HEADER, "X-RequestType is missing", start, t0)
        body_def = BODIES.get(request_type)
        if body_def is None or request_type not in ENDPOINT_TYPES[endpoint]:
            return self._refuse(request, user, INVALID_REQUEST_TYPE,
                                f"{request_type!r} is not a request type of /mapi/{endpoint}/", start, t0)
        if not request.headers.get("X-RequestId"):
            return self._refuse(request, user, MISSING_HEADER, "X-RequestId is missing", start, t0)
        content_type = request.headers.get("Content-Type")
        if content_type is None and request_type != "PING":
            return self._refuse(request, user, MISSING_HEADER, "Content-Type is missing", start, t0)
        if content_type is not None and content_type.split(";")[0].strip().lower() != MAPI_CONTENT_TYPE:
            return self._refuse(request, user, INVALID_HEADER, f"Content-Type is not {MAPI_CONTENT_TYPE}", start, t0)
        if request.content_length is not None and request.content_length > self.options.max_body:
            return self._refuse(request, user, TOO_LARGE, f"body over {self.options.max_body} bytes", start, t0,
                                close=True)
        body = await self._read_body(request)
        if body is None:
            return self._refuse(request, user, TOO_LARGE, f"body over {self.options.max_body} bytes", start, t0,
                                close=True)
        cookies = parse_cookies(request.headers.getall("Cookie", []))

        if request_type in CREATES:
            parsed = _parse_strict(body_def.request, body)
            if parsed is None:
                return self._refuse(request, user, INVALID_REQUEST_BODY, "the request body does not parse", start, t0)
            context = self.sessions.create(endpoint, user, cookies)
            if context is None:
                return await self._stream(request, user, None, request_type, self._at_cap(request_type), start, t0)
            work = self._connect(context, parsed, user) if endpoint == "emsmdb" else self._bind(request, context,
                                                                                                 parsed, user)
            return await self._stream(request, user, context, request_type, work, start, t0)

        admitted = self.sessions.admit(endpoint, request_type, cookies, user)
        if isinstance(admitted, Refusal):
            return self._refuse(request, user, admitted.code, admitted.reason, start, t0)
        context = admitted
        try:
            parsed = self._parse_request(request_type, body_def, body, context)
        except Exception:
            return self._refuse(request, user, INVALID_REQUEST_BODY, "the request body does not parse", start, t0,
                                context=context)
        self.sessions.begin(context, request_type)
        return await self._stream(request, user, context, request_type, self._work(context, request_type, parsed),
                                  start, t0)

    def _parse_request(self, request_type: str, body_def, body: bytes, context: Context):
        if request_type == "Execute":
            return emsmdb.parse_execute(body, context.extra.setdefault("logons", {}))
        if body_def.request is None:  # PING: no body (2.2.6)
            return None
        parsed = _parse_strict(body_def.request, body)
        if parsed is None:
            raise ValueError("body does not parse")
        return parsed

    async def _read_body(self, request: web.Request) -> bytes | None:
        """The request body, or None once it passes the size limit (stops reading there)."""
        data = bytearray()
        while True:
            chunk = await request.content.read(65536)
            if not chunk:
                return bytes(data)
            data += chunk
            if len(data) > self.options.max_body:
                return None
            if request.content.at_eof():  # all of it came at once: no second read to learn that
                return bytes(data)

    # the work of each request type ---------------------------------------------------------------

    async def _slow(self) -> None:
        if self.options.slow_ms:
            await asyncio.sleep(self.options.slow_ms / 1000)

    async def _connect(self, context: Context, request, principal) -> Result:
        """MS-OXCMAPIHTTP 2.2.4.1 / 3.2.5.1: the UserDn's mailbox opens for its owner only."""
        await self._slow()
        owner = self.store.user(str(request["UserDn"]))
        if owner is None or (principal is not None and owner.alias != principal):
            self.sessions.destroy(context)
            code = emsmdb.EC_UNKNOWN_USER if owner is None else emsmdb.EC_ACCESS_DENIED
            return Result(emsmdb.connect_response(error_code=code))
        mailbox = self.mailbox_factory(self.store, owner)
        event = asyncio.Event()
        loop = asyncio.get_running_loop()
        mailbox.on_event = lambda: loop.call_soon_threadsafe(event.set)
        context.payload, context.extra["event"], context.extra["user"] = mailbox, event, owner.alias
        prefix = (getattr(self.store, "organization", {}) or {}).get("dn_prefix", "")
        return Result(emsmdb.connect_response(dn_prefix=prefix, display_name=owner.display_name))

    async def _bind(self, request: web.Request, context: Context, parsed, principal) -> Result:
        """MS-OXCMAPIHTTP 2.2.5.1: the address book of the authenticated user (anonymous server:
        the MailboxId of the URL, else the first user)."""
        await self._slow()
        owner = self.store.user(principal) if principal else None
        if owner is None:
            owner = self.store.user(request.query.get("MailboxId", "")) or self.store.users[0]
        base = (self.options.external_url or self.options.internal_url or self.url).rstrip("/")
        book = self.addressbook_factory(self.store, owner,
                                        mailbox_url=f"{base}/mapi/emsmdb/?MailboxId={owner.smtp}",
                                        addressbook_url=f"{base}/mapi/nspi/?MailboxId={owner.smtp}")
        context.payload, context.extra["user"] = book, owner.alias
        value = book.handle("Bind", parsed)
        if int(value.get("StatusCode", 0)):
            self.sessions.destroy(context)
        return Result(_build_body("Bind", value))

    async def _work(self, context: Context, request_type: str, parsed) -> Result:
        if request_type == "NotificationWait":
            return Result(emsmdb.notification_wait_response(await self._wait_for_event(context)))
        await self._slow()
        if request_type == "PING":  # 2.2.6, 3.2.5.3: no body; accepting it refreshed the idle timer
            return Result()
        if request_type == "Execute":
            body, names = emsmdb.execute(context.payload, parsed, context.extra.setdefault("logons", {}))
            return Result(body, rops=names)
        if request_type == "Disconnect":  # 3.2.5.4: the context ends when this request does
            return Result(emsmdb.disconnect_response())
        return Result(_build_body(request_type, context.payload.handle(request_type, parsed)))

    async def _wait_for_event(self, context: Context) -> bool:
        """MS-OXCMAPIHTTP 3.2.5.5: complete at once when an event is pending, when one comes,
        or with EventPending 0 after the notification wait limit."""
        mailbox, event = context.payload, context.extra.get("event")
        if mailbox is None or event is None:
            return False
        event.clear()
        if mailbox.events_pending():
            return True
        try:
            await asyncio.wait_for(event.wait(), self.options.notification_wait_limit)
        except asyncio.TimeoutError:
            pass
        return context.payload is not None and mailbox.events_pending()

    def _at_cap(self, request_type: str):
        async def refuse() -> Result:
            if request_type == "Connect":
                return Result(emsmdb.connect_response(error_code=emsmdb.EC_TOO_MANY_SESSIONS))
            return Result(_build_body("Bind", {"StatusCode": NSPI_OUT_OF_RESOURCES,
                                               "AuxiliaryBuffer": emsmdb.EMPTY_AUX}))
        return refuse()

    # responses -----------------------------------------------------------------------------------

    def _headers(self, request: web.Request, code: int, context: Context | None) -> list[tuple[str, str]]:
        """The headers of 2.2.3: echoed X-RequestType / X-RequestId / X-ClientInfo, X-ResponseCode,
        X-ServerApplication, X-ExpirationInfo, and the context's cookies (3.2.5.2)."""
        headers = []
        for name in ("X-RequestType", "X-RequestId", "X-ClientInfo"):
            value = request.headers.get(name)
            if value is not None:
                headers.append((name, value))
        headers += [("X-ResponseCode", str(code)), ("X-ServerApplication", self.options.server_application),
                    ("X-ExpirationInfo", str(self.sessions.remaining_ms(context)))]
        if context is not None:
            endpoint = context.endpoint
            cookies = context.cookies()
            if request.headers.get("X-RequestType") == "NotificationWait":
                # the long poll runs beside other requests (3.1.5.5): the sequence cookie it would
                # carry is stale by the time it completes, and a client that stored it would get 15
                cookies.pop(SEQUENCE_COOKIE)
            for name, value in cookies.items():
                headers.append(("Set-Cookie", f"{name}={value}; Path=/mapi/{endpoint}/; HttpOnly"
                                + ("; Secure" if self.tls else "")))
        return headers

    async def _stream(self, request: web.Request, user, context: Context | None, request_type: str, work,
                      start: float, t0: float) -> web.StreamResponse:
        """PROCESSING at once, PENDING every pending period while `work` runs, then DONE, the
        additional headers and the body (2.2.7, 3.2.5.2). The context is released when the work
        ends, whether or not the client is still there."""
        response = _ChunkedResponse(status=200, headers=CIMultiDict(
            [("Content-Type", MAPI_CONTENT_TYPE), *self._headers(request, 0, context),
             ("X-PendingPeriod", str(int(self.options.pending_period * 1000)))]))
        response.enable_chunked_encoding()
        connected = True
        try:
            await response.prepare(request)
            await response.write(b"PROCESSING\r\n")
        except (ConnectionError, RuntimeError):
            connected = False
        try:
            if self.options.slow_ms or request_type == "NotificationWait":
                result, connected = await self._with_keepalives(work, response, request_type, connected)
            else:  # work that never waits: nothing could be sent while it runs, so no task for it
                result = await work
        except asyncio.CancelledError:
            result = Result(code=UNKNOWN_FAILURE)
        except Exception:
            log.exception("%s failed", request_type)
            result = Result(code=UNKNOWN_FAILURE)
        if context is not None:
            self.sessions.end(context, request_type)
            if result.code and request_type in CREATES:  # no half-made context stays behind
                self.sessions.destroy(context)
        elapsed = (time.monotonic() - t0) * 1000
        user = context.extra.get("user", user) if context is not None else user
        self._log(request, user, request_type, result.code, result.rops, start, t0)
        if connected:
            tail = (f"DONE\r\nX-ResponseCode: {result.code}\r\nX-ElapsedTime: {int(elapsed)}\r\n"
                    f"X-StartTime: {_http_date(int(start))}\r\n\r\n").encode()
            try:
                await response.write_eof(tail + result.body)  # the last chunk and the terminator in one send
            except (ConnectionError, RuntimeError):
                pass
        return response

    async def _with_keepalives(self, work, response: web.StreamResponse, request_type: str,
                               connected: bool) -> tuple[Result, bool]:
        """Run `work`, writing PENDING every pending period until it ends (2.2.7); a long poll
        whose connection is gone stops waiting."""
        task = asyncio.ensure_future(work)
        while True:
            done, _ = await asyncio.wait({task}, timeout=self.options.pending_period if connected else None)
            if done:
                return task.result(), connected
            try:
                await response.write(b"PENDING\r\n")
            except (ConnectionError, RuntimeError):
                connected = False
                if request_type == "NotificationWait":
                    task.cancel()

    def _refuse(self, request: web.Request, user, code: int, reason: str, start: float, t0: float, *,
                context: Context | None = None, close: bool = False) -> web.Response:
        """A refusal (2.2.2.2, 2.2.3.3.3): HTTP 200, X-ResponseCode, text/html diagnostic. It sets no
        cookies: a refused request does not move the context's sequence on."""
        name = RESPONSE_CODES.get(code, "")
        page = (f"<html><head><title>{code} {name}</title></head><body><h1>{code} {name}</h1>"
                f"<p>{html.escape(reason)}</p></body></html>")
        response = web.Response(status=200, text=page, content_type="text/html")
        for header, value in self._headers(request, code, None):
            response.headers.add(header, value)
        if close:
            response.force_close()
        self._log(request, user, request.headers.get("X-RequestType", ""), code, [], start, t0)
        return response

    def _challenge(self, request, challenge: Challenge, start, t0, request_type) -> web.Response:
        response = web.Response(status=401, text=f"401 Unauthorized: {challenge.reason}")
        for value in challenge.challenges:
            response.headers.add("WWW-Authenticate", value)
        self._log(request, None, request_type, 401, [], start, t0)
        return response

    def _log(self, request, user, request_type, code, rops, start, t0) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport is not None else None
        client = f"{peer[0]}:{peer[1]}" if peer else (request.remote or "-")
        self.log.write(start=start, client=client, user=user, request_type=request_type,
                       request_id=request.headers.get("X-RequestId", ""), code=code, rops=rops,
                       elapsed_ms=(time.monotonic() - t0) * 1000)


class _ChunkedResponse(web.StreamResponse):
    """A streamed response whose headers leave with its first chunk (PROCESSING): one send, one
    TCP segment (aiohttp >= 3.10 reads this flag; older versions send the headers first)."""

    _send_headers_immediately = False


@functools.lru_cache(maxsize=2)
def _http_date(second: int) -> str:
    """X-StartTime (MS-OXCMAPIHTTP 2.2.3.3.10): an HTTP date, made once per second."""
    return email.utils.formatdate(second, usegmt=True)


@functools.lru_cache(maxsize=2)
def _log_second(second: int) -> str:
    """The request log's time to the second (ISO 8601 UTC), made once per second."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _endpoint(path: str) -> str | None:
    """/mapi/emsmdb/ and /mapi/nspi/ (any case, the trailing slash optional; MS-OXCMAPIHTTP 2.1)."""
    lowered = path.lower().rstrip("/")
    return {"/mapi/emsmdb": "emsmdb", "/mapi/nspi": "nspi"}.get(lowered)


def _parse_strict(definition, body: bytes):
    """A request body parsed with the definitions, or None when it is malformed or has bytes
    left over (-> 12 Invalid Request Body). The generated parser first (dissect/fastpath.py), construct
    for whatever it hands back."""
    if fastpath.enabled():
        value = fastpath.parse(definition, body)
        if value is not fastpath.FALLBACK:
            return value
    stream = io.BytesIO(body)
    try:
        value = definition.parse_stream(stream)
    except Exception:
        return None
    return value if stream.tell() == len(body) else None


def _build_body(request_type: str, value: dict) -> bytes:
    body_def = BODIES[request_type]
    definition = body_def.success if int(value.get("StatusCode", 0)) == 0 else body_def.failure
    return build(definition, value)


