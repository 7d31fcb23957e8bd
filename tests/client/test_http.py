"""client/http.py and client/auth.py over real loopback sockets, against a tiny h11 server made here
(the MAPI/HTTP server has its own tests; this one lets each test script the server's bytes)."""

import base64
import socket
import threading
import time

import h11
import pytest

from mapiwire.client.auth import parse_auth
from mapiwire.client.http import Connection, ConnectionFailed
from mapiwire.client.session import MapiSession


class TinyServer:
    """Answers each request with `handler(request, body, peer, conn_state) -> (status, headers, chunks, delay)`;
    records what it saw (peer addresses, request bytes, resets)."""

    def __init__(self, handler):
        self.handler = handler
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.peers, self.requests, self.received, self.resets = [], [], [], []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                sock, peer = self.listener.accept()
            except OSError:
                return
            self.peers.append(peer)
            threading.Thread(target=self._serve, args=(sock, peer), daemon=True).start()

    def _serve(self, sock, peer):
        conn, state, raw = h11.Connection(h11.SERVER), {}, bytearray()
        self.received.append(raw)
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    data = sock.recv(65536)
                    raw += data
                    conn.receive_data(data)
                    if not data:
                        return
                    continue
                if isinstance(event, h11.Request):
                    request, body = event, b""
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    self.requests.append((request, body, peer))
                    status, headers, chunks, delay = self.handler(request, body, peer, state)
                    sock.sendall(conn.send(h11.Response(status_code=status, headers=headers)))
                    for chunk in chunks:
                        sock.sendall(conn.send(h11.Data(data=chunk)))
                        time.sleep(delay)
                    sock.sendall(conn.send(h11.EndOfMessage()))
                    conn.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    return
        except ConnectionResetError:
            self.resets.append(peer)
        except (OSError, h11.ProtocolError):
            pass
        finally:
            sock.close()

    def close(self):
        self.listener.close()


MAPI = [("Content-Type", "application/mapi-http"), ("Transfer-Encoding", "chunked")]
DONE = b"DONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 1\r\n\r\n"


def mapi_handler(request, body, peer, state):
    headers = MAPI + [("X-ResponseCode", "0"), ("Set-Cookie", "MapiContext=ctx1; path=/"),
                      ("Set-Cookie", f"MapiSequence=seq{len(body)}; path=/"), ("X-ExpirationInfo", "900000")]
    return 200, headers, [b"PROCESSING\r\n", b"PENDING\r\n", b"PENDING\r\n", DONE + b"body:" + body], 0.05


@pytest.fixture
def server():
    srv = TinyServer(mapi_handler)
    yield srv
    srv.close()


def test_meta_tags_stream_as_they_arrive_and_keep_alive(server):
    conn = Connection(server.url)
    seen = []
    conn.send_request("POST", "/mapi/emsmdb/", [("X-RequestType", "Execute")], b"abc")
    response = conn.read_response(on_meta=lambda tag, at: seen.append((tag, at)))
    assert [t for t, _ in seen] == ["PROCESSING", "PENDING", "PENDING", "DONE"]
    assert seen[-1][1] - seen[0][1] >= 0.1  # each meta-tag seen when it came, not at the end
    assert response.status == 200 and response.body.endswith(b"body:abc")
    assert response.chunks[:3] == [12, 9, 9]
    conn.exchange("POST", "/mapi/emsmdb/", [], b"x")
    assert len(server.peers) == 1  # keep-alive: one TCP connection for both
    conn.close()


def test_source_address_and_cut_points(server):
    conn = Connection(server.url, source_address="127.0.0.2")
    request = conn.send_request("POST", "/mapi/emsmdb/", [], b"0123456789", cut_after=30)
    assert request.cut.startswith("after 30 of ")
    deadline = time.monotonic() + 5
    while (not server.received or len(server.received[0]) < 30) and time.monotonic() < deadline:
        time.sleep(0.01)  # the server thread takes the bytes in its own time
    assert server.peers[0][0] == "127.0.0.2"
    assert len(server.received[0]) == 30 and server.requests == []
    assert conn.closed
    with pytest.raises(ConnectionFailed):
        conn.read_response()
    conn = Connection(server.url)
    conn.send_request("POST", "/mapi/emsmdb/", [], b"abc")
    partial = conn.read_response(cut_at_meta="PENDING")
    assert partial.cut == "after PENDING" and partial.body == b"PROCESSING\r\nPENDING\r\n" and conn.closed


def test_refused_connection_is_a_connection_failure():
    port = socket.create_server(("127.0.0.1", 0))
    free = port.getsockname()[1]
    port.close()
    with pytest.raises(ConnectionFailed, match="cannot connect"):
        Connection(f"http://127.0.0.1:{free}").send_request("POST", "/", [], b"")


def test_session_headers_cookies_and_network_switch(server):
    session = MapiSession(server.url, "emsmdb", mailbox_id="alice@mapiwire.test")
    session.new_context()
    session.request("Connect", b"one")
    session.request("Execute", b"two!")
    session.new_connection(source_address="127.0.0.3", how="rst")
    session.request("Execute", b"three")
    (first, _, _), (second, _, _), (third, _, peer) = server.requests
    headers = [dict((k.decode(), v.decode()) for k, v in r.headers.raw_items()) for r, _, _ in server.requests]
    guid, counters = headers[0]["X-RequestId"].split(":")[0], [h["X-RequestId"].split(":")[1] for h in headers]
    assert counters == ["1", "2", "3"] and all(h["X-RequestId"].startswith(guid) for h in headers)
    assert len({h["X-ClientInfo"] for h in headers}) == 1
    assert "Cookie" not in headers[0] and headers[1]["Cookie"] == "MapiContext=ctx1; MapiSequence=seq3"
    assert headers[2]["Cookie"] == "MapiContext=ctx1; MapiSequence=seq4"  # the jar crossed the switch
    assert first.target == b"/mapi/emsmdb/?MailboxId=alice@mapiwire.test"
    assert peer[0] == "127.0.0.3" and session.expiration_ms == 900000
    assert [e.client.split(":")[0] for e in session.exchanges] == ["127.0.0.1", "127.0.0.1", "127.0.0.3"]


