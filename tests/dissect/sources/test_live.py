"""`mapiwire dissect --interface lo` while the Outlook-like client talks to `mapiwire serve` on
loopback: the exchanges it prints are the ones the client made, printed as they happen."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from mapiwire.client.auth import parse_auth
from mapiwire.client.profiles import OutlookClient, run_profile
from mapiwire.server import running_server


def _can_capture() -> bool:
    if shutil.which("dumpcap") is None:
        return False
    probe = subprocess.run(["dumpcap", "-i", "lo", "-c", "1", "-a", "duration:1", "-w", os.devnull, "-q"],
                           capture_output=True, timeout=10)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _can_capture(), reason="dumpcap cannot capture on lo here")


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls-keylog"])
def test_live_capture_prints_the_clients_exchanges(tls, tmp_path):
    """Plain: dumpcap into the pcap reader. TLS: tshark decrypting with a key log that the
    client writes while the capture runs (it starts empty)."""
    keylog = tmp_path / "keys.log"
    keylog.write_text("")
    context, client_options, extra = None, {}, []
    if tls:
        from mapiwire.server.tls import self_signed, server_context

        cert, key, _ = self_signed(str(tmp_path))
        context = server_context(cert, key)
        client_options = {"ca_file": cert, "keylog": str(keylog)}
        extra = ["--keylog", str(keylog)]
    with running_server(port=0, pending_period=0.1, ssl_context=context) as server:
        proc = subprocess.Popen([sys.executable, "-m", "mapiwire", "dissect", "--interface", "lo",
                                 "--filter", f"tcp port {server.port}", "--format", "ndjson", *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        outlook = OutlookClient(server.url, parse_auth("alice:alice-pw"), **client_options)
        try:
            # the capture is up when a PING of ours shows; until then, ping again
            deadline = time.monotonic() + 15
            mailbox = outlook.session("emsmdb")
            while not lines and time.monotonic() < deadline:
                mailbox.request("PING", b"")
                mailbox.new_connection()  # a new TLS session each time: its secrets are logged anew
                time.sleep(0.2)
            assert lines, "the live capture printed nothing"
            seen_before = len(lines)
            run_profile("startup", outlook)
            made = [e.request.header("X-RequestId") for e in outlook.exchanges
                    if e.request.header("X-RequestType") and e.request.header("X-RequestType") != "PING"]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # each exchange shows as its response ends
                ids = [json.loads(line)["request_id"] for line in list(lines)[seen_before:]]
                if [i for i in ids if i in made] == made:
                    break
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(15)
            reader.join(5)
    records = [json.loads(line) for line in lines]
    by_id = {r["request_id"]: r for r in records}
    assert all(i in by_id for i in made)
    assert all(by_id[i]["response_code"] == 0 and not by_id[i]["errors"] for i in made)
    assert proc.returncode == 0
