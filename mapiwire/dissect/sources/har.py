"""HAR 1.2 (HTTP Archive, W3C Web Performance draft) in, `Exchange`s out.

Normalises what Chrome ("WebInspector"), Firefox, Fiddler and mitmproxy write (mitmproxy's
`io/har.py` list, extended): headers as {name, value} objects, [name, value] pairs or a
name -> value object; HTTP/2 pseudo-headers dropped (`:authority` becomes Host); version
spellings ("h2", "http/2.0", "HTTP/2", ...); `postData.text` with or without the de-facto
`encoding: "base64"`, or only `params`; `response.content.text` in base64 or as text; bodies
the exporter left out (an `errors` entry "body not in the archive"); `startedDateTime` and
`timings` -> HttpMessage.time/end_time; `serverIPAddress`/`_serverIPAddress`; connection ids
(`_connectionId`, `connection` unless it is only the server port, else "har/<n>").

A body given as text is turned back into bytes as Latin-1 (one code point per byte, what
mitmproxy writes for binary types) or UTF-8, whichever has the size Content-Length (or the
archive's own size field) declares. captures/HAR-NOTES.md says which exporters keep binary
request bodies. A MAPI/HTTP body is, as from the pcap reader, the de-chunked HTTP body.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import os
from typing import BinaryIO, Iterator
from urllib.parse import SplitResult, urlencode, urlsplit

from ...errors import MalformedError
from ..exchange import Exchange, HttpMessage
from .http import MAX_BODY

__all__ = ["MAX_HAR", "read_exchanges"]

MAX_HAR = 2 * 1024 ** 3  # bytes; larger archives are refused
_LAST_SECOND = 253402300799.0  # 9999-12-31T23:59:59Z: later times cannot be printed
_VERSIONS = {"http/1.0": "HTTP/1.0", "http/1.1": "HTTP/1.1", "h2": "HTTP/2", "h2c": "HTTP/2",
             "http/2": "HTTP/2", "http/2.0": "HTTP/2", "h3": "HTTP/3", "http/3": "HTTP/3",
             "http/3.0": "HTTP/3"}
_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded")


def read_exchanges(source: str | os.PathLike | BinaryIO, *, max_size: int = MAX_HAR
                   ) -> Iterator[Exchange]:
    """The exchanges of a HAR file (a path or a binary file object), in archive order.

    A file that is not a HAR archive (too large, not JSON, no `log.entries`) raises
    `MalformedError` at once; a bad entry becomes an exchange with an `errors` entry.
    """
    data = _read(source, max_size)
    try:
        text = data.decode(json.detect_encoding(data), "surrogatepass")  # what json.loads(bytes) does
        del data  # a large archive is held once as bytes, then once as text, never both with the tree
        doc = json.loads(text)
        del text
    except json.JSONDecodeError as exc:
        raise MalformedError(f"not a HAR file: invalid JSON at line {exc.lineno} column "
                             f"{exc.colno}: {exc.msg}", where="har", offset=exc.pos) from None
    except UnicodeDecodeError as exc:
        raise MalformedError(f"not a HAR file: not UTF-8 text ({exc.reason})", where="har",
                             offset=exc.start) from None
    except RecursionError:
        raise MalformedError("not a HAR file: JSON nested too deeply", where="har") from None
    log = doc.get("log") if isinstance(doc, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise MalformedError("not a HAR file: no log.entries list", where="har")
    creator = log.get("creator")
    name = creator.get("name") if isinstance(creator, dict) else None
    return _exchanges(entries, str(name or ""))


def _read(source, max_size: int) -> bytes:
    if isinstance(source, (str, bytes, os.PathLike)):
        try:
            size = os.path.getsize(source)
            if size > max_size:
                raise MalformedError(f"HAR file of {size} bytes is larger than the {max_size} "
                                     "bytes accepted", where="har")
            with open(source, "rb") as f:
                return f.read()
        except OSError as exc:
            raise MalformedError(f"cannot read {os.fsdecode(source)}: {exc.strerror}",
                                 where="file") from None
    data = source.read(max_size + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_size:
        raise MalformedError(f"HAR file larger than the {max_size} bytes accepted", where="har")
    return data


def _exchanges(entries: list, creator: str) -> Iterator[Exchange]:
    latin1_first = "mitmproxy" in creator.lower()
    for index, entry in enumerate(entries):
        where = f"har.entries[{index}]"
        if not isinstance(entry, dict):
            yield Exchange(None, None, f"har/{index}", errors=[
                {"where": where, "error": "entry is not an object"}])
            continue
        yield _Entry(entry, where, latin1_first).exchange(index)


def _obj(value) -> dict:
    return value if isinstance(value, dict) else {}


def _number(value) -> float | None:
    """A JSON number that makes sense as a size or a duration in ms, else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and -1e12 < value < 1e12:
        return float(value)
    return None


