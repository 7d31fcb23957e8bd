"""Throughput of tshark with and without the generated Lua plugin, beside `mapiwire dissect`.

Uses the capture bench/dissect.py makes (bench/out/bench-<mb>mb.pcap, generated here the same way
when missing), then times, in the same run:
  tshark -r FILE -Y http -T fields -e http.request.method                (tshark's own HTTP pass)
  tshark -r FILE -X lua_script:wireshark/mapiwire.lua -Y mapihttp
         -T fields -e mapihttp.request_type -e rop.name                  (every body and ROP decoded)
  mapiwire dissect FILE --format ndjson                                  (the same, in Python)
and prints MB/s, exchanges/s and peak memory of each, ending with
`ratio: <mapiwire/tshark-with-plugin>` (above 1: mapiwire decodes faster than the plugin). tshark
runs with an empty configuration (HOME, WIRESHARK_CONFIG_DIR). Not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

PLUGIN = os.path.join(ROOT, "wireshark", "mapiwire.lua")


def make_capture(path: str, megabytes: float) -> None:
    from mapiwire.dissect.sources.writers import write_capture
    from mapiwire.samples import sessions_for_bench

    write_capture(path, sessions_for_bench(int(megabytes * 1024 * 1024)), format="pcap")


def timed(command: list[str], env: dict) -> tuple[float, float, int]:
    """(seconds, peak RSS in MiB, lines written) of one child process."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command[:3])} ... failed")
        out.seek(0)
        lines = sum(1 for _ in out)
    return seconds, usage.ru_maxrss / 1024, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="capture size to generate (MB)")
    parser.add_argument("--file", help="use this capture instead of bench/out/bench-<mb>mb.pcap")
    args = parser.parse_args()
    path = args.file or os.path.join(HERE, "out", f"bench-{int(args.mb)}mb.pcap")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print(f"generating {path} ...", flush=True)
        make_capture(path, args.mb)
    tshark = shutil.which("tshark")
    if tshark is None:
        raise SystemExit("tshark is not installed: nothing to compare with (ratio: n/a)")
    size_mb = os.path.getsize(path) / 1e6
    with tempfile.TemporaryDirectory() as home:
        tshark_env = dict(os.environ, HOME=home, WIRESHARK_CONFIG_DIR=home)
        mapiwire_env = dict(os.environ, MAPIWIRE_NO_PROGRESS="1")
        rows = [
            ("tshark -Y http (no plugin)", [tshark, "-r", path, "-Y", "http", "-T", "fields",
                                            "-e", "http.request.method"], tshark_env),
            ("tshark + mapiwire.lua", [tshark, "-r", path, "-X", f"lua_script:{PLUGIN}", "-Y", "mapihttp",
                                       "-T", "fields", "-e", "mapihttp.request_type", "-e", "rop.name"], tshark_env),
            ("mapiwire dissect --format ndjson", [sys.executable, "-m", "mapiwire.cli", "dissect", path,
                                                  "--format", "ndjson"], mapiwire_env),
        ]
        measured = [(label, *timed(command, env)) for label, command, env in rows]
    exchanges = measured[2][3]  # one ndjson line per exchange
    print(f"capture: {path}  {size_mb:.1f} MB  {exchanges} MAPI exchanges")
    print(f"{'reader':<34} {'seconds':>8} {'MB/s':>8} {'exch/s':>9} {'peak MiB':>9}")
    speed = {}
    for label, seconds, peak, _ in measured:
        speed[label] = size_mb / seconds
        print(f"{label:<34} {seconds:8.2f} {size_mb / seconds:8.2f} {exchanges / seconds:9.0f} {peak:9.0f}")
    plugin_cost = speed["tshark -Y http (no plugin)"] / speed["tshark + mapiwire.lua"]
    print(f"the plugin makes tshark {plugin_cost:.2f}x slower than its plain HTTP pass")
    print(f"ratio: {speed['mapiwire dissect --format ndjson'] / speed['tshark + mapiwire.lua']:.3f}")


if __name__ == "__main__":
    main()
