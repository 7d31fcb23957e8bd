"""`mapiwire dissect` filters (issue 8 point 10) and `--hex` feeding `decode --as` (point 9)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SESSION = os.path.join(ROOT, "captures", "outlook-session.pcapng")


def mapiwire(*args):
    return subprocess.run([sys.executable, "-m", "mapiwire.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ, MAPIWIRE_NO_PROGRESS="1"))


def indexes(*filters):
    out = mapiwire("dissect", SESSION, "--format", "ndjson", "--jobs", "1", *filters)
    assert out.returncode == 0, out.stderr
    return [json.loads(line)["index"] for line in out.stdout.splitlines()]


@pytest.mark.parametrize("filters, expected", [
    (("--response-code", "10"), [0, 33]),
    (("--errors",), [0, 33, 34]),
    (("--rop", "QueryRows"), [8]),
    (("--rop", "RopNotify"), [14]),
    (("--client", "192.168.1.23"), [31, 32]),
    (("--since", "18:15:01.5", "--until", "2025-11-24T18:15:02"), [34, 35]),
    (("--session", "ctx-r"), [35]),
    (("--session", "expired", "--response-code", "10"), [0, 33]),
])
def test_filters(filters, expected):
    assert indexes(*filters) == expected


def test_a_filter_that_matches_nothing_says_so_and_an_ambiguous_prefix_is_refused():
    out = mapiwire("dissect", SESSION, "--response-code", "15")
    assert out.stdout == "" and "no exchange matches the filters" in out.stderr
    out = mapiwire("dissect", SESSION, "--session", "ctx")
    assert out.returncode == 2 and "matches more than one session: ctx-7f3a9c, ctx-reconnected" in out.stderr


def test_dissect_hex_feeds_decode_as():
    record = json.loads(mapiwire("dissect", SESSION, "--format", "ndjson", "--hex", "--rop", "QueryRows").stdout)
    decoded = json.loads(mapiwire("decode", "--as", "execute-request", record["hex"]["request"], "--format", "json").stdout)
    assert decoded["RopBuffer"]["RopsList"][0]["RopName"] == "RopQueryRows"
    text = mapiwire("dissect", SESSION, "--hex", "--rop", "QueryRows").stdout
    assert f"    Request body (hex, {len(record['hex']['request']) // 2} bytes): {record['hex']['request']}" in text
