"""The generated fast parser (fastgen.py, fastpath.py) against construct, the reference: the same
records, byte for byte, on every sample, every capture of captures/, and random and mutated bodies
(errors included)."""

from __future__ import annotations

import glob
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect import fastpath
from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.exchange import Exchange, HttpMessage
from mapiwire.dissect.render import dumps
from mapiwire.dissect.sources import open_capture
from mapiwire.samples import address_book_session, failures, mailbox_session, outlook_flow

CAPTURES = os.path.join(os.path.dirname(__file__), "..", "..", "captures")
SAMPLES = mailbox_session(outlook_flow(messages=6)) + address_book_session() + failures()


def records(exchanges, fast: bool, monkeypatch) -> list[str]:
    """The JSON lines of the exchanges, decoded with or without the fast path."""
    if fast:
        monkeypatch.delenv("MAPIWIRE_NO_FASTPATH", raising=False)
    else:
        monkeypatch.setenv("MAPIWIRE_NO_FASTPATH", "1")
    decoder = Decoder()
    out = [decoder.decode(exchange) for exchange in exchanges]
    return [dumps(record) for record in out if record is not None]


def test_samples_decode_the_same_and_take_the_fast_path(monkeypatch):
    calls = {"fast": 0, "fallback": 0}
    parse = fastpath.parse

    def counting(definition, data, **params):
        value = parse(definition, data, **params)
        calls["fallback" if value is fastpath.FALLBACK else "fast"] += 1
        return value

    monkeypatch.setattr(fastpath, "parse", counting)
    fast = records(SAMPLES, True, monkeypatch)
    assert fast == records(SAMPLES, False, monkeypatch)
    assert calls["fast"] > 40 and calls["fallback"] <= 2  # the refused bodies of failures()


@pytest.mark.parametrize("path", sorted(p for p in glob.glob(os.path.join(CAPTURES, "*"))
                                        if p.endswith((".pcap", ".pcapng", ".har", ".saz"))))
def test_captures_decode_the_same(path, monkeypatch):
    """Every capture of captures/, the TLS ones decrypted as their README says (through tshark)."""
    keys = path.rsplit(".", 1)[0] + ".keys"
    if "tls" in os.path.basename(path) and not shutil.which("tshark"):
        pytest.skip("TLS captures are decrypted by tshark")
    exchanges = list(open_capture(path, keylog=keys if os.path.exists(keys) else None,
                                  tls="secrets" in os.path.basename(path)))
    assert exchanges
    assert records(exchanges, True, monkeypatch) == records(exchanges, False, monkeypatch)


def _execute_pairs():
    return [e for e in SAMPLES if e.request is not None and e.request.header("X-RequestType") == "Execute"
            and e.response is not None and e.response.status == 200]


def _with_body(exchange: Exchange, side: str, body: bytes) -> Exchange:
    request, response = exchange.request, exchange.response
    message = request if side == "request" else response
    if side == "response":  # keep the meta-tags and headers in front of the binary body
        head, _, _ = message.body.partition(b"\r\n\r\n")
        body = head + b"\r\n\r\n" + body
    changed = HttpMessage(headers=list(message.headers), body=body, method=message.method, target=message.target,
                          status=message.status, reason=message.reason, time=message.time, end_time=message.end_time)
    if side == "request":
        return Exchange(request=changed, response=response, connection=exchange.connection,
                        client=exchange.client, server=exchange.server)
    return Exchange(request=request, response=changed, connection=exchange.connection,
                    client=exchange.client, server=exchange.server)


def _binary(exchange: Exchange, side: str) -> bytes:
    body = exchange.request.body if side == "request" else exchange.response.body
    return body if side == "request" else body.partition(b"\r\n\r\n")[2]


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 8)),
)


def _mutate(data: bytes, changes) -> bytes:
    out = bytearray(data)
    for kind, where, value in changes:
        if not out:
            break
        at = where % len(out)
        if kind == "flip":
            out[at] ^= value
        elif kind == "cut":
            del out[at:]
        elif kind == "insert":
            out.insert(at, value)
        else:
            del out[at:at + value]
    return bytes(out)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 10**6), side=st.sampled_from(["request", "response"]),
       changes=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_bodies_decode_the_same(which, side, changes, monkeypatch):
    """Mutated request and response bodies of every request type: same records, errors included."""
    candidates = [e for e in SAMPLES if e.request is not None and e.response is not None and e.response.status == 200]
    exchange = candidates[which % len(candidates)]
    mutated = _with_body(exchange, side, _mutate(_binary(exchange, side), changes))
    exchanges = [exchange, mutated] if side == "response" else [mutated]
    assert records(exchanges, True, monkeypatch) == records(exchanges, False, monkeypatch)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 10**6), side=st.sampled_from(["request", "response"]), noise=st.binary(max_size=200))
def test_random_bodies_decode_the_same(which, side, noise, monkeypatch):
    """Random bytes as the body of each request type (after a real StatusCode for responses)."""
    candidates = [e for e in SAMPLES if e.request is not None and e.response is not None and e.response.status == 200]
    exchange = candidates[which % len(candidates)]
    body = noise if side == "request" else b"\0\0\0\0" + noise
    exchanges = [_with_body(exchange, side, body)]
    assert records(exchanges, True, monkeypatch) == records(exchanges, False, monkeypatch)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 10**6), changes=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_rop_lists_decode_the_same(which, changes, monkeypatch):
    """Mutated ROP buffers inside a well-formed, uncompressed Execute envelope (RopBufferSize and
    RPC_HEADER_EXT sizes fixed up), so the mutations reach the ROPs themselves."""
    pairs = [e for e in _execute_pairs() if not _flags(_binary(e, "response")) & 0x3]
    exchange = pairs[which % len(pairs)]
    body = _binary(exchange, "response")
    size = int.from_bytes(body[12:16], "little")
    header, rops, tail = body[16:24], body[24:16 + size], body[16 + size:]
    rops = _mutate(rops, changes)
    header = header[:4] + len(rops).to_bytes(2, "little") * 2
    mutated = body[:12] + (len(rops) + 8).to_bytes(4, "little") + header + rops + tail
    exchanges = [exchange, _with_body(exchange, "response", mutated)]
    assert records(exchanges, True, monkeypatch) == records(exchanges, False, monkeypatch)


def _flags(response_body: bytes) -> int:
    """RPC_HEADER_EXT.Flags of an Execute success body (StatusCode, ErrorCode, Flags, RopBufferSize)."""
    return int.from_bytes(response_body[18:20], "little")


def test_definitions_made_on_the_fly_are_left_to_construct():
    """Only the registry's bodies take the fast path: the fast tree never grows (decode --as makes
    definitions of its own)."""
    import construct as c

    made = len(fastpath.tree().made)
    for _ in range(3):
        assert fastpath.parse(c.Struct("A" / c.Int8ul), b"\x01") is fastpath.FALLBACK
    assert len(fastpath.tree().made) == made
