"""The recorder writes what the readers read back, and the recorded sample captures decode cleanly."""

import os

import pytest

from mapiwire.client.profiles import startup
from mapiwire.client.recorder import record
from mapiwire.dissect.sources import open_capture
from mapiwire.errors import UsageError

from .conftest import outlook, records

CAPTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "captures")


@pytest.mark.parametrize("suffix", [".har", ".saz", ".pcapng", ".pcap"])
def test_recorded_session_reads_back_the_same(server, tmp_path, suffix):
    client = outlook(server.url)
    startup(client)
    client.close()
    path = tmp_path / f"session{suffix}"
    record(client.exchanges, path)
    original, again = records(client.exchanges), records(open_capture(str(path)))
    assert len(again) == len(original) > 10 and all(r["errors"] == [] for r in again)
    assert [r["request"] for r in again] == [r["request"] for r in original]
    assert [r["response"] for r in again] == [r["response"] for r in original]


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(UsageError, match="must end in"):
        record([], tmp_path / "x.txt")


def test_recorded_day_capture_shows_switches_and_recovery():
    recs = records(open_capture(os.path.join(CAPTURES, "serve-day.pcapng")))
    assert recs and all(r["errors"] == [] for r in recs)
    assert {r["client"].split(":")[0] for r in recs} == {"127.0.0.1", "127.0.0.2", "127.0.0.3"}
    meta = [t for r in recs for t in r["response"]["meta"]]
    assert "PENDING" in meta
    expired = next(i for i, r in enumerate(recs) if r["endpoint"] == "emsmdb" and r["response_code"] == 10)
    after = [r["request_type"] for r in recs[expired + 1:] if r["endpoint"] == "emsmdb"]
    assert after[:2] == ["Connect", "Execute"]
    types = {r["request_type"] for r in recs}
    assert {"Connect", "Execute", "NotificationWait", "PING", "Disconnect", "Bind", "ResolveNames", "Unbind"} <= types
