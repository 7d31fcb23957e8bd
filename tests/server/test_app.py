"""The HTTP front over real sockets: refusals by the X-ResponseCode table (MS-OXCMAPIHTTP
2.2.3.3.3), chunked PROCESSING/PENDING/DONE (2.2.7), Execute framing with LZ77 and XOR
(MS-OXCRPC 3.1.4.1.1), NotificationWait (3.2.5.5), size limits, --no-mapi-http, the request log."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.defs.core import build
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.server import running_server

from .fakes import fakes
from .front_client import MapiClient, execute_body, receive_folder
from .test_sessions import ALICE_DN, connected


@pytest.fixture(scope="module")
def srv():
    with running_server(**fakes(), pending_period=0.1) as server:
        yield server


def decoded(request_type: str, body: bytes, reply) -> dict:
    """The exchange as `mapiwire dissect` sees it."""
    request = HttpMessage(headers=[("X-RequestType", request_type), ("Content-Type", "application/mapi-http")],
                          body=body, method="POST", target="/mapi/emsmdb/")
    response = HttpMessage(headers=reply.headers, body=reply.raw, status=reply.status)
    return Decoder().decode(Exchange(request=request, response=response, connection="c1"))


@pytest.mark.parametrize("case, expected", [
    (dict(method="GET"), 2),
    (dict(path="/mapi/elsewhere/"), 3),
    (dict(headers={"Content-Type": "text/plain"}), 4),
    (dict(request_type="Bind"), 5),
    (dict(request_type="Nonsense"), 5),
    (dict(request_type=None), 7),
    (dict(headers={"X-RequestId": None}), 7),
    (dict(body=b"\x01\x02"), 12),
])
def test_refusals_follow_the_response_code_table(srv, case, expected):
    client = MapiClient(srv.url)
    body = case.pop("body", build(BODIES["Connect"].request, {
        "UserDn": ALICE_DN, "Flags": 0, "DefaultCodePage": 1252, "LcidSort": 1033, "LcidString": 1033,
        "AuxiliaryBuffer": {"Blocks": []}}))
    request_type = case.pop("request_type", "Connect")
    reply = client.post("emsmdb", request_type, body, **case)
    assert reply.status == 200 and reply.code == expected
    assert reply.header("Content-Type").startswith("text/html") and f"<h1>{expected} " in reply.raw.decode()
    assert reply.header("X-ServerApplication") and reply.header("X-ExpirationInfo")


def test_connect_response_is_chunked_and_decodes(srv):
    client = MapiClient(srv.url)
    reply = client.connect(ALICE_DN)
    assert reply.header("Transfer-Encoding") == "chunked"
    assert reply.header("X-RequestId").endswith(":1") and reply.header("X-ClientInfo")
    assert reply.header("X-RequestType") == "Connect" and reply.header("X-PendingPeriod") == "100"
    inner = reply.inner
    assert inner.meta == ["PROCESSING", "DONE"] and not inner.errors
    assert [name for name, _ in inner.headers] == ["X-ResponseCode", "X-ElapsedTime", "X-StartTime"]
    assert reply.chunks[0][1] == b"PROCESSING\r\n"  # flushed on its own, before the work ends
    record = decoded("Connect", b"", reply)
    assert record["response_code"] == 0 and record["response"]["DisplayName"] == "Alice"


def test_pending_cadence():
    with running_server(**fakes(), pending_period=0.1, slow_ms=550) as srv:
        client = connected(srv.url)
        reply = client.execute([receive_folder()])
        assert reply.inner.meta[0] == "PROCESSING" and reply.inner.meta[-1] == "DONE"
        pending = [t for t, data in reply.chunks if data == b"PENDING\r\n"]
        assert 4 <= len(pending) <= 6
        assert reply.chunks[0][0] < 0.1
        gaps = [b - a for a, b in zip(pending, pending[1:])]
        assert all(0.05 < gap < 0.2 for gap in gaps), gaps


@pytest.mark.parametrize("flags, header_flags, response_flags", [
    (0x0, 0x7, 0x7),  # client allows both: compressed and obfuscated back
    (0x0, 0x4, 0x7),
    (0x1, 0x6, 0x6),  # NoCompression
    (0x2, 0x5, 0x5),  # NoXorMagic
    (0x3, 0x4, 0x4),  # neither
])
def test_execute_framing_round_trip(srv, flags, header_flags, response_flags):
    client = connected(srv.url)
    classes = [f"IPM.Note.Custom.{i:02d}.ReportQuarterly" for i in range(20)]
    body = execute_body([receive_folder(c) for c in classes], flags=flags, header_flags=header_flags)
    reply = client.post("emsmdb", "Execute", body)
    assert reply.code == 0 and reply.inner_code == 0
    value = reply.body("Execute")
    header = value.RopBuffer.RPC_HEADER_EXT[0]
    assert int(header.Flags) == response_flags
    if response_flags & 0x1:
        assert header.Size < header.SizeActual
    assert [r.ExplicitMessageClass for r in value.RopBuffer.RopsList] == classes
    record = decoded("Execute", body, reply)
    assert not record["errors"]
    assert [r["RopName"] for r in record["response"]["RopBuffer"]["RopsList"]] == ["RopGetReceiveFolder"] * 20


def test_notification_wait_woken_by_an_event_and_by_the_limit():
    with running_server(**fakes(), pending_period=0.1, notification_wait_limit=0.4) as srv:
        client = connected(srv.url)
        t0 = time.monotonic()
        quiet = client.notification_wait()
        assert quiet.body("NotificationWait").EventPending == 0 and time.monotonic() - t0 >= 0.35
        mailbox = srv.store.mailboxes[-1]
        timer = threading.Timer(0.15, mailbox.notify)
        timer.start()
        t0 = time.monotonic()
        woken = client.notification_wait()
        assert woken.body("NotificationWait").EventPending == 1
        assert 0.1 < time.monotonic() - t0 < 0.35
        mailbox.notify()  # an event already pending answers at once
        assert client.notification_wait().body("NotificationWait").EventPending == 1


def test_body_over_the_limit_is_refused_before_it_is_read():
    with running_server(**fakes(), max_body=4096) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.sendall(b"POST /mapi/emsmdb/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/mapi-http\r\n"
                         b"X-RequestType: Execute\r\nX-RequestId: {A}:1\r\nContent-Length: 10000000\r\n\r\n")
            answer = sock.recv(65536)  # no body sent at all: the answer comes from the headers alone
        assert answer.startswith(b"HTTP/1.1 200") and b"X-ResponseCode: 9\r\n" in answer
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:  # chunked: no length up front
            chunk = b"3e8\r\n" + b"\0" * 1000 + b"\r\n"
            sock.sendall(b"POST /mapi/emsmdb/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/mapi-http\r\n"
                         b"X-RequestType: Execute\r\nX-RequestId: {A}:2\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + chunk * 5 + b"0\r\n\r\n")
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200") and b"X-ResponseCode: 9\r\n" in answer


def test_without_mapi_http_the_virtual_directory_is_absent():
    with running_server(**fakes(), mapi_http=False) as srv:
        reply = MapiClient(srv.url).connect(ALICE_DN)
        assert reply.status == 404 and reply.header("X-ResponseCode") is None
        auto = MapiClient(srv.url).post("", None, b"<Autodiscover/>", path="/autodiscover/autodiscover.xml")
        assert auto.status == 200 and b"mapiHttp='False'" in auto.raw


def test_request_log_line(srv):
    client = connected(srv.url)
    client.execute([receive_folder(), receive_folder()])
    line = srv.log[-1].split()
    assert line[2] == "alice" and line[3] == "Execute" and line[4].endswith(f":{client.counter}")
    assert line[5] == "0" and line[6] == "RopGetReceiveFolder,RopGetReceiveFolder" and line[7].endswith("ms")


def test_small_responses_go_uncompressed_but_obfuscated(srv):
    client = connected(srv.url)
    reply = client.execute([receive_folder()], flags=0x0)  # the client allows compression and XOR
    header = reply.body("Execute").RopBuffer.RPC_HEADER_EXT[0]
    assert int(header.Flags) == 0x6 and header.Size == header.SizeActual  # XorMagic | Last
