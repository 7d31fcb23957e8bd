"""Exchanges -> a HAR, SAZ, pcap or pcapng file, through the dissector's writers.

HAR and SAZ (`sources/archives.py`) keep each message's headers, body and times as they went over
the wire. pcap/pcapng (`sources/writers.py`) are rebuilt from the HTTP messages (our own TCP
framing, one connection per `Exchange.connection`); a capture of the real packets is what
tools/record_captures.py takes with tshark beside it.
"""

from __future__ import annotations

import os
from typing import Iterable

from ..dissect.exchange import Exchange
from ..errors import UsageError

FORMATS = (".har", ".saz", ".pcap", ".pcapng")


def record(exchanges: Iterable[Exchange], path: str | os.PathLike) -> str:
    """Write the exchanges that have a request to `path`; the format comes from its suffix.
    Returns the format written."""
    from ..dissect.sources.archives import write_har, write_saz
    from ..dissect.sources.writers import write_capture

    suffix = os.path.splitext(str(path))[1].lower()
    if suffix not in FORMATS:
        raise UsageError(f"cannot record to {path}: the name must end in {', '.join(FORMATS)}")
    chosen = [e for e in exchanges if e.request is not None]
    if suffix == ".har":
        write_har(chosen, path)
    elif suffix == ".saz":
        write_saz(chosen, path)
    else:
        write_capture(path, chosen, format=suffix[1:])
    return suffix[1:]
