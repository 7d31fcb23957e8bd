"""Throughput of `mapiwire dissect` beside tshark's plain HTTP pass on the same captures.

Generates two pcaps under bench/out/ (see bench/README.md for what they hold and why):
  realistic   many users' sessions like real Outlook traffic (recorded `mapiwire serve` traffic
              plus a folder view), at least --mb megabytes
  rop-heavy   Executes of 30 small ROPs each, at least --mb / 2 megabytes
and times, in the same run, on each:
  mapiwire dissect FILE --format ndjson -j 1     (everything: HTTP, bodies, ROPs, JSON; one worker)
  mapiwire dissect FILE --format ndjson          (the same, default workers)
  mapiwire stats FILE                            (transport only, default workers)
  tshark -r FILE -Y http -T fields -e http.request.method
printing MB/s, exchanges/s, peak memory and the ratio to tshark of each, what the capture holds,
and where one process spends its time (read, TCP/HTTP, bodies, ROPs, JSON). Then the memory check:
peak memory of the default run on a 1 GB capture (generated on demand under --tmp, deleted after)
beside the same on 100 MB. Ends with `ratio: <realistic, default workers / tshark>`. Not a test.
"""

from __future__ import annotations

import argparse
import collections
import compileall
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

BLOCK = 64 * 1024 * 1024  # bytes of HTTP messages built into packets at a time (generation memory)
USER_GAP = 1.5  # seconds between two users' sessions: they overlap, as on a server's link
EPOCH = 1_796_000_000.0  # the captures' first second (2026-11)
CLOCK = time.process_time  # the split counts CPU time: other load on the machine does not move it


# Captures ------------------------------------------------------------------------------------

def _user_realistic() -> list:
    """One user's exchanges: the recorded `mapiwire client --profile day` against `mapiwire serve`
    (captures/serve-day.pcapng), then a folder view of 50 rows (mapiwire.samples)."""
    from mapiwire.dissect.sources import open_capture
    from mapiwire.samples import mailbox_session, outlook_flow

    recorded = [e for e in open_capture(os.path.join(ROOT, "captures", "serve-day.pcapng"))
                if e.request is not None and e.response is not None]
    start = recorded[0].request.time
    view = mailbox_session(outlook_flow(messages=50))
    shift = recorded[-1].response.end_time + 1 - min(e.request.time for e in view)
    return _shifted(recorded, -start) + _shifted(view, shift - start)


def _user_rop_heavy() -> list:
    """One user's mailbox session whose Executes carry 30 small ROPs each (RopGetReceiveFolder,
    RopGetPropertyIdsFromNames, RopGetPropertiesSpecific, ten times), built by mapiwire.samples."""
    from mapiwire.samples import mailbox_session, outlook_flow

    flow = outlook_flow(messages=10)
    logon, folder, _, props, notify, release = flow
    receive, receive_response = logon[0][1], logon[2][1]
    (ids, get_props, _), (ids_response, props_response, _) = props[0], props[2]
    heavy = ([receive, ids, get_props] * 10, props[1], [receive_response, ids_response, props_response] * 10,
             props[3], folder[4])
    exchanges = mailbox_session([logon, folder, props] + [heavy] * 12 + [notify, release])
    return _shifted(exchanges, -min(e.request.time for e in exchanges if e.request))


def _shifted(exchanges: list, seconds: float) -> list:
    from mapiwire.dissect.exchange import Exchange

    return [Exchange(request=_copy(e.request, seconds, ""), response=_copy(e.response, seconds, ""),
                     connection=e.connection, client=e.client, server=e.server) for e in exchanges]


_COOKIE = re.compile(r"(^|;\s*)([^=;\s]+)=([^;]*)")


