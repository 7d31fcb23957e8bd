"""The sample captures in captures/: expected decodes, round trips, coverage."""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

from mapiwire.dissect.decode import Decoder, rops_of
from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.dissect.sources import has_secrets, open_capture
from mapiwire.dissect.transport import parse_inner

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTURES = os.path.join(ROOT, "captures")
EXPECTED = sorted(glob.glob(os.path.join(CAPTURES, "*.json")))
SESSION = os.path.join(CAPTURES, "outlook-session.pcapng")


def keylog_for(path):
    keys = os.path.splitext(path)[0] + ".keys"
    return keys if os.path.exists(keys) else None


def decode(path):
    decoder = Decoder()
    return [r for r in (decoder.decode(e) for e in open_capture(path, keylog=keylog_for(path))) if r is not None]


@pytest.mark.parametrize("expected", EXPECTED, ids=os.path.basename)
def test_capture_decodes_as_expected(expected):
    capture = expected[:-len(".json")]
    if (keylog_for(capture) or has_secrets(capture)) and not shutil.which("tshark"):
        pytest.skip("tshark is needed for the TLS capture")
    with open(expected) as f:
        assert decode(capture) == json.load(f)


def test_every_request_type_is_in_the_session_capture():
    records = decode(SESSION)
    assert {r["request_type"] for r in records} == set(BODIES)
    assert all(r["errors"] == [] for r in records)
    meta = [tag for r in records for tag in r["response"]["meta"]]
    assert "PENDING" in meta
    flags = {h["FlagsName"] for r in records for side in ("request", "response")
             for h in ((r[side] or {}).get("RopBuffer") or {}).get("RPC_HEADER_EXT", [])}
    assert {"Compressed|XorMagic|Last", "XorMagic|Last", "Last"} <= flags


def test_query_rows_in_a_later_execute_is_typed_by_the_earlier_set_columns():
    records = decode(SESSION)
    executes = [r for r in records if r["request_type"] == "Execute" and r["session"] == "ctx-7f3a9c"]
    set_columns = next(r for r in executes if "RopSetColumns" in str(r["request"]))
    query = next(r for r in executes if "RopQueryRows" in str(r["request"]))
    assert executes.index(query) > executes.index(set_columns)
    rows = query["response"]["RopBuffer"]["RopsList"][0]["RowData"]
    assert len(rows) == 40
    first = rows[0]["ValueArray"]
    assert [v.get("Value", v.get("PropertyValue")) for v in first][1:4] == [
        "Quarterly report 0: please review the attached figures", "2022-06-18T04:26:40Z", 2048]


def test_network_switch_keeps_the_session_and_shows_two_addresses():
    out = subprocess.run([sys.executable, "-m", "mapiwire.cli", "sessions", SESSION, "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    rows = {row["session"]: row for row in json.loads(out)}
    assert rows["ctx-7f3a9c"]["clients"] == ["10.0.0.5", "192.168.1.23"]
    assert rows["nspi-4b1d"]["endpoints"] == ["nspi"]


def test_pcapng_har_and_saz_of_the_same_real_session_decode_alike():
    """serve-day: the packets tshark captured and the HAR and SAZ the client's recorder wrote hold
    the same exchanges; whatever the reader, each decodes the same (only times, connection ids and
    frame numbers are the reader's own)."""
    same = ("request_type", "session", "client", "status", "response_code", "http", "request", "response", "errors")
    decoded = [{r["request_id"]: {k: r[k] for k in same} for r in decode(os.path.join(CAPTURES, f"serve-day.{kind}"))}
               for kind in ("pcapng", "har", "saz")]
    assert len(decoded[0]) == 56 and decoded[0] == decoded[1] == decoded[2]


def test_bodies_round_trip_byte_for_byte():
    """build(parse(body)) == body for every request and response body of the session."""
    checked = 0
    decoder_state = Decoder()
    for exchange in open_capture(SESSION):
        request_type = exchange.request.header("X-RequestType")
        body = BODIES[request_type]
        if body.request is None:
            continue
        ctx = decoder_state.context(exchange.request.header("X-RequestId").split(":")[0])
        request = parse(body.request, exchange.request.body, logons=ctx.logon_flags)
        assert build(body.request, request, logons=ctx.logon_flags) == exchange.request.body
        checked += 1
        if exchange.response.header("X-ResponseCode") != "0":
            continue  # a refused request: the body is diagnostic text
        inner = parse_inner(exchange.response.body).body
        definition = body.success if int.from_bytes(inner[:4], "little") == 0 else body.failure
        params = {}
        if request_type == "Execute":
            rops, handles = rops_of(request.RopBuffer)
            ctx.annotate(rops, handles)
            params = {"request_rops": rops, "notify_state": ctx.notify_state}
        response = parse(definition, inner, **params)
        assert build(definition, response, **params) == inner
        if request_type == "Execute":
            ctx.learn(rops, *rops_of(response.RopBuffer)[:1], handles, rops_of(response.RopBuffer)[1])
    assert checked >= 30


def test_malformed_capture_reports_each_problem_and_goes_on():
    records = decode(os.path.join(CAPTURES, "malformed.pcap"))
    errors = [(e["where"], e["error"]) for r in records for e in r["errors"]]
    wheres = [w for w, _ in errors]
    assert "request.UserDn" in wheres  # truncated body
    assert "request.AuxiliaryBuffer" in wheres  # aux block past its buffer
    assert any("overruns SizeActual" in e for _, e in errors)  # bad LZ77
    assert any("unknown RopId 0xe0" in e for _, e in errors)
    assert any("not a header line after DONE" in e for _, e in errors)
    assert any("no X-RequestType" in e for _, e in errors)
    assert records[-1]["errors"][0]["where"] == "capture"  # the cut last record
    assert any(r["request_type"] == "PING" and r["errors"] == [] for r in records)  # decoding went on


def test_cli_exit_status(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "mapiwire.cli", "dissect", os.path.join(CAPTURES, "malformed.pcap")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "unknown RopId" in ok.stdout
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"not a capture at all")
    bad = subprocess.run([sys.executable, "-m", "mapiwire.cli", "dissect", str(junk)], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("mapiwire: ") and len(bad.stderr.splitlines()) == 1
