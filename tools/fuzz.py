"""Mutation campaign against the dissector (issue 9). Not part of the test run.

    python3 tools/fuzz.py --cases 100000 --seed 1
    python3 tools/fuzz.py --seconds 1800 --out /tmp/fuzz-repro

Seeds: the MAPI/HTTP exchanges of the sample captures in captures/ (those that need no key log)
and of the synthesized sessions the tests use (mapiwire.samples), the capture files themselves,
and the ROP test vectors (tests/dissect/defs/rops). Each case mutates one seed and runs it
through what `dissect` runs (reader, Decoder, JSON and text rendering) or, for a vector, what
`decode --as rop-request/rop-response` runs:

- body: byte-level damage to a request or response body (flips, interesting integers, inserts,
  deletions, splices, truncation);
- field: interesting 1/2/4-byte values at the field offsets of a ROP buffer (each ROP's start,
  RopId, the counts and sizes after it), found by parsing the payload with the definitions;
- payload: the plain ROP payload of an Execute mutated, then LZ77-compressed and XOR-obfuscated
  again as its RPC_HEADER_EXT says (built with the definitions), or its compressed bytes damaged;
- file: damage to a whole capture file (bytes, truncation, duplicated and dropped blocks);
- vector: byte-level damage to a ROP test vector.

An exception escaping those steps, or a case over --slow seconds, is a finding: counted by kind
and place (the innermost mapiwire frame), minimised by removing chunks while the same
exception recurs, and saved to --out as <n>-<kind>.bin with a .json describing it. The summary
gives cases run, exceptions by kind and place, the slowest case and peak memory.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from mapiwire.dissect import lz77  # noqa: E402
from mapiwire.dissect.decode import Decoder  # noqa: E402
from mapiwire.dissect.decodeas import decode_as  # noqa: E402
from mapiwire.dissect.defs.core import build, parse  # noqa: E402
from mapiwire.dissect.defs.mapihttp import BODIES  # noqa: E402
from mapiwire.dissect.defs.ropbuffer import RopList  # noqa: E402
from mapiwire.dissect.exchange import Exchange, HttpMessage  # noqa: E402
from mapiwire.dissect.render import dumps, render_text  # noqa: E402
from mapiwire.dissect.sources import open_capture  # noqa: E402
from mapiwire.errors import MalformedError  # noqa: E402
from mapiwire import samples  # noqa: E402

INTERESTING = (0, 1, 2, 3, 4, 7, 8, 0x0F, 0x10, 0x1F, 0x20, 0x3F, 0x40, 0x7F, 0x80, 0xFF, 0x100, 0x3FF, 0x7FFF,
               0x8000, 0x8001, 0xFFFE, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
WATCHDOG = 10  # seconds before a case is stopped and reported as a hang


class Hang(Exception):
    """A case ran past the watchdog."""


def _alarm(signum, frame):
    raise Hang(f"over {WATCHDOG} s")


# seeds ------------------------------------------------------------------------------------------

def load_seeds() -> tuple[list[Exchange], list[tuple[str, bytes]]]:
    """(MAPI/HTTP exchanges, capture files) to mutate."""
    exchanges: list[Exchange] = []
    files = []
    captures = os.path.join(ROOT, "captures")
    for name in sorted(os.listdir(captures)):
        path = os.path.join(captures, name)
        if name.endswith((".json", ".md", ".keys")) or "tls" in name:
            continue
        with open(path, "rb") as f:
            files.append((name, f.read()))
        exchanges += [e for e in open_capture(path) if e.request is not None]
    exchanges += samples.mailbox_session(samples.outlook_flow()) + samples.address_book_session() + samples.failures()
    return [e for e in exchanges if e.request.header("X-RequestType")], files


def load_vectors() -> list[tuple[str, bytes]]:
    """(rop-request or rop-response, bytes) of every ROP test vector."""
    import importlib
    import pkgutil

    from tests.dissect.defs import rops as vector_modules

    vectors = []
    for module in pkgutil.iter_modules(vector_modules.__path__):
        if module.name.startswith("test_"):
            for item in getattr(importlib.import_module(f"{vector_modules.__name__}.{module.name}"), "VECTORS", ()):
                at = next((i for i, x in enumerate(item) if hasattr(x, "parse_stream")), None)
                if at is None or not isinstance(item[at + 1], str):
                    continue
                structure = "rop-response" if "Response" in (item[at].docs or "") else "rop-request"
                try:
                    vectors.append((structure, bytes.fromhex(item[at + 1].replace(" ", ""))))
                except ValueError:
                    continue
    return vectors


# mutations --------------------------------------------------------------------------------------

def _bytes_mutation(data: bytes, rng: random.Random) -> bytes:
    """One to four byte-level changes."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        at = rng.randrange(len(out) + 1) if out else 0
        if op == 0 and out:  # bit flip
            at = min(at, len(out) - 1)
            out[at] ^= 1 << rng.randrange(8)
        elif op == 1 and out:  # random byte
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif op == 2:  # interesting integer
            out[at:at + 4] = _interesting(rng)
        elif op == 3:  # insert
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 4:  # delete
            del out[at:at + rng.randint(1, 16)]
        elif op == 5 and out:  # duplicate a slice
            end = min(len(out), at + rng.randint(1, 64))
            out[at:at] = out[at:end] * rng.randint(1, 8)
        else:  # truncate
            del out[at:]
    return bytes(out)


