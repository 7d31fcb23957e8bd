"""Fiddler SAZ reader (mapiwire.dissect.sources.saz) and writer (archives.write_saz).

The archives are written here by hand in the layout of the Fiddler documentation ("Fiddler
Archives (SAZ)"): raw/NN_c.txt, raw/NN_s.txt, raw/NN_m.xml with SessionTimers and SessionFlags.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.dissect.sources import saz
from mapiwire.dissect.sources.archives import write_saz
from mapiwire.dissect.sources.saz import read_exchanges
from mapiwire.errors import MalformedError

T0 = 1709632800.0  # 2024-03-05T10:00:00Z
REQ_BODY = b"/o=Contoso/cn=user1\x00" + b"\x00\x00\x00\x00\xe4\x04\x00\x00\x09\x04\x00\x00" * 2
INNER = (b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\n\r\n" + b"\x00\x01\x02\xff" * 40)


def _chunked(body: bytes, size: int) -> bytes:
    parts = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


REQUEST = (b"POST https://mail.contoso.com/mapi/emsmdb/?MailboxId=a@contoso.com HTTP/1.1\r\n"
           b"Host: mail.contoso.com\r\nContent-Type: application/mapi-http\r\n"
           b"X-RequestType: Connect\r\nContent-Length: %d\r\n\r\n" % len(REQ_BODY) + REQ_BODY)
RESPONSE_CHUNKED = (b"HTTP/1.1 200 OK\r\nContent-Type: application/mapi-http\r\n"
                    b"Transfer-Encoding: chunked\r\nX-ResponseCode: 0\r\n\r\n" + _chunked(INNER, 50))
RESPONSE_DECODED = (b"HTTP/1.1 200 OK\r\nContent-Type: application/mapi-http\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(INNER) + INNER)
META = (b'<?xml version="1.0" encoding="utf-8"?>\r\n<Session SID="%d" BitFlags="0">\r\n'
        b'  <SessionTimers ClientConnected="2024-03-05T10:59:59.9000000+01:00" '
        b'ClientBeginRequest="2024-03-05T11:00:00.0000000+01:00" '
        b'GotRequestHeaders="2024-03-05T11:00:00.0010000+01:00" '
        b'ClientDoneRequest="2024-03-05T11:00:00.0020000+01:00" GatewayTime="0" DNSTime="0" '
        b'TCPConnectTime="0" HTTPSHandshakeTime="0" ServerConnected="0001-01-01T00:00:00" '
        b'ServerGotRequest="2024-03-05T11:00:00.0030000+01:00" '
        b'ServerBeginResponse="2024-03-05T11:00:00.0500000+01:00" '
        b'GotResponseHeaders="2024-03-05T11:00:00.0500000+01:00" '
        b'ServerDoneResponse="2024-03-05T11:00:00.0600000+01:00" '
        b'ClientBeginResponse="2024-03-05T11:00:00.0510000+01:00" '
        b'ClientDoneResponse="2024-03-05T11:00:00.0610000+01:00" />\r\n'
        b'  <PipeInfo CltReuse="true" />\r\n  <SessionFlags>\r\n'
        b'    <SessionFlag N="x-clientip" V="::ffff:10.0.0.5" />\r\n'
        b'    <SessionFlag N="x-clientport" V="%d" />\r\n'
        b'    <SessionFlag N="X-HostIP" V="10.0.0.9" />\r\n'
        b'    <SessionFlag N="x-egressport" V="61000" />\r\n'
        b'  </SessionFlags>\r\n</Session>')
CONNECT_TUNNEL = b"CONNECT mail.contoso.com:443 HTTP/1.1\r\nHost: mail.contoso.com:443\r\n\r\n"
TUNNEL_OK = b"HTTP/1.1 200 Connection Established\r\nFiddlerGateway: Direct\r\n\r\n"


def _zip(members: dict[str, bytes], **kwargs) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("_index.htm", b"<html></html>")
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _sample() -> bytes:
    return _zip({
        "raw/01_c.txt": CONNECT_TUNNEL, "raw/01_s.txt": TUNNEL_OK, "raw/01_m.xml": META % (1, 50001),
        "raw/02_c.txt": REQUEST, "raw/02_s.txt": RESPONSE_CHUNKED, "raw/02_m.xml": META % (2, 50001),
        "raw/03_c.txt": REQUEST, "raw/03_s.txt": RESPONSE_DECODED, "raw/03_m.xml": META % (3, 50002),
        "raw/04_c.txt": REQUEST.replace(b"https://mail.contoso.com", b""),
        "raw/04_m.xml": b"<Session><SessionTimers",
        "raw/10_c.txt": b"garbage\r\n\r\n", "raw/10_s.txt": RESPONSE_DECODED,
    })


def test_sample_sessions():
    exchanges = list(read_exchanges(io.BytesIO(_sample())))
    assert len(exchanges) == 4  # session 1 is a CONNECT tunnel: skipped
    chunked, decoded, no_response, garbage = exchanges
    for exchange in (chunked, decoded):
        request, response = exchange.request, exchange.response
        assert request.method == "POST"
        assert request.target == "/mapi/emsmdb/?MailboxId=a@contoso.com"
        assert request.header("Host") == "mail.contoso.com"
        assert request.body == REQ_BODY
        assert response.status == 200 and response.body == INNER
        assert request.time == pytest.approx(T0, abs=1e-6)
        assert request.end_time == pytest.approx(T0 + 0.002, abs=1e-6)
        assert response.time == pytest.approx(T0 + 0.05, abs=1e-6)
        assert response.end_time == pytest.approx(T0 + 0.06, abs=1e-6)
        assert exchange.server == "10.0.0.9:443"
        assert exchange.errors == []
    assert chunked.client == "10.0.0.5:50001" and chunked.connection == "saz/10.0.0.5:50001"
    assert decoded.client == "10.0.0.5:50002"
    assert chunked.response.header("Transfer-Encoding") == "chunked"

    assert no_response.request.body == REQ_BODY and no_response.response is None
    assert no_response.request.time is None
    assert no_response.connection == "saz/4" and no_response.client == ""
    wheres = {e["where"]: e["error"] for e in no_response.errors}
    assert "invalid metadata XML" in wheres["saz.raw/04_m.xml"]
    assert wheres["saz.session 4"] == "response not in the archive"

    assert garbage.request is None and garbage.response.body == INNER
    assert any(e["where"] == "saz.raw/10_c.txt" and "no HTTP request" in e["error"]
               for e in garbage.errors)


def test_session_order_is_numeric():
    members = {}
    for number in (9, 10, 100, 2):
        members[f"raw/{number}_c.txt"] = REQUEST.replace(b"Connect", b"T%d" % number)
    got = [e.request.header("X-RequestType") for e in read_exchanges(io.BytesIO(_zip(members)))]
    assert got == ["T2", "T9", "T10", "T100"]


def test_http_port_from_url_and_local_times():
    request = REQUEST.replace(b"https://mail.contoso.com/", b"http://mail.contoso.com:8080/")
    meta = (b'<Session><SessionTimers ClientBeginRequest="2024-03-05T10:00:00.5" />'
            b'<SessionFlags><SessionFlag N="x-hostip" V="fe80::9" /></SessionFlags></Session>')
    (exchange,) = read_exchanges(io.BytesIO(_zip({"raw/1_c.txt": request, "raw/1_m.xml": meta})))
    assert exchange.server == "[fe80::9]:8080"
    assert exchange.request.time == T0 + 0.5  # no offset: taken as UTC


def test_broken_proxy_form_target_is_kept():
    request = REQUEST.replace(b"https://mail.contoso.com/", b"http://[::1/")
    (exchange,) = read_exchanges(io.BytesIO(_zip({"raw/1_c.txt": request})))
    assert exchange.request.target.startswith("http://[::1/mapi/")
    assert exchange.request.body == REQ_BODY


def _exchanges() -> list[Exchange]:
    out = []
    bodies = [(REQ_BODY, INNER), (bytes(range(256)) * 3, b"\x00" * 10), (b"", b"")]
    for i, (req, resp) in enumerate(bodies):
        t = T0 + i
        request = HttpMessage(
            method="POST", target="/mapi/emsmdb/?MailboxId=a@b.c",
            headers=[("Host", "mail.contoso.com"), ("Content-Type", "application/mapi-http"),
                     ("Content-Length", str(len(req)))],
            body=req, time=t, end_time=t + 0.001)
        response = HttpMessage(
            status=200, reason="OK",
            headers=[("Content-Type", "application/mapi-http"), ("Transfer-Encoding", "chunked")],
            body=resp, time=t + 0.05, end_time=t + 0.06)
        out.append(Exchange(request, response, "tcp/0", f"[2001:db8::5]:5000{i}", "10.0.0.9:443"))
    out.append(Exchange(HttpMessage(method="GET", target="/x", headers=[("Host", "h")], time=T0),
                        None, "tcp/1", "10.0.0.5:1", "10.0.0.9:80"))
    out.append(Exchange(None, None))
    return out


def test_write_read_round_trip(tmp_path):
    originals = _exchanges()
    path = tmp_path / "out.saz"
    write_saz(originals, path)
    names = zipfile.ZipFile(path).namelist()
    assert "[Content_Types].xml" in names and "raw/01_c.txt" in names and "raw/04_m.xml" in names
    assert zipfile.ZipFile(path).read("raw/01_c.txt").startswith(
        b"POST https://mail.contoso.com/mapi/emsmdb/?MailboxId=a@b.c HTTP/1.1\r\n")
    back = list(read_exchanges(path))
    assert len(back) == 4
    for old, new in zip(originals, back):
        assert new.request.body == old.request.body
        assert new.request.headers == old.request.headers
        assert new.request.target == old.request.target
        assert new.request.time == pytest.approx(old.request.time, abs=1e-6)
        assert new.client == old.client and new.server == old.server
        if old.response is None:
            assert new.response is None
            assert [e["error"] for e in new.errors] == ["response not in the archive"]
            continue
        assert new.errors == []
        assert new.response.body == old.response.body
        assert new.response.headers == old.response.headers
        assert new.response.end_time == pytest.approx(old.response.end_time, abs=1e-6)
    buffer = io.BytesIO()
    write_saz(originals, buffer)
    assert [e.request.body for e in read_exchanges(io.BytesIO(buffer.getvalue()))] == \
        [e.request.body for e in back]


def _patched(offset: int, value: int) -> bytes:
    """A small archive with one byte of every central directory record changed."""
    data = bytearray(_zip({"raw/01_c.txt": REQUEST}))
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + offset] = value
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


@pytest.mark.parametrize("data, message", [
    (b"", "not a SAZ archive"),
    (b"PK\x03\x04garbage", "not a SAZ archive"),
    (b"{\"log\": {}}", "not a SAZ archive"),
    (_sample()[:-30], "not a SAZ archive"),
    (_sample()[: len(_sample()) // 2], "not a SAZ archive"),
    (_zip({"readme.txt": b"hello"}), "no raw/NN_c.txt"),
    (_patched(8, 1), "password-protected"),  # general purpose flag bit 0: encrypted
    (_patched(6, 64), "zip file version 6.4"),  # version needed to extract
])
def test_malformed_archives(data, message):
    with pytest.raises(MalformedError, match=message):
        list(read_exchanges(io.BytesIO(data)))


def test_missing_file(tmp_path):
    with pytest.raises(MalformedError, match="cannot read"):
        read_exchanges(tmp_path / "missing.saz")


def test_member_count_limit(monkeypatch):
    monkeypatch.setattr(saz, "MAX_MEMBERS", 3)
    with pytest.raises(MalformedError, match="more than the 3 accepted"):
        read_exchanges(io.BytesIO(_sample()))


def test_zip_bomb_member_is_not_read(monkeypatch):
    bomb = b"POST / HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n" + b"\x00" * 2_000_000
    data = _zip({"raw/01_c.txt": bomb, "raw/01_s.txt": RESPONSE_DECODED})
    assert len(data) < 20_000
    monkeypatch.setattr(saz, "MAX_MEMBER_SIZE", 100_000)
    (exchange,) = read_exchanges(io.BytesIO(data))
    assert exchange.request is None and exchange.response.body == INNER
    assert "larger than 100000 bytes" in exchange.errors[0]["error"]


def test_total_budget():
    data = _zip({f"raw/{i:02d}_c.txt": REQUEST for i in range(1, 6)})
    exchanges = list(read_exchanges(io.BytesIO(data), max_total=len(REQUEST) * 2))
    assert [e.request is not None for e in exchanges[:-1]] == [True, True]
    assert "uncompressed bytes" in exchanges[-1].errors[0]["error"]


def test_corrupt_member_is_an_error():
    data = bytearray(_zip({"raw/01_c.txt": REQUEST * 50, "raw/01_s.txt": RESPONSE_DECODED}))
    at = data.find(b"raw/01_c.txt") + len("raw/01_c.txt") + 20  # inside the deflated data
    data[at] ^= 0xFF
    (exchange,) = read_exchanges(io.BytesIO(bytes(data)))
    assert exchange.request is None
    assert "cannot read the member" in exchange.errors[0]["error"]


@settings(max_examples=200, deadline=None)
@given(at=st.integers(min_value=0, max_value=10_000), byte=st.integers(min_value=0, max_value=255))
def test_mutated_archive_raises_only_malformed(at, byte):
    data = bytearray(_sample())
    data[at % len(data)] = byte
    try:
        exchanges = list(read_exchanges(io.BytesIO(bytes(data))))
    except MalformedError:
        return
    assert all(isinstance(e, Exchange) for e in exchanges)
