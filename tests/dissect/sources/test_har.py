"""HAR reader (mapiwire.dissect.sources.har) and writer (archives.write_har).

tests/data/har/*.har are small archives shaped like each exporter's output (Chrome DevTools,
Firefox, Fiddler Classic "HTTPArchive v1.2", mitmproxy save.har; see captures/HAR-NOTES.md),
holding a MAPI/HTTP Connect and Disconnect.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.dissect.sources.archives import write_har
from mapiwire.dissect.sources.har import read_exchanges
from mapiwire.errors import MalformedError

DATA = Path(__file__).parents[2] / "data" / "har"

# The bodies in the sample archives.
DISCONNECT_REQ = b"\x00\x00\x00\x00"
CONNECT_REQ = (b"/o=Contoso/ou=Exchange Administrative Group/cn=Recipients/cn=user1\x00"
               + struct.pack("<IIIII", 0, 1252, 0x0409, 0x0409, 0))
INNER_HEAD = (b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 2\r\n"
              b"X-StartTime: Tue, 05 Mar 2024 10:00:00 GMT\r\n\r\n")
DISCONNECT_RESP = INNER_HEAD + b"\x00" * 12
CONNECT_RESP = (INNER_HEAD + struct.pack("<IIIII", 0, 0, 60000, 3, 1000)
                + b"/o=Contoso/ou=Exchange Administrative Group\x00"
                + "J\u00fcrgen M\u00fcller".encode("utf-16-le") + b"\x00\x00" + struct.pack("<I", 0))
TARGET = "/mapi/emsmdb/?MailboxId=f0e1d2c3@contoso.com"
T0 = 1709632800.0  # 2024-03-05T10:00:00Z
LOST = "U+FFFD"  # the request body was damaged by the exporter
MISSING = "body not in the archive"

# (file, entry, request body or LOST, response body / None / MISSING, request version,
#  connection, server, request time, response end time, error substrings)
VECTORS = [
    ("chrome", 0, LOST, CONNECT_RESP, "HTTP/1.1", "har/48213", "[2001:db8::10]:443",
     T0 + 0.1245, T0 + 0.1816, ["U+FFFD", "body is 89 bytes, the message declares 87"]),
    ("chrome", 1, DISCONNECT_REQ, DISCONNECT_RESP, "HTTP/1.1", "har/48213", "[2001:db8::10]:443",
     T0 + 1.1245, T0 + 1.1816, []),
    ("chrome", 2, DISCONNECT_REQ, None, "HTTP/2", "har/48250", "mail.contoso.com:443",
     T0 + 2.012, None, ["no response in the archive: net::ERR_CONNECTION_RESET"]),
    ("firefox", 0, DISCONNECT_REQ, DISCONNECT_RESP, "HTTP/1.1", "har/0", "10.0.0.9:443",
     T0 + 0.5, T0 + 0.542, []),
    ("firefox", 1, LOST, MISSING, "HTTP/1.1", "har/1", "10.0.0.9:443",
     T0 + 1.5, T0 + 1.542, ["U+FFFD", "declares 87", MISSING]),
    ("fiddler", 0, DISCONNECT_REQ, DISCONNECT_RESP, "HTTP/1.1", "har/0", "10.0.0.9:443",
     T0 + 0.1234567, T0 + 0.1704567, []),
    ("fiddler", 1, LOST, MISSING, "HTTP/1.1", "har/1", "10.0.0.9:443",
     T0 + 1.1234567, T0 + 1.1704567, ["U+FFFD", "declares 87", MISSING]),
    ("mitmproxy", 0, CONNECT_REQ, CONNECT_RESP, "HTTP/1.1", "har/0", "10.0.0.9:443",
     T0 + 0.2535, T0 + 0.29825, []),
    ("mitmproxy", 1, DISCONNECT_REQ, DISCONNECT_RESP, "HTTP/1.1", "har/1", "10.0.0.9:443",
     T0 + 1.25, T0 + 1.29475, []),
]


def _read(name: str) -> list[Exchange]:
    return list(read_exchanges(DATA / f"{name}.har"))


@pytest.mark.parametrize("name, index, req_body, resp_body, version, connection, server, "
                         "req_time, resp_end, errors", VECTORS,
                         ids=[f"{v[0]}-{v[1]}" for v in VECTORS])
def test_exporter_samples(name, index, req_body, resp_body, version, connection, server,
                          req_time, resp_end, errors):
    exchange = _read(name)[index]
    request, response = exchange.request, exchange.response
    assert request.method == "POST" and request.target == TARGET
    assert request.version == version
    assert request.header("Host") == "mail.contoso.com"
    assert not any(k.startswith(":") for k, _ in request.headers)
    assert request.header("Content-Type") == "application/mapi-http"
    if req_body is LOST:
        assert request.body != CONNECT_REQ and "\ufffd".encode() in request.body
    else:
        assert request.body == req_body
    if resp_body is None:
        assert response is None
    elif resp_body is MISSING:
        assert response.status == 200 and response.body == b""
    else:
        assert response.status == 200 and response.reason == "OK"
        assert response.body == resp_body
        assert response.header("X-ResponseCode") == "0"
        assert response.end_time == pytest.approx(resp_end, abs=1e-6)
    assert exchange.connection == connection
    assert exchange.server == server
    assert request.time == pytest.approx(req_time, abs=1e-6)
    messages = [e["error"] for e in exchange.errors]
    assert len(messages) == len(errors)
    for expected in errors:
        assert any(expected in m for m in messages), (expected, messages)
    for entry in exchange.errors:
        assert entry["where"].startswith(f"har.entries[{index}]")


@pytest.mark.parametrize("name, count", [("chrome", 3), ("firefox", 2), ("fiddler", 2),
                                         ("mitmproxy", 2)])
def test_sample_entry_counts(name, count):
    assert len(_read(name)) == count


def test_chrome_sanitized_export_has_no_cookies():
    for exchange in _read("chrome"):
        assert exchange.request.header("Cookie") is None


def test_mitmproxy_times_and_cookies():
    first = _read("mitmproxy")[0]
    # connect 3.5 ms (ssl 7.25 is part of it), send 0.75, wait 42.5, receive 1.5
    assert first.request.end_time - first.request.time == pytest.approx(0.00075, abs=1e-6)
    assert first.response.time - first.request.end_time == pytest.approx(0.0425, abs=1e-6)
    assert first.request.header("Cookie") == "MapiContext=AAAAAQ"


def _har(entries, creator="test") -> bytes:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": creator, "version": "1"},
                               "entries": entries}}).encode()


def _entry(**changes) -> dict:
    entry = {
        "startedDateTime": "2024-03-05T10:00:00Z", "time": 10,
        "request": {"method": "POST", "url": "https://h.example/mapi/nspi/?MailboxId=a",
                    "httpVersion": "HTTP/1.1", "headers": [{"name": "Host", "value": "h.example"}]},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1", "headers": [],
                     "content": {"size": 0, "mimeType": "application/mapi-http"}},
        "timings": {"send": 1, "wait": 2, "receive": 3},
    }
    for key, value in changes.items():
        target = entry
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    return entry


def _one(entry, creator="test") -> Exchange:
    (exchange,) = list(read_exchanges(io.BytesIO(_har([entry], creator))))
    return exchange


HEADER_SHAPES = [
    ([{"name": "A", "value": "1"}, {"name": "B", "value": 2}], [("A", "1"), ("B", "2")]),
    ([["A", "1"], ["B", "2"]], [("A", "1"), ("B", "2")]),  # Slack's [name, value] pairs
    ({"A": "1", "B": ["2", "3"]}, [("A", "1"), ("B", "2"), ("B", "3")]),
    ([{"name": ":authority", "value": "x.example:8443"}, {"name": ":path", "value": "/"},
      {"name": "A", "value": None}], [("Host", "x.example:8443"), ("A", "")]),
    ([{"value": "no name"}, 5, ["one"], {"name": "A", "value": "1"}], [("A", "1")]),
    ("not a list", []),
]


@pytest.mark.parametrize("headers, expected", HEADER_SHAPES)
def test_header_shapes(headers, expected):
    exchange = _one(_entry(request__headers=headers))
    if not any(k == "Host" for k, _ in expected):
        expected = [("Host", "h.example")] + expected
    assert exchange.request.headers == expected


@pytest.mark.parametrize("spelling, normal", [
    ("HTTP/1.1", "HTTP/1.1"), ("http/1.1", "HTTP/1.1"), ("HTTP/1.0", "HTTP/1.0"), ("h2", "HTTP/2"),
    ("http/2.0", "HTTP/2"), ("HTTP/2", "HTTP/2"), ("h3", "HTTP/3"), ("", "HTTP/1.1"),
    ("unknown", "HTTP/1.1"), (None, "HTTP/1.1")])
def test_version_spellings(spelling, normal):
    exchange = _one(_entry(request__httpVersion=spelling, response__httpVersion=spelling))
    assert exchange.request.version == normal
    assert exchange.response.version == normal


BINARY = bytes(range(256)) + b"\x00\x00\xff"

BODIES = [
    # (postData, request headers, creator, expected body, error substring or None)
    ({"text": base64.b64encode(BINARY).decode(), "encoding": "base64"}, [], "x", BINARY, None),
    ({"text": BINARY.decode("latin-1")}, [], "mitmproxy exporthar", BINARY, None),
    ({"text": BINARY.decode("latin-1")}, [("Content-Length", str(len(BINARY)))], "x", BINARY, None),
    ({"text": "h\u00e9llo"}, [("Content-Length", "6")], "x", "h\u00e9llo".encode(), None),
    ({"text": "h\u00e9llo", "mimeType": "text/plain"}, [], "x", "h\u00e9llo".encode(), None),
    ({"text": "h\u00e9llo", "mimeType": "application/mapi-http"}, [], "x", b"h\xe9llo", None),
    ({"text": "\u20ac"}, [], "mitmproxy", "\u20ac".encode(), None),
    ({"text": "a\ufffdb", "mimeType": "application/mapi-http"}, [], "x", "a\ufffdb".encode(), "U+FFFD"),
    ({"text": "abc"}, [("Content-Length", "5")], "x", b"abc", "body is 3 bytes, the message declares 5"),
    ({"params": [{"name": "a", "value": "1 2"}, {"name": "b", "value": "&"}]}, [], "x",
     b"a=1+2&b=%26", None),
    ({"text": "!!notbase64", "encoding": "base64"}, [], "x", b"", "invalid base64"),
    ({"text": 12}, [], "x", b"", "not a string"),
    (None, [("Content-Length", "12")], "x", b"", MISSING),
    (None, [], "x", b"", None),
]


@pytest.mark.parametrize("post, headers, creator, body, error", BODIES)
def test_request_bodies(post, headers, creator, body, error):
    request = {"method": "POST", "url": "http://h/x", "httpVersion": "HTTP/1.1",
               "headers": [{"name": k, "value": v} for k, v in headers]}
    if post is not None:
        request["postData"] = dict(post, mimeType=post.get("mimeType", "application/mapi-http"))
    exchange = _one(_entry(request=request), creator)
    assert exchange.request.body == body
    if error is None:
        assert exchange.errors == []
    else:
        assert any(error in e["error"] for e in exchange.errors), exchange.errors


def test_response_content_variants():
    inner = INNER_HEAD + bytes(range(256))
    cases = [
        ({"text": base64.b64encode(inner).decode(), "encoding": "base64", "size": len(inner)}, inner),
        ({"text": inner.decode("latin-1"), "size": len(inner),
          "mimeType": "application/mapi-http"}, inner),
        ({"size": 10}, b""),
        ({"size": 0, "text": ""}, b""),
    ]
    for content, body in cases:
        exchange = _one(_entry(response__content=content))
        assert exchange.response.body == body
    assert any(MISSING in e["error"] for e in _one(_entry(response__content={"size": 10})).errors)
    # mitmproxy writes `content: []` when there is no response body at all
    assert _one(_entry(response__content=[])).response.body == b""


def test_times_without_timings():
    exchange = _one(_entry(timings=None, startedDateTime="2024-03-05T11:00:00+01:00", time=250))
    assert exchange.request.time == T0 and exchange.response.end_time == T0 + 0.25
    assert exchange.response.time is None
    naive = _one(_entry(startedDateTime="2024-03-05T10:00:00.5"))
    assert naive.request.time == T0 + 0.5
    bad = _one(_entry(startedDateTime="yesterday"))
    assert bad.request.time is None and "not an ISO 8601 date" in bad.errors[0]["error"]


@pytest.mark.parametrize("changes, check", [
    ({"request__url": "http://[::1/x"}, "broken URL"),
    ({"startedDateTime": "9999-12-31T23:59:59-05:00"}, "time out of range"),
    ({"startedDateTime": "0001-01-01T00:00:00+01:00"}, "time out of range"),
    ({"timings": {"send": 1e300, "wait": 1}}, None),
    ({"request__headers": [{"name": "Content-Length", "value": "9" * 5000}]}, None),
    ({"request__headers": [{"name": "Content-Length", "value": "\u00b2"}]}, None),
])
def test_odd_values_do_not_crash(changes, check):
    (exchange,) = read_exchanges(io.BytesIO(_har([_entry(**changes)])))
    if check == "time out of range":
        assert exchange.request.time is None
        assert any(check in e["error"] for e in exchange.errors)
    elif check:
        assert exchange.request.target == "/" and exchange.server == ""
    for msg in (exchange.request, exchange.response):
        for t in (msg.time, msg.end_time):
            assert t is None or 0 <= t < 253402300800


@pytest.mark.parametrize("fields, connection, server", [
    ({"serverIPAddress": "10.1.1.1", "connection": "52344"}, "har/52344", "10.1.1.1:443"),
    ({"serverIPAddress": "10.1.1.1", "connection": "443"}, "har/0", "10.1.1.1:443"),
    ({"_serverIPAddress": "[fe80::1]", "_connectionId": "7", "connection": "443"}, "har/7",
     "[fe80::1]:443"),
    ({}, "har/0", "h.example:443"),
])
def test_connection_and_server(fields, connection, server):
    exchange = _one(dict(_entry(), **fields))
    assert exchange.connection == connection and exchange.server == server


def test_origin_form_and_host():
    exchange = _one(_entry(request__url="http://h.example:8080/mapi/emsmdb/?a=1#frag",
                           request__headers=[]))
    assert exchange.request.target == "/mapi/emsmdb/?a=1"
    assert exchange.request.header("Host") == "h.example:8080"
    assert exchange.server == "h.example:8080"


def _exchanges() -> list[Exchange]:
    out = []
    for i, (req, resp) in enumerate([(CONNECT_REQ, CONNECT_RESP), (DISCONNECT_REQ, DISCONNECT_RESP),
                                     (BINARY, b"PROCESSING\r\n" + BINARY), (b"", b"")]):
        t = T0 + i
        request = HttpMessage(
            method="POST", target="/mapi/emsmdb/?MailboxId=a@b.c",
            headers=[("Host", "mail.contoso.com"), ("Content-Type", "application/mapi-http"),
                     ("X-RequestType", "Execute"), ("Content-Length", str(len(req)))],
            body=req, time=t, end_time=t + 0.001)
        response = HttpMessage(
            status=200, reason="OK",
            headers=[("Content-Type", "application/mapi-http"), ("Transfer-Encoding", "chunked")],
            body=resp, time=t + 0.05, end_time=t + 0.06)
        out.append(Exchange(request, response, f"tcp/{i // 2}", f"10.0.0.5:5000{i // 2}",
                            "[2001:db8::1]:443"))
    out.append(Exchange(HttpMessage(method="GET", target="/", headers=[("Host", "h")], time=T0),
                        None, "tcp/9", "", "10.0.0.9:80"))
    out.append(Exchange(None, None, errors=[{"where": "x", "error": "y"}]))
    return out


def test_write_read_round_trip(tmp_path):
    originals = _exchanges()
    path = tmp_path / "out.har"
    write_har(originals, path)
    doc = json.loads(path.read_text("utf-8"))
    assert doc["log"]["version"] == "1.2" and doc["log"]["creator"]["name"] == "mapiwire"
    back = list(read_exchanges(path))
    assert len(back) == len(originals) - 1  # the exchange without a request is left out
    for old, new in zip(originals, back):
        assert new.request.body == old.request.body
        assert new.request.headers == old.request.headers
        assert new.request.target == old.request.target
        assert new.request.time == pytest.approx(old.request.time, abs=1e-6)
        assert new.client == old.client and new.server == old.server
        assert new.connection == f"har/{old.connection}"
        if old.response is None:
            assert new.response is None
            continue
        assert new.response.body == old.response.body
        assert new.response.headers == old.response.headers
        assert new.response.end_time == pytest.approx(old.response.end_time, abs=1e-6)
        assert [e for e in new.errors if "not in the archive" not in e["error"]] == []
    # binary bodies went to base64, text ones stayed text
    posts = [e["request"].get("postData", {}) for e in doc["log"]["entries"]]
    assert posts[0].get("encoding") == "base64" and posts[1].get("encoding") == "base64"
    assert "encoding" not in posts[3]
    buffer = io.BytesIO()
    write_har(originals, buffer)
    assert buffer.getvalue() == path.read_bytes()


MALFORMED = [
    (b"", "invalid JSON"),
    (b"{", "invalid JSON at line 1"),
    (b"{\"log\": {\"entries\": [}", "invalid JSON"),
    (b"[]", "no log.entries"),
    (b"{\"log\": 5}", "no log.entries"),
    (b"{\"log\": {\"entries\": {}}}", "no log.entries"),
    (b"{\"log\": {\"entries\": \"x\"}}", "no log.entries"),
    (b"\xff\xfe{\x00", "not"),  # UTF-16 LE BOM with an odd length
    (b"{\"log\": \"\xff\"}", "not UTF-8"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
]


@pytest.mark.parametrize("data, message", MALFORMED)
def test_malformed_archives(data, message):
    with pytest.raises(MalformedError) as info:
        list(read_exchanges(io.BytesIO(data)))
    assert message in str(info.value)


def test_truncated_sample_is_refused():
    data = (DATA / "chrome.har").read_bytes()
    with pytest.raises(MalformedError, match="invalid JSON"):
        read_exchanges(io.BytesIO(data[: len(data) // 2]))


def test_size_limit(tmp_path):
    path = tmp_path / "big.har"
    path.write_bytes(_har([_entry()]))
    with pytest.raises(MalformedError, match="larger than the 100 bytes accepted"):
        read_exchanges(path, max_size=100)
    with pytest.raises(MalformedError, match="larger than"):
        read_exchanges(io.BytesIO(_har([_entry()])), max_size=100)
    with pytest.raises(MalformedError, match="cannot read"):
        read_exchanges(tmp_path / "missing.har")


@pytest.mark.parametrize("entry, error", [
    (5, "entry is not an object"),
    ({}, "no request method or url"),
    ({"request": {"method": "GET"}}, "no request method or url"),
    ({"request": {"method": "GET", "url": "/x"}, "response": {"status": "200"}}, "no response"),
    ({"request": {"method": "GET", "url": "/x"}, "response": {"status": True}}, "no response"),
])
def test_bad_entries_become_errors(entry, error):
    exchange = _one(entry)
    assert any(error in e["error"] for e in exchange.errors), exchange.errors


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(["request", "response", "method", "url",
                                                       "headers", "name", "value", "postData",
                                                       "text", "encoding", "content", "status",
                                                       "timings", "startedDateTime", "send",
                                                       "wait", "size", "params", "connection",
                                                       "serverIPAddress", "httpVersion"]),
                                      inner, max_size=6),
                    max_leaves=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(JSON, max_size=4))
def test_random_entries_never_raise(entries):
    for exchange in read_exchanges(io.BytesIO(_har(entries))):
        assert isinstance(exchange, Exchange)
        if exchange.request is not None:
            assert isinstance(exchange.request.body, bytes)


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=5000), byte=st.integers(min_value=0, max_value=255))
def test_mutated_sample_raises_only_malformed(cut, byte):
    data = bytearray((DATA / "mitmproxy.har").read_bytes())
    data[cut % len(data)] = byte
    try:
        exchanges = list(read_exchanges(io.BytesIO(bytes(data))))
    except MalformedError:
        return
    assert all(isinstance(e, Exchange) for e in exchanges)
