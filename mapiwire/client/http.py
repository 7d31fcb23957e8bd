"""Our own HTTP/1.1 connection (h11 over a plain or TLS socket) for the MAPI/HTTP client.

Owning the socket lets callers cut a connection at an exact point (after N bytes of a request,
after a given meta-tag of a response: MS-OXCMAPIHTTP 3.1.7.1 / 3.1.7.2 failures), see the
PROCESSING / PENDING / DONE meta-tags of a chunked response as they arrive (2.2.7), bind a
chosen source address (a network switch, REPLAY.md 3) and close with a FIN or a RST.
Requests and responses come back as `HttpMessage`s, so the recorder and the Decoder take them.
"""

from __future__ import annotations

import select
import socket
import ssl
import struct
import time
from typing import Callable
from urllib.parse import urlsplit

import h11

from ..dissect.exchange import HttpMessage
from ..dissect.transport import InnerStream
from ..errors import MapiwireError

MAX_HEAD = 64 * 1024  # largest response head h11 buffers
MAX_BODY = 64 * 1024 * 1024  # largest response body we keep
RECV = 65536


class ConnectionFailed(MapiwireError):
    """The TCP/TLS connection could not be made, broke, timed out, or was cut on purpose."""


def _endpoint(address) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Connection:
    """One HTTP/1.1 keep-alive connection to the server of `url` (connects on first use).

    `source_address` binds the client socket (e.g. "127.0.0.2"); `ca_file` verifies TLS against
    that CA; `insecure` skips verification; `keylog` appends TLS secrets (SSLKEYLOGFILE format);
    `proxy` ("http://host:port") sends plain requests in absolute form and tunnels TLS with CONNECT.
    """

    def __init__(self, url: str, *, source_address: str | None = None, ca_file: str | None = None,
                 insecure: bool = False, timeout: float = 30.0, proxy: str | None = None,
                 keylog: str | None = None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MapiwireError(f"not an http(s) URL: {url!r}")
        self.url = url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.host_header = parts.netloc.rpartition("@")[2]
        self.source_address = source_address
        self.ca_file, self.insecure, self.keylog = ca_file, insecure, keylog
        self.timeout = timeout
        self.proxy = urlsplit(proxy) if proxy else None
        self.sock: socket.socket | None = None
        self.h11: h11.Connection | None = None
        self.local_address = self.peer_address = ""
        self.created_at: float | None = None
        self.closed = False
        self.requests = 0  # requests sent on this connection
        self.state: dict = {}  # per-connection state of others (an NTLM context: auth.py)

    # -- connecting ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Open the TCP (and TLS) connection if it is not open yet."""
        if self.closed:
            raise ConnectionFailed("connection already closed")
        if self.sock is not None:
            return
        target = (self.proxy.hostname, self.proxy.port or 80) if self.proxy else (self.host, self.port)
        source = (self.source_address, 0) if self.source_address else None
        try:
            sock = socket.create_connection(target, timeout=self.timeout, source_address=source)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.proxy and self.tls:
                self._tunnel(sock)
            if self.tls:
                sock = self._tls_context().wrap_socket(sock, server_hostname=self.host)
        except (OSError, ssl.SSLError) as exc:
            self.closed = True
            raise ConnectionFailed(f"cannot connect to {target[0]}:{target[1]}: {exc}") from exc
        self.sock = sock
        self.created_at = time.time()
        self.local_address = _endpoint(sock.getsockname())
        self.peer_address = _endpoint(sock.getpeername())
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.keylog:
            context.keylog_filename = self.keylog
        context.set_alpn_protocols(["http/1.1"])
        return context

    def _tunnel(self, sock: socket.socket) -> None:
        """RFC 9110 9.3.6 CONNECT through the proxy."""
        authority = f"{self.host}:{self.port}"
        sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(4096)
            if not data or len(head) > MAX_HEAD:
                raise ConnectionFailed("proxy closed the CONNECT tunnel")
            head += data
        status = head.split(b"\r\n", 1)[0].split()
        if len(status) < 2 or status[1] != b"200":
            raise ConnectionFailed(f"proxy refused CONNECT: {head.splitlines()[0]!r}")

    # -- requests -----------------------------------------------------------------------------

    def send_request(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"", *,
                     cut_after: int | None = None) -> HttpMessage:
        """Send one request; a Host and Content-Length header are added when missing. With
        `cut_after`, only that many bytes of the request go out, then the connection is reset
        (RST): "a failure while streaming the request" of MS-OXCMAPIHTTP 3.1.7.1."""
        self.connect()
        if self.h11.our_state is not h11.IDLE:
            raise ConnectionFailed(f"connection not ready for a request ({self.h11.our_state})")
        names = {k.lower() for k, _ in headers}
        headers = list(headers)
        if "host" not in names:
            headers.insert(0, ("Host", self.host_header))
        if "content-length" not in names and "transfer-encoding" not in names:
            headers.append(("Content-Length", str(len(body))))
        wire_target = target
        if self.proxy and not self.tls:
            wire_target = f"http://{self.host_header}{target}"
        try:
            data = self.h11.send(h11.Request(method=method, target=wire_target, headers=headers))
            data += self.h11.send(h11.Data(data=body)) if body else b""
            data += self.h11.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            raise MapiwireError(f"bad request: {exc}") from exc
        message = HttpMessage(headers=headers, body=body, method=method, target=target, time=time.time())
        self.requests += 1
        if cut_after is not None and cut_after < len(data):
            self._write(data[:cut_after])
            message.end_time = time.time()
            self.close("rst")
            message.cut = f"after {cut_after} of {len(data)} bytes"
            return message
        self._write(data)
        message.end_time = time.time()
        return message

    def _write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as exc:
            self.close("rst")
            raise ConnectionFailed(f"sending failed: {exc}") from exc

    def read_response(self, *, on_meta: Callable[[str, float], None] | None = None,
                      cut_at_meta: str | None = None, timeout: float | None = None) -> HttpMessage:
        """Read the response to the last request. A MAPI/HTTP body is watched as it streams:
        `on_meta(tag, time)` for each PROCESSING / PENDING / DONE; with `cut_at_meta` the
        connection is reset right after that tag (MS-OXCMAPIHTTP 3.1.7.2) and the partial
        response is returned with a `cut` attribute. `chunks` records the chunk sizes."""
        if self.sock is None or self.closed:
            raise ConnectionFailed("no open connection to read from")
        self.sock.settimeout(timeout or self.timeout)
        message = HttpMessage()
        inner = InnerStream()
        body = bytearray()
        chunks: list[int] = []
        chunk = 0
        seen = 0
        while True:
            event = self._next_event(message)
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                message.status, message.reason = event.status_code, event.reason.decode("latin-1")
                message.version = "HTTP/" + event.http_version.decode()
                message.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers.raw_items()]
            elif isinstance(event, h11.Data):
                if len(body) + len(event.data) > MAX_BODY:
                    self.close("rst")
                    raise ConnectionFailed(f"response body over {MAX_BODY} bytes")
                body += event.data
                chunk += len(event.data)
                if event.chunk_end:
                    chunks.append(chunk)
                    chunk = 0
                if inner.state != "body":
                    inner.feed(event.data)
                    for tag in inner.meta[seen:]:
                        now = time.time()
                        if on_meta:
                            on_meta(tag, now)
                        if tag == cut_at_meta:
                            message.body, message.end_time = bytes(body), now
                            message.cut = f"after {tag}"
                            self.close("rst")
                            return message
                    seen = len(inner.meta)
            elif isinstance(event, h11.EndOfMessage):
                break
        message.body, message.end_time = bytes(body), time.time()
        if chunks:
            message.chunks = chunks
        self._next_cycle()
        return message

    def _next_event(self, message: HttpMessage):
        """The next h11 event, reading from the socket as needed; stamps the response's first byte."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                self.close("rst")
                raise ConnectionFailed(f"bad response: {exc}") from exc
            if event is h11.NEED_DATA:
                try:
                    data = self.sock.recv(RECV)
                except (OSError, ssl.SSLError) as exc:
                    self.close("rst")
                    raise ConnectionFailed(f"reading failed: {exc}") from exc
                if message.time is None and data:
                    message.time = time.time()
                self.h11.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                self.close()
                raise ConnectionFailed("server closed the connection before the response ended")
            return event

    def _next_cycle(self) -> None:
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
        else:  # Connection: close, or the server answered before reading the whole request
            self.close()

    def exchange(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"",
                 **read_options) -> tuple[HttpMessage, HttpMessage]:
        """send_request + read_response."""
        request = self.send_request(method, target, headers, body)
        return request, self.read_response(**read_options)

    @property
    def usable(self) -> bool:
        """Open (or not opened yet) and ready for the next request. An idle keep-alive
        connection that became readable was closed by the server: it is closed here too."""
        if self.closed or (self.h11 is not None and self.h11.our_state is not h11.IDLE):
            return False
        if self.sock is not None and select.select([self.sock], [], [], 0)[0]:
            self.close()
            return False
        return True

    def close(self, how: str = "fin") -> None:
        """Close with a FIN ("fin") or reset it ("rst": SO_LINGER 0, REPLAY.md 3)."""
        self.closed = True
        sock, self.sock = self.sock, None
        if sock is None:
            return
        try:
            if how == "rst":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        except OSError:
            pass
