"""Capture readers: files in, `Exchange` objects out (the only I/O of dissect).

`open_capture` picks the reader by the file's first bytes: pcap / pcapng (our own reader and
TCP reassembly; through tshark when a TLS key log is given), a zip (Fiddler SAZ) or JSON (HAR).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import MalformedError
from ..exchange import Exchange

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


def kind_of(path: str) -> str:
    """"pcap", "saz" or "har" from the first bytes of the file."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise MalformedError(f"cannot read {path}: {exc.strerror}", where="file") from exc
    if head[:4] in PCAP_MAGICS or head[:4] == PCAPNG_MAGIC:
        return "pcap"
    if head[:4] == b"PK\x03\x04":
        return "saz"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return "har"
    raise MalformedError(f"{path}: not a pcap, pcapng, HAR or SAZ file", where="file")


def open_capture(path: str, keylog: str | None = None, tls: bool = False) -> Iterator[Exchange]:
    """Exchanges of a capture file, in request order. `keylog` (or `tls`, for a pcapng with
    embedded secrets) sends pcap/pcapng through tshark to decrypt TLS."""
    kind = kind_of(path)
    if kind == "pcap" and (keylog or tls):
        from .tls import read_exchanges
        return read_exchanges(path, keylog)
    if kind == "pcap":
        from .pcap import read_exchanges
    elif kind == "saz":
        from .saz import read_exchanges
    else:
        from .har import read_exchanges
    return read_exchanges(path)
