"""The pieces of the scheduler, scenarios and checks that need no server."""

from __future__ import annotations

import pytest

from mapiwire.errors import UsageError
from mapiwire.replay.check import cadence, code_group
from mapiwire.replay.network import check_target
from mapiwire.replay.scenarios import parse_duration, parse_scenario
from mapiwire.replay.scheduler import Timing


def test_offsets_come_from_one_origin_scaled_with_gaps_capped():
    times = [100.0, 100.5, 101.0, 161.0, 161.2]
    assert list(Timing.parse("original").offsets(times).values()) == pytest.approx([0, 0.5, 1.0, 61.0, 61.2])
    assert list(Timing.parse("x2", max_gap=5).offsets(times).values()) == pytest.approx([0, 0.25, 0.5, 3.0, 3.1])
    assert set(Timing.parse("fast").offsets(times).values()) == {0.0}
    for bad in ("slow", "x0", "x-1", "xabc"):
        with pytest.raises(UsageError):
            Timing.parse(bad)


def test_durations_absolute_or_from_the_expiry():
    assert parse_duration("2s", None) == 2 and parse_duration("250ms", None) == 0.25
    assert parse_duration("expiry", 900) == 900 and parse_duration("expiry+1.5s", 1) == 2.5
    assert parse_duration("expiry-500ms", 1) == 0.5 and parse_duration("expiry-5s", 1) == 0
    with pytest.raises(UsageError):
        parse_duration("expiry+1s", None)  # no X-ExpirationInfo seen yet
    with pytest.raises(UsageError):
        parse_duration("soon", 1)


def test_scenario_specs():
    scenario = parse_scenario("network-switch@#12,drop=rst,source=127.0.0.9")
    assert (scenario.kind, scenario.step) == ("network-switch", 12)
    assert scenario.params == {"drop": "rst", "source": "127.0.0.9"}
    for bad in ("teleport@3", "cut", "cut@x", "cut@3,during"):
        with pytest.raises(UsageError):
            parse_scenario(bad)


def test_targets_must_be_loopback_unless_allowed():
    check_target("http://127.0.0.1:8080", False)
    check_target("https://localhost/", False)
    with pytest.raises(UsageError):
        check_target("http://192.0.2.1/", False)
    check_target("http://192.0.2.1/", True)
    with pytest.raises(UsageError):
        check_target("ftp://127.0.0.1/", False)


def test_meta_tag_stream_and_pending_cadence():
    meta = [("PROCESSING", 0.0), ("PENDING", 0.2), ("PENDING", 0.4), ("DONE", 0.5)]
    assert cadence(1, meta, 200, 0.5) == []
    late = cadence(1, [("PROCESSING", 0.0), ("DONE", 2.0)], 200, 2.0)
    assert [d.what for d in late] == ["PENDING cadence (longest gap, s)"] and late[0].live == 2.0
    broken = cadence(1, [("PROCESSING", 0.0), ("PENDING", 0.1)], 200, 0.2)
    assert [d.what for d in broken] == ["last meta-tag"]


def test_response_codes_are_grouped():
    assert [code_group(c) for c in (0, 6, 10, 15, 16, 18, 9)] == [None, "context lost", "context lost", "sequence",
                                                                   "endpoint", "endpoint", "other"]
