"""MAPI/HTTP transport (MS-OXCMAPIHTTP 2.2.2, 2.2.3, 2.2.7): meta-tags, headers, cookies."""

import pytest
from hypothesis import given, settings, strategies as st

from mapiwire.dissect.transport import (InnerStream, context_cookie, endpoint_of, is_mapi, parse_cookies,
                                        parse_inner, parse_set_cookies, split_request_id)

BODY = bytes.fromhex("00000000" "00000000") + b"\x00\x0d\x0a\x00binary"
# As example 4.2 frames it: PROCESSING, PENDING keep-alives, DONE, additional headers, blank line, body.
STREAM = (b"PROCESSING\r\nPENDING\r\nPENDING\r\nDONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 12\r\n"
          b"X-StartTime: Mon, 24 Nov 2026 10:00:00 GMT\r\n\r\n" + BODY)


def feed_bytewise(data: bytes) -> InnerStream:
    inner = InnerStream()
    for i in range(len(data)):
        inner.feed(data[i:i + 1])
    inner.close()
    return inner


@pytest.mark.parametrize("parse", [parse_inner, feed_bytewise], ids=["whole", "byte-by-byte"])
def test_meta_tags_headers_and_body(parse):
    inner = parse(STREAM)
    assert inner.meta == ["PROCESSING", "PENDING", "PENDING", "DONE"]
    assert inner.headers == [("X-ResponseCode", "0"), ("X-ElapsedTime", "12"),
                             ("X-StartTime", "Mon, 24 Nov 2026 10:00:00 GMT")]
    assert inner.body == BODY  # CRLF inside the binary body is body, not framing
    assert inner.errors == []


@pytest.mark.parametrize("parse", [parse_inner, feed_bytewise], ids=["whole", "byte-by-byte"])
def test_body_without_meta_tags_is_all_body(parse):
    html = b"<html><body>Context not found</body></html>"
    inner = parse(html)
    assert inner.meta == [] and inner.body == html and inner.errors == []
    assert parse(b"PRO").body == b"PRO"  # a prefix of a meta-tag that never completes


@pytest.mark.parametrize("data, message", [
    (b"PROCESSING\r\nPENDING\r\n", "ended before DONE"),
    (b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\n", "inside the additional headers"),
    (b"PROCESSING\r\nGARBAGE\r\nDONE\r\n\r\n", "where a meta-tag was expected"),
    (b"PROCESSING\r\nDONE\r\nnot a header\r\n\r\nbody", "not a header line"),
])
def test_malformed_inner_streams_are_errors_with_offsets(data, message):
    for inner in (parse_inner(data), feed_bytewise(data)):
        assert any(message in e["error"] for e in inner.errors), inner.errors
        assert all(e["where"] == "response.meta" and e["offset"] >= 0 for e in inner.errors)


def test_overlong_line_stops_header_parsing():
    inner = parse_inner(b"PROCESSING\r\nDONE\r\nX-A: " + b"a" * 10000)
    assert any("longer than" in e["error"] for e in inner.errors)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=7))
def test_any_split_gives_the_same_result(data, step):
    whole = parse_inner(data)
    inner = InnerStream()
    for i in range(0, len(data), step):
        inner.feed(data[i:i + step])
    inner.close()
    assert (inner.meta, inner.headers, inner.body) == (whole.meta, whole.headers, whole.body)


def test_headers_and_cookies():
    assert endpoint_of("/mapi/emsmdb/?MailboxId=abc@contoso.com") == "emsmdb"
    assert endpoint_of("/mapi/nspi/?MailboxId=abc") == "nspi"
    assert endpoint_of("/owa/") is None
    assert is_mapi([("Content-Type", "application/mapi-http")])
    assert is_mapi([("X-RequestType", "PING")])
    assert not is_mapi([("Content-Type", "text/html")], [("Content-Type", "text/html")])
    cookies = parse_cookies(["MapiContext=abc; MapiSequence=7", "other=1"])
    assert cookies == {"MapiContext": "abc", "MapiSequence": "7", "other": "1"}
    assert context_cookie(cookies) == "abc"
    assert context_cookie({"MapiSequence": "7", "sid": "x"}) == "x"
    assert parse_set_cookies(["MapiContext=new; path=/mapi/emsmdb; HttpOnly"]) == {"MapiContext": "new"}
    assert split_request_id("{E2EA6C1C-E61B-49E9-9CFB-38184F907552}:123456") == (
        "E2EA6C1C-E61B-49E9-9CFB-38184F907552", 123456)
    assert split_request_id("garbage") is None


def test_session_key_ignores_unrelated_cookies_and_knows_gromox():
    """Issue 8 point 11: an X-BEResource or load balancer cookie is not a session; gromox's `sid` is."""
    from mapiwire.dissect.decode import session_key
    from mapiwire.dissect.exchange import Exchange, HttpMessage

    def exchange(cookie):
        request = HttpMessage(headers=[("X-RequestType", "Execute"), ("Cookie", cookie),
                                       ("X-RequestId", "{11111111-2222-3333-4444-555555555555}:3")])
        return Exchange(request, None)

    assert session_key(exchange("X-BEResource=Server~EXCH01; LB=abc")) == \
        "requestid:11111111-2222-3333-4444-555555555555"
    assert session_key(exchange("sid=alg6ic; sequence=s1")) == "alg6ic"
    assert session_key(exchange("X-BEResource=x; MapiContext=ctx-1; MapiSequence=s")) == "ctx-1"


def test_request_types_are_the_bodies_defined():
    """The transport's list of X-RequestType values (what `stats` checks requests against) names
    exactly the request types defs/mapihttp.BODIES defines."""
    from mapiwire.dissect.defs.mapihttp import BODIES, BODIES_LOWER
    from mapiwire.dissect.transport import REQUEST_TYPES, REQUEST_TYPES_LOWER

    assert REQUEST_TYPES == set(BODIES) and REQUEST_TYPES_LOWER == set(BODIES_LOWER)
