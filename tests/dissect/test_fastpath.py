"""The generated fast parser (fastgen.py, fastpath.py) against construct, the reference: the same
records, byte for byte, on every sample, every capture of captures/, and random and mutated bodies
(errors included)."""

from __future__ import annotations

import glob
import io
import os
import shutil
import struct

import construct as c
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


# Property values and rows: fastvalues.py's buffer readers against oxcdata's stream readers ----------

def _same(a, b) -> bool:
    """The same parsed value: same classes all the way down, same contents (`_io` aside)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        keys = [k for k in a if k != "_io"]
        return keys == [k for k in b if k != "_io"] and all(_same(a[k], b[k]) for k in keys)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return repr(a) == repr(b) and getattr(a, "name", None) == getattr(b, "name", None)


def _encoded(draw, layouts: dict, ptype: int, count_size: int) -> bytes:
    """Wire bytes of one value of `ptype` (well formed, sizes from hypothesis)."""
    kind, argument = layouts[ptype]
    if kind == "scalar":
        return draw(st.binary(min_size=struct.calcsize(argument[0]), max_size=struct.calcsize(argument[0])))
    if kind == "boolean":
        return bytes([draw(st.sampled_from([0, 1, 2, 255]))])
    if kind == "error":
        return draw(st.sampled_from([0, 0x8004010F, 0x80040102, 12345])).to_bytes(4, "little")
    if kind == "guid":
        return draw(st.binary(min_size=16, max_size=16))
    if kind == "unicode":
        return draw(st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=12)
                    ).encode("utf-16-le") + b"\0\0"
    if kind == "string8":
        return draw(st.binary(max_size=12)).replace(b"\0", b"a") + b"\0"
    if kind == "binary":
        data = draw(st.binary(max_size=20))
        return len(data).to_bytes(count_size, "little") + data
    if kind == "server_id":
        data = draw(st.one_of(st.binary(max_size=30), st.binary(min_size=20, max_size=20).map(lambda b: b"\x01" + b)))
        return len(data).to_bytes(2, "little") + data
    if kind == "multiple":
        items = draw(st.lists(st.just(None), max_size=3))
        return len(items).to_bytes(4, "little") + b"".join(_encoded(draw, layouts, argument, count_size) for _ in items)
    return b""  # null


def _interpreted(read, data: bytes):
    stream = io.BytesIO(data)
    try:
        return read(stream, c.Container(_params={}), ""), stream.tell()
    except Exception:
        return None


def _fast(read, data: bytes):
    try:
        return read(data, 0)
    except Exception:
        return None


@settings(max_examples=300, deadline=None)
@given(data=st.data(), count_size=st.sampled_from([2, 4]), cut=st.integers(0, 3))
def test_property_value_readers_match_construct(data, count_size, cut):
    """Every property type fastvalues reads: the same value and end on well-formed bytes (and on
    those bytes cut short, both fail or both give the same)."""
    from mapiwire.dissect import fastvalues
    from mapiwire.dissect.defs import oxcdata

    layouts = oxcdata.value_layouts()
    ptype = data.draw(st.sampled_from(sorted(fastvalues.READERS[count_size])))
    wire = _encoded(data.draw, layouts, ptype, count_size) + data.draw(st.binary(max_size=3))
    wire = wire[:len(wire) - cut] if cut else wire
    interpreted = _interpreted(oxcdata.CODECS[count_size][0][ptype], wire)
    fast = _fast(fastvalues.READERS[count_size][ptype], wire)
    assert (interpreted is None) == (fast is None), (hex(ptype), wire.hex())
    if fast is not None:
        assert _same(fast[0], interpreted[0]) and fast[1] == interpreted[1], (hex(ptype), wire.hex())


@settings(max_examples=300, deadline=None)
@given(data=st.data(), count_size=st.sampled_from([2, 4]), flag=st.sampled_from([0, 0, 1]),
       cut=st.sampled_from([0, 0, 1, 2]), as_ints=st.booleans(), unspecified=st.sampled_from([False, False, True]))
def test_property_rows_match_construct(data, count_size, flag, cut, as_ints, unspecified):
    """PropertyRow (standard rows through the generated per-signature functions, flagged rows and
    PtypUnspecified columns through the loop) against oxcdata.PropertyRow."""
    from construct import this

    from mapiwire.dissect import fastvalues
    from mapiwire.dissect.defs import oxcdata

    layouts = oxcdata.value_layouts()
    ptypes = data.draw(st.lists(st.sampled_from(sorted(fastvalues.READERS[count_size])), min_size=1, max_size=8))
    if unspecified:  # a PtypUnspecified column: the value's type is on the wire
        ptypes.insert(data.draw(st.integers(0, len(ptypes))), 0)
    tags = [(0x3000 + i) << 16 | ptype for i, ptype in enumerate(ptypes)]
    columns = tags if as_ints else [oxcdata.tag_container(tag) for tag in tags]
    wire = bytes([flag])
    for ptype in ptypes:
        value_type = ptype or data.draw(st.sampled_from(sorted(fastvalues.READERS[count_size])))
        wire += value_type.to_bytes(2, "little") if not ptype else b""
        value_flag = data.draw(st.sampled_from([0, 0, 1, 0xA])) if flag else None
        wire += bytes([value_flag]) if flag else b""
        if value_flag == 1:
            continue
        wire += (b"\x0f\x01\x04\x80" if value_flag == 0xA else _encoded(data.draw, layouts, value_type, count_size))
    wire = wire[:len(wire) - cut] if cut else wire
    row = oxcdata.PropertyRow(this._params.columns, count_size=count_size)
    for flagged in (False, True):  # made the second time a signature is met
        fastvalues.row_function(tuple(ptypes), count_size, flagged)
    stream = io.BytesIO(wire)
    try:
        interpreted = row.parse_stream(stream, columns=columns), stream.tell()
    except Exception:
        interpreted = None
    try:
        fast = fastvalues.RowReader(row).read(wire, 0, columns, None, {})
    except Exception:
        fast = None
    assert (interpreted is None) == (fast is None), wire.hex()
    if fast is not None:
        assert _same(fast[0], interpreted[0]) and fast[1] == interpreted[1], wire.hex()
    rows = oxcdata.PropertyRowSet(2, this._params.columns, count_size=count_size)  # two rows, read at once
    stream = io.BytesIO(wire + wire)
    try:
        interpreted = rows.parse_stream(stream, columns=columns), stream.tell()
    except Exception:
        interpreted = None
    try:
        fast = fastvalues.RowReader(row).read_rows(wire + wire, 0, 2, columns, None, {})
    except Exception:
        fast = None
    assert (interpreted is None) == (fast is None), wire.hex()
    if fast is not None:
        assert _same(fast[0], interpreted[0]) and fast[1] == interpreted[1], wire.hex()


@settings(max_examples=200, deadline=None)
@given(data=st.data(), has=st.sampled_from([b"", b"\xff", b"\xff", b"\x00", b"\x01"]), cut=st.sampled_from([0, 0, 1]))
def test_address_book_values_match_construct(data, has, cut):
    """AddressBookPropertyValue (MS-OXCMAPIHTTP 2.2.1.1) by fastvalues.address_book_value against
    addressbook.AddressBookPropertyValue: HasValue bytes, multi-valued elements with their own."""
    from mapiwire.dissect import fastvalues
    from mapiwire.dissect.defs import addressbook, oxcdata

    layouts = oxcdata.value_layouts()
    ptype = data.draw(st.one_of(st.sampled_from(sorted(fastvalues.READERS[4])),
                                st.sampled_from(sorted(addressbook.ELEMENT_TYPES))))
    element = addressbook.ELEMENT_TYPES.get(ptype)
    if element is None:
        body = _encoded(data.draw, layouts, ptype, 4)
    else:
        flags = data.draw(st.lists(st.sampled_from([b"\xff", b"\x00"]), max_size=3))
        body = len(flags).to_bytes(4, "little") + b"".join(
            flag + (_encoded(data.draw, layouts, element, 4) if flag == b"\xff" else b"") for flag in flags)
    wire = has + body
    wire = wire[:len(wire) - cut] if cut else wire
    stream = io.BytesIO(wire)
    errors: list = []
    try:
        interpreted = addressbook.AddressBookPropertyValue(ptype).parse_stream(stream, errors=errors), stream.tell()
    except Exception:
        interpreted = None
    if errors:
        interpreted = None  # a reported HasValue: the fast path leaves the body to construct
    try:
        fast = fastvalues.address_book_value(wire, 0, ptype)
    except Exception:
        fast = None
    assert (interpreted is None) == (fast is None), (hex(ptype), wire.hex())
    if fast is not None:
        assert _same(fast[0], interpreted[0]) and fast[1] == interpreted[1], (hex(ptype), wire.hex())


# The extended-buffer envelope (MS-OXCRPC 2.2.2.1, 3.1.4.1.1.1): fastgen.FastExtendedBuffer ----------

def _envelope(body: bytes, side: str, which: str) -> int:
    """Where the 4-byte size of an Execute body's RopBuffer ("rops") or AuxiliaryBuffer ("aux") is."""
    at = 4 if side == "request" else 12
    if which == "aux":
        at += 4 + int.from_bytes(body[at:at + 4], "little") + (4 if side == "request" else 0)
    return at


