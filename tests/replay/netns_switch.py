"""Run inside `unshare -rn` (a user and network namespace of the test's own): a real address
change. The server listens in a second namespace joined by a veth pair (REPLAY.md 3); at the
scenario's step the client's address 10.200.0.5 is deleted and 10.200.0.7 added, so the old
connections are black-holed by the kernel (no FIN, no RST) and the session goes on from the new
address. Prints the report's scenario result and the client addresses as JSON."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from mapiwire.replay.scenarios import Scenario  # noqa: E402
from tests.replay.conftest import BOB, run_replay, sample_number  # noqa: E402

SERVER, OLD, NEW, PORT = "10.200.0.1", "10.200.0.5", "10.200.0.7", 8080


def sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


class AddressChange(Scenario):
    """network-switch, with the client's address really removed and a new one added first."""

    def _network_switch(self, run, step):
        sh("ip", "addr", "del", f"{OLD}/24", "dev", "vc")
        sh("ip", "addr", "add", f"{NEW}/24", "dev", "vc")
        return super()._network_switch(run, step)


def main() -> None:
    sh("ip", "link", "set", "lo", "up")
    holder = subprocess.Popen(["unshare", "-n", "sleep", "60"])
    time.sleep(0.2)
    pid = str(holder.pid)
    sh("ip", "link", "add", "vc", "type", "veth", "peer", "name", "vs")
    sh("ip", "link", "set", "vs", "netns", pid)
    sh("ip", "addr", "add", f"{OLD}/24", "dev", "vc")
    sh("ip", "link", "set", "vc", "up")
    for command in (["ip", "link", "set", "lo", "up"], ["ip", "addr", "add", f"{SERVER}/24", "dev", "vs"],
                    ["ip", "link", "set", "vs", "up"]):
        sh("nsenter", "-t", pid, "-n", *command)
    server = subprocess.Popen(["nsenter", "-t", pid, "-n", sys.executable, "-m", "mapiwire.cli", "serve",
                               "--host", SERVER, "--port", str(PORT), "--pending-period", "0.2",
                               "--notification-wait-limit", "0.5"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection((SERVER, PORT), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        step = sample_number("Execute", "RopQueryRows")
        spec = f"network-switch@{step},drop=blackhole,source={NEW}"
        scenario = AddressChange(spec, "network-switch", step, {"drop": "blackhole", "source": NEW})
        replay, report = run_replay(os.path.join(ROOT, "captures", "outlook-session.pcapng"),
                                    f"http://{SERVER}:{PORT}", scenario, as_user=BOB, sessions=("ctx-7f3a9c",),
                                    allow_remote=True, timeout=3.0)
    finally:
        server.terminate()
        holder.terminate()
    clients = [e["client"] for r in replay.runs for e in r.entries if e["client"] and e["number"] == step]
    print(json.dumps({"scenarios": report["scenarios"], "clients": clients, "exit_status": report["exit_status"]}))


if __name__ == "__main__":
    main()
