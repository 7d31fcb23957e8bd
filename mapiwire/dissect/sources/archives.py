"""`Exchange`s in, HAR 1.2 and Fiddler SAZ archives out: for tests and the sample captures.

`write_har` writes what browsers and `har.read_exchanges` read back: a body that is UTF-8 text
goes in `text`, any other body in base64 with `encoding: "base64"` (HAR 1.2 has that field
only on `response.content`; on `postData` it is the de-facto extension several tools use,
see captures/HAR-NOTES.md). `write_saz` writes the raw/NN_c.txt, NN_s.txt and NN_m.xml members
Fiddler opens (proxy-form request lines, .NET-style timers, x-clientip/x-hostip flags).
Exchanges without a request are left out of both.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import re
import zipfile
from dataclasses import replace
from typing import BinaryIO, Iterable
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import quoteattr

from ... import __version__
from ..exchange import Exchange, HttpMessage
from .writers import serialize

__all__ = ["write_har", "write_saz"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTENT_TYPES = ('<?xml version="1.0" encoding="utf-8"?>\r\n'
                  '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                  '<Default Extension="htm" ContentType="text/html" />'
                  '<Default Extension="xml" ContentType="application/xml" />'
                  '<Default Extension="txt" ContentType="text/plain" /></Types>')


def _split_endpoint(text: str) -> tuple[str, int | None]:
    """"10.0.0.5:443" or "[::1]:443" -> (address, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return text.strip("[]"), None
    return host.strip("[]"), int(port)


def _url(exchange: Exchange) -> str:
    """Absolute URL of the request: Host header (else the server address) and target."""
    request = exchange.request
    if "://" in request.target:
        return request.target
    address, port = _split_endpoint(exchange.server)
    host = request.header("Host") or (f"[{address}]" if ":" in address else address) or "localhost"
    if port and port not in (80, 443) and not request.header("Host"):
        host = f"{host}:{port}"
    scheme = "http" if port == 80 else "https"
    return f"{scheme}://{host}/{request.target.lstrip('/')}"


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat(
        timespec="microseconds").replace("+00:00", "Z")


def _har_body(body: bytes) -> dict:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _CONTROL.search(text):
        return {"text": text}
    return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def _har_headers(msg: HttpMessage) -> list[dict]:
    return [{"name": k, "value": v} for k, v in msg.headers]


def _ms(start: float | None, end: float | None) -> float:
    return max(0.0, (end - start) * 1000) if start is not None and end is not None else 0.0


def _har_entry(exchange: Exchange) -> dict:
    req, resp = exchange.request, exchange.response
    url = _url(exchange)
    start = req.time if req.time is not None else (resp.time if resp and resp.time else 0.0)
    timings = {"blocked": -1, "dns": -1, "connect": -1, "ssl": -1,
               "send": _ms(req.time, req.end_time),
               "wait": _ms(req.end_time, resp.time if resp else None),
               "receive": _ms(resp.time, resp.end_time) if resp else 0.0}
    request = {"method": req.method, "url": url, "httpVersion": req.version, "cookies": [],
               "headers": _har_headers(req),
               "queryString": [{"name": k, "value": v}
                               for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
               "headersSize": -1, "bodySize": len(req.body)}
    if req.body or req.method.upper() in ("POST", "PUT", "PATCH"):
        request["postData"] = {"mimeType": req.header("Content-Type") or "", **_har_body(req.body)}
    if resp is None:
        response = {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                    "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "",
                    "headersSize": -1, "bodySize": -1, "_error": "no response captured"}
    else:
        content = {"size": len(resp.body), "mimeType": resp.header("Content-Type") or "x-unknown"}
        if resp.body:
            content.update(_har_body(resp.body))
        response = {"status": resp.status, "statusText": resp.reason, "httpVersion": resp.version,
                    "cookies": [], "headers": _har_headers(resp), "content": content,
                    "redirectURL": resp.header("Location") or "", "headersSize": -1,
                    "bodySize": len(resp.body)}
    entry = {"startedDateTime": _iso(start), "time": sum(v for v in timings.values() if v > 0),
             "request": request, "response": response, "cache": {}, "timings": timings}
    address, _ = _split_endpoint(exchange.server)
    if address:
        entry["serverIPAddress"] = address
    if exchange.connection:
        entry["connection"] = exchange.connection
    if exchange.client:
        entry["_clientAddress"] = exchange.client
    return entry


def write_har(exchanges: Iterable[Exchange], target: str | os.PathLike | BinaryIO) -> None:
    """Write the exchanges that have a request as a HAR 1.2 file (UTF-8 JSON)."""
    har = {"log": {"version": "1.2", "creator": {"name": "mapiwire", "version": __version__},
                   "pages": [],
                   "entries": [_har_entry(e) for e in exchanges if e.request is not None]}}
    data = json.dumps(har, indent=1, ensure_ascii=False).encode("utf-8")
    if isinstance(target, (str, bytes, os.PathLike)):
        with open(target, "wb") as f:
            f.write(data)
    else:
        target.write(data)


def _dotnet(ts: float | None) -> str:
    if ts is None:
        return "0001-01-01T00:00:00"
    when = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"


def _saz_metadata(number: int, exchange: Exchange) -> str:
    req, resp = exchange.request, exchange.response
    timers = {"ClientConnected": req.time, "ClientBeginRequest": req.time,
              "GotRequestHeaders": req.time, "ClientDoneRequest": req.end_time,
              "ServerGotRequest": req.end_time,
              "ServerBeginResponse": resp.time if resp else None,
              "GotResponseHeaders": resp.time if resp else None,
              "ServerDoneResponse": resp.end_time if resp else None,
              "ClientBeginResponse": resp.time if resp else None,
              "ClientDoneResponse": resp.end_time if resp else None}
    flags = {}
    client, client_port = _split_endpoint(exchange.client)
    if client:
        flags["x-clientip"] = client
    if client_port is not None:
        flags["x-clientport"] = str(client_port)
    server, _ = _split_endpoint(exchange.server)
    if server:
        flags["x-hostip"] = server
    lines = ['<?xml version="1.0" encoding="utf-8"?>', f'<Session SID="{number}" BitFlags="0">',
             "  <SessionTimers " + " ".join(f"{k}={quoteattr(_dotnet(v))}" for k, v in timers.items())
             + " />", "  <PipeInfo />", "  <SessionFlags>"]
    lines += [f"    <SessionFlag N={quoteattr(k)} V={quoteattr(v)} />" for k, v in flags.items()]
    lines += ["  </SessionFlags>", "</Session>", ""]
    return "\r\n".join(lines)


def write_saz(exchanges: Iterable[Exchange], target: str | os.PathLike | BinaryIO) -> None:
    """Write the exchanges that have a request as a Fiddler SAZ archive."""
    chosen = [e for e in exchanges if e.request is not None]
    width = max(2, len(str(len(chosen))))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        for number, exchange in enumerate(chosen, 1):
            name = f"raw/{number:0{width}d}"
            request = replace(exchange.request, target=_url(exchange))
            archive.writestr(f"{name}_c.txt", serialize(request))
            if exchange.response is not None:
                archive.writestr(f"{name}_s.txt", serialize(exchange.response))
            archive.writestr(f"{name}_m.xml", _saz_metadata(number, exchange))
