"""A small MAPI/HTTP client of the front's own tests (http.client; the product's client is
tested elsewhere): cookie jar, X-RequestId counter, chosen source address, TLS, chunk timings.
Bodies are built and parsed with the dissector's definitions."""

from __future__ import annotations

import http.client
import time
import urllib.parse
from dataclasses import dataclass, field

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.dissect.transport import InnerStream, parse_inner, parse_set_cookies

REQUEST_GUID = "{E2EA6C1C-E61B-49E9-9CFB-38184F907552}"
CLIENT_INFO = "{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1"
NO_AUX = {"Blocks": []}


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    raw: bytes
    chunks: list[tuple[float, bytes]] = field(default_factory=list)  # (seconds after sending, data)

    def header(self, name: str) -> str | None:
        values = self.header_all(name)
        return values[-1] if values else None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def code(self) -> int:
        return int(self.header("X-ResponseCode"))

    @property
    def inner(self) -> InnerStream:
        return parse_inner(self.raw)

    @property
    def inner_code(self) -> int:
        return int(dict(self.inner.headers)["X-ResponseCode"])

    def body(self, request_type: str, **params):
        """The body after DONE, parsed as the request type's success or failure body (`params`:
        what the definitions need, e.g. `request_rops` for ROP responses)."""
        data = self.inner.body
        status = int.from_bytes(data[:4], "little")
        definition = BODIES[request_type].success if status == 0 else BODIES[request_type].failure
        return parse(definition, data, **params)


class MapiClient:
    def __init__(self, url: str, *, source: str | None = None, ssl_context=None, authorization=None):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.tls = parts.hostname, parts.port, parts.scheme == "https"
        self.source = source
        self.ssl_context = ssl_context
        self.authorization = authorization  # a header value sent on every request
        self.cookies: dict[str, str] = {}
        self.counter = 0
        self.conn = None

    def _connection(self):
        if self.conn is None:
            source = (self.source, 0) if self.source else None
            if self.tls:
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=15, source_address=source,
                                                        context=self.ssl_context)
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=15, source_address=source)
        return self.conn

    def move(self, source: str | None) -> None:
        """A network change: a new TCP connection from another address."""
        self.close()
        self.source = source

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def post(self, endpoint: str, request_type: str | None, body: bytes = b"", *, headers: dict | None = None,
             cookies: dict | None = None, method: str = "POST", path: str | None = None,
             keep_cookies: bool = True) -> Reply:
        self.counter += 1
        sent = {"Content-Type": "application/mapi-http", "X-RequestId": f"{REQUEST_GUID}:{self.counter}",
                "X-ClientInfo": CLIENT_INFO, "X-ClientApplication": "Outlook/16.0.17928.20114"}
        if request_type is not None:
            sent["X-RequestType"] = request_type
        jar = self.cookies if cookies is None else cookies
        if jar:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        if self.authorization:
            sent["Authorization"] = self.authorization
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        conn = self._connection()
        t0 = time.monotonic()
        conn.request(method, path or f"/mapi/{endpoint}/?MailboxId=alice@mapiwire.test", body, sent)
        response = conn.getresponse()
        chunks = []
        while True:
            data = response.read1(65536)
            if not data:
                break
            chunks.append((time.monotonic() - t0, data))
        rest = response.read()  # marks the response complete (read1 leaves a sized one open)
        if rest:
            chunks.append((time.monotonic() - t0, rest))
        reply = Reply(response.status, response.getheaders(), b"".join(d for _, d in chunks), chunks)
        if response.will_close:
            self.close()
        if keep_cookies:
            self.cookies.update(parse_set_cookies(reply.header_all("Set-Cookie")))
        return reply

    # request types, bodies built with the definitions ------------------------------------------

    def connect(self, user_dn: str, **kwargs) -> Reply:
        body = build(BODIES["Connect"].request, {"UserDn": user_dn, "Flags": 0, "DefaultCodePage": 1252,
                                                 "LcidSort": 1033, "LcidString": 1033, "AuxiliaryBuffer": NO_AUX})
        return self.post("emsmdb", "Connect", body, **kwargs)

    def execute(self, rops: list, handles: list | None = None, *, flags: int = 0x3, header_flags: int = 0x4,
                max_rop_out: int = 0x8000, **kwargs) -> Reply:
        return self.post("emsmdb", "Execute", execute_body(rops, handles, flags, header_flags, max_rop_out), **kwargs)

    def ping(self, endpoint: str = "emsmdb", **kwargs) -> Reply:
        return self.post(endpoint, "PING", b"", **kwargs)

    def notification_wait(self, **kwargs) -> Reply:
        return self.post("emsmdb", "NotificationWait",
                         build(BODIES["NotificationWait"].request, {"Flags": 0, "AuxiliaryBuffer": NO_AUX}), **kwargs)

    def disconnect(self, **kwargs) -> Reply:
        return self.post("emsmdb", "Disconnect", build(BODIES["Disconnect"].request, {"AuxiliaryBuffer": NO_AUX}),
                         **kwargs)


def execute_body(rops, handles=None, flags=0x3, header_flags=0x4, max_rop_out=0x8000) -> bytes:
    buffer = {"RPC_HEADER_EXT": [{"Version": 0, "Flags": header_flags}], "RopsList": rops,
              "ServerObjectHandleTable": handles or [0xFFFFFFFF]}
    return build(BODIES["Execute"].request, {"Flags": flags, "RopBuffer": buffer, "MaxRopOut": max_rop_out,
                                             "AuxiliaryBuffer": NO_AUX})


def receive_folder(message_class: str = "IPM.Note") -> dict:
    """RopGetReceiveFolder (MS-OXCROPS 2.2.3.2.1): the fake mailbox echoes the class back."""
    return {"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": message_class}
