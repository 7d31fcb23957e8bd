"""The seven inputs of issue 9, built with the project's own writers (tests and tools/fuzz.py).

Each builder writes a capture file and returns its path. Bodies are built through the
definitions (mapiwire.samples.Session, `build`), captures with dissect/sources/writers.py and
archives.py.
"""

from __future__ import annotations

import os

from mapiwire.dissect import lz77
from mapiwire.dissect.defs.core import build
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.dissect.defs.ropbuffer import RopInputBuffer
from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.dissect.sources.archives import write_har, write_saz
from mapiwire.dissect.sources.writers import build_packets, write_capture, write_pcapng
from mapiwire.samples import Session, aux, ext

COMPRESSED = {"Version": 0, "Flags": 0x1}  # the builder adds Last to the last payload
RELEASE = {"RopId": 0x01, "LogonId": 0, "InputHandleIndex": 0}  # RopRelease, 3 bytes
OPEN_FOLDER_FAILED = {"RopId": 0x02, "OutputHandleIndex": 0, "ReturnValue": 0x8004010F}  # 02 00 0f010480


def _session() -> Session:
    session = Session("emsmdb")
    session.cookies = {"MapiContext": "ctx-adversarial", "MapiSequence": "seq-1"}
    return session


def _rop_buffer(rops: list, payloads: int, handles: list | None = None) -> dict:
    """A RopBuffer value of `payloads` LZ77-compressed payloads, each holding `rops`."""
    payload = {"RopsList": rops, "ServerObjectHandleTable": handles or []}
    if payloads == 1:
        return ext(payload, {"Version": 0, "Flags": 0x5})
    return {"RPC_HEADER_EXT": [dict(COMPRESSED) for _ in range(payloads)], "Payloads": [payload] * payloads}


def _execute(session: Session, request_rops: list, response_rops: list, payloads: int = 1,
             request_handles: list | None = None, response_handles: list | None = None,
             raw_request: bytes | None = None) -> Exchange:
    return session.add(
        "Execute",
        {"Flags": 0, "RopBuffer": _rop_buffer(request_rops, payloads, request_handles), "MaxRopOut": 0x40000,
         "AuxiliaryBuffer": aux()},
        {"StatusCode": 0, "ErrorCode": 0, "Flags": 0,
         "RopBuffer": _rop_buffer(response_rops, payloads, response_handles), "AuxiliaryBuffer": aux()},
        response_params={"request_rops": []}, raw_request=raw_request)


# 1. a pcapng packet time out of range ------------------------------------------------------------

TIME_VARIANTS = {
    "tsresol-0": {"tsresol": 0},  # one tick per second, stamps written in microseconds
    "tsresol-0x80": {"tsresol": 0x80},  # 2^0: one tick per second too
    "tsoffset-max": {"tsresol": 6, "tsoffset": 2 ** 63 - 1},
    "tsoffset-min": {"tsresol": 6, "tsoffset": -2 ** 63},
    "tsoffset-1e12": {"tsresol": 6, "tsoffset": -10 ** 12},
}


def bad_time_pcapng(path: str, variant: str = "tsresol-0") -> str:
    """One PING exchange behind an IDB whose if_tsresol/if_tsoffset puts its times out of range."""
    session = _session()
    session.add("PING", None, None)
    interface = dict(TIME_VARIANTS[variant], link="ether")
    packets = build_packets(session.exchanges)
    if "tsoffset" not in interface:  # microsecond stamps read as seconds: the year 55 million
        packets = [(time * 1e6, frame) for time, frame in packets]
    write_pcapng(path, packets, interfaces=[interface])
    return path


# 3. pairing: responses that pair with nothing ----------------------------------------------------

