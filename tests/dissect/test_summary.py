"""sessions and stats say what went wrong (issue 8 point 3); the text tree carries the HTTP layer
and the frames Wireshark shows (point 4)."""

import os
import shutil
import subprocess
import sys

import pytest

from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.render import render_text
from mapiwire.dissect.sources import open_capture
from mapiwire.dissect.summary import Sessions, Stats, human

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SESSION = os.path.join(ROOT, "captures", "outlook-session.pcapng")
GROMOX = os.path.join(ROOT, "captures", "gromox-refusals.pcapng")


def records(path):
    decoder = Decoder()
    return [r for r in (decoder.decode(e) for e in open_capture(path)) if r is not None]


def test_human_durations():
    assert [human(s) for s in (0.012, 30.5, 250, 8100, 7200)] == ["12 ms", "30.5 s", "4 min 10 s", "2 h 15 min", "2 h"]


def test_session_says_what_went_wrong_and_who_replaced_it():
    table = Sessions()
    for record in records(SESSION):
        table.add(record)
    rows = {row["session"]: row for row in table.result()}
    expired = rows["expired-ctx"]
    assert [(f["response_code"], f["time"][11:19]) for f in expired["failures"]] == [(10, "16:00:00"), (10, "18:15:01")]
    assert expired["longest_idle"] == "2 h 15 min" and expired["longest_idle_from"].startswith("2025-11-24T16:00:00")
    assert expired["expiration_ms"] == 900000 and expired["idle_beyond_expiry"] is True
    assert expired["replaced_by"] == "ctx-reconnected"
    assert "replaced_by" not in rows["ctx-7f3a9c"] and rows["ctx-7f3a9c"]["failures"] == []
    text = table.text()
    assert "longest idle 2 h 15 min from 16:00:00 (expiry 15 min: idle longer than the expiry)" in text
    assert '#0 16:00:00 Execute: X-ResponseCode 10 (Context Not Found) "Context not found"' in text
    assert "    replaced by ctx-reconnected" in text


def test_gromox_refusals_show_the_servers_words():
    table, stats = Sessions(), Stats()
    for record in records(GROMOX):
        table.add(record)
        stats.add(record)
    text = table.text()
    assert 'X-ResponseCode 7 (Missing Header) "The request has violated the sequencing requirement' in text
    assert stats.result()["failed"] == {"X-ResponseCode": 6, "HTTP": 1}
    assert stats.text().splitlines()[0].endswith("failed: X-ResponseCode not 0 6, HTTP status 400 or more 1")


def test_text_tree_has_the_http_layer():
    record = next(r for r in records(SESSION) if r["request_type"] == "Connect")
    text = render_text(record)
    assert "            X-ServerApplication: Exchange/15.02.1544.009" in text
    assert "            X-ExpirationInfo: 900000" in text
    assert "            Set-Cookie: MapiContext, MapiSequence" in text
    assert "ctx-7f3a9c" not in text.split("Set-Cookie:")[1].splitlines()[0]  # names, not values
    first, last = record["frames"]["request"]
    assert f"Request: POST /mapi/emsmdb/?MailboxId=bob@contoso.com (frames {first}-{last})" in text


