"""Session rules of MS-OXCMAPIHTTP 3.2.5, over real sockets (the fakes stand in for the store)."""

from __future__ import annotations

import threading
import time

import pytest

from mapiwire.server import running_server
from mapiwire.server.sessions import CONTEXT_COOKIE, SEQUENCE_COOKIE, SessionTable

from .fakes import fakes
from .front_client import MapiClient, receive_folder

ALICE_DN = "/o=mapiwire/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice"


@pytest.fixture(scope="module")
def srv():
    with running_server(**fakes(), pending_period=0.1, session_timeout=30) as server:
        yield server


def connected(url, **kwargs) -> MapiClient:
    client = MapiClient(url, **kwargs)
    reply = client.connect(ALICE_DN)
    assert reply.code == 0 and reply.body("Connect").ErrorCode == 0
    return client


def test_connect_creates_context_with_unguessable_cookies(srv):
    one, two = connected(srv.url), connected(srv.url)
    for client in (one, two):
        assert set(client.cookies) == {CONTEXT_COOKIE, SEQUENCE_COOKIE}
        assert all(len(v) == 32 for v in client.cookies.values())
    assert one.cookies[CONTEXT_COOKIE] != two.cookies[CONTEXT_COOKIE]


def test_every_response_sets_cookies_and_sequence_rotates(srv):
    client = connected(srv.url)
    context = client.cookies[CONTEXT_COOKIE]
    seen = {client.cookies[SEQUENCE_COOKIE]}
    for _ in range(3):
        reply = client.execute([receive_folder()])
        assert reply.code == 0 and reply.inner_code == 0
        assert reply.header("X-ExpirationInfo") == "30000"
        assert client.cookies[CONTEXT_COOKIE] == context
        seen.add(client.cookies[SEQUENCE_COOKIE])
    assert len(seen) == 4  # 3.2.5.1: a new sequence cookie per request
    ping = client.ping()
    assert ping.code == 0 and len(ping.header_all("Set-Cookie")) == 2


def test_stale_sequence_is_15(srv):
    client = connected(srv.url)
    old = dict(client.cookies)
    assert client.execute([receive_folder()]).code == 0
    stale = client.execute([receive_folder()], cookies=old, keep_cookies=False)
    assert stale.code == 15 and stale.header("Content-Type").startswith("text/html")
    assert not stale.header_all("Set-Cookie")  # a refusal does not move the context on
    assert client.execute([receive_folder()]).code == 0  # the current cookies still work


def test_missing_and_invalid_cookies(srv):
    client = connected(srv.url)
    cookies = dict(client.cookies)
    assert client.execute([receive_folder()], cookies={}, keep_cookies=False).code == 13
    assert client.execute([receive_folder()], cookies={CONTEXT_COOKIE: cookies[CONTEXT_COOKIE]},
                          keep_cookies=False).code == 13  # the sequence cookie is required too
    assert client.execute([receive_folder()], cookies={**cookies, CONTEXT_COOKIE: "not-ours"},
                          keep_cookies=False).code == 6
    assert client.execute([receive_folder()], cookies={**cookies, CONTEXT_COOKIE: "A" * 32},
                          keep_cookies=False).code == 10


def test_overlapping_requests_are_15_but_notification_wait_is_not():
    with running_server(**fakes(), pending_period=0.1, slow_ms=400, notification_wait_limit=0.2) as srv:
        client = connected(srv.url)
        second = MapiClient(srv.url)
        second.cookies = dict(client.cookies)
        results = {}
        thread = threading.Thread(target=lambda: results.setdefault("first", client.execute([receive_folder()])))
        thread.start()
        time.sleep(0.15)
        overlap = second.execute([receive_folder()], keep_cookies=False)
        waited = second.notification_wait(keep_cookies=False)
        thread.join()
        assert overlap.code == 15
        assert waited.code == 0 and waited.inner_code == 0
        assert [c.split("=")[0] for c in waited.header_all("Set-Cookie")] == [CONTEXT_COOKIE]  # no stale sequence
        assert results["first"].code == 0 and results["first"].inner_code == 0