def _plain(envelope: bytes) -> bytes:
    """The first payload's plain bytes (the whole buffer when it has no RPC_HEADER_EXT)."""
    from mapiwire.dissect import lz77

    if len(envelope) < 8:
        return envelope
    flags, size, actual = struct.unpack_from("<3H", envelope, 2)
    wire = envelope[8:8 + size]
    wire = lz77.xor(wire) if flags & 0x2 else wire
    return lz77.decompress(wire, actual) if flags & 0x1 else wire


def _chain(plain: bytes, flags: list[int], last: bool) -> bytes:
    """RPC_HEADER_EXT + payload pairs carrying `plain` each, compressed/obfuscated as `flags` say,
    the last one flagged Last unless `last` is False (built through the definitions)."""
    from mapiwire.dissect import lz77
    from mapiwire.dissect.defs.core import build
    from mapiwire.dissect.defs.rpcext import RPC_HEADER_EXT

    out = b""
    for i, flag in enumerate(flags):
        wire = lz77.compress(plain) if flag & 0x1 else plain
        wire = lz77.xor(wire) if flag & 0x2 else wire
        flag |= 0x4 if last and i == len(flags) - 1 else 0
        out += build(RPC_HEADER_EXT, dict(Version=0, Flags=flag, Size=len(wire), SizeActual=len(plain))) + wire
    return out


