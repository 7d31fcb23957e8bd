"""`mapiwire serve` as a user runs it: a child process on a free port with a self-signed
certificate, the packaged fixture, and its request log."""

from __future__ import annotations

import re
import signal
import ssl
import subprocess
import sys
import time

from mapiwire.server.store import Store

from .front_client import MapiClient


def interruptible() -> None:
    """In the child: SIGINT as a terminal's Ctrl-C gives it, even when the tests run where it is
    ignored (a background job of a non-interactive shell, nohup): Python then raises KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_serve_command_with_self_signed_tls(tmp_path):
    log = tmp_path / "requests.log"
    child = subprocess.Popen([sys.executable, "-m", "mapiwire.cli", "serve", "--port", "0", "--tls-self-signed",
                              "--log", str(log), "--pending-period", "0.1"],
                             stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    try:
        lines = [child.stderr.readline(), child.stderr.readline()]
        cert = re.search(r"self-signed certificate (\S+) SHA-256 ([0-9A-F:]{95})", lines[0]).group(1)
        url = re.search(r"(https://127\.0\.0\.1:\d+)/mapi/emsmdb/", lines[1]).group(1)
        alice = Store.load(None).users[0]
        client = MapiClient(url, ssl_context=ssl.create_default_context(cafile=cert))
        reply = client.connect(alice.dn)
        assert reply.code == 0 and reply.body("Connect").DisplayName == alice.display_name
        assert client.ping().code == 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "PING" not in (log.read_text() if log.exists() else ""):
            time.sleep(0.1)
        entries = [line.split() for line in log.read_text().splitlines()]
        assert [e[3] for e in entries] == ["Connect", "PING"] and {e[2] for e in entries} == {alice.alias}
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)


def test_self_signed_is_for_loopback_only():
    result = subprocess.run([sys.executable, "-m", "mapiwire.cli", "serve", "--host", "0.0.0.0",
                             "--tls-self-signed"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "loopback only" in result.stderr