def test_idle_timeout_destroys_context_and_ping_keeps_it():
    with running_server(**fakes(), pending_period=0.1, session_timeout=0.4) as srv:
        idle, busy = connected(srv.url), connected(srv.url)
        for _ in range(4):
            time.sleep(0.15)
            assert busy.ping().code == 0  # 3.2.5.3: PING refreshes the idle timer
        assert busy.execute([receive_folder()]).code == 0
        assert idle.execute([receive_folder()]).code == 10  # 3.2.6: destroyed after 0.4 s idle
        assert srv.store.mailboxes[0].closed


def test_reconnect_with_old_cookies_destroys_the_old_context(srv):
    client = connected(srv.url)
    old = dict(client.cookies)
    stale_sequence = dict(old)
    client.execute([receive_folder()])
    client.cookies = dict(stale_sequence)  # 3.2.5.6: the sequence cookie is ignored on reconnect
    assert client.connect(ALICE_DN).code == 0
    assert client.cookies[CONTEXT_COOKIE] != old[CONTEXT_COOKIE]
    assert client.execute([receive_folder()], cookies=old, keep_cookies=False).code == 10
    assert client.execute([receive_folder()]).code == 0


def test_disconnect_ends_the_context(srv):
    client = connected(srv.url)
    cookies = dict(client.cookies)
    reply = client.disconnect()
    assert reply.code == 0 and reply.body("Disconnect").StatusCode == 0
    assert len(reply.header_all("Set-Cookie")) == 2  # 3.2.5.4 (R1255): still sent
    assert client.ping(cookies=cookies).code == 10


def test_context_survives_a_new_connection_from_another_address(srv):
    """The headline: the context is not the TCP connection nor the client address (3.1.7.1)."""
    client = connected(srv.url, source="127.0.0.1")
    assert client.execute([receive_folder("IPM.Before")]).code == 0
    client.move("127.0.0.2")  # Wi-Fi to cellular
    reply = client.execute([receive_folder("IPM.After")])
    assert reply.code == 0 and reply.inner_code == 0
    rops = reply.body("Execute").RopBuffer.RopsList
    assert rops[0].ExplicitMessageClass == "IPM.After"
    clients = [line.split()[1].rsplit(":", 1)[0] for line in srv.log if "IPM" in line or "Execute" in line]
    assert "127.0.0.2" in clients and "127.0.0.1" in clients


def test_session_cap():
    with running_server(**fakes(), max_sessions=2) as srv:
        connected(srv.url), connected(srv.url)
        third = MapiClient(srv.url).connect(ALICE_DN)
        assert third.code == 0 and third.body("Connect").ErrorCode == 0x80040112  # ecTooManySessions
        assert not third.header_all("Set-Cookie")


def test_table_expiry_with_a_clock():
    """The idle timer runs only while nothing is pending (3.2.2, 3.2.6)."""
    now = [0.0]
    table = SessionTable(10, 5, clock=lambda: now[0])
    context = table.create("emsmdb", None, {})
    now[0] = 100
    assert table.live(context.cookie)  # the Connect is still pending
    table.end(context, "Connect")
    now[0] = 109
    assert table.remaining_ms(context) == 1000
    table.begin(context, "NotificationWait")
    now[0] = 200
    assert table.expire() == []
    table.end(context, "NotificationWait")
    now[0] = 210
    assert table.expire() == [context]


def test_parked_notification_waits_are_bounded():
    table = SessionTable(10, 5)
    context = table.create("emsmdb", None, {})
    table.end(context, "Connect")
    for _ in range(4):
        assert table.admit("emsmdb", "NotificationWait", context.cookies(), None) is context
        table.begin(context, "NotificationWait")
    assert table.admit("emsmdb", "NotificationWait", context.cookies(), None).code == 15
    assert table.admit("emsmdb", "Execute", context.cookies(), None) is context  # Execute still goes through
