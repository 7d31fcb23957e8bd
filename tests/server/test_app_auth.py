"""Basic and NTLM authentication (NTLM per TCP connection, as IIS) and TLS, over real sockets."""

from __future__ import annotations

import base64
import ssl

import spnego

from mapiwire.server import running_server
from mapiwire.server.sessions import CONTEXT_COOKIE
from mapiwire.server.tls import self_signed

from .fakes import fakes
from .front_client import MapiClient, receive_folder
from .test_sessions import ALICE_DN


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic():
    with running_server(**fakes(), auth="basic") as srv:
        anonymous = MapiClient(srv.url).connect(ALICE_DN)
        assert anonymous.status == 401 and anonymous.header("WWW-Authenticate").startswith("Basic")
        assert MapiClient(srv.url, authorization=basic("alice", "wrong")).connect(ALICE_DN).status == 401
        alice = MapiClient(srv.url, authorization=basic("alice@mapiwire.test", "alice-pw"))
        assert alice.connect(ALICE_DN).code == 0
        assert alice.execute([receive_folder()]).code == 0
        bob = MapiClient(srv.url, authorization=basic("bob", "bob-pw"))
        assert bob.connect(ALICE_DN).body("Connect").ErrorCode == 0x80070005  # not bob's mailbox
        bob.cookies = dict(alice.cookies)  # 3.2.5.1: another authentication context -> 10
        assert bob.execute([receive_folder()], keep_cookies=False).code == 10
        assert srv.log[-1].split()[2] == "bob"


def ntlm_handshake(client: MapiClient, user: str, password: str, send):
    """NEGOTIATE -> 401 CHALLENGE -> AUTHENTICATE with the request, on one connection."""
    context = spnego.client(user, password, protocol="ntlm")
    client.authorization = "NTLM " + base64.b64encode(context.step()).decode()
    challenge = send()
    assert challenge.status == 401
    token = challenge.header("WWW-Authenticate").split(" ", 1)[1]
    client.authorization = "NTLM " + base64.b64encode(context.step(base64.b64decode(token))).decode()
    reply = send()
    client.authorization = None
    return reply


def test_ntlm_authenticates_the_connection_and_a_new_one_again():
    with running_server(**fakes(), auth="ntlm") as srv:
        client = MapiClient(srv.url, source="127.0.0.1")
        first = client.connect(ALICE_DN)
        assert first.status == 401 and first.header("WWW-Authenticate") == "NTLM"
        assert ntlm_handshake(client, "alice", "alice-pw", lambda: client.connect(ALICE_DN)).code == 0
        assert client.execute([receive_folder()]).code == 0  # same connection: no new handshake
        context = client.cookies[CONTEXT_COOKIE]
        client.move("127.0.0.2")  # network switch: a new connection must authenticate
        assert client.execute([receive_folder()]).status == 401
        reply = ntlm_handshake(client, "alice", "alice-pw", lambda: client.execute([receive_folder("IPM.Moved")]))
        assert reply.code == 0 and reply.body("Execute").RopBuffer.RopsList[0].ExplicitMessageClass == "IPM.Moved"
        assert client.cookies[CONTEXT_COOKIE] == context
        wrong = MapiClient(srv.url)
        assert ntlm_handshake(wrong, "alice", "bad-pw", lambda: wrong.connect(ALICE_DN)).status == 401


def test_tls_self_signed(tmp_path):
    cert, key, fingerprint = self_signed(str(tmp_path))
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    with running_server(**fakes(), ssl_context=server_context) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        client = MapiClient(srv.url, ssl_context=ssl.create_default_context(cafile=cert))
        reply = client.connect(ALICE_DN)
        assert reply.code == 0 and "Secure" in reply.header_all("Set-Cookie")[0]
        assert client.execute([receive_folder()]).inner_code == 0
    assert len(fingerprint.split(":")) == 32


def test_users_file_replaces_the_fixture_passwords(tmp_path):
    from mapiwire.server import load_passwords

    listed = tmp_path / "list.json"
    listed.write_text('[{"alias": "alice", "password": "s3cret"}]')
    mapping = tmp_path / "map.json"
    mapping.write_text('{"alice": "s3cret"}')
    assert load_passwords(str(listed)) == load_passwords(str(mapping)) == {"alice": "s3cret"}
    with running_server(**fakes(), auth="basic", passwords=load_passwords(str(mapping))) as srv:
        assert MapiClient(srv.url, authorization=basic("alice", "alice-pw")).connect(ALICE_DN).status == 401
        assert MapiClient(srv.url, authorization=basic("alice", "s3cret")).connect(ALICE_DN).code == 0
        assert MapiClient(srv.url, authorization=basic("bob", "bob-pw")).connect(ALICE_DN).status == 401