def _int_header(msg: HttpMessage, name: str) -> int | None:
    value = (msg.header(name) or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 16 else None


def _split(url) -> SplitResult:
    try:
        return urlsplit(str(url or ""))
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return urlsplit("")


def _version(value) -> str:
    text = str(value or "").strip()
    default = text.upper() if text.lower().startswith("http/") else "HTTP/1.1"
    return _VERSIONS.get(text.lower(), default)


def _headers(value) -> list[tuple[str, str]]:
    """Header list of any of the shapes exporters write, pseudo-headers included."""
    if isinstance(value, dict):
        pairs = [(k, v) for k, vs in value.items() for v in (vs if isinstance(vs, list) else [vs])]
    elif isinstance(value, list):
        pairs = []
        for item in value:
            if isinstance(item, dict) and "name" in item:
                pairs.append((item["name"], item.get("value", "")))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append((item[0], item[1]))
    else:
        pairs = []
    return [(str(k), "" if v is None else str(v)) for k, v in pairs]


def _is_text_type(mime: str) -> bool:
    mime = mime.lower()
    return any(t in mime for t in _TEXT_TYPES)


class _Entry:
    """One HAR entry being turned into an Exchange; problems collect in `errors`."""

    def __init__(self, entry: dict, where: str, latin1_first: bool):
        self.entry = entry
        self.where = where
        self.latin1_first = latin1_first
        self.errors: list[dict] = []

    def error(self, where: str, what: str) -> None:
        self.errors.append({"where": f"{self.where}.{where}" if where else self.where,
                            "error": what})

    def exchange(self, index: int) -> Exchange:
        entry = self.entry
        times = self._times()
        request = self._request(_obj(entry.get("request")), times)
        response = self._response(_obj(entry.get("response")), times, request)
        url = _split(_obj(entry.get("request")).get("url"))
        try:
            port = url.port or (443 if url.scheme == "https" else 80)
        except ValueError:
            port = 0
        address = str(entry.get("serverIPAddress") or entry.get("_serverIPAddress") or
                      url.hostname or "").strip("[]")
        server = f"[{address}]:{port}" if ":" in address else f"{address}:{port}" if address else ""
        connection = str(entry.get("_connectionId") or entry.get("connection") or "")
        if not connection or connection == str(port):  # Chrome and Firefox: the server port
            connection = str(index)
        client = str(entry.get("_clientAddress") or "")
        return Exchange(request, response, f"har/{connection}", client, server, self.errors)

    def _times(self) -> tuple:
        """(request start, request end, response start, response end) in epoch seconds."""
        entry = self.entry
        text = entry.get("startedDateTime")
        try:
            started = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
            if started.tzinfo is None:
                started = started.replace(tzinfo=datetime.timezone.utc)
            start = started.timestamp()
        except (ValueError, OverflowError):
            self.error("startedDateTime", f"not an ISO 8601 date: {text!r}")
            return None, None, None, None
        timings = _obj(entry.get("timings"))
        steps = {k: _number(timings.get(k)) for k in ("blocked", "dns", "connect", "send", "wait",
                                                      "receive")}
        total = _number(entry.get("time"))
        if steps["send"] is None or steps["wait"] is None:
            times = start, start, None, start + total / 1000 if total is not None else None
        else:
            sent = start + sum(max(steps[k] or 0, 0) for k in ("blocked", "dns", "connect")) / 1000
            sent_end = sent + max(steps["send"], 0) / 1000
            first = sent_end + max(steps["wait"], 0) / 1000
            times = sent, sent_end, first, first + max(steps["receive"] or 0, 0) / 1000
        if not all(t is None or 0 <= t <= _LAST_SECOND for t in times):
            self.error("startedDateTime", f"time out of range: {text!r}")
            return None, None, None, None
        return times

    def _request(self, req: dict, times: tuple) -> HttpMessage | None:
        if not req.get("method") or not req.get("url"):
            self.error("request", "no request method or url in the archive")
            return None
        url = _split(req["url"])
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        headers = _headers(req.get("headers"))
        authority = next((v for k, v in headers if k.lower() == ":authority"), url.netloc)
        headers = [(k, v) for k, v in headers if not k.startswith(":")]
        if authority and not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", authority))
        msg = HttpMessage(headers=headers, method=str(req["method"]), target=target,
                          version=_version(req.get("httpVersion")), time=times[0],
                          end_time=times[1])
        post = req.get("postData")
        hints = [_int_header(msg, "Content-Length"), _number(req.get("bodySize"))]
        if isinstance(post, dict) and ("text" in post or post.get("params")):
            mime = str(post.get("mimeType") or msg.header("Content-Type") or "")
            if "text" in post:
                msg.body = self._body(post, hints, mime, "request.postData")
            else:
                pairs = _headers(post["params"])
                msg.body = urlencode(pairs).encode("utf-8")
        elif any(h and h > 0 for h in hints):
            self.error("request.postData", "body not in the archive")
        return msg

    def _response(self, resp: dict, times: tuple, request: HttpMessage | None) -> HttpMessage | None:
        status = resp.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or status <= 0:
            failure = resp.get("_error") or self.entry.get("_error")
            self.error("response",
                       "no response in the archive" + (f": {failure}" if failure else ""))
            return None
        headers = [(k, v) for k, v in _headers(resp.get("headers")) if not k.startswith(":")]
        msg = HttpMessage(headers=headers, status=status, reason=str(resp.get("statusText") or ""),
                          version=_version(resp.get("httpVersion") or
                                           (request.version if request else "")),
                          time=times[2], end_time=times[3])
        content = _obj(resp.get("content"))
        coded = msg.header("Content-Encoding") not in (None, "", "identity")
        hints = [None if coded else _int_header(msg, "Content-Length"),
                 _number(content.get("size"))]
        if "text" in content and content["text"] is not None:
            mime = str(content.get("mimeType") or msg.header("Content-Type") or "")
            msg.body = self._body(content, hints, mime, "response.content")
        elif status not in (204, 304) and any(h and h > 0 for h in hints):
            self.error("response.content", "body not in the archive")
        return msg

    def _body(self, holder: dict, hints: list, mime: str, where: str) -> bytes:
        """Bytes of `holder["text"]`: base64-decoded, or encoded back as the size says."""
        text = holder["text"]
        holder["text"] = None  # the bytes replace it: a large body is not kept twice
        if not isinstance(text, str):
            self.error(where, "body text is not a string")
            return b""
        expected = next((int(h) for h in hints if h is not None and h >= 0), None)
        base64_text = str(holder.get("encoding") or "").lower() == "base64"
        longest = (MAX_BODY + 2) // 3 * 4 if base64_text else MAX_BODY  # characters that can stay
        if len(text) > longest:
            text = text[:longest]
            self.error(where, f"body longer than {MAX_BODY} bytes: the rest is dropped")
        if base64_text:
            try:
                ascii_text = text.encode("ascii")
                del text  # the text, its ASCII bytes and the body are never all held at once
                body = base64.b64decode(ascii_text)
            except (binascii.Error, ValueError) as exc:
                self.error(where, f"invalid base64 body: {exc}")
                return b""
        else:
            body = self._encode(text, expected, mime)
            if "\ufffd" in text and not _is_text_type(mime):
                self.error(where, "body text contains U+FFFD: the exporter replaced bytes that "
                           "were not UTF-8, the original body is lost")
        if len(body) > MAX_BODY:  # UTF-8 text: up to 4 bytes a character
            body = body[:MAX_BODY]
            self.error(where, f"body longer than {MAX_BODY} bytes: the rest is dropped")
        if expected is not None and len(body) != expected and expected == hints[0]:
            self.error(where, f"body is {len(body)} bytes, the message declares {expected}")
        return body

    def _encode(self, text: str, expected: int | None, mime: str) -> bytes:
        utf8 = text.encode("utf-8", "surrogatepass")
        try:
            latin = text.encode("latin-1")
        except UnicodeEncodeError:
            return utf8
        if expected is not None:
            if len(latin) == expected:
                return latin
            if len(utf8) == expected:
                return utf8
        return latin if self.latin1_first or not _is_text_type(mime) else utf8