def _interesting(rng: random.Random) -> bytes:
    value = rng.choice(INTERESTING)
    size = rng.choice((1, 2, 4))
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def _rop_offsets(plain: bytes, side: str) -> list[int]:
    """Start offsets of the ROPs in a plain ROP buffer (RopSize, then the ROPs), found by
    parsing it and building each ROP again; [] when it does not parse."""
    size = int.from_bytes(plain[:2], "little")
    try:
        rops = parse(RopList(side), plain[2:size], request_rops=[], errors=[])
    except Exception:  # noqa: BLE001 - a seed that does not parse simply has no field offsets
        return []
    offsets, at = [], 2
    for rop in rops:
        offsets.append(at)
        try:
            at += len(build(RopList(side), [rop], request_rops=[]))
        except Exception:  # noqa: BLE001
            break
    return offsets


def _payload(exchange: Exchange, side: str):
    """(body definition, parsed body, RopBuffer value) of an Execute side, or None."""
    body_def = BODIES.get(exchange.request.header("X-RequestType") or "")
    message = exchange.request if side == "request" else exchange.response
    if body_def is None or body_def.request_type != "Execute" or message is None:
        return None
    data = message.body
    if side == "response":
        split = data.find(b"\r\n\r\n")
        data = data[split + 4:] if split >= 0 else b""
    definition = body_def.request if side == "request" else body_def.success
    try:
        value = parse(definition, data, errors=[], request_rops=[], logons={})
    except Exception:  # noqa: BLE001
        return None
    buffer = value.get("RopBuffer")
    if not buffer or not buffer.get("RPC_HEADER_EXT") or "Payloads" in buffer:
        return None
    return definition, value, buffer


def _rebuilt(definition, value, buffer, plain: bytes, flags: int) -> bytes | None:
    """The body with its one payload replaced by `plain`, compressed/obfuscated per `flags`."""
    value = dict(value)
    value["RopBuffer"] = {"RPC_HEADER_EXT": [{"Version": 0, "Flags": flags}], "Undecoded": plain}
    try:
        return build(definition, value)
    except Exception:  # noqa: BLE001 - a plain payload over 64 KB cannot be built: no case
        return None


def mutate_payload(exchange: Exchange, side: str, rng: random.Random, fields: bool) -> bytes | None:
    """A new body for `side`: its plain payload mutated (at ROP field offsets when `fields`),
    or its LZ77 bytes damaged, the header flags kept."""
    found = _payload(exchange, side)
    if found is None:
        return None
    definition, value, buffer = found
    header = buffer["RPC_HEADER_EXT"][0]
    plain = header.get("_plain")
    if plain is None:
        return None
    flags = int(header["Flags"]) & 0x3
    if not fields and flags & 0x1 and rng.random() < 0.3:  # damage the compressed stream itself
        wire = _bytes_mutation(lz77.compress(plain), rng)
        wire = lz77.xor(wire) if flags & 0x2 else wire
        body = _rebuilt(definition, value, buffer, b"", 0)
        if body is None:
            return None
        head = build(definition, dict(value, RopBuffer={"RPC_HEADER_EXT": [{"Version": 0, "Flags": 0}],
                                                         "Undecoded": b""}))
        return head if not wire else _splice_wire(head, wire, len(plain), flags)
    if fields:
        offsets = _rop_offsets(plain, side)
        if not offsets:
            return None
        out = bytearray(plain)
        for _ in range(rng.randint(1, 3)):
            at = rng.choice(offsets) + rng.choice((0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12))
            if rng.random() < 0.3 and at < len(out):
                out[at] = rng.randrange(256)  # a RopId (or a byte) of another kind
            else:
                out[at:at + 4] = _interesting(rng)
        plain = bytes(out)
    else:
        plain = _bytes_mutation(plain, rng)
    return _rebuilt(definition, value, buffer, plain, flags)