def test_resend_on_a_new_connection_when_the_old_one_is_dead(server):
    session = MapiSession(server.url, "emsmdb")
    session.request("Connect", b"one")
    session.connection.sock.shutdown(socket.SHUT_RDWR)  # the path died under an idle connection
    session.request("Execute", b"two")
    assert len(server.peers) == 2 and [b for _, b, _ in server.requests] == [b"one", b"two"]


def auth_handler(scheme):
    import spnego

    def handler(request, body, peer, state):
        auth = dict((k.decode().lower(), v.decode()) for k, v in request.headers.raw_items()).get("authorization")
        ok = [("Content-Type", "text/plain")]
        if scheme == "basic":
            if auth == "Basic " + base64.b64encode(b"alice:alice-pw").decode():
                return 200, ok, [b"hello alice"], 0
            return 401, ok + [("WWW-Authenticate", 'Basic realm="mapiwire"')], [b"no"], 0
        if state.get("user"):
            return 200, ok, [f"hello {state['user']}".encode()], 0
        if not auth:
            return 401, ok + [("WWW-Authenticate", "NTLM")], [b"no"], 0
        if "spnego" not in state:
            state["spnego"] = spnego.server(protocol="ntlm")
        out = state["spnego"].step(base64.b64decode(auth.split(" ", 1)[1]))
        if state["spnego"].complete:
            state["user"] = state["spnego"].client_principal
            return 200, ok, [f"hello {state['user']}".encode()], 0
        return 401, ok + [("WWW-Authenticate", "NTLM " + base64.b64encode(out).decode())], [b"no"], 0
    return handler


@pytest.mark.parametrize("spec", ["basic:alice:alice-pw", "alice:alice-pw"])
def test_basic_auth(spec):
    srv = TinyServer(auth_handler("basic"))
    session = MapiSession(srv.url, "emsmdb", auth=parse_auth(spec))
    exchange = session.request("Connect", b"")
    assert exchange.response.body == b"hello alice"
    assert [e.response.status for e in session.exchanges] == ([200] if spec.startswith("basic") else [401, 200])
    bad = MapiSession(srv.url, "emsmdb", auth=parse_auth("basic:alice:wrong"))
    assert bad.request("Connect", b"").response.status == 401
    srv.close()


def test_ntlm_authenticates_each_new_connection(tmp_path, monkeypatch):
    users = tmp_path / "users"
    users.write_text(":alice:alice-pw\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))
    srv = TinyServer(auth_handler("ntlm"))
    session = MapiSession(srv.url, "emsmdb", auth=parse_auth("ntlm:alice:alice-pw"))
    assert session.request("Connect", b"").response.body.startswith(b"hello")
    assert session.request("Execute", b"").response.status == 200  # the connection stays authenticated
    session.new_connection(source_address="127.0.0.2")
    assert session.request("Execute", b"").response.status == 200
    statuses = [e.response.status for e in session.exchanges]
    assert statuses == [401, 200, 200, 401, 200]  # type 1 -> challenge, type 3 -> ok, on each connection
    srv.close()


def test_plain_requests_through_a_proxy_use_the_absolute_form(server):
    conn = Connection("http://mail.contoso.test:8080", proxy=server.url)  # the tiny server plays the proxy
    request, response = conn.exchange("POST", "/mapi/emsmdb/", [], b"abc")
    assert response.status == 200
    target = server.requests[-1][0].target
    assert target == b"http://mail.contoso.test:8080/mapi/emsmdb/"
    assert dict(server.requests[-1][0].headers)[b"host"] == b"mail.contoso.test:8080"


@pytest.mark.parametrize("junk", [b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort",
                                  b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])
def test_a_broken_server_answer_is_a_connection_failure(junk):
    listener = socket.create_server(("127.0.0.1", 0))

    def answer():
        sock, _ = listener.accept()
        sock.recv(65536)
        sock.sendall(junk)
        sock.close()

    threading.Thread(target=answer, daemon=True).start()
    conn = Connection(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=5)
    conn.send_request("POST", "/", [], b"x")
    with pytest.raises(ConnectionFailed):
        conn.read_response()
    listener.close()


def test_client_info_counter_per_new_context_kept_on_reconnect(server):
    from mapiwire.client.session import ClientInstance

    instance = ClientInstance()
    mailbox, book = (MapiSession(server.url, e, client=instance) for e in ("emsmdb", "nspi"))
    infos = []
    for session, reconnect in ((mailbox, False), (book, False), (mailbox, True), (mailbox, False)):
        session.new_context(reconnect=reconnect)
        infos.append(session.request("Connect", b"").request.header("X-ClientInfo"))
    assert [i.split(":")[1] for i in infos] == ["1", "2", "1", "3"]  # MS-OXCMAPIHTTP 2.2.3.3.4
    assert len({i.split(":")[0] for i in infos}) == 1