def pairing_pcapng(path: str, releases: int = 21_843, payloads: int = 1) -> str:
    """An Execute of `releases` RopRelease per payload answered by half as many failed
    RopOpenFolder responses: none pairs with a request."""
    session = _session()
    _execute(session, [RELEASE] * releases, [OPEN_FOLDER_FAILED] * (releases // 2), payloads)
    write_capture(path, session.exchanges)
    return path


# 4. amplification: 96 payloads of 64 KB of ROPs --------------------------------------------------

def amplification_body(releases: int = 21_843, payloads: int = 96) -> bytes:
    """An Execute request body of `payloads` LZ77 payloads, each `releases` RopRelease (64 KB
    plain: 2.1 million ROPs). One payload is built and compressed; the others reuse its bytes."""
    plain = build(RopInputBuffer, {"RopsList": [RELEASE] * releases, "ServerObjectHandleTable": []})
    wire = lz77.compress(plain)
    header = dict(COMPRESSED, _plain=plain, _wire=wire)
    buffer = {"RPC_HEADER_EXT": [dict(header) for _ in range(payloads)], "Payloads": [{"Undecoded": plain}] * payloads}
    return build(BODIES["Execute"].request, {"Flags": 0, "RopBuffer": buffer, "MaxRopOut": 0x40000,
                                             "AuxiliaryBuffer": aux()})


def amplification_pcapng(path: str) -> str:
    """The amplification request in a capture, answered by an empty RopBuffer."""
    session = _session()
    _execute(session, [], [], raw_request=amplification_body())
    write_capture(path, session.exchanges)
    return path


# 5. session state: column sets on handles never released ----------------------------------------

def state_pcapng(path: str, exchanges: int = 100, tags: int = 16_380) -> str:
    """`exchanges` Execute exchanges in one session, each a compressed RopSetColumns of `tags`
    tags on a new server handle that is never released (the request is built once)."""
    session = _session()
    columns = [{"PropertyType": 0x0003, "PropertyId": 0x3001 + i % 0x100} for i in range(tags)]
    request = None
    for number in range(exchanges):
        handle = 0x1000 + number
        exchange = _execute(session,
                            [{"RopId": 0x12, "LogonId": 0, "InputHandleIndex": 0, "SetColumnsFlags": 0,
                              "PropertyValueCount": tags, "PropertyTags": columns}] if request is None else [],
                            [{"RopId": 0x12, "InputHandleIndex": 0, "ReturnValue": 0, "TableStatus": 0}],
                            request_handles=[0x1000], response_handles=[handle], raw_request=request)
        request = exchange.request.body
    write_capture(path, session.exchanges)
    return path


# 6. TCP reassembly: one lost segment, then one-byte segments ------------------------------------

def reassembly_pcapng(path: str, segments: int = 40_000) -> str:
    """A request whose body goes out in one-byte segments, the fifth of them lost: every later
    segment waits in the out-of-order buffer."""
    session = _session()
    session.add("PING", None, None)
    exchange = session.exchanges[0]
    exchange.request.body = bytes(segments)
    exchange.request.headers = [(k, str(segments) if k == "Content-Length" else v)
                                for k, v in exchange.request.headers]
    write_capture(path, session.exchanges, mss=1, ack_every=0, drop=[(0, "request", 200)])
    return path


# 7. a large body ---------------------------------------------------------------------------------

def _large_exchange(size: int) -> Exchange:
    """An Execute whose request body is `size` bytes (a RopBuffer that does not decode)."""
    session = _session()
    session.add("PING", None, None)
    exchange = session.exchanges[0]
    request = exchange.request
    headers = [(k, "Execute" if k == "X-RequestType" else v) for k, v in request.headers if k != "Content-Length"]
    exchange.request = HttpMessage(headers=headers + [("Content-Length", str(size))], body=bytes(size),
                                   method=request.method, target=request.target, time=request.time)
    return exchange


def large_body(path: str, kind: str, size: int = 60 * 1024 * 1024) -> str:
    """One exchange with a `size`-byte request body, as "pcap", "har" or "saz"."""
    exchanges = [_large_exchange(size)]
    if kind == "pcap":
        write_capture(path, exchanges, mss=65_000, link="raw")
    elif kind == "har":
        write_har(exchanges, path)
    else:
        write_saz(exchanges, path)
    return path


def all_inputs(directory: str) -> dict[str, tuple[str, list]]:
    """name -> (path, extra CLI arguments) of every adversarial input, built in `directory`."""
    join = os.path.join
    inputs = {f"time-{v}": (bad_time_pcapng(join(directory, f"time-{v}.pcapng"), v), []) for v in TIME_VARIANTS}
    inputs["pairing"] = (pairing_pcapng(join(directory, "pairing.pcapng")), [])
    inputs["pairing-96"] = (pairing_pcapng(join(directory, "pairing-96.pcapng"), 21_843 // 96 * 2, 96), [])
    inputs["amplification"] = (amplification_pcapng(join(directory, "amplification.pcapng")), [])
    inputs["state"] = (state_pcapng(join(directory, "state.pcapng")), [])
    inputs["reassembly"] = (reassembly_pcapng(join(directory, "reassembly.pcapng")), [])
    for kind in ("pcap", "har", "saz"):
        inputs[f"large-{kind}"] = (large_body(join(directory, f"large.{kind}"), kind), [])
    return inputs
