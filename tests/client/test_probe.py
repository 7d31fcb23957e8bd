"""`mapiwire probe`: Succeeded for every step against the server; Failed with the reason against a
stopped server, a wrong password, and a server without MAPI/HTTP."""

import socket
import subprocess
import sys

from mapiwire.client.auth import parse_auth
from mapiwire.client.probe import probe

STEPS = ["Connect", "Logon", "GetReceiveFolder", "TableRead", "Disconnect", "Bind", "DNToMId", "Unbind"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mapiwire.cli", "probe", *args], capture_output=True, text=True,
                          timeout=60)


def test_probe_succeeds_against_the_server(server):
    out = run_cli(server.url.split("://")[1], "--user", "alice:alice-pw")  # a bare host: Autodiscover first
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:6] == ["MonitorIdentity", "StartTime", "EndTime", "Result", "Error", "Exception"]
    rows = {line.split()[0].rsplit("\\", 1)[1]: line for line in lines[2:]}
    assert list(rows) == ["Autodiscover"] + STEPS + ["OutlookMapiHttpSelfTestProbe"]
    assert all(" Succeeded " in row for row in rows.values())


def test_probe_fails_against_a_stopped_server():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    out = run_cli(f"http://127.0.0.1:{port}", "--user", "alice:alice-pw", "--timeout", "2")
    assert out.returncode == 1
    connect = next(line for line in out.stdout.splitlines() if line.split()[0].endswith("\\Connect"))
    assert " Failed " in connect and "Connection refused" in connect and "ConnectionFailed" in connect


def test_probe_fails_with_a_wrong_password():
    from mapiwire.server import running_server

    with running_server(port=0, auth="basic") as srv:
        report = probe(srv.url, parse_auth("alice:wrong"))
        assert not report.succeeded
        connect = report.steps[0]
        assert connect.result == "Failed" and "HTTP 401" in connect.error and "refused" in connect.error
        assert probe(srv.url, parse_auth("alice:alice-pw")).succeeded


def test_probe_without_mapi_http_reports_the_rpc_fallback():
    from mapiwire.server import running_server

    with running_server(port=0, mapi_http=False) as srv:
        bare = probe(srv.url.split("://")[1], parse_auth("alice:alice-pw"))
        assert bare.steps[0].result == "Failed" and "fall back to RPC over HTTP" in bare.steps[0].error
        direct = probe(srv.url, parse_auth("alice:alice-pw"))
        assert direct.steps[0].result == "Failed" and "fall back to RPC over HTTP" in direct.steps[0].error
        assert "Failed" in direct.table().splitlines()[-1]