def _copy(message, seconds: float, suffix: str):
    """The message `seconds` later, each cookie value ending with `suffix` (a user of its own)."""
    from mapiwire.dissect.exchange import HttpMessage

    if message is None:
        return None
    headers = []
    for name, value in message.headers:
        lower = name.lower()
        if suffix and lower == "cookie":
            value = _COOKIE.sub(lambda m: f"{m[1]}{m[2]}={m[3]}{suffix}", value)
        elif suffix and lower == "set-cookie":
            value = _COOKIE.sub(lambda m: f"{m[1]}{m[2]}={m[3]}{suffix}", value, count=1)
        headers.append((name, value))
    copied = HttpMessage(headers=headers, body=message.body, method=message.method, target=message.target,
                         status=message.status, reason=message.reason, time=(message.time or 0) + seconds,
                         end_time=(message.end_time or message.time or 0) + seconds)
    if getattr(message, "chunks", None):
        copied.chunks = message.chunks
    return copied


def _users(base: list, first: int, target_bytes: int):
    """Copies of one user's exchanges, users `first`, `first + 1` ..., each with its own cookies,
    addresses and ports, until their HTTP messages add up to `target_bytes`; (exchanges, next user)."""
    from mapiwire.dissect.exchange import Exchange
    from mapiwire.dissect.sources.writers import serialize

    connections = {c: k for k, c in enumerate(dict.fromkeys(e.connection for e in base))}
    size = sum(len(serialize(e.request)) + len(serialize(e.response)) for e in base)
    out, total, user = [], 0, first
    while total < target_bytes:
        for e in base:
            k = connections[e.connection]
            client = f"10.{user // 250 % 250}.{user % 250}.{k + 1}:{40000 + k}"
            shift = EPOCH + user * USER_GAP
            out.append(Exchange(request=_copy(e.request, shift, f"-{user}"), response=_copy(e.response, shift, f"-{user}"),
                                connection=f"{e.connection}-{user}", client=client, server="10.0.0.1:443"))
        total += size
        user += 1
    return out, user


def make_capture(path: str, kind: str, megabytes: float) -> None:
    """Write the capture in blocks (memory stays that of one block, whatever the size)."""
    from mapiwire.dissect.sources.writers import build_packets, write_pcap

    base = _user_realistic() if kind == "realistic" else _user_rop_heavy()
    target, written, user = int(megabytes * 1e6), 0, 0
    with open(path, "wb") as f:
        while written < target:
            exchanges, user_after = _users(base, user, min(BLOCK, target - written))
            exchanges.sort(key=lambda e: e.request.time)
            block = io.BytesIO()
            write_pcap(block, build_packets(exchanges, seed=user))
            f.write(block.getbuffer()[24 if written else 0:])  # one file header only
            written = f.tell()
            user = user_after


def ensure(path: str, kind: str, megabytes: float) -> None:
    if not os.path.exists(path):
        print(f"generating {path} ...", flush=True)
        subprocess.run([sys.executable, __file__, "--generate", path, "--kind", kind, "--mb", str(megabytes)],
                       check=True)


# Timing ----------------------------------------------------------------------------------------

def timed(command: list[str], out_path: str) -> tuple[float, float]:
    """(seconds, peak RSS in MiB over the process and its workers) of one child process; its
    output goes to `out_path`. (Linux counts a child's peak from the parent's size at fork: the
    measuring process stays small.)"""
    env = dict(os.environ, MAPIWIRE_NO_PROGRESS="1")
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed")
    return seconds, usage.ru_maxrss / 1024


def split(path: str) -> dict:
    """Seconds one process spends in each stage of a full decode (run in a child: --split)."""
    from mapiwire.dissect import decode
    from mapiwire.dissect.defs.mapihttp import BODIES
    from mapiwire.dissect.sources import open_capture
    from mapiwire.dissect.sources import pcap

    spent = collections.Counter()
    start = CLOCK()
    with open(path, "rb") as f:
        for _ in pcap._open_packets(f, []):
            pass
    spent["read"] = CLOCK() - start
    start = CLOCK()
    for _ in open_capture(path):  # streamed, as dissect reads: a list of every exchange would make
        pass  # the garbage collector walk it again and again
    reading = CLOCK() - start
    spent["TCP/HTTP"] = reading - spent["read"]
    execute = {id(d) for d in (BODIES["Execute"].request, BODIES["Execute"].success)}

    def timer(function, stage):
        def wrapped(*args, **kwargs):
            begin = CLOCK()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage(args) if callable(stage) else stage] += CLOCK() - begin
        return wrapped

    decode.parse_body = timer(decode.parse_body, lambda args: "ROPs" if id(args[0]) in execute else "bodies")
    decode.to_json = timer(decode.to_json, "JSON")
    dumps = timer(decode_dumps(), "JSON")
    decoder = decode.Decoder()
    start = CLOCK()
    for exchange in open_capture(path):
        record = decoder.decode(exchange)
        if record is not None:
            dumps(record)
    total = CLOCK() - start - reading  # the reading again, counted above
    spent["records, sessions"] = total - spent["ROPs"] - spent["bodies"] - spent["JSON"]
    return dict(spent)


