"""Exchanges in, records out (DESIGN.md: the JSON contract). Pure: no files, no sockets.

`Decoder.decode(exchange)` never raises for bad bytes: every problem becomes an `errors` entry
(where, what, offset) and the undecoded rest is kept as hex. One `DecodingContext` per MAPI
session carries the state stateful ROP decoding needs, in one forward pass.
"""

from __future__ import annotations

import datetime
import io
import itertools

import construct as c

from . import fastpath
from .context import MAX_STATE, DecodingContext
from .defs.budget import MAX_PLAIN, Budget
from .defs.core import where
from .defs.body import BodyDef
from .defs.mapihttp import BODIES, BODIES_LOWER
from .exchange import Exchange, HttpMessage
from .render import ADDRESS_BOOK_NAMES, to_json
from .transport import (RESPONSE_CODES, context_cookie, endpoint_of, is_record, parse_cookies, parse_inner,
                        parse_set_cookies, response_code, split_request_id)

MAX_SESSIONS = 10_000  # contexts kept; the least recently used goes first
ENDING_REQUESTS = ("disconnect", "unbind")  # MS-OXCMAPIHTTP 2.2.4.1.3, 2.2.5.2: the session's context is destroyed
CONTEXT_NOT_FOUND = 10  # X-ResponseCode (MS-OXCMAPIHTTP 2.2.3.3.3): the server holds no such session
MAX_STATE_TOTAL = 8 * MAX_STATE  # state kept over all sessions; the least recently used go first


def iso_time(ts: float | None) -> str | None:
    if ts is None:
        return None
    try:
        dt = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):  # the readers check times; this never raises
        return None
    if dt.year < 1000:  # isoformat pads the year to four digits, strftime does not
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    return dt.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"  # a third of strftime's time


def parse_body(definition: c.Construct, data: bytes, errors: list, prefix: str, strict: bool = False, **params):
    """Parse one body within its decoding budget (defs/budget.py); a failure becomes an `errors`
    entry and the body's hex. Well-formed bodies go through the generated fast parser (fastpath.py),
    which gives the same value; anything else is parsed by construct."""
    if not strict and fastpath.enabled():
        value = fastpath.parse(definition, data, budget=Budget(), **params)
        if value is not fastpath.FALLBACK:
            return value
    stream = io.BytesIO(data)
    sink: list = [] if not strict else None
    try:
        value = definition.parse_stream(stream, errors=sink, budget=Budget(), **params)
    except Exception as exc:  # errors are data (STYLE.md 3.4)
        if strict:
            raise
        errors.extend(_prefixed(sink, prefix))
        path = where(getattr(exc, "path", "") or "")
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, RecursionError):
            message = "structure nested too deeply"
        errors.append({"where": ".".join(p for p in (prefix, path) if p), "error": message,
                       "offset": stream.tell()})
        return None
    errors.extend(_prefixed(sink, prefix))
    if stream.tell() != len(data):
        errors.append({"where": prefix, "error": f"{len(data) - stream.tell()} bytes after the end of the body",
                       "offset": stream.tell()})
    return value


def _prefixed(entries, prefix):
    for entry in entries or ():
        entry = dict(entry)
        entry["where"] = ".".join(p for p in (prefix, entry.get("where")) if p)
        yield entry


def session_key(exchange: Exchange) -> str:
    """The session an exchange belongs to: its context cookie (for Connect and Bind, the one the
    response sets; MS-OXCMAPIHTTP 3.2.5.1), else the X-RequestId GUID, which is constant for a
    context's life (2.2.3.3.2)."""
    request, response = exchange.request, exchange.response
    if request is None:
        return "unknown"
    request_type = (request.header("X-RequestType") or "").lower()
    if response is not None and request_type in ("connect", "bind"):
        cookie = context_cookie(parse_set_cookies(response.header_all("Set-Cookie")))
        if cookie:
            return cookie
    cookie = context_cookie(parse_cookies(request.header_all("Cookie")))
    if cookie:
        return cookie
    ids = split_request_id(request.header("X-RequestId"))
    return f"requestid:{ids[0]}" if ids else "unknown"


def rops_of(buffer) -> tuple[list, list]:
    """(RopsList items, ServerObjectHandleTable) of a parsed RopBuffer, over all payloads."""
    if not isinstance(buffer, dict):
        return [], []
    payloads = buffer.get("Payloads", [buffer])
    rops = [rop for p in payloads for rop in (p.get("RopsList") or [])]
    handles = [h for p in payloads for h in (p.get("ServerObjectHandleTable") or [])]
    return rops, handles


