"""Capture readers: files in, `Exchange` objects out (the only I/O of dissect).

`open_capture` picks the reader by the file's first bytes: pcap / pcapng (our own reader and
TCP reassembly; through tshark when a TLS key log is given), a zip (Fiddler SAZ) or JSON (HAR).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

from ...errors import MalformedError, UsageError
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


DECRYPTION_SECRETS_BLOCK = 0x0000000A  # pcapng 4.7: TLS key log lines embedded in the capture
PACKET_BLOCKS = (0x00000006, 0x00000003, 0x00000002)  # Enhanced, Simple, obsolete Packet Block
HEAD_BLOCKS = 1024  # blocks looked at before the first packet


def has_secrets(path: str) -> bool:
    """Whether a pcapng carries a Decryption Secrets Block (`editcap --inject-secrets`) before
    its first packet, where editcap and Wireshark put them."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] != PCAPNG_MAGIC or len(head) < 12:
                return False
            order = "little" if head[8:12] == b"\x4d\x3c\x2b\x1a" else "big"
            f.seek(0)
            for _ in range(HEAD_BLOCKS):
                header = f.read(8)
                if len(header) < 8:
                    return False
                block, length = int.from_bytes(header[:4], order), int.from_bytes(header[4:], order)
                if block == DECRYPTION_SECRETS_BLOCK:
                    return True
                if block in PACKET_BLOCKS or length < 12:
                    return False
                f.seek(length - 8, 1)
    except OSError:
        return False
    return False


class Progress:
    """How far a reader is in its file: `tell()` gives the bytes read so far, where the reader can
    say (our pcap reader); None otherwise (tshark reads the file itself; HAR and SAZ are read whole)."""

    def __init__(self):
        self.tell: Callable[[], int] | None = None


def shardable(path: str, keylog: str | None = None, tls: bool = False) -> bool:
    """Whether open_capture reads the file with our own pcap reader, which can follow a share of
    the connections (`shard`): a pcap or pcapng, no key log, no embedded secrets."""
    return kind_of(path) == "pcap" and not keylog and not tls and not has_secrets(path)


def open_capture(path: str, keylog: str | None = None, tls: bool = False,
                 progress: Progress | None = None, shard: tuple[int, int] | None = None) -> Iterator[Exchange]:
    """Exchanges of a capture file, in request order. A key log, or a pcapng that carries its TLS
    secrets (found by itself, as Wireshark does; `tls` insists on them), sends pcap/pcapng
    through tshark to decrypt TLS. `shard=(k, n)`: share k of n of the TCP connections (only
    where `shardable`; pcap.read_exchanges)."""
    kind = kind_of(path)
    secrets = kind == "pcap" and not keylog and has_secrets(path)
    if tls and not keylog and not secrets:
        raise UsageError(f"{path} carries no TLS secrets (no Decryption Secrets Block); give the key log "
                         "with --keylog KEYS, or embed it: editcap --inject-secrets tls,KEYS IN OUT")
    if kind == "pcap" and (keylog or secrets):
        from .tls import read_exchanges
        return read_exchanges(path, keylog)
    if shard is not None and not (kind == "pcap" and not keylog and not secrets):
        raise UsageError(f"{path}: only a plain pcap or pcapng is read in shares")
    if kind == "pcap":
        from .pcap import read_exchanges

        if shard is not None:
            read_exchanges = functools.partial(read_exchanges, shard=shard)
        if progress is not None:
            return _told(read_exchanges, path, progress)
    elif kind == "saz":
        from .saz import read_exchanges
    else:
        from .har import read_exchanges
    return read_exchanges(path)


def _told(read_exchanges, path: str, progress: Progress) -> Iterator[Exchange]:
    """The pcap reader on a file opened here, so that `progress.tell` is its position."""
    try:
        f = open(path, "rb", buffering=1024 * 1024)
    except OSError as exc:
        raise MalformedError(f"cannot read {path}: {exc.strerror}", where="file") from exc
    try:
        exchanges = read_exchanges(f)
    except BaseException:
        f.close()
        raise
    progress.tell = f.tell
    return _closing(exchanges, f)


def _closing(exchanges: Iterator[Exchange], f) -> Iterator[Exchange]:
    try:
        yield from exchanges
    finally:
        f.close()