@pytest.mark.skipif(not shutil.which("tshark"), reason="tshark compares frame numbers")
def test_frames_are_the_ones_wireshark_shows():
    """Wireshark shows a reassembled HTTP message at its last frame: ours is the same number."""
    shown = {}
    for side in ("request", "response"):
        out = subprocess.run(["tshark", "-r", SESSION, "-Y", f"http.{side}", "-T", "fields", "-e", "frame.number",
                              "-e", f"http.{side}.line"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            number, _, headers = line.partition("\t")
            for header in headers.split(","):
                if header.startswith("X-RequestId: "):
                    shown[(header[13:].replace("\\r\\n", "").strip(), side)] = int(number)
    checked = 0
    for record in records(SESSION):
        for side in ("request", "response"):
            key = (record["request_id"], side)
            if key in shown:
                assert record["frames"][side][1] == shown[key]
                assert record["frames"][side][0] <= record["frames"][side][1]
                checked += 1
    assert checked > 50


FIELDS = ("request_type", "status", "response_code", "response_code_name", "elapsed_ms", "errors")


def _edge_exchanges():
    """Exchanges whose transport-only record carries each error the decoder can add without bodies."""
    from mapiwire.dissect.defs.budget import MAX_PLAIN
    from mapiwire.dissect.exchange import Exchange, HttpMessage

    def request(*headers):
        return HttpMessage(headers=[("Content-Type", "application/mapi-http"), *headers], method="POST",
                           target="/mapi/emsmdb/", time=100.0)

    def response(body=b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\n\r\n\x00\x00\x00\x00", status=200, *headers):
        return HttpMessage(headers=[("Content-Type", "application/mapi-http"), *headers], body=body,
                           status=status, time=100.1, end_time=100.2)

    return [
        Exchange(request(("X-RequestType", "Execute")), response()),
        Exchange(request(), response()),  # no X-RequestType
        Exchange(request(("X-RequestType", "Frobnicate")), response()),
        Exchange(request(("X-RequestType", "execute")), response(b"PROCESSING\r\nDONE\r\nX-ResponseCode: x\r\n\r\n")),
        Exchange(request(("X-RequestType", "Execute")), response(b"", 200, ("X-ResponseCode", "nine"))),
        Exchange(request(("X-RequestType", "Execute")), response(b"PROCESSING\r\nGARBAGE\r\n")),
        Exchange(request(("X-RequestType", "Execute")), response(b"x" * (MAX_PLAIN + 1), 500)),
        Exchange(request(("X-RequestType", "Connect")), None, errors=[{"where": "tcp", "error": "gap"}]),
        Exchange(None, response(b"", 200, ("X-RequestType", "Execute"))),
        Exchange(None, None, errors=[{"where": "ip", "error": "3 IP fragments skipped"}]),
        Exchange(HttpMessage(headers=[("Host", "x")], method="GET", target="/"), None),  # not MAPI/HTTP
    ]


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(os.path.join(ROOT, "captures"))
                                        if n.endswith((".pcap", ".pcapng", ".har", ".saz"))) + ["edge cases"])
def test_stats_transport_path_is_the_decoders(name):
    """`stats` reads transport_records, which must give what the Decoder gives; of the errors, those
    of the transport (the reader's, the headers', the inner stream's), in the decoder's order."""
    from mapiwire.dissect.summary import transport_records

    exchanges = _edge_exchanges() if name == "edge cases" else list(open_capture(os.path.join(ROOT, "captures", name)))
    decoder = Decoder()
    full = [r for r in (decoder.decode(e) for e in exchanges) if r is not None]
    lean = list(transport_records(exchanges))
    fields = [k for k in FIELDS if k != "errors"]
    assert [[r[k] for k in fields] + [(r["response"] or {}).get("meta")] for r in lean] == \
           [[r[k] for k in fields] + [(r["response"] or {}).get("meta")] for r in full]
    for transport, decoded in zip(lean, full):
        assert [e for e in decoded["errors"] if e in transport["errors"]] == transport["errors"]
        body_errors = [e for e in decoded["errors"] if e not in transport["errors"]]
        assert all(e["where"].startswith(("request", "response")) for e in body_errors), body_errors
    assert any(len(d["errors"]) > len(t["errors"]) for t, d in zip(lean, full)) or name != "malformed.pcap"


def test_small_bodies_are_under_the_decoding_budget():
    from mapiwire.dissect.defs.budget import MAX_PLAIN
    from mapiwire.dissect.summary import SMALL_BODY

    assert SMALL_BODY < MAX_PLAIN


PLAIN_CAPTURES = sorted(n for n in os.listdir(os.path.join(ROOT, "captures")) if n.endswith((".pcap", ".pcapng"))
                        and n != "serve-tls-secrets.pcapng")


@pytest.mark.parametrize("name", PLAIN_CAPTURES)
def test_shares_of_the_connections_add_up_to_the_whole_capture(name):
    """pcap.read_exchanges(shard=(k, n)): the n shares hold every exchange once, and the capture's
    notes once (share 0); stats merged from them is the stats of one reader."""
    from mapiwire.dissect.summary import transport_records

    path = os.path.join(ROOT, "captures", name)
    whole = list(open_capture(path))
    for shares in (2, 3):
        parts = [list(open_capture(path, shard=(k, shares))) for k in range(shares)]
        key = lambda e: (e.connection, e.request.time if e.request else None, e.response.time if e.response else None)
        assert sorted(map(key, (e for part in parts for e in part)), key=repr) == sorted(map(key, whole), key=repr)
        notes = [e.errors for part in parts for e in part if e.request is None and e.response is None]
        assert notes == [e.errors for e in whole if e.request is None and e.response is None]
        assert all(not (e.request is None and e.response is None) for part in parts[1:] for e in part)
        one, merged = Stats(), Stats()
        for record in transport_records(whole):
            one.add(record)
        for part in parts:
            table = Stats()
            for record in transport_records(part):
                table.add(record)
            merged.merge(table)
        assert merged.result() == one.result() and merged.text() == one.text()


def test_stats_jobs_prints_what_one_process_prints(tmp_path):
    """`stats --jobs 2` (worker processes, each its share of the connections) against `-j 1`, text and JSON."""
    env = dict(os.environ, MAPIWIRE_NO_PROGRESS="1")
    for name in ("outlook-session.pcapng", "serve-tls.pcapng"):
        path = os.path.join(ROOT, "captures", name)
        for fmt in ("text", "json"):
            runs = [subprocess.run([sys.executable, "-m", "mapiwire.cli", "stats", path, "--format", fmt, "-j", jobs],
                                   capture_output=True, text=True, env=env, check=True) for jobs in ("1", "2")]
            assert runs[0].stdout == runs[1].stdout and runs[0].stderr == runs[1].stderr
    assert "not decrypted" in runs[0].stderr or "TLS" in runs[0].stderr


def _dies(path, share, shares, told):
    os._exit(3)


def test_a_stats_worker_that_dies_ends_the_run_with_one_line(monkeypatch):
    from mapiwire.dissect import summary
    from mapiwire.errors import MapiwireError

    monkeypatch.setattr(summary, "_share_stats", _dies)
    with pytest.raises(MapiwireError, match="a stats worker died"):
        summary.shared_stats(os.path.join(ROOT, "captures", "outlook-session.pcapng"), 2)
