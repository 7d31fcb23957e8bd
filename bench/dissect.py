"""Throughput of `mapiwire dissect` beside tshark's plain HTTP pass on the same capture.

Generates a pcap of synthesized MAPI/HTTP sessions (at least --mb megabytes, default 50) under
bench/out/, then times, in the same run:
  mapiwire dissect FILE --format ndjson        (everything: HTTP, bodies, ROPs, JSON)
  mapiwire stats FILE                          (transport only)
  tshark -r FILE -Y http -T fields -e http.request.method
and prints MB/s, exchanges/s and peak memory of each, ending with `ratio: <mapiwire/tshark>`
(MB/s of the full dissect over tshark's; above 1 means faster than tshark). Not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from mapiwire.dissect.sources.writers import write_capture  # noqa: E402
from mapiwire.samples import sessions_for_bench  # noqa: E402


def make_capture(path: str, megabytes: float) -> int:
    exchanges = sessions_for_bench(int(megabytes * 1024 * 1024))
    write_capture(path, exchanges, format="pcap")
    return len(exchanges)


def timed(command: list[str], out_path: str) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one child process; its output goes to `out_path`.
    (Linux counts a child's peak from the parent's size at fork: keep this process small.)"""
    env = dict(os.environ, MAPIWIRE_NO_PROGRESS="1")
    start = time.perf_counter()
    with open(out_path, "wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="capture size to generate (MB)")
    parser.add_argument("--file", help="use this capture instead of generating one")
    parser.add_argument("--generate", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:  # run in a child, so the measuring process stays small
        make_capture(args.generate, args.mb)
        return
    path = args.file or os.path.join(HERE, "out", f"bench-{int(args.mb)}mb.pcap")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        print(f"generating {path} ...", flush=True)
        subprocess.run([sys.executable, __file__, "--mb", str(args.mb), "--generate", path], check=True)
    size_mb = os.path.getsize(path) / 1e6
    mapiwire = [sys.executable, "-m", "mapiwire.cli"]
    rows = [("mapiwire dissect --format ndjson", mapiwire + ["dissect", path, "--format", "ndjson"]),
            ("mapiwire stats", mapiwire + ["stats", path])]
    if shutil.which("tshark"):
        rows.append(("tshark -Y http -T fields", ["tshark", "-r", path, "-Y", "http", "-T", "fields",
                                                  "-e", "http.request.method"]))
    out_path = path + ".out"
    measured = []
    for label, command in rows:
        seconds, peak = timed(command, out_path)
        if label.startswith("mapiwire dissect"):
            with open(out_path, "rb") as f:
                count = sum(1 for _ in f)
        measured.append((label, seconds, peak))
    os.unlink(out_path)
    print(f"capture: {path}  {size_mb:.1f} MB  {count} MAPI exchanges")
    print(f"{'reader':<36} {'seconds':>8} {'MB/s':>8} {'exch/s':>9} {'peak MiB':>9}")
    results = {}
    for label, seconds, peak in measured:
        results[label] = size_mb / seconds
        print(f"{label:<36} {seconds:8.2f} {size_mb / seconds:8.2f} {count / seconds:9.0f} {peak:9.0f}")
    anchor = results.get("tshark -Y http -T fields")
    ours = results["mapiwire dissect --format ndjson"]
    print(f"ratio: {ours / anchor:.3f}" if anchor else "ratio: n/a (tshark not installed)")


if __name__ == "__main__":
    main()
