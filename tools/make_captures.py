"""Build the synthesized sample captures in captures/ and the expected decodes of all of them.

    python tools/make_captures.py

The synthesized ones cover what real traffic from `mapiwire serve` (tools/record_captures.py)
does not: every one of the 24 request types, failure bodies, refusals, damaged TCP delivery and
malformed bodies. They are made from mapiwire.samples (bodies built through the protocol
definitions) and written by our own writers. The expected decode beside every capture
(`<name>.json`, `expected()`) is what `mapiwire dissect <name> --format json` prints, reviewed
when it changes.
"""

from __future__ import annotations

import argparse
import copy
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from mapiwire.dissect import lz77  # noqa: E402
from mapiwire.dissect.decode import Decoder  # noqa: E402
from mapiwire.dissect.exchange import Exchange  # noqa: E402
from mapiwire.dissect.sources import open_capture  # noqa: E402
from mapiwire.dissect.sources.writers import write_capture  # noqa: E402
from mapiwire.samples import address_book_session, failures, mailbox_session, outlook_flow  # noqa: E402

CAPTURES = os.path.join(ROOT, "captures")
# recorded (against gromox 3.10, or by tools/record_captures.py): kept as they are, decodes regenerated
RECORDED = ("gromox-*.pcapng", "serve-*.pcapng", "serve-*.har", "serve-*.saz")


def session_exchanges() -> list[Exchange]:
    """The Outlook-like mailbox session, the address book session and the refused requests."""
    return mailbox_session(outlook_flow(messages=40), pending=3) + address_book_session() + failures()


def malformed_exchanges() -> list[Exchange]:
    """One broken thing per exchange, each followed by decoding going on (issue: Bad input)."""
    good = mailbox_session(outlook_flow(messages=2))
    connect, execute = good[0], good[1]
    out = []

    truncated = copy.deepcopy(connect)  # a Connect request body cut short
    truncated.request.body = truncated.request.body[:40]
    out.append(truncated)

    bad_lz77 = copy.deepcopy(execute)  # an Execute whose compressed payload over-runs SizeActual
    body = bytearray(bad_lz77.request.body)
    ext = 8  # Flags(4) RopBufferSize(4), then RPC_HEADER_EXT
    size = int.from_bytes(body[ext + 4:ext + 6], "little")
    payload = lz77.compress(b"\x00" * 64)
    body[ext:ext + 8 + size] = (b"\x00\x00\x05\x00" + len(payload).to_bytes(2, "little") + (8).to_bytes(2, "little")
                                + payload)
    body[4:8] = (8 + len(payload)).to_bytes(4, "little")
    bad_lz77.request.body = bytes(body)
    out.append(bad_lz77)

    aux_overrun = copy.deepcopy(connect)  # an aux block whose Size runs past its buffer
    rbody = aux_overrun.request.body
    at = rbody.index(b"\x08\x00\x01\x01")  # the AUX_PERF_REQUESTID header
    aux_overrun.request.body = rbody[:at] + b"\xff\x00" + rbody[at + 2:]
    out.append(aux_overrun)

    garbage = copy.deepcopy(good[2])  # garbage after DONE
    garbage.response.body = garbage.response.body.replace(b"X-ElapsedTime: 12\r\n", b"\x01\x02garbage\r\n")
    garbage.response.chunks = None
    out.append(garbage)

    unknown_rop = copy.deepcopy(execute)  # an unknown RopId inside an otherwise valid buffer
    out.append(_with_rops(unknown_rop, bytes([0xE0, 0x00, 0x00, 0x00])))

    not_mapi = copy.deepcopy(good[-1])  # a POST with the MAPI content type but no X-RequestType, garbage body
    not_mapi.request.headers = [(k, v) for k, v in not_mapi.request.headers if k != "X-RequestType"]
    not_mapi.request.body = b"\xde\xad\xbe\xef" * 4
    not_mapi.request.headers = [(k, str(len(not_mapi.request.body)) if k == "Content-Length" else v)
                                for k, v in not_mapi.request.headers]
    out.append(not_mapi)

    out.append(copy.deepcopy(good[-2]))  # a valid PING: decoding went on
    for exchange in out:
        exchange.connection = "m1"
        for message in (exchange.request, exchange.response):
            if message is not None:
                message.headers = [(k, str(len(message.body)) if k == "Content-Length" else v)
                                   for k, v in message.headers]
    return out


def _with_rops(exchange: Exchange, rops: bytes) -> Exchange:
    """The Execute request with its ROP buffer replaced by an uncompressed one holding `rops`."""
    payload = (2 + len(rops)).to_bytes(2, "little") + rops
    ext = b"\x00\x00\x04\x00" + len(payload).to_bytes(2, "little") * 2 + payload
    body = exchange.request.body
    old = int.from_bytes(body[4:8], "little")
    exchange.request.body = body[:4] + len(ext).to_bytes(4, "little") + ext + body[8 + old:]
    return exchange


def expected(path: str, keylog: str | None = None) -> None:
    """Write `<path>.json`, the capture's expected decode (with the key log `<name>.keys` beside a
    TLS capture unless `keylog` is given)."""
    keys = os.path.splitext(path)[0] + ".keys"
    keylog = keylog or (keys if os.path.exists(keys) else None)
    decoder = Decoder()
    records = [r for r in (decoder.decode(e) for e in open_capture(path, keylog=keylog)) if r is not None]
    with open(path + ".json", "w") as f:
        json.dump(records, f, indent=1, ensure_ascii=False)
        f.write("\n")
    errors = sum(len(r["errors"]) for r in records)
    print(f"{os.path.relpath(path, ROOT)}: {len(records)} exchanges, {errors} errors")


def truncate_last_record(path: str, cut: int = 10) -> None:
    """A pcap whose last record is cut short: the reader reports it and stops."""
    with open(path, "r+b") as f:
        f.seek(0, os.SEEK_END)
        f.truncate(f.tell() - cut)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    os.makedirs(CAPTURES, exist_ok=True)
    exchanges = session_exchanges()

    path = os.path.join(CAPTURES, "outlook-session.pcapng")
    write_capture(path, exchanges, format="pcapng", mss=536)
    expected(path)
    path = os.path.join(CAPTURES, "outlook-session-damaged.pcap")
    write_capture(path, exchanges, format="pcap", mss=536, reorder=0.3, duplicate=0.2, overlap=0.1, seed=7)
    expected(path)
    path = os.path.join(CAPTURES, "malformed.pcap")
    write_capture(path, malformed_exchanges(), format="pcap")
    truncate_last_record(path)
    expected(path)
    for pattern in RECORDED:  # captured from a server, not made here: only their expected decodes
        for path in sorted(glob.glob(os.path.join(CAPTURES, pattern))):
            expected(path)


if __name__ == "__main__":
    main()
