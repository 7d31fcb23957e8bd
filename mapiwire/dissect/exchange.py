"""One HTTP request/response pair as the capture readers hand it to the decoder."""

from __future__ import annotations

from dataclasses import dataclass, field


class _UnsplitHeaders:
    """`HttpMessage.headers` of a message whose reader left the header block unsplit: split on
    first use and kept as the instance's own attribute (which, once there, is read directly)."""

    def __get__(self, message, owner=None):
        if message is None:
            return self
        message.headers, message._block = message._block.fields(), None
        return message.headers


@dataclass
class HttpMessage:
    """An HTTP/1.1 message with its body already de-chunked.

    `headers` keeps the wire order and spelling: a list of (name, value) str pairs.
    For a request `method` and `target` are set, for a response `status` and `reason`.

    A reader may hand the header block unsplit (`set_block`: an object with `fields()`, the
    pairs, and `values(lowered_name)`, the values of one name in order): `header()` and
    `header_all()` then search it, and `headers` splits it the first time it is asked for.
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

    _block = None  # an unsplit header block (while `headers` is not yet an attribute of the instance)

    def set_block(self, block) -> None:
        """Take the headers as an unsplit block (see above)."""
        self.__dict__.pop("headers", None)
        self._block = block

    def header(self, name: str, default: str | None = None) -> str | None:
        """The last value of a header, case-insensitively."""
        lname = name.lower()
        headers = self.__dict__.get("headers")
        if headers is None:  # the block, unsplit
            values = self._block.values(lname)
            return values[-1] if values else default
        size = len(lname)
        for key, value in reversed(headers):
            if len(key) == size and key.lower() == lname:  # the length first: most keys differ in it
                return value
        return default

    def header_all(self, name: str) -> list[str]:
        lname = name.lower()
        headers = self.__dict__.get("headers")
        if headers is None:  # the block, unsplit
            return self._block.values(lname)
        size = len(lname)
        return [v for k, v in headers if len(k) == size and k.lower() == lname]


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


HttpMessage.headers = _UnsplitHeaders()  # read only when the instance has no `headers` of its own
