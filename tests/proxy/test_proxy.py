"""`mapiwire proxy` for real: mitmproxy in this process in front of `mapiwire serve`, the
Outlook-like client talking through it over loopback (reverse mode over TLS trusting mitmproxy's
CA, regular mode as the client's proxy), and what the proxy printed checked against
`mapiwire dissect` of its own recording."""

from __future__ import annotations

import io
import json
import os
import socket
import time

import pytest

from mapiwire.client.auth import parse_auth
from mapiwire.client.profiles import OutlookClient, run_profile
from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.render import dumps
from mapiwire.dissect.sources import open_capture
from mapiwire.proxy.run import running_proxy
from mapiwire.server import running_server


@pytest.fixture(scope="module")
def server():
    with running_server(port=0, pending_period=0.1, notification_wait_limit=5) as srv:
        yield srv


def client(url, **options) -> OutlookClient:
    return OutlookClient(url, parse_auth("alice:alice-pw"), **options)


def printed(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def comparable(record: dict) -> dict:
    """A record without what a recording cannot keep the same: its number and connection id."""
    return {k: v for k, v in record.items() if k not in ("index", "connection")}


def dissected(path) -> list[dict]:
    decoder = Decoder()
    records = (decoder.decode(e) for e in open_capture(str(path)))
    return [json.loads(dumps(r)) for r in records if r is not None]


def test_reverse_mode_over_tls_prints_what_dissect_reads_from_its_recording(server, tmp_path):
    out = io.StringIO()
    recording = tmp_path / "through-proxy.har"
    with running_proxy(out=out, fmt="ndjson", save=str(recording), mode=f"reverse:{server.url}/",
                       confdir=str(tmp_path / "mitm")) as proxy:
        ca = tmp_path / "mitm" / "mitmproxy-ca-cert.pem"
        outlook = client(f"https://127.0.0.1:{proxy.port}", ca_file=str(ca))
        run_profile("browse", outlook)
        sent = [e for e in outlook.exchanges if e.request.header("X-RequestType")]
    live = printed(out)
    assert [r["request_id"] for r in live] == [e.request.header("X-RequestId") for e in sent]
    assert all(r["response_code"] == 0 and not r["errors"] for r in live)
    assert any(r["request_type"] == "Execute" and r["response"]["RopBuffer"]["RopsList"] for r in live)
    # the recording holds everything (Autodiscover too), binary bodies intact
    assert [comparable(r) for r in dissected(recording)] == [comparable(r) for r in live]
    # ... and replays against the server: every step as recorded
    from click.testing import CliRunner

    from mapiwire.cli import main

    report = tmp_path / "replay.json"
    result = CliRunner().invoke(main, ["replay", str(recording), "--target", server.url, "--timing", "fast",
                                       "--allow-writes", "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["exit_status"] == 0


def test_regular_mode_as_the_clients_proxy(server, tmp_path):
    out = io.StringIO()
    with running_proxy(out=out, fmt="summary", confdir=str(tmp_path / "mitm")) as proxy:
        outlook = client(server.url, proxy=f"http://127.0.0.1:{proxy.port}")
        run_profile("startup", outlook)
        addon_exchanges = list(proxy.addon.exchanges)
    lines = out.getvalue().splitlines()
    mapi = [e for e in outlook.exchanges if e.request.header("X-RequestType")]
    assert len(lines) == len(mapi) and all("X-ResponseCode 0 (Success)" in line for line in lines)
    assert lines[0].split()[4].startswith("Connect") or "Bind" in lines[0]
    # a non-MAPI flow (the Autodiscover POST) passes untouched and unprinted, but is recorded
    autodiscover = [e for e in addon_exchanges if "autodiscover" in e.request.target.lower()]
    assert autodiscover and autodiscover[0].response.status == 200
    assert not any("autodiscover" in line.lower() for line in lines)


def _raw(port: int, data: bytes, read: bool = True) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        if not read:
            return b""
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n0\r\n\r\n" in b"".join(chunks)[-16:] or b"Content-Length" in chunks[0] and len(b"".join(chunks)) > 4:
                joined = b"".join(chunks)
                head, _, body = joined.partition(b"\r\n\r\n")
                if b"content-length" in head.lower():
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    if len(body) >= length:
                        break
                elif joined.endswith(b"0\r\n\r\n"):
                    break
        return b"".join(chunks)


def _request(request_type: str, body: bytes, *, length: int | None = None) -> bytes:
    head = (f"POST /mapi/emsmdb/?MailboxId=alice@mapiwire.test HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/mapi-http\r\nX-RequestType: {request_type}\r\n"
            f"X-RequestId: {{6E5D4C3B-2A19-4807-9F6E-5D4C3B2A1908}}:1\r\n"
            f"X-ClientInfo: {{A1B2C3D4-E5F6-4789-9ABC-DEF012345678}}:1\r\n"
            f"Authorization: Basic YWxpY2U6YWxpY2UtcHc=\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def test_malformed_body_is_printed_with_its_errors_and_the_proxy_goes_on(server, tmp_path):
    out = io.StringIO()
    with running_proxy(out=out, fmt="ndjson", mode=f"reverse:{server.url}/", confdir=str(tmp_path / "mitm")) as proxy:
        answer = _raw(proxy.port, _request("Connect", b"\x01\x02garbage"))
        assert answer.startswith(b"HTTP/1.1 200")
        # a client that goes away in the middle of its request body is recorded as such
        _raw(proxy.port, _request("Execute", b"\x00" * 10, length=1000), read=False)
        outlook = client(f"http://127.0.0.1:{proxy.port}")
        run_profile("startup", outlook)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(e.errors for e in proxy.addon.exchanges):
            time.sleep(0.05)
        exchanges = list(proxy.addon.exchanges)
    records = printed(out)
    assert records[0]["request_type"] == "Connect" and records[0]["errors"]
    assert all(r["response_code"] == 0 for r in records[1:] if r["request_type"] != "Execute" or r["response"])
    cut = [e for e in exchanges if e.errors]
    assert cut and cut[0].response is None and "proxy:" in cut[0].errors[0]["error"]


def test_addon_path_is_a_script_mitmproxy_can_load(tmp_path):
    from click.testing import CliRunner

    from mapiwire.cli import main

    result = CliRunner().invoke(main, ["proxy", "--addon-path"])
    path = result.output.strip()
    assert result.exit_code == 0 and os.path.isfile(path) and path.endswith("script.py")
    namespace: dict = {}
    exec(compile(open(path).read(), path, "exec"), namespace)  # what `mitmproxy -s` does
    assert namespace["addons"] and hasattr(namespace["addons"][0], "response")


def _wait_for(stream, pattern: str, timeout: float = 60.0):
    """The first match of `pattern` in the lines a child writes (warnings before it are skipped);
    everything is read away in a thread so that the child never blocks on a full pipe."""
    import queue
    import re
    import threading

    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in stream], daemon=True).start()
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matching {pattern!r} in {seen!r}")


def test_real_processes_serve_and_proxy_ctrl_c_leaves_a_complete_recording(tmp_path):
    """`mapiwire serve` and `mapiwire proxy` as the user starts them, the client through the proxy
    over TLS trusting mitmproxy's CA; Ctrl-C (SIGINT) stops the proxy and the recording holds every
    exchange the client made, which dissect reads like the proxy printed them."""
    import signal
    import subprocess
    import sys

    def interruptible() -> None:  # SIGINT as a terminal's Ctrl-C gives it, even where the tests run with it ignored
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    serve = subprocess.Popen([sys.executable, "-m", "mapiwire", "serve", "--port", "0", "--pending-period", "0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    proxy = None
    printed_path = tmp_path / "printed.ndjson"
    try:
        url = _wait_for(serve.stderr, r"(http://127\.0\.0\.1:\d+)/mapi/emsmdb/")
        recording = tmp_path / "outlook.pcapng"
        with open(printed_path, "w") as printed_file:
            proxy = subprocess.Popen([sys.executable, "-m", "mapiwire", "proxy", "--listen-port", "0",
                                      "--mode", f"reverse:{url.group(1)}/", "--confdir", str(tmp_path / "mitm"),
                                      "--save", str(recording), "--format", "ndjson"],
                                     stdout=printed_file, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=interruptible)
        port = _wait_for(proxy.stderr, r"on 127\.0\.0\.1:(\d+)")
        outlook = client(f"https://127.0.0.1:{port.group(1)}", ca_file=str(tmp_path / "mitm" / "mitmproxy-ca-cert.pem"))
        run_profile("startup", outlook)
        proxy.send_signal(signal.SIGINT)
        proxy.wait(timeout=20)
    finally:
        for child in (proxy, serve):
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGINT)
                child.wait(timeout=10)
    assert proxy.returncode == 0
    live = [json.loads(line) for line in printed_path.read_text().splitlines() if line.strip()]
    made = [e.request.header("X-RequestId") for e in outlook.exchanges if e.request.header("X-RequestType")]
    assert [r["request_id"] for r in live] == made and all(r["response_code"] == 0 for r in live)
    recorded = dissected(recording)
    assert [r["request_id"] for r in recorded] == made
    assert [(r["request"], r["response"]) for r in recorded] == [(r["request"], r["response"]) for r in live]


def _flow(exchange):
    from mitmproxy import http
    from mitmproxy.test import tflow

    def encoded(headers):
        return [(k.encode(), v.encode()) for k, v in headers if k.lower() != "transfer-encoding"]

    request = http.Request.make("POST", "http://127.0.0.1:8080" + exchange.request.target, exchange.request.body,
                                encoded(exchange.request.headers))
    response = http.Response.make(exchange.response.status, exchange.response.body, encoded(exchange.response.headers))
    return tflow.tflow(req=request, resp=response)


def test_content_view_shows_the_decoded_tree_of_both_sides():
    from mapiwire.proxy.contentview import MapiView

    har = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "captures",
                       "serve-day.har")
    exchange = [e for e in open_capture(har) if e.request.header("X-RequestType") == "Execute"][1]
    flow, view = _flow(exchange), MapiView()
    assert view.render_priority(b"", content_type="application/mapi-http") > 1
    assert view.render_priority(b"", content_type="text/html") == 0
    texts = {}
    for side, message in (("request", flow.request), ("response", flow.response)):
        title, lines = view(message.raw_content, content_type="application/mapi-http", flow=flow, http_message=message)
        assert title == "MAPI/HTTP Execute"
        texts[side] = "\n".join("".join(text for _, text in line) for line in lines)
    assert texts["request"].startswith("Execute request") and "RopOpenFolder" in texts["request"]
    assert "meta: [PROCESSING" in texts["response"] and "ReturnValue" in texts["response"]
    assert "[error]" not in texts["request"] + texts["response"]