def _splice_wire(head: bytes, wire: bytes, size_actual: int, flags: int) -> bytes | None:
    """An Execute request body whose empty RopBuffer is replaced by a header and `wire`."""
    if len(wire) > 0xFFFF or size_actual > 0xFFFF:
        return None
    header = (0).to_bytes(2, "little") + (flags | 0x4).to_bytes(2, "little") + len(wire).to_bytes(2, "little") \
        + size_actual.to_bytes(2, "little")
    size = int.from_bytes(head[4:8], "little")
    rest = head[8 + size:]
    buffer = header + wire
    return head[:4] + len(buffer).to_bytes(4, "little") + buffer + rest


def _with_body(exchange: Exchange, side: str, body: bytes) -> Exchange:
    request, response = exchange.request, exchange.response
    if side == "request":
        request = HttpMessage(headers=request.headers, body=body, method=request.method, target=request.target,
                              time=request.time)
    elif response is not None:
        if side == "response-payload":  # the meta-tag head stays, the body after it changes
            split = response.body.find(b"\r\n\r\n")
            body = response.body[:split + 4] + body if split >= 0 else body
        response = HttpMessage(headers=response.headers, body=body, status=response.status, reason=response.reason,
                               time=response.time, end_time=response.end_time)
    return Exchange(request, response, exchange.connection, exchange.client, exchange.server)


# running a case ---------------------------------------------------------------------------------

def run_exchange(exchange: Exchange) -> None:
    """What dissect does with one exchange."""
    record = Decoder().decode(exchange)
    if record is not None:
        dumps(record)
        render_text(record)


def run_file(data: bytes, suffix: str, scratch: str) -> None:
    """What dissect does with a capture file."""
    path = os.path.join(scratch, "case" + suffix)
    with open(path, "wb") as f:
        f.write(data)
    try:
        exchanges = open_capture(path)
    except MalformedError:
        return  # the documented one-line refusal (exit status 2)
    decoder = Decoder()
    for exchange in exchanges:
        record = decoder.decode(exchange)
        if record is not None:
            dumps(record)
            render_text(record)


