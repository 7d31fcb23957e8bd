"""The spec's failure rules over real sockets (MS-OXCMAPIHTTP 3.1.5.7, 3.1.7): a network switch
continues the session, a cut while sending is resent as-is, a cut while reading and an expired
context (X-ResponseCode 10) reconnect, log on again and reopen what the client holds."""

import time

import pytest

from mapiwire.client.mailbox import Rop
from mapiwire.client.profiles import startup

from .conftest import outlook, records


def opened(url, **options):
    client = outlook(url, **options)
    startup(client)
    client.contents("inbox")
    return client


QUERY = [Rop("RopSeekRow", {"Origin": 0, "RowCount": 0, "WantRowMovedCount": 0}, on="inbox-contents"),
         Rop("RopQueryRows", {"QueryRowsFlags": 0, "ForwardRead": 1, "RowCount": 10}, on="inbox-contents")]


def test_network_switch_with_the_same_cookies_continues_the_session(server):
    client = opened(server.url)
    mailbox = client.mailbox
    before = dict(mailbox.session.cookies)
    mailbox.session.new_connection(source_address="127.0.0.2", how="rst")
    rows = mailbox.execute(QUERY)[1]["RowData"]
    assert rows and mailbox.reconnects == 0
    last = mailbox.session.exchanges[-1]
    assert last.client.startswith("127.0.0.2:") and "Cookie" in dict(last.request.headers)
    assert set(before) == set(mailbox.session.cookies)  # same context (the sequence value rotates)
    assert len({r["session"] for r in records(mailbox.session.exchanges) if r["endpoint"] == "emsmdb"}) == 1
    client.close()


@pytest.mark.parametrize("auth", ["none", "ntlm"])
def test_cut_while_sending_is_resent_as_is(auth):
    from mapiwire.server import running_server

    with running_server(port=0, auth=auth) as srv:
        client = opened(srv.url)
        session = client.mailbox.session
        cut = session.request("PING", b"", cut_after=60)
        assert cut.cut.startswith("after 60 of") and cut.response is None
        again = session.resend(cut, source_address="127.0.0.2")
        assert again.response.status == 200 and again.response.header("X-ResponseCode") == "0"
        assert again.request.header("X-RequestId") == cut.request.header("X-RequestId")  # as-is
        assert again.client.startswith("127.0.0.2:")
        assert client.mailbox.execute(QUERY)[1]["RowData"] and client.mailbox.reconnects == 0
        client.close()


def test_cut_while_reading_makes_a_new_context_and_reopens(server):
    client = opened(server.url)
    mailbox = client.mailbox
    old_context = mailbox.session.cookies.copy()
    rows = mailbox.execute(QUERY, cut_at_meta="PROCESSING")[1]["RowData"]
    assert rows and mailbox.reconnects == 1
    assert mailbox.session.cookies != old_context
    assert any(getattr(e, "cut", None) == "after PROCESSING" for e in mailbox.session.exchanges)
    client.close()


def test_context_expired_10_reconnect_logon_reopen():
    from mapiwire.server import running_server

    with running_server(port=0, session_timeout=1, pending_period=0.1) as srv:
        client = opened(srv.url)
        mailbox = client.mailbox
        time.sleep(1.3)
        rows = mailbox.execute(QUERY)[1]["RowData"]  # 10, Connect with the old cookies, RopLogon, reopen, again
        assert rows and len(rows[0]["ValueArray"]) == 7  # typed by the reopened table's RopSetColumns
        codes = [r["response_code"] for r in records(mailbox.session.exchanges)]
        assert 10 in codes and codes[-1] == 0 and mailbox.reconnects == 1
        types = [r["request_type"] for r in records(mailbox.session.exchanges)][-3:]
        assert types == ["Connect", "Execute", "Execute"]
        assert client.address_book.call("GetSpecialTable", {"Flags": 0x4, "HasState": 0, "HasVersion": 0})  # re-Bind
        client.close()


def test_tls_with_a_ca_file(tmp_path):
    from mapiwire.server import running_server
    from mapiwire.server.tls import self_signed, server_context

    cert, key, _ = self_signed(str(tmp_path))
    with running_server(port=0, ssl_context=server_context(cert, key)) as srv:
        assert srv.url.startswith("https://")
        client = outlook(srv.url, ca_file=cert, keylog=str(tmp_path / "keys.log"))
        startup(client)
        client.close()
        assert all(r["response_code"] == 0 for r in records(client.exchanges))
        assert "CLIENT_TRAFFIC_SECRET" in (tmp_path / "keys.log").read_text()
        with pytest.raises(Exception, match="cannot connect"):
            startup(outlook(srv.url))  # not trusted without the CA file


def test_ntlm_reauthenticates_the_new_connection_after_a_switch():
    from mapiwire.server import running_server

    with running_server(port=0, auth="ntlm") as srv:
        client = opened(srv.url)
        mailbox = client.mailbox
        mailbox.session.new_connection(source_address="127.0.0.2", how="rst")
        assert mailbox.execute(QUERY)[1]["RowData"] and mailbox.reconnects == 0
        last = [e for e in mailbox.session.exchanges if e.request.header("X-RequestType") == "Execute"][-2:]
        assert [e.response.status for e in last] == [401, 200]  # NTLM challenge, then the request on .2
        assert last[0].client.split(":")[0] == last[1].client.split(":")[0] == "127.0.0.2"
        assert last[1].request.header("Authorization").startswith("NTLM ")
        client.close()
