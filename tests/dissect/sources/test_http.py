"""HttpParser: table-driven, byte by byte, with garbage, gaps and fuzzing (STYLE.md 3.5)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect.exchange import HttpMessage
from mapiwire.dissect.sources.http import HttpError, HttpParser
from mapiwire.dissect.sources.writers import serialize
from mapiwire.errors import UsageError

POST = (b"POST /mapi/emsmdb/?MailboxId=a@b HTTP/1.1\r\nHost: mail\r\n"
        b"Content-Type: application/mapi-http\r\nX-RequestType: Execute\r\n"
        b"Content-Length: 10\r\n\r\n0123456789")
GET = b"GET /ping HTTP/1.1\r\nHost: mail\r\n\r\n"
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-ResponseCode: 0\r\n\r\n"
           b"c;ext=1\r\nPROCESSING\r\n\r\n6\r\nDONE\r\n\r\n0\r\nX-Trailer: ignored\r\n\r\n")
SIMPLE = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"


def run(role, data, split=None, close=True, **kwargs):
    """All events of a parser fed `data` whole, or in pieces of `split` bytes."""
    parser = HttpParser(role, **kwargs)
    events = []
    step = split or len(data) or 1
    for at in range(0, len(data), step):
        events += parser.feed(data[at:at + step])
    if close:
        events += parser.close()
    return events


def messages(events):
    return [e for e in events if isinstance(e, HttpMessage)]


def errors(events):
    return [e for e in events if isinstance(e, HttpError)]


def shape(events):
    """Events without times, comparable across feeding patterns."""
    out = []
    for e in events:
        if isinstance(e, HttpMessage):
            out.append((e.method, e.target, e.status, e.reason, e.version, tuple(e.headers),
                        e.body))
        else:
            out.append(e)
    return out


CASES = [
    # (name, role, wire, [(method or status, body)], number of errors)
    ("content-length", "request", POST, [("POST", b"0123456789")], 0),
    ("no body", "request", GET, [("GET", b"")], 0),
    ("pipelined", "request", POST + GET + POST, [("POST", b"0123456789"), ("GET", b""),
                                                 ("POST", b"0123456789")], 0),
    ("leading empty lines", "request", b"\r\n\r\n" + GET, [("GET", b"")], 0),
    ("bare LF", "request", b"GET / HTTP/1.1\nHost: a\n\n", [("GET", b"")], 0),
    ("chunked with ext and trailer", "response", CHUNKED, [(200, b"PROCESSING\r\nDONE\r\n")], 0),
    ("keep-alive", "response", SIMPLE + CHUNKED + SIMPLE,
     [(200, b"abc"), (200, b"PROCESSING\r\nDONE\r\n"), (200, b"abc")], 0),
    ("100 continue skipped", "response", b"HTTP/1.1 100 Continue\r\n\r\n" + SIMPLE,
     [(200, b"abc")], 0),
    ("204 and 304 have no body", "response",
     b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"
     + SIMPLE, [(204, b""), (304, b""), (200, b"abc")], 0),
    ("read until close", "response", b"HTTP/1.0 200 OK\r\n\r\nall the rest",
     [(200, b"all the rest")], 0),
    ("chunked wins over content-length", "response",
     b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     b"2\r\nhi\r\n0\r\n\r\n", [(200, b"hi")], 0),
    ("folded header", "request", b"GET / HTTP/1.1\r\nX-A: one\r\n two\r\n\r\n", [("GET", b"")], 0),
    ("101 stops parsing", "response",
     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n\x00\x01binary", [(101, b"")], 0),
    ("trailing garbage", "request", GET + b"garbage\r\n", [("GET", b"")], 1),
    ("trailing partial line", "request", GET + b"GET /x HT", [("GET", b"")], 1),
    ("garbage then resync", "request", b"\x16\x03\x01junk\r\nmore junk\r\n" + POST,
     [("POST", b"0123456789")], 1),
    ("invalid header line", "request", b"GET /a HTTP/1.1\r\nno colon here\r\n\r\n" + GET,
     [("GET", b"")], 1),
    ("space before colon", "request", b"GET /a HTTP/1.1\r\nHost : x\r\n\r\n" + GET,
     [("GET", b"")], 1),
    ("invalid content-length", "request",
     b"POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n" + GET, [("GET", b"")], 1),
    ("conflicting content-lengths", "request",
     b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\r\n" + GET,
     [("GET", b"")], 1),
    ("unicode digits are not a length", "request",
     b"POST / HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n" + GET, [("GET", b"")], 1),
    ("request with unknown coding", "request",
     b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" + GET, [("GET", b"")], 1),
    ("bad chunk size", "response",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\nzz\r\n" + SIMPLE,
     [(200, b"hi"), (200, b"abc")], 1),
    ("chunk without CRLF", "response",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX\r\n" + SIMPLE,
     [(200, b"hi"), (200, b"abc")], 1),
    ("ends inside body", "request", POST[:-4], [("POST", b"012345")], 1),
    ("ends inside head", "request", POST[:30], [], 1),
    ("ends inside chunked body", "response", CHUNKED[:-30], [(200, b"PROCESSING\r\nDON")], 1),
    ("empty", "request", b"", [], 0),
]


@pytest.mark.parametrize("split", [None, 1, 7])
@pytest.mark.parametrize("name,role,wire,expected,n_errors", CASES, ids=[c[0] for c in CASES])
def test_vectors(name, role, wire, expected, n_errors, split):
    events = run(role, wire, split)
    got = [(m.method or m.status, m.body) for m in messages(events)]
    assert got == expected
    assert len(errors(events)) == n_errors
    assert all(e.where == "http" and e.offset is not None for e in errors(events))


def test_headers_keep_order_and_spelling():
    (msg,) = messages(run("request", POST))
    assert msg.method == "POST" and msg.target == "/mapi/emsmdb/?MailboxId=a@b"
    assert msg.version == "HTTP/1.1"
    assert msg.headers[:2] == [("Host", "mail"), ("Content-Type", "application/mapi-http")]
    assert msg.header("x-requesttype") == "Execute"


def test_status_line_and_trailers_ignored():
    (msg,) = messages(run("response", CHUNKED))
    assert (msg.status, msg.reason) == (200, "OK")
    assert msg.header("X-Trailer") is None


def test_byte_by_byte_times():
    """time = arrival of the first byte, end_time = arrival of the last byte."""
    wire = b"\r\n" + POST + CHUNKED.replace(b"HTTP/1.1 200", b"XXXX") + GET
    parser = HttpParser("request")
    events = []
    for at in range(len(wire)):
        events += parser.feed(wire[at:at + 1], float(at))
    events += parser.close()
    first, second = messages(events)
    assert (first.time, first.end_time) == (2.0, 2.0 + len(POST) - 1)
    assert second.time == len(wire) - len(GET)
    assert second.end_time == len(wire) - 1
    assert len(errors(events)) == 1  # the XXXX line
    assert shape(events) == shape(run("request", wire))


def test_time_of_whole_feeds():
    parser = HttpParser("response")
    assert parser.feed(SIMPLE[:10], 5.0) == []
    assert parser.in_message and parser.message_time == 5.0
    (msg,) = parser.feed(SIMPLE[10:] + SIMPLE[:3], 6.0)
    assert (msg.time, msg.end_time) == (5.0, 6.0)
    assert parser.message_time == 6.0  # the next message began in the same feed
    (msg,) = parser.feed(SIMPLE[3:], 7.0)
    assert (msg.time, msg.end_time) == (6.0, 7.0)


def test_offsets_are_stream_offsets():
    events = run("request", GET + b"bad line\r\n" + GET, split=3)
    (error,) = errors(events)
    assert error.offset == len(GET)
    assert error.as_record() == {"where": "http", "error": "invalid request line",
                                 "offset": len(GET)}


def test_midstream_skips_silently():
    events = run("response", b"ody of an earlier response\r\n\x00\x01" + SIMPLE, midstream=True)
    assert shape(events) == shape(run("response", SIMPLE))


def test_header_block_bound():
    big = b"GET / HTTP/1.1\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    for split in (None, 1000):
        events = run("request", big + GET, split)
        assert [m.target for m in messages(events)] == ["/ping"]
        assert "header block longer" in errors(events)[0].error
        assert errors(events)[0].offset == 0


def test_start_line_bound():
    events = run("request", b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\n\r\n" + GET, 512)
    assert [m.target for m in messages(events)] == ["/ping"]
    assert errors(events)[0].error == "start line too long"


def test_body_bound_keeps_framing():
    wire = b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + b"x" * 100 + GET
    events = run("request", wire, 9, max_body=40)
    first, second = messages(events)
    assert first.body == b"x" * 40 and second.target == "/ping"
    (error,) = errors(events)
    assert "longer than 40" in error.error


def test_chunked_body_bound():
    wire = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + (b"10\r\n" + b"y" * 16 + b"\r\n") * 4 + b"0\r\n\r\n" + SIMPLE)
    first, second = messages(run("response", wire, max_body=20))
    assert first.body == b"y" * 20 and second.body == b"abc"


def test_gap_inside_body_keeps_framing():
    parser = HttpParser("request")
    assert parser.feed(POST[:-6], 1.0) == []
    events = parser.gap(4, 2.0)
    assert events and events[0].where == "tcp"
    assert events[0].offset == len(POST) - 6
    events += parser.feed(POST[-2:] + GET, 3.0)
    first, second = messages(events)
    assert first.body == b"0123"  # what came before the gap
    assert second.target == "/ping"


def test_gap_ending_exactly_at_body_end():
    parser = HttpParser("request")
    parser.feed(POST[:-3])
    events = parser.gap(3)
    assert [m.body for m in messages(events)] == [b"0123456"]
    assert messages(parser.feed(GET))[0].target == "/ping"


def test_gap_in_chunk_data():
    parser = HttpParser("response")
    cut = CHUNKED.index(b"PROCESSING") + 4
    events = parser.feed(CHUNKED[:cut]) + parser.gap(3) + parser.feed(CHUNKED[cut + 3:])
    (msg,) = messages(events)
    assert msg.body == b"PROC"
    assert [e.where for e in errors(events)] == ["tcp"]


def test_gap_across_messages_resyncs():
    parser = HttpParser("request")
    events = parser.feed(POST[:-5])
    events += parser.gap(5 + 10)  # rest of the body and the start of the next request
    events += parser.feed(GET[10:] + POST)
    assert [m.method for m in messages(events)] == ["POST", "POST"]
    assert messages(events)[0].body == b"01234"


def test_gap_in_head_drops_message():
    parser = HttpParser("request")
    events = parser.feed(POST[:20]) + parser.gap(30) + parser.feed(POST[50:] + GET)
    assert [m.target for m in messages(events)] == ["/ping"]
    assert [e.where for e in errors(events)] == ["tcp"]


def test_feed_after_close_and_empty_feed():
    parser = HttpParser("request")
    assert parser.feed(b"") == []
    parser.close()
    assert parser.feed(GET) == [] and parser.close() == [] and parser.gap(3) == []


def test_bad_role():
    with pytest.raises(UsageError):
        HttpParser("both")


def test_serialize_round_trip():
    msg = HttpMessage(headers=[("Host", "h"), ("Transfer-Encoding", "chunked")], body=b"x" * 50,
                      method="POST", target="/mapi/nspi/")
    wire = serialize(msg, chunks=[10, 0, 5])
    assert wire.endswith(b"\r\n\r\na\r\n" + b"x" * 10 + b"\r\n5\r\nxxxxx\r\n23\r\n" + b"x" * 35
                         + b"\r\n0\r\n\r\n")  # empty chunks are not written
    (back,) = messages(run("request", wire, 3))
    assert back.body == msg.body and back.headers == msg.headers
    plain = HttpMessage(body=b"hello", status=404, reason="Not Found")
    (back,) = messages(run("response", serialize(plain)))
    assert back.header("Content-Length") == "5" and back.body == b"hello"
    msg.chunks = [1] * 50
    assert serialize(msg).count(b"1\r\nx\r\n") == 50


# -- fuzzing: never raises, terminates, and does not depend on how the bytes are split ----------

SEEDS = [POST, GET, CHUNKED, SIMPLE, POST + GET, b"HTTP/1.1 100 Continue\r\n\r\n" + SIMPLE]


@st.composite
def wire_and_splits(draw):
    kind = draw(st.sampled_from(["random", "mutated"]))
    if kind == "random":
        data = draw(st.binary(max_size=600))
    else:
        data = bytearray(b"".join(draw(st.lists(st.sampled_from(SEEDS), min_size=1, max_size=4))))
        for _ in range(draw(st.integers(0, 6))):
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.sampled_from([0, 10, 13, 32, 48, 57, 58, 59, 65, 102, 255]))
        data = bytes(data[:draw(st.integers(0, len(data)))])
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    return data, cuts


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wire_and_splits(), st.sampled_from(["request", "response"]), st.booleans())
def test_fuzz_split_invariance(sample, role, midstream):
    data, cuts = sample
    whole = run(role, data, midstream=midstream, max_body=256, max_header=512)
    parser = HttpParser(role, midstream=midstream, max_body=256, max_header=512)
    events = []
    for start, end in zip([0] + cuts, cuts + [len(data)]):
        events += parser.feed(data[start:end])
    events += parser.close()
    assert shape(events) == shape(whole)
    assert all(isinstance(e, (HttpMessage, HttpError)) for e in events)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=80), st.integers(0, 40)), max_size=10),
       st.sampled_from(["request", "response"]))
def test_fuzz_gaps_never_raise(pieces, role):
    parser = HttpParser(role, max_body=128)
    for data, gap in pieces:
        parser.feed(SEEDS[len(data) % len(SEEDS)] + data)
        parser.gap(gap)
    parser.close()