def decode_dumps():
    from mapiwire.dissect.render import dumps
    return dumps


def holds(ndjson_path: str) -> str:
    """What a capture holds, from its decode: request types, ROPs per Execute, rows per
    QueryRows, body sizes, PENDING and compression."""
    types, rops, per_execute, rows, sizes, pending, compressed, payloads = (
        collections.Counter(), collections.Counter(), [], [], [], 0, 0, 0)
    count = 0
    with open(ndjson_path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            count += 1
            types[record["request_type"]] += 1
            if "PENDING" in json.dumps((record.get("response") or {}).get("meta")):
                pending += 1
            for side in ("request", "response"):
                body = record.get(side) or {}
                buffer = body.get("RopBuffer") or {}
                for header in buffer.get("RPC_HEADER_EXT", []):
                    payloads += 1
                    compressed += "Compressed" in (header.get("FlagsName") or "")
                    sizes.append(header.get("SizeActual") or 0)
                listed = buffer.get("RopsList") or []
                if side == "request" and record["request_type"] == "Execute":
                    per_execute.append(len(listed))
                for rop in listed:
                    if side == "request":
                        rops[rop.get("RopName")] += 1
                    elif rop.get("RopName") == "RopQueryRows":
                        rows.append(len(rop.get("RowData") or []))
    mix = ", ".join(f"{t} {n * 100 // count}%" for t, n in types.most_common(6))
    rop_mix = ", ".join(f"{r} {n * 100 // max(1, sum(rops.values()))}%" for r, n in rops.most_common(5))
    sizes.sort()
    return (f"  request types: {mix}\n  ROPs per Execute: mean {sum(per_execute) / max(1, len(per_execute)):.1f}; "
            f"most: {rop_mix}\n  rows per QueryRows: {_spread(rows)}; ROP buffer payload bytes: {_spread(sizes)}\n"
            f"  PENDING in {pending * 100 // count}% of responses; {compressed * 100 // max(1, payloads)}% of "
            "ROP payloads compressed")


def _spread(values: list) -> str:
    if not values:
        return "none"
    values = sorted(values)
    return f"median {values[len(values) // 2]}, max {values[-1]}"


# The bench -------------------------------------------------------------------------------------

def bench(path: str, label: str) -> dict:
    size_mb = os.path.getsize(path) / 1e6
    mapiwire = [sys.executable, "-m", "mapiwire.cli"]
    rows = [("dissect -j 1", mapiwire + ["dissect", path, "--format", "ndjson", "-j", "1"]),
            ("dissect (default workers)", mapiwire + ["dissect", path, "--format", "ndjson"]),
            ("stats", mapiwire + ["stats", path])]
    if shutil.which("tshark"):
        rows.append(("tshark -Y http -T fields", ["tshark", "-r", path, "-Y", "http", "-T", "fields",
                                                  "-e", "http.request.method"]))
    out_path = path + ".out"
    measured, count, described = [], 0, ""
    for name, command in rows:
        seconds, peak = timed(command, out_path)
        if name == "dissect -j 1":
            with open(out_path, "rb") as f:
                count = sum(1 for _ in f)
            described = holds(out_path)
        measured.append((name, seconds, peak))
    os.unlink(out_path)
    anchor = next((size_mb / s for n, s, _ in measured if n.startswith("tshark")), None)
    print(f"\n{label}: {path}  {size_mb:.1f} MB  {count} MAPI exchanges")
    print(described)
    print(f"  {'reader':<28} {'seconds':>8} {'MB/s':>8} {'exch/s':>9} {'peak MiB':>9} {'× tshark':>9}")
    results = {}
    for name, seconds, peak in measured:
        results[name] = size_mb / seconds
        ratio = f"{size_mb / seconds / anchor:9.2f}" if anchor else "      n/a"
        print(f"  {name:<28} {seconds:8.2f} {size_mb / seconds:8.2f} {count / seconds:9.0f} {peak:9.0f} {ratio}")
    child = subprocess.run([sys.executable, __file__, "--split", path], check=True, capture_output=True, text=True)
    spent = json.loads(child.stdout)
    total = sum(spent.values())
    print("  one process, where the time goes: " + ", ".join(
        f"{stage} {seconds / total * 100:.0f}%" for stage, seconds in spent.items()) + f" (of {total:.1f} s)")
    return {"results": results, "anchor": anchor}


def memory_check(tmp: str, megabytes: float) -> None:
    """Peak memory of the default dissect on 100 MB and on 1 GB of the realistic mix."""
    usage = shutil.disk_usage(tmp)
    if usage.free < 3 * 1024 ** 3:
        print(f"\nmemory check skipped: {usage.free / 1e9:.1f} GB free in {tmp}, needs 3")
        return
    peaks = {}
    for size in (megabytes, 1000.0):
        path = os.path.join(tmp, f"mapiwire-bench-memory-{int(size)}mb.pcap")
        try:
            ensure(path, "realistic", size)
            seconds, peak = timed([sys.executable, "-m", "mapiwire.cli", "dissect", path, "--format", "ndjson"],
                                  os.devnull)
            peaks[size] = (os.path.getsize(path) / 1e6, seconds, peak)
        finally:
            if os.path.exists(path):
                os.unlink(path)
    (small_mb, small_s, small), (large_mb, large_s, large) = peaks[megabytes], peaks[1000.0]
    print(f"\nmemory check (dissect, default workers): {small_mb:.0f} MB -> peak {small:.0f} MiB "
          f"({small_mb / small_s:.1f} MB/s); {large_mb:.0f} MB -> peak {large:.0f} MiB ({large_mb / large_s:.1f} MB/s); "
          f"ratio {large / small:.2f} (goal <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of the realistic capture (MB)")
    parser.add_argument("--tmp", default="/tmp", help="where the 1 GB capture of the memory check goes")
    parser.add_argument("--no-memory-check", action="store_true")
    parser.add_argument("--generate", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="realistic", help=argparse.SUPPRESS)
    parser.add_argument("--split", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:  # in a child, so the measuring process stays small
        make_capture(args.generate, args.kind, args.mb)
        return
    if args.split:
        print(json.dumps(split(args.split)))
        return
    out = os.path.join(HERE, "out")
    os.makedirs(out, exist_ok=True)
    realistic = os.path.join(out, f"realistic-{int(args.mb)}mb.pcap")
    heavy = os.path.join(out, f"rop-heavy-{int(args.mb / 2)}mb.pcap")
    ensure(realistic, "realistic", args.mb)
    ensure(heavy, "rop-heavy", args.mb / 2)
    # as an installed package runs: compiled once (PYTHONDONTWRITEBYTECODE, set on some machines,
    # would otherwise make every timed process compile each module again)
    compileall.compile_dir(os.path.join(ROOT, "mapiwire"), quiet=1)
    # and with the generated parser in its cache, as every run after a user's first one
    subprocess.run([sys.executable, "-c", "from mapiwire.dissect import fastpath; fastpath.tree()"], check=True)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    main_run = bench(realistic, "realistic")
    bench(heavy, "rop-heavy")
    if not args.no_memory_check:
        memory_check(args.tmp, args.mb)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    anchor = main_run["anchor"]
    ours = main_run["results"]["dissect (default workers)"]
    print(f"ratio: {ours / anchor:.3f}" if anchor else "ratio: n/a (tshark not installed)")


if __name__ == "__main__":
    main()