def _with_envelope(body: bytes, at: int, envelope: bytes) -> bytes:
    size = int.from_bytes(body[at:at + 4], "little")
    return body[:at] + len(envelope).to_bytes(4, "little") + envelope + body[at + 4 + size:]


def _execute_with_aux():
    return [e for e in _execute_pairs() if len(e.request.body) > 8 and
            int.from_bytes(e.request.body[_envelope(e.request.body, "request", "aux"):][:4], "little")]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 10**6), side=st.sampled_from(["request", "response"]),
       buffer=st.sampled_from(["rops", "aux"]), flags=st.lists(st.integers(0, 3), min_size=1, max_size=4),
       last=st.booleans(), damage=st.sampled_from(["none", "none", "mutate", "cut"]),
       changes=st.lists(mutation, min_size=1, max_size=2), cut=st.sampled_from([0, 1, 7, 8, 9]))
def test_extended_buffer_chains_decode_the_same(which, side, buffer, flags, last, damage, changes, cut, monkeypatch):
    """RPC_HEADER_EXT chains of the RopBuffer and the AuxiliaryBuffer: one or more payloads, each
    compressed and/or obfuscated, the Last flag missing, mutated headers and payloads, truncated
    (the size fields kept consistent so the envelope itself is what goes wrong)."""
    pairs = _execute_with_aux() if buffer == "aux" and side == "request" else _execute_pairs()
    exchange = pairs[which % len(pairs)]
    body = _binary(exchange, side)
    at = _envelope(body, side, buffer)
    envelope = body[at + 4:at + 4 + int.from_bytes(body[at:at + 4], "little")]
    chain = _chain(_plain(envelope), flags, last)
    if damage == "mutate":
        chain = _mutate(chain, changes)
    elif damage == "cut":
        chain = chain[:max(0, len(chain) - cut)]
    mutated = _with_envelope(body, at, chain)
    exchanges = [exchange, _with_body(exchange, side, mutated)] if side == "response" else [
        _with_body(exchange, side, mutated)]
    assert records(exchanges, True, monkeypatch) == records(exchanges, False, monkeypatch)


@pytest.mark.parametrize("flags", [[0], [1], [2], [3], [0, 3, 1], [3] * 5])
def test_well_formed_chains_take_the_fast_path(flags):
    """Packed, compressed and obfuscated RopBuffers and auxiliary buffers are read by
    FastExtendedBuffer (no fallback) and give what construct gives."""
    from mapiwire.dissect.defs.budget import Budget
    from mapiwire.dissect.defs.core import parse
    from mapiwire.dissect.defs.mapihttp import BODIES

    exchange = _execute_with_aux()[0]
    body = _binary(exchange, "request")
    plains = []
    for buffer in ("rops", "aux"):
        at = _envelope(body, "request", buffer)
        plains.append(_plain(body[at + 4:at + 4 + int.from_bytes(body[at:at + 4], "little")]))
        body = _with_envelope(body, at, _chain(plains[-1], flags, True))
    definition = BODIES["Execute"].request
    fast = fastpath.parse(definition, body, budget=Budget())
    assert fast is not fastpath.FALLBACK
    expected = parse(definition, body, budget=Budget())
    assert _same(fast, expected) and _keys(fast) == _keys(expected)  # `_io`, `_wire`, `_plain` where construct puts them
    buffers = (fast.RopBuffer, fast.AuxiliaryBuffer)
    assert all(len(b.RPC_HEADER_EXT) == len(flags) for b in buffers)
    assert all(h._plain == plain for b, plain in zip(buffers, plains) for h in b.RPC_HEADER_EXT)
    assert ("Payloads" in fast.RopBuffer) == (len(flags) > 1)