class Decoder:
    """Decodes exchanges in capture order, keeping one DecodingContext per session."""

    def __init__(self, strict: bool = False, hex_bodies: bool = False):
        self.strict = strict
        self.hex_bodies = hex_bodies  # add each body's bytes as hex (`dissect --hex`, for `decode --as`)
        self.sessions: dict[str, DecodingContext] = {}
        self.counter = itertools.count()
        self.state = 0  # DecodingContext.cost summed over the sessions, as last counted
        self.counted: dict[str, int] = {}  # session -> its cost as counted in `state`

    def context(self, key: str) -> DecodingContext:
        ctx = self.sessions.pop(key, None) or DecodingContext(key)
        self.sessions[key] = ctx  # most recently used last
        if len(self.sessions) > MAX_SESSIONS:
            self._drop_session()
        return ctx

    def _drop_session(self, key: str | None = None) -> None:
        """Forget a session (by default the least recently used) and its state."""
        if key is None:
            key = next(iter(self.sessions))
        del self.sessions[key]
        self.state -= self.counted.pop(key, 0)

    def _end_session(self, record: dict) -> None:
        """Forget the record's session once it has ended: a Disconnect or Unbind that succeeded,
        or a server that says it holds no such session (X-ResponseCode 10)."""
        key = record.get("session")
        if key not in self.sessions:
            return
        code = record.get("response_code")
        ended = (record.get("status") == 200 and code == 0
                 and (record.get("request_type") or "").lower() in ENDING_REQUESTS)
        if ended or code == CONTEXT_NOT_FOUND:
            self._drop_session(key)

    def _bound_state(self, record: dict) -> None:
        """Count the state of the record's session; past MAX_STATE_TOTAL over all sessions, drop
        the least recently used ones. What was dropped is said in the record's `errors`."""
        ctx = self.sessions.get(record.get("session"))
        if ctx is None:
            return
        note = ctx.drop_note()
        if note is not None:
            record["errors"].append(note)
        self.state += ctx.cost - self.counted.get(ctx.key, 0)
        self.counted[ctx.key] = ctx.cost
        dropped = 0
        while self.state > MAX_STATE_TOTAL and len(self.sessions) > 1:
            self._drop_session()
            dropped += 1
        if dropped:
            record["errors"].append({"where": "session", "error": f"decoding state over its bound ({MAX_STATE_TOTAL} "
                                     f"units over all sessions): the state of {dropped} earlier sessions forgotten"})

    def decode(self, exchange: Exchange, index: int | None = None) -> dict | None:
        """The record of one exchange, or None when it is not MAPI/HTTP. `index` numbers the
        record (by default, records are numbered in the order they are decoded). Never raises
        (unless strict): a failure of the decoder itself is an `errors` entry of the record."""
        if index is None:
            index = next(self.counter)
        self.counter = itertools.count(index)
        try:
            record = self._decode(exchange)
        except Exception as exc:  # errors are data, the decoder's own bugs included
            if self.strict:
                raise
            self.counter = itertools.count(index)
            record = self._record(exchange)
            message = (str(exc).strip().splitlines() or [""])[-1][:500]
            record["errors"].append({"where": "decoder", "error": f"{type(exc).__name__}: {message}"})
        if record is not None:
            self._bound_state(record)
            self._end_session(record)
        return record

    def _decode(self, exchange: Exchange) -> dict | None:
        if not is_record(exchange):
            return None
        request, response = exchange.request, exchange.response
        if request is None:
            return self._orphan(exchange)
        request_type = request.header("X-RequestType")
        body_def = BODIES.get(request_type) or BODIES_LOWER.get((request_type or "").lower())
        record = self._record(exchange)
        errors = record["errors"]
        record.update(
            time=iso_time(request.time),
            endpoint=endpoint_of(request.target) or (body_def.endpoint if body_def and body_def.endpoint != "both" else None),
            request_type=request_type,
            request_id=request.header("X-RequestId"),
            client_info=request.header("X-ClientInfo"),
            status=response.status if response else None,
            http=_http(request, response),
        )
        frames = {side: list(m.frames) for side, m in (("request", request), ("response", response))
                  if m is not None and m.frames}
        if frames:
            record["frames"] = frames
        if request_type is None:
            errors.append({"where": "request.headers", "error": "no X-RequestType header"})
        elif body_def is None:
            errors.append({"where": "request.headers", "error": f"unknown X-RequestType {request_type!r}"})
        record["session"] = session_key(exchange)
        ctx = self.context(record["session"])

        raw_request = None
        if body_def is not None:
            if body_def.request is None:
                if request.body:
                    errors.append({"where": "request", "error": f"{request_type} has no request body, got {len(request.body)} bytes"})
                record["request"] = {}
            else:
                raw_request = parse_body(body_def.request, request.body, errors, "request", self.strict,
                                         logons=ctx.logon_flags)
                if raw_request is None:
                    record["request"] = {"Undecoded": _kept(request.body, errors, "request").hex()}
        if response is not None:
            record["response"] = self._response(response, body_def, raw_request, ctx, record, errors)
        if raw_request is not None:
            record["request"] = to_json(raw_request, _named(record, ctx))
        if self.hex_bodies:
            record["hex"] = {"request": request.body.hex()}
            if response is not None:
                record["hex"]["response"] = parse_inner(response.body).body.hex()
        if response is not None and request.time is not None and response.end_time is not None:
            record["elapsed_ms"] = round((response.end_time - request.time) * 1000, 3)
        return record

    def _record(self, exchange: Exchange) -> dict:
        """A record with every key of the JSON contract, in the contract's order."""
        return {"index": next(self.counter), "time": None, "connection": exchange.connection,
                "client": exchange.client, "server": exchange.server, "endpoint": None, "request_type": None,
                "request_id": None, "client_info": None, "session": None, "status": None, "response_code": None,
                "response_code_name": None, "elapsed_ms": None, "http": None, "request": None, "response": None,
                "errors": list(exchange.errors)}

    def _orphan(self, exchange: Exchange) -> dict:
        """What the reader found outside any request (a broken record at the end of a file, a
        response whose request was not captured) is a record of its own, so it is not lost."""
        response = exchange.response
        record = self._record(exchange)
        if response is not None:
            record["errors"].append({"where": "request", "error": "response without its request in the capture"})
            record.update(time=iso_time(response.time), request_type=response.header("X-RequestType"),
                          request_id=response.header("X-RequestId"), status=response.status)
        return record

    def _response(self, response: HttpMessage, body_def: BodyDef | None, raw_request, ctx: DecodingContext,
                  record: dict, errors: list) -> dict:
        inner = parse_inner(response.body)
        errors.extend(inner.errors)
        out: dict = {"meta": inner.meta}
        if inner.headers:
            out["additional_headers"] = dict(inner.headers)
        code, inner_code = response_code(response.header("X-ResponseCode"), inner, errors)
        record["response_code"] = code
        record["response_code_name"] = RESPONSE_CODES.get(code) if code is not None else None
        body = inner.body
        if response.status != 200 or (code not in (0, None)) or body_def is None:
            if body:
                kept = _kept(body, errors, "response")
                out["text" if _is_text(response) else "Undecoded"] = (
                    kept.decode("utf-8", "replace") if _is_text(response) else kept.hex())
            return out
        if body_def.success is None:
            if body:
                errors.append({"where": "response", "error": f"{body_def.request_type} has no response body, got {len(body)} bytes"})
            return out
        if len(body) < 4:
            if body or inner_code is None:
                errors.append({"where": "response", "error": f"body of {len(body)} bytes has no StatusCode", "offset": 0})
            return out
        status_code = int.from_bytes(body[:4], "little")
        definition = body_def.success if status_code == 0 else body_def.failure
        params = {}
        rops, handles = [], []
        if body_def.request_type == "Execute" and raw_request is not None:
            rops, handles = rops_of(raw_request.get("RopBuffer"))
            ctx.annotate(rops, handles)
            params = {"request_rops": rops, "notify_state": ctx.notify_state}
        raw = parse_body(definition, body, errors, "response", self.strict, **params)
        if raw is None:
            out["Undecoded"] = _kept(body, errors, "response").hex()
            return out
        if body_def.request_type == "Execute" and status_code == 0:
            response_rops, response_handles = rops_of(raw.get("RopBuffer"))
            ctx.learn(rops, response_rops, handles, response_handles)
            for problem in ctx.objects.annotate(rops, response_rops, handles, response_handles):
                errors.append({"where": f"response.RopBuffer.RopsList[{problem['index']}]", "error": problem["error"]})
        out.update(to_json(raw, _named(record, ctx)))
        return out


