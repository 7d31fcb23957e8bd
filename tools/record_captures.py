"""Record sample captures from real traffic: `mapiwire serve` on loopback, the client's profiles
against it, tshark on `lo`.

    python tools/record_captures.py [--out captures] [--profile day] [--gap 2.5] [--json-only]

1. starts `mapiwire serve` (plain HTTP, a short --session-timeout so the day's idle gap expires
   the context and the client's recovery is in the capture) and runs the profile against it while
   `tshark -i lo -f "tcp port P" -a duration:N` records `serve-<profile>.pcapng`; the same
   exchanges, as the client saw them, are written by the recorder as `serve-<profile>.har` and
   `serve-<profile>.saz`;
2. starts `mapiwire serve --tls-self-signed` and runs the startup profile over TLS with the key
   log from Python's ssl: `serve-tls.pcapng` and `serve-tls.keys`, and the same capture with the
   key log inside (a Decryption Secrets Block, `editcap --inject-secrets`): `serve-tls-secrets.pcapng`;
3. writes each capture's expected decode, `<capture>.json` = `mapiwire dissect <capture> --format json`
   (with `--keylog` for the TLS one), which tests/test_captures.py checks. `--json-only` does only
   this step, for captures already recorded (after a change of the decoder's output).

Needs tshark (or dumpcap) and the right to capture on lo (root, or the wireshark group).
All traffic stays on 127.0.0.0/8; tshark is bounded by -a duration.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mapiwire.client.auth import parse_auth  # noqa: E402
from mapiwire.client.profiles import OutlookClient, run_profile  # noqa: E402
from mapiwire.client.recorder import record  # noqa: E402

sys.path.insert(0, str(ROOT / "tools"))
from make_captures import expected  # noqa: E402  the one writer of expected decodes


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        return listener.getsockname()[1]


@contextlib.contextmanager
def serve(*options: str):
    """`mapiwire serve` on a free loopback port until the block ends; yields its URL."""
    port = free_port()
    tls = "--tls-self-signed" in options
    process = subprocess.Popen([sys.executable, "-m", "mapiwire.cli", "serve", "--port", str(port), *options],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mapiwire serve did not start")
                time.sleep(0.1)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}", port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def capture(port: int, out: Path, duration: int):
    """tshark on lo for `tcp port PORT`, bounded by -a duration; stopped when the block ends."""
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, HOME=home, WIRESHARK_CONFIG_DIR=home)
        process = subprocess.Popen(["tshark", "-i", "lo", "-f", f"tcp port {port}", "-a", f"duration:{duration}",
                                    "-q", "-w", str(out)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, env=env)
        started = threading.Event()

        def watch():
            for line in process.stderr:
                if b"Capturing on" in line:
                    started.set()
            started.set()

        threading.Thread(target=watch, daemon=True).start()
        if not started.wait(30) or process.poll() is not None:
            raise RuntimeError("tshark did not start capturing (tshark installed? allowed to capture on lo?)")
        time.sleep(1.0)  # "Capturing on" comes a little before the first packets are taken
        try:
            yield
            time.sleep(0.5)  # the last FIN/ACKs
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            process.wait(timeout=15)
    out.chmod(0o644)  # dumpcap writes 0600


def run(url: str, profile: str, *, gap: float, keylog: Path | None = None) -> list:
    """The profile as alice; returns the exchanges."""
    client = OutlookClient(url, parse_auth("alice:alice-pw"), insecure=keylog is not None,
                           keylog=str(keylog) if keylog else None, log=lambda line: print("  " + line))
    run_profile(profile, client, **({"gap": gap} if profile == "day" else {}))
    return client.exchanges


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "captures"), help="folder for the captures (default: captures/)")
    parser.add_argument("--profile", default="day", help="client profile to record in plain HTTP (default: day)")
    parser.add_argument("--gap", type=float, default=2.5, help="day: idle gap in seconds, past --session-timeout 2")
    parser.add_argument("--duration", type=int, default=90, help="upper bound of each tshark run, seconds")
    parser.add_argument("--json-only", action="store_true",
                        help="only rewrite the expected decodes of the serve-* captures already there")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    keys = out / "serve-tls.keys"
    if args.json_only:
        for path in sorted(p for p in out.glob("serve-*") if p.suffix in (".pcapng", ".har", ".saz")):
            expected(str(path))
        return 0
    written = []

    name = f"serve-{args.profile}"
    with serve("--session-timeout", "2", "--pending-period", "0.05", "--slow", "120") as (url, port):
        with capture(port, out / f"{name}.pcapng", args.duration):
            exchanges = run(url, args.profile, gap=args.gap)
    for suffix in (".har", ".saz"):
        record(exchanges, out / f"{name}{suffix}")
    written += [out / f"{name}.pcapng", out / f"{name}.har", out / f"{name}.saz"]

    keys.unlink(missing_ok=True)
    with serve("--tls-self-signed") as (url, port):
        with capture(port, out / "serve-tls.pcapng", args.duration):
            run(url, "startup", gap=0, keylog=keys)
    written.append(out / "serve-tls.pcapng")
    secrets = out / "serve-tls-secrets.pcapng"
    subprocess.run(["editcap", "--inject-secrets", f"tls,{keys}", str(out / "serve-tls.pcapng"), str(secrets)],
                   check=True)
    written.append(secrets)

    for path in written:
        expected(str(path))  # a TLS capture finds its key log beside it
    print(f"wrote {keys.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