def _keys(value, path: str = "") -> list:
    """Every Container's keys, `_io` included, all the way down."""
    if isinstance(value, dict):
        return [(path, tuple(value))] + [k for key, item in value.items() if key != "_io"
                                         for k in _keys(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [k for i, item in enumerate(value) for k in _keys(item, f"{path}[{i}]")]
    return []


def test_empty_and_headerless_auxiliary_buffers_take_the_fast_path():
    """An empty auxiliary buffer and one without RPC_HEADER_EXT (MS-OXCMAPIHTTP Appendix A <2>):
    the same Container as construct, no fallback."""
    from mapiwire.dissect.defs.budget import Budget
    from mapiwire.dissect.defs.core import parse
    from mapiwire.dissect.defs.mapihttp import BODIES

    exchange = _execute_with_aux()[0]
    body = _binary(exchange, "request")
    at = _envelope(body, "request", "aux")
    envelope = body[at + 4:at + 4 + int.from_bytes(body[at:at + 4], "little")]
    definition = BODIES["Execute"].request
    for aux_bytes in (b"", _plain(envelope)):
        changed = _with_envelope(body, at, aux_bytes)
        fast = fastpath.parse(definition, changed, budget=Budget())
        assert fast is not fastpath.FALLBACK
        expected = parse(definition, changed, budget=Budget())
        assert _same(fast, expected) and _keys(fast) == _keys(expected)
        assert "RPC_HEADER_EXT" not in fast.AuxiliaryBuffer


def _connect_pairs():
    return [e for e in SAMPLES if e.request is not None and e.request.header("X-RequestType") == "Connect"
            and e.response is not None and e.response.status == 200 and _binary(e, "response")[:4] == bytes(4)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 10**6), side=st.sampled_from(["request", "response"]),
       unknown=st.booleans(), changes=st.lists(mutation, max_size=2), flags=st.integers(0, 3))
def test_auxiliary_blocks_decode_the_same(which, side, unknown, changes, flags, monkeypatch):
    """The auxiliary blocks of Connect (offset strings, every block kind of samples.CLIENT_AUX and
    SERVER_AUX), with an unknown block added and the blocks mutated inside a well-formed
    RPC_HEADER_EXT (MS-OXCRPC 2.2.2.2, 3.1.4.1.2)."""
    from mapiwire.dissect.defs.core import parse
    from mapiwire.dissect.defs.mapihttp import BODIES

    pairs = _connect_pairs()
    exchange = pairs[which % len(pairs)]
    body = _binary(exchange, side)
    definition = BODIES["Connect"].request if side == "request" else BODIES["Connect"].success
    at = len(body) - 4 - parse(definition, body).AuxiliaryBufferSize
    blocks = _plain(body[at + 4:])
    if unknown:  # AUX_HEADER Size 8, Version 1, Type 0x99 (no such block): skipped by Size
        blocks += bytes.fromhex("08000199") + b"\xaa\xbb\xcc\xdd"
    mutated = _with_envelope(body, at, _chain(_mutate(blocks, changes) if changes else blocks, [flags], True))
    exchanges = [exchange, _with_body(exchange, side, mutated)] if side == "response" else [
        _with_body(exchange, side, mutated)]
    assert records(exchanges, True, monkeypatch) == records(exchanges, False, monkeypatch)


def test_fast_parses_leave_no_cyclic_garbage():
    """A fast parse's contexts are freed with their last reference (no `_root`/`_params` cycle
    left), so that the cyclic garbage collector has nothing of the bodies to find."""
    import gc

    from mapiwire.dissect.defs.budget import Budget
    from mapiwire.dissect.defs.mapihttp import BODIES

    exchange = _execute_with_aux()[0]
    body = _binary(exchange, "request")
    fastpath.tree()
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            assert fastpath.parse(BODIES["Execute"].request, body, budget=Budget()) is not fastpath.FALLBACK
            assert fastpath.parse(BODIES["Execute"].request, body[:-1], budget=Budget()) is fastpath.FALLBACK
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0