def place(exc: BaseException) -> str:
    """The innermost frame of the package where an exception was raised."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.sep + "mapiwire" + os.sep in f.filename]
    if not frames:
        return "?"
    frame = frames[-1]
    return f"{os.path.relpath(frame.filename, ROOT)}:{frame.lineno} {frame.name}"


def signature(fn) -> tuple[str, str] | None:
    """(kind, place) of the exception `fn()` raises, or None."""
    signal.alarm(WATCHDOG)
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - every escaping exception is a finding
        return type(exc).__name__, place(exc)
    finally:
        signal.alarm(0)
    return None


def minimise(data: bytes, still_fails) -> bytes:
    """Remove chunks of `data` while `still_fails(smaller)` holds (ddmin, bounded)."""
    chunk = max(1, len(data) // 2)
    tries = 0
    while chunk >= 1 and tries < 300:
        at = 0
        shrunk = False
        while at < len(data) and tries < 300:
            candidate = data[:at] + data[at + chunk:]
            tries += 1
            if candidate and still_fails(candidate):
                data = candidate
                shrunk = True
            else:
                at += chunk
        if not shrunk:
            chunk //= 2
    return data


# the campaign -----------------------------------------------------------------------------------

class Campaign:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.exchanges, self.files = load_seeds()
        self.vectors = load_vectors()
        self.executes = [e for e in self.exchanges if (e.request.header("X-RequestType") or "").lower() == "execute"]
        self.found = collections.Counter()
        self.cases = 0
        self.kinds = collections.Counter()
        self.slowest = (0.0, "")
        self.saved = 0
        self.scratch = tempfile.mkdtemp(prefix="mapiwire-fuzz-")
        os.makedirs(args.out, exist_ok=True)

    def case(self):
        """(description, bytes, runner of bytes) of one new case, or None."""
        rng = self.rng
        roll = rng.random()
        if roll > 0.9:
            structure, data = rng.choice(self.vectors)
            return (f"vector {structure}", _bytes_mutation(data, rng),
                    lambda d: dumps(decode_as(structure, d)))
        if roll < 0.05:
            name, data = rng.choice(self.files)
            suffix = os.path.splitext(name)[1]
            return f"file {name}", _bytes_mutation(data, rng), lambda d: run_file(d, suffix, self.scratch)
        exchange = rng.choice(self.executes if roll < 0.45 else self.exchanges)
        side = "request" if exchange.response is None or rng.random() < 0.5 else "response"
        if roll < 0.45:
            fields = roll < 0.3
            body = mutate_payload(exchange, side, rng, fields)
            if body is not None:
                target = "request" if side == "request" else "response-payload"
                return (f"{'field' if fields else 'payload'} {exchange.request.header('X-RequestType')} {side}", body,
                        lambda d: run_exchange(_with_body(exchange, target, d)))
        message = exchange.request if side == "request" else exchange.response
        return (f"body {exchange.request.header('X-RequestType')} {side}", _bytes_mutation(message.body, rng),
                lambda d: run_exchange(_with_body(exchange, side, d)))

    def run(self):
        signal.signal(signal.SIGALRM, _alarm)
        start = time.monotonic()
        memory_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        while True:
            if self.args.cases and self.cases >= self.args.cases:
                break
            if self.args.seconds and time.monotonic() - start >= self.args.seconds:
                break
            description, data, runner = self.case()
            self.cases += 1
            self.kinds[description.split()[0]] += 1
            began = time.perf_counter()
            found = signature(lambda: runner(data))
            spent = time.perf_counter() - began
            if spent > self.slowest[0]:
                self.slowest = (spent, description)
            if found is not None:
                self.found[found] += 1
                if self.found[found] == 1:
                    self.save(found, description, data, runner)
            elif spent > self.args.slow:
                self.found[("Slow", f"over {self.args.slow} s: {description}")] += 1
                self.save(("Slow", description), description, data, None)
            if self.args.progress and self.cases % self.args.progress == 0:
                self.report(time.monotonic() - start, memory_start, final=False)
        self.report(time.monotonic() - start, memory_start, final=True)

    def save(self, found, description, data, runner):
        if runner is not None:
            data = minimise(data, lambda d: signature(lambda: runner(d)) == found)
        self.saved += 1
        stem = os.path.join(self.args.out, f"{self.saved:03d}-{found[0]}")
        with open(stem + ".bin", "wb") as f:
            f.write(data)
        with open(stem + ".json", "w") as f:
            json.dump({"case": description, "kind": found[0], "place": found[1], "seed": self.args.seed,
                       "size": len(data)}, f, indent=1)

    def report(self, elapsed: float, memory_start: int, final: bool):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        exceptions = sum(n for (kind, _), n in self.found.items() if kind != "Slow")
        slow = sum(n for (kind, _), n in self.found.items() if kind == "Slow")
        lines = [f"cases {self.cases} in {elapsed:.0f} s ({self.cases / max(elapsed, 1e-9):.0f}/s): "
                 + ", ".join(f"{k} {n}" for k, n in sorted(self.kinds.items())),
                 f"exceptions {exceptions}, cases over {self.args.slow} s {slow}"]
        lines += [f"  {n} x {kind} at {where}" for (kind, where), n in self.found.most_common()]
        lines.append(f"slowest case {self.slowest[0] * 1000:.0f} ms ({self.slowest[1]})")
        lines.append(f"peak memory {peak / 1024:.0f} MiB (after loading the seeds {memory_start / 1024:.0f} MiB)")
        if final:
            lines.append(f"reproducers in {self.args.out}: {self.saved}")
        print("\n".join(lines), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=0, help="stop after this many cases")
    parser.add_argument("--seconds", type=float, default=0, help="stop after this many seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "mapiwire-fuzz"),
                        help="directory for minimised reproducers")
    parser.add_argument("--slow", type=float, default=1.0, help="seconds past which a case is a finding")
    parser.add_argument("--progress", type=int, default=0, help="print the figures every N cases")
    args = parser.parse_args()
    if not args.cases and not args.seconds:
        args.cases = 10_000
    Campaign(args).run()


if __name__ == "__main__":
    main()