def _named(record: dict, ctx: DecodingContext) -> dict:
    """What names property ids from 0x8000: the address book's fixed tags (NSPI), else the named
    properties the session mapped (RopGetPropertyIdsFromNames and friends)."""
    return ADDRESS_BOOK_NAMES if record.get("endpoint") == "nspi" else ctx.named


def _kept(body: bytes, errors: list, where: str) -> bytes:
    """What of an undecoded body the record keeps: at most MAX_PLAIN bytes (the most a body's
    payloads may carry, defs/budget.py), so a large body costs a small multiple of its size."""
    if len(body) <= MAX_PLAIN:
        return body
    errors.append({"where": where, "error": f"decoding budget: undecoded body of {len(body)} bytes, only the "
                   f"first {MAX_PLAIN} kept", "offset": MAX_PLAIN})
    return body[:MAX_PLAIN]


def _is_text(message: HttpMessage) -> bool:
    ctype = (message.header("Content-Type") or "").lower()
    return ctype.startswith("text/")


def _http(request: HttpMessage, response: HttpMessage | None) -> dict:
    http = {"method": request.method, "path": request.target,
            "request_headers": [[k, v] for k, v in request.headers]}
    if response is not None:
        http["reason"] = response.reason
        http["response_headers"] = [[k, v] for k, v in response.headers]
    return http
