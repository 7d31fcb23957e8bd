"""TLS reader through tshark (mapiwire.dissect.sources.tls) and tools/make_tls_capture.py.

tests/data/tls/ holds two captures made with tools/make_tls_capture.py (the tool's
`sample_exchanges(3, 1200)`: bodies with every byte value and NULs, chunked responses, two TCP
connections): TLS 1.3 with ALPN http/1.1 and its key log, and TLS 1.2 with the secrets
embedded (`editcap --inject-secrets`). Skipped without tshark; CI installs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.dissect.sources import tls
from mapiwire.dissect.sources.tls import read_exchanges
from mapiwire.dissect.sources.writers import write_capture
from mapiwire.errors import MalformedError

if shutil.which("tshark") is None:
    pytest.skip("tshark is not installed", allow_module_level=True)

ROOT = Path(__file__).parents[3]
DATA = ROOT / "tests" / "data" / "tls"
TLS13, KEYS13 = DATA / "mapi-tls13.pcapng", DATA / "mapi-tls13.keys"
TLS12_EMBEDDED = DATA / "mapi-tls12-embedded.pcapng"

_spec = importlib.util.spec_from_file_location("make_tls_capture", ROOT / "tools" / "make_tls_capture.py")
make_tls_capture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_tls_capture)

EXPECTED = make_tls_capture.sample_exchanges(3, 1200)


def _check(exchanges: list[Exchange], expected: list[Exchange]) -> None:
    assert len(exchanges) == len(expected)
    for got, want in zip(exchanges, expected):
        assert got.errors == []
        assert got.request.method == "POST" and got.request.target == want.request.target
        assert got.request.body == want.request.body
        assert b"\x00" in got.request.body and b"\xff" in got.request.body
        assert got.request.header("X-RequestId") == want.request.header("X-RequestId")
        assert got.request.header("Content-Length") == str(len(want.request.body))
        assert got.response.status == 200
        assert got.response.header("Transfer-Encoding") == "chunked"
        assert got.response.body == want.response.body  # de-chunked inner stream
        assert got.response.body.startswith(b"PROCESSING\r\nDONE\r\n")
        assert got.request.time <= got.request.end_time <= got.response.time <= got.response.end_time
        assert got.client.startswith("127.0.0.1:") and got.server.startswith("127.0.0.1:")
        assert got.server != got.client
    # the tool sends exchanges 0 and 1 on one connection, 2 on another
    assert exchanges[0].connection == exchanges[1].connection != exchanges[2].connection
    assert exchanges[0].connection.startswith("tcp/")
    times = [e.request.time for e in exchanges]
    assert times == sorted(times)


def test_tls13_with_key_log():
    _check(list(read_exchanges(TLS13, KEYS13)), EXPECTED)


def test_tls12_with_embedded_secrets():
    _check(list(read_exchanges(str(TLS12_EMBEDDED), None)), EXPECTED)


def test_without_keys_nothing_is_decrypted():
    (note,) = read_exchanges(TLS13, None)
    assert note.request is None and note.response is None
    error = note.errors[0]["error"]  # the server and the bytes left encrypted (issue 8 point 8)
    assert error.startswith("TLS not decrypted: 127.0.0.1:") and " bytes); the secrets embedded in the capture" in error


def test_plain_http_goes_through_too(tmp_path):
    exchanges = [Exchange(e.request, e.response, f"c{i}", f"10.0.0.{i + 1}:5000{i}", "10.0.0.9:80")
                 for i, e in enumerate(make_tls_capture.sample_exchanges(4, 3000))]
    for i, e in enumerate(exchanges):
        e.request.time = 1_700_000_000.0 + i
        e.response.time = e.request.time + 0.01
    path = tmp_path / "plain.pcapng"
    write_capture(path, exchanges)
    got = list(read_exchanges(path, None))
    assert [g.request.body for g in got] == [e.request.body for e in exchanges]
    assert [g.response.body for g in got] == [e.response.body for e in exchanges]
    assert [g.client for g in got] == [e.client for e in exchanges]
    assert all(g.errors == [] for g in got)


def test_tshark_command_is_lossless_and_deterministic():
    cmd = tls.tshark_command("in.pcapng", "k.keys")
    assert "data.data" in cmd and "http.file_data" not in cmd
    assert cmd[cmd.index("-T") + 1] == "fields"
    assert "tls.keylog_file:k.keys" in cmd and "tls.port==1-65535,data" in cmd
    assert "tls.keylog_file:k.keys" not in " ".join(tls.tshark_command("in.pcapng", None))


def test_missing_tshark(monkeypatch):
    monkeypatch.setattr(tls.shutil, "which", lambda name: None)
    with pytest.raises(MalformedError, match="tshark is needed"):
        read_exchanges(TLS13, KEYS13)


def test_missing_files(tmp_path):
    with pytest.raises(MalformedError, match="cannot read the capture"):
        read_exchanges(tmp_path / "none.pcapng", None)
    with pytest.raises(MalformedError, match="cannot read the key log"):
        read_exchanges(TLS13, tmp_path / "none.keys")


def test_not_a_capture(tmp_path):
    path = tmp_path / "x.pcapng"
    path.write_bytes(b"this is not a capture file at all")
    with pytest.raises(MalformedError, match="tshark could not read the capture"):
        list(read_exchanges(path, None))


def test_truncated_capture(tmp_path):
    data = TLS13.read_bytes()
    path = tmp_path / "cut.pcapng"
    path.write_bytes(data[: len(data) * 3 // 4])
    got = list(read_exchanges(path, KEYS13))
    assert got[-1].request is None
    assert any(e["where"] == "tshark" for e in got[-1].errors)
    assert any(g.request is not None and g.request.body == EXPECTED[0].request.body for g in got)


def test_tracker_pairs_fifo_and_orders_by_request_time():
    """Feed tshark-shaped lines straight into the tracker: pipelined requests on stream 0,
    a response on stream 1 that completes first but was asked later."""
    tracker = tls._Tracker(max_body=1 << 20, max_hold=100)
    cli, srv = ("10.0.0.5", b"50000"), ("10.0.0.9", b"443")

    def line(t, stream, src, dst, flags, data=b""):
        frame = b"%d" % round(t * 10)  # tshark's frame.number
        return [b"%f" % t, frame, stream, src[0].encode(), b"", src[1], dst[0].encode(), b"", dst[1],
                flags, b"", b"", data.hex().encode(), b""]

    req = b"POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\n"
    out = []
    for cols in [
        line(1.0, b"0", cli, srv, b"0x0002"),
        line(1.1, b"0", cli, srv, b"0x0018", req + b"\x00" + req + b"\x01"),
        line(1.2, b"1", ("10.0.0.6", b"50001"), srv, b"0x0002"),
        line(1.3, b"1", ("10.0.0.6", b"50001"), srv, b"0x0018", req + b"\x02"),
        line(1.4, b"1", srv, ("10.0.0.6", b"50001"), b"0x0018", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"),
        line(1.5, b"0", srv, cli, b"0x0018", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
             b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"),
    ]:
        tracker.frame(cols)
        out += tracker.drain()
    tracker.finish()
    out += tracker.drain()
    assert [(e.request.body, e.response.body, e.connection) for e in out] == [
        (b"\x00", b"a", "tcp/0"), (b"\x01", b"b", "tcp/0"), (b"\x02", b"c", "tcp/1")]
    assert out[0].client == "10.0.0.5:50000" and out[0].server == "10.0.0.9:443"
    assert [(e.request.frames, e.response.frames) for e in out] == [((11, 11), (15, 15)), ((11, 11), (15, 15)),
                                                                    ((13, 13), (14, 14))]


def test_tracker_skips_non_http_and_reports_http2():
    tracker = tls._Tracker(max_body=1 << 20, max_hold=100)
    cols = [b"1.0", b"1", b"0", b"10.0.0.5", b"", b"1", b"10.0.0.9", b"", b"2", b"0x0002", b"", b"", b"", b""]
    tracker.frame(cols)
    tracker.frame([b"1.0", b"2"] + cols[2:9] + [b"0x0018", b"23", b"", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".hex().encode(),
                                                b"24"])
    tracker.frame([b"1.0", b"3", b"1", b"10.0.0.5", b"", b"3", b"10.0.0.9", b"", b"4", b"0x0002", b"", b"", b"", b""])
    tracker.frame([b"1.1", b"4", b"1", b"10.0.0.5", b"", b"3", b"10.0.0.9", b"", b"4", b"0x0018", b"", b"",
                   b"\x16\x03\x01binary".hex().encode(), b""])
    tracker.frame([b"x"])  # a short line is ignored
    tracker.finish()
    assert list(tracker.drain()) == []
    assert tracker.notes and "HTTP/2" in tracker.notes[0]["error"]


def _can_capture() -> bool:
    if os.geteuid() != 0 or shutil.which("openssl") is None:
        return False
    probe = subprocess.run(["tshark", "-D"], capture_output=True, text=True)
    return "lo" in probe.stdout


@pytest.mark.skipif(not _can_capture(), reason="live capture on lo needs root, openssl and tshark")
def test_make_tls_capture_tool(tmp_path):
    exchanges = make_tls_capture.sample_exchanges(2, 5000)
    exchanges.append(Exchange(HttpMessage(method="POST", target="/mapi/nspi/", body=b"\x00" * 70000,
                                          headers=[("Host", "localhost"),
                                                   ("Content-Type", "application/mapi-http")]),
                              HttpMessage(status=200, reason="OK", body=b"PROCESSING\r\n" + b"\x00\xff" * 40000,
                                          headers=[("Transfer-Encoding", "chunked")]), "other"))
    out, keys = make_tls_capture.make_tls_capture(exchanges, tmp_path / "cap.pcapng", embed=True)
    assert out.exists() and keys.exists()
    with_keys = list(read_exchanges(out, keys))
    embedded = list(read_exchanges(out, None))
    for got in (with_keys, embedded):
        assert [g.request.body for g in got] == [e.request.body for e in exchanges]
        assert [g.response.body for g in got] == [e.response.body for e in exchanges]
        assert all(g.errors == [] for g in got)
