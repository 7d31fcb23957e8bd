"""Replay speed against `mapiwire serve` on loopback (issue 12 "Speed"). Not a test.

In one run:
  --timing fast, one session at a time        replayed exchanges/s (parse, rewrite, build, send, check)
  --timing fast, 20 sessions at once          replayed exchanges/s
  the anchor: the client alone, 20 sessions   the same recorded bodies sent as they are by
                                              client.session.MapiSession (no plan, rewrite or check)
  --timing original on captures/serve-day.pcapng
                                              timing error: actual minus planned send time, median and p99
and ends with `ratio: <replay/anchor>` (exchanges/s with 20 sessions). Goals: 1,000 exchanges/s
with 20 sessions; median timing error under 1 ms, p99 under 5 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from mapiwire.client.profiles import OutlookClient, startup  # noqa: E402
from mapiwire.client.recorder import record  # noqa: E402
from mapiwire.client.session import MapiSession  # noqa: E402
from mapiwire.replay.plan import load_plans  # noqa: E402
from mapiwire.replay.scheduler import Replay, ReplayOptions, Timing  # noqa: E402


@contextlib.contextmanager
def served(*options: str):
    """`mapiwire serve` in a process of its own (its work does not share our interpreter lock)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    child = subprocess.Popen([sys.executable, "-m", "mapiwire.cli", "serve", "--port", str(port), *options],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        child.terminate()
        child.wait(10)


def recorded_capture(url: str, directory: str, rounds: int) -> str:
    """A mailbox session recorded from the server: startup, then `rounds` contents tables."""
    client = OutlookClient(url, email="bob@mapiwire.test")
    startup(client)
    for _ in range(rounds):
        client.contents("inbox")
    client.close()
    path = os.path.join(directory, "bench.pcapng")
    record(client.exchanges, path)
    return path


def replayed_per_second(url: str, plans: list, copies: int) -> tuple[float, int, float, float, float]:
    """(exchanges/s, exchanges, median server round trip, median replay time between a response
    and the next request of the same session: parse, check, learn, rewrite, build, this process's
    CPU per exchange), times in s."""
    replay = Replay(plans * copies, ReplayOptions(target=url, timing=Timing.parse("fast"), timeout=30))
    start, cpu = time.perf_counter(), time.process_time()
    replay.run()
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    sent = sum(1 for r in replay.runs for e in r.entries if e["outcome"] == "ok")
    trips = [e["received"] - e["sent"] for r in replay.runs for e in r.entries if e["sent"] is not None]
    own = [b["sent"] - a["received"] for r in replay.runs for a, b in zip(r.entries, r.entries[1:])]
    return sent / took, sent, statistics.median(trips), statistics.median(own), cpu / max(sent, 1)


def anchor_per_second(url: str, plans: list, copies: int) -> tuple[float, float]:
    """(exchanges/s, this process's CPU per exchange in s): the recorded bodies sent as they are
    by MapiSession, one thread per copy."""
    counts = []

    def one(plan):
        session = MapiSession(url, plan.endpoint, mailbox_id="bob@mapiwire.test")
        n = 0
        for step in plan.steps:
            session.request(step.request_type, step.exchange.request.body)
            n += 1
        session.close()
        counts.append(n)

    threads = [threading.Thread(target=one, args=(p,)) for p in plans * copies]
    start, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start), (time.process_time() - cpu) / max(sum(counts), 1)


def timing_error(capture: str) -> tuple[list[float], float]:
    with served("--session-timeout", "2", "--pending-period", "0.05", "--notification-wait-limit", "5") as url:
        replay = Replay(load_plans(capture), ReplayOptions(target=url, timing=Timing.parse("original"),
                                                           allow_writes=True))
        replay.run()
    errors = sorted(e["sent"] - e["planned"] for r in replay.runs for e in r.entries
                    if e["kind"] == "plan" and e["sent"] is not None and e["lane"] == "main")
    return errors, replay.runs and max(e["received"] or 0 for r in replay.runs for e in r.entries)


def load() -> str:
    """The machine is shared: its load average beside the figures (CPU per exchange does not follow it)."""
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="contents tables in the recorded session")
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, served("--session-timeout", "60") as url:
        plans = [p for p in load_plans(recorded_capture(url, directory, args.rounds)) if p.endpoint == "emsmdb"]
        steps = sum(len(p.steps) for p in plans)
        print(f"recorded session: {steps} mailbox exchanges; {load()}")
        one, sent, trip, own, cpu = replayed_per_second(url, plans, 1)
        print(f"replay --timing fast, 1 session:            {one:8.0f} exchanges/s ({sent} exchanges; "
              f"median server round trip {trip * 1000:.2f} ms, replay's own time per exchange {own * 1000:.2f} ms, "
              f"replay CPU {cpu * 1e6:.0f} us per exchange)")
        many, sent, trip, own, cpu = replayed_per_second(url, plans, args.sessions)
        print(f"replay --timing fast, {args.sessions} sessions at once:  {many:8.0f} exchanges/s ({sent} exchanges; "
              f"median server round trip {trip * 1000:.2f} ms, replay CPU {cpu * 1e6:.0f} us per exchange)")
        anchor, anchor_cpu = anchor_per_second(url, plans, args.sessions)
        print(f"anchor: client alone, {args.sessions} sessions:        {anchor:8.0f} exchanges/s "
              f"(client CPU {anchor_cpu * 1e6:.0f} us per exchange); {load()}")
    capture = os.path.join(os.path.dirname(HERE), "captures", "serve-day.pcapng")
    errors, took = timing_error(capture)
    print(f"replay --timing original, serve-day.pcapng ({len(errors)} main-lane steps, {took:.1f} s): timing error "
          f"median {statistics.median(errors) * 1000:.3f} ms, p99 {percentile(errors, 99) * 1000:.3f} ms, "
          f"max {errors[-1] * 1000:.3f} ms; {load()}")
    print(f"ratio: {many / anchor:.2f}")


if __name__ == "__main__":
    main()
