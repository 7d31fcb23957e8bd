"""One HTTP request/response pair as the capture readers hand it to the decoder."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class HttpMessage:
    """An HTTP/1.1 message with its body already de-chunked.

    `headers` keeps the wire order and spelling: a list of (name, value) str pairs.
    For a request `method` and `target` are set, for a response `status` and `reason`.
    """

    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    method: str = ""
    target: str = ""
    status: int = 0
    reason: str = ""
    version: str = "HTTP/1.1"
    time: float | None = None  # seconds since the epoch of the message's first byte
    end_time: float | None = None  # ... and of its last byte
    frames: tuple[int, int] | None = None  # packet capture: numbers of its first and last frame (1-based)

    def header(self, name: str, default: str | None = None) -> str | None:
        """The last value of a header, case-insensitively."""
        lname = name.lower()
        size = len(lname)
        for key, value in reversed(self.headers):
            if len(key) == size and key.lower() == lname:  # the length first: most keys differ in it
                return value
        return default

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        size = len(lname)
        return [v for k, v in self.headers if len(k) == size and k.lower() == lname]


@dataclass
class Exchange:
    """A request and (if captured) its response on one connection.

    `connection` is a stable id of the TCP connection (or the archive entry), `client` and
    `server` are "addr:port" strings (IPv6 as "[addr]:port"). `errors` holds problems the
    reader found (gaps, truncated bodies), each a dict with `where`, `error` and maybe `offset`.
    """

    request: HttpMessage | None
    response: HttpMessage | None
    connection: str = ""
    client: str = ""
    server: str = ""
    errors: list[dict] = field(default_factory=list)
