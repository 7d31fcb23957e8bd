"""Replays against `mapiwire serve` on loopback, over real sockets (issue 12 acceptance)."""

from __future__ import annotations

import ssl
import statistics

from mapiwire.client.auth import parse_auth
from mapiwire.server import running_server
from mapiwire.server.rops import MailboxSession
from mapiwire.server.tls import self_signed

from mapiwire.replay.scheduler import Timing

from .conftest import BOB, FAST, SAMPLE, plan_entries, run_replay, sample_number

QUERY = sample_number("Execute", "RopQueryRows")
OPEN = sample_number("Execute", "RopOpenFolder")
NAMED = sample_number("Execute", "RopGetPropertyIdsFromNames")
LOGON = sample_number("Execute", "RopLogon")


class RenumberedHandles(MailboxSession):
    """Server object handles numbered from 0x7000 instead of the recorded server's numbering."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_handle = 0x7000


def protocol(report) -> list:
    """The unpredicted protocol divergences and session errors of a report (assertion messages)."""
    return ([(d["step"], d["what"], d["recorded"], d["live"]) for d in report["divergences"]
             if d["kind"] == "protocol" and not d["expected"]]
            + [s["error"] for s in report["sessions"] if s.get("error")] + report["scenarios"])


def test_real_traffic_capture_replays_without_divergence():
    """serve-day.pcapng: recorded from `mapiwire serve` (three client addresses, a delivery that
    wakes a NotificationWait, idle gaps past the session timeout answered with 10)."""
    with running_server(port=0, session_timeout=1, pending_period=0.05, notification_wait_limit=5) as srv:
        replay, report = run_replay(str(SAMPLE).replace("outlook-session", "serve-day"), srv.url, allow_writes=True,
                                    timing=Timing.parse("x2"))
    assert report["exit_status"] == 0 and report["divergences"] == [], report["divergences"]
    assert report["codes"]["context lost"]["count"] == 3  # as recorded, at the same steps
    assert len({e["client"].rsplit(":", 1)[0] for r in replay.runs for e in r.entries if e["client"]}) >= 3
    woken = [e for r in replay.runs for e in r.entries if e["type"] == "NotificationWait"]
    assert woken and woken[0]["event_pending"] == 1


def test_plain_replay_of_a_recorded_capture_matches(recorded):
    with running_server(port=0, auth="basic", **FAST) as srv:
        replay, report = run_replay(recorded, srv.url, auth=parse_auth("basic:bob:bob-pw"))
    assert report["exit_status"] == 0 and report["verdict"] == "match"
    assert report["divergences"] == []
    entries = [e for r in replay.runs for e in r.entries]
    assert entries and all(e["outcome"] == "ok" for e in entries)
    mailbox = next(r for r in replay.runs if r.plan.endpoint == "emsmdb")
    # fresh cookies: the live context cookie is not the recorded one
    assert mailbox.entries[-1]["context"] != mailbox.plan.key


def test_other_ids_handles_and_cookies_go_through_the_maps(recorded, other_fixture):
    with running_server(port=0, auth="basic", mailbox=other_fixture, mailbox_factory=RenumberedHandles,
                        **FAST) as srv:
        replay, report = run_replay(recorded, srv.url, auth=parse_auth("basic:bob:bob-pw"))
    assert report["exit_status"] == 0, protocol(report)
    assert report["counts"]["protocol_divergences"] == 0
    mailbox = next(r for r in replay.runs if r.plan.endpoint == "emsmdb")
    maps = mailbox.main.rewriter.maps.summary()
    assert maps["handle"]["replaced"] >= 5 and maps["id"]["replaced"] >= 1
    assert all(e["outcome"] == "ok" for e in mailbox.entries)
    # the folder opened by id is the recorded one ("Reviews"), not whatever sits at its old id
    assert not any("property values" in d["what"] for d in report["divergences"])
    assert {d["what"] for d in report["divergences"]} <= {"RopGetHierarchyTable rows", "RopQueryRows rows"}


def test_sample_capture_under_another_user_and_writes_refused():
    with running_server(port=0, **FAST) as srv:
        replay, report = run_replay(SAMPLE, srv.url, as_user=BOB, sessions=("ctx-7f3a9c", "nspi-4b1d", "expired-ctx"))
        assert report["exit_status"] == 0, protocol(report)
        nspi = plan_entries(replay, "nspi")
        refused = [e for e in nspi if e["outcome"] == "refused"]
        assert [e["type"] for e in refused] == ["ModProps", "ModLinkAtt"]
        assert all(e["outcome"] == "ok" for e in nspi if e not in refused)
        mailbox = plan_entries(replay)
        assert [e["outcome"] for e in mailbox if e["lane"] == "main"] == ["ok"] * 10
        assert report["skipped_sessions"][0]["session"] == "expired-ctx"
        # the recorded client moved to 192.168.1.23: the replay moved to another loopback source
        change = next(e for r in replay.runs for e in r.events if e["kind"] == "address-change")
        assert change["new"].startswith("127.") and mailbox[-1]["client"].startswith(change["new"] + ":")
        _, allowed = run_replay(SAMPLE, srv.url, as_user=BOB, allow_writes=True, sessions=("nspi-4b1d",))
    sent = {e["type"]: e["outcome"] for s in allowed["sessions"] for e in s["live"]}
    assert sent["ModProps"] != "refused" and sent["ModLinkAtt"] != "refused"


def test_network_switch_resumes_faster_than_a_reconnect_and_the_html_shows_it(tmp_path, chromium):
    from mapiwire.replay.html import render_html

    with running_server(port=0, **FAST) as srv:
        replay, report = run_replay(SAMPLE, srv.url, f"network-switch@{QUERY},drop=rst", as_user=BOB,
                                    sessions=("ctx-7f3a9c", "nspi-4b1d"))
    scenario = report["scenarios"][0]
    assert scenario["verdict"] == "as predicted", scenario
    assert report["exit_status"] == 0, protocol(report)
    recovery = report["recovery"][0]
    assert recovery["resume_s"] > 0 and recovery["reconnect_s"] > 0
    # resuming is one request on a new TCP connection; the reconnect is Connect + Logon + reopen
    mailbox = next(r for r in replay.runs if r.plan.key == "ctx-7f3a9c")
    assert mailbox.reconnects == 0
    assert [e["kind"] for e in mailbox.entries if e["lane"] == "measure"][:4] == ["measure"] * 4
    page = tmp_path / "report.html"
    page.write_text(render_html(report))
    dom, log = chromium(page)
    assert 'data-rendered="ok"' in dom and "Uncaught" not in log
    assert int(dom.split('data-bars="')[1].split('"')[0]) > 20
    assert "Resume vs full reconnect" in dom and f"network-switch@{QUERY},drop=rst" in dom


def test_cuts_follow_the_communication_failure_rules():
    with running_server(port=0, **FAST) as srv:
        replay, report = run_replay(SAMPLE, srv.url, f"cut@{OPEN},during=request", f"cut@{NAMED},during=response",
                                    as_user=BOB, sessions=("ctx-7f3a9c",))
    verdicts = {s["spec"]: s for s in report["scenarios"]}
    assert verdicts[f"cut@{OPEN},during=request"]["verdict"] == "as predicted"
    assert verdicts[f"cut@{NAMED},during=response"]["verdict"] == "as predicted"
    mailbox = next(r for r in replay.runs if r.plan.key == "ctx-7f3a9c")
    kinds = [e["kind"] for e in mailbox.entries]
    assert kinds.count("cut") == 2 and kinds.count("reconnect") == 1
    # the reopen re-ran the logon and the folder/table Executes on the new context
    assert [e["number"] for e in mailbox.entries if e["kind"] == "reopen"] == [LOGON, OPEN, QUERY]
    assert report["exit_status"] == 0, protocol(report)


def test_hibernation_within_and_past_the_expiry():
    with running_server(port=0, **{**FAST, "session_timeout": 1}) as srv:
        _, kept = run_replay(SAMPLE, srv.url, f"hibernate@{QUERY},sleep=expiry+0.6s,ping=yes", as_user=BOB,
                             sessions=("ctx-7f3a9c",))
        _, lost = run_replay(SAMPLE, srv.url, f"hibernate@{QUERY},sleep=expiry+0.6s,ping=no", as_user=BOB,
                             sessions=("ctx-7f3a9c",))
    assert kept["scenarios"][0]["actual"] == "context kept" and kept["scenarios"][0]["verdict"] == "as predicted"
    assert kept["recovery"][0]["resume_s"] is not None and kept["counts"]["reconnects"] == 0
    assert lost["scenarios"][0]["verdict"] == "as predicted", lost["scenarios"]
    events = [(e["number"], e["type"], e["kind"], e["lane"], e["code"], e["sent"]) for s in lost["sessions"]
              for e in s["live"]]
    assert lost["codes"]["context lost"]["count"] == 1 and lost["counts"]["reconnects"] == 1, events
    assert lost["exit_status"] == 0  # the 10 was predicted


def test_sequence_probes_get_15():
    with running_server(port=0, **FAST) as srv:
        _, report = run_replay(SAMPLE, srv.url, f"sequence-probe@{QUERY},kind=stale",
                               f"sequence-probe@{NAMED},kind=overlap",
                               as_user=BOB, sessions=("ctx-7f3a9c",))
    assert [s["verdict"] for s in report["scenarios"]] == ["as predicted", "as predicted"], report["scenarios"]
    assert report["codes"]["sequence"]["count"] == 2
    assert report["exit_status"] == 0, protocol(report)


def test_ntlm_and_tls_targets(recorded, tmp_path):
    with running_server(port=0, auth="ntlm", **FAST) as srv:
        _, report = run_replay(recorded, srv.url, auth=parse_auth("ntlm:bob:bob-pw"))
    assert report["exit_status"] == 0 and report["divergences"] == []
    with running_server(port=0, auth="basic", **FAST) as srv:
        _, refused = run_replay(recorded, srv.url)  # no credentials: 401 is a protocol divergence
    assert refused["exit_status"] == 1 and refused["first_divergence"]["what"] == "HTTP status"
    cert, key, _ = self_signed(str(tmp_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with running_server(port=0, auth="basic", ssl_context=context, **FAST) as srv:
        assert srv.url.startswith("https://")
        _, report = run_replay(recorded, srv.url, auth=parse_auth("basic:bob:bob-pw"), ca_file=cert)
    assert report["exit_status"] == 0 and report["divergences"] == []


def test_impairments_through_the_proxy(recorded):
    with running_server(port=0, auth="basic", **FAST) as srv:
        replay, report = run_replay(recorded, srv.url, "impair@6,mode=latency,delay=50ms",
                                    "impair@7,mode=stall,duration=300ms", "impair@9,mode=reset",
                                    "impair@12,mode=blackhole,duration=400ms", auth=parse_auth("basic:bob:bob-pw"))
    results = {s["spec"].split(",")[1]: s for s in report["scenarios"]}
    assert all(s["verdict"] == "as predicted" for s in results.values()), report["scenarios"]
    assert results["mode=latency"]["elapsed_s"] >= 0.05 and results["mode=stall"]["elapsed_s"] >= 0.3
    assert results["mode=blackhole"]["reconnect_s"] is not None
    assert report["exit_status"] == 0, protocol(report)


def test_timing_is_anchored_to_a_fixed_origin():
    with running_server(port=0, **FAST) as srv:
        replay, _ = run_replay(SAMPLE, srv.url, as_user=BOB, sessions=("nspi-4b1d",),
                               timing=Timing.parse("x10"))
    entries = [e for e in plan_entries(replay, "nspi") if e["sent"] is not None]
    errors = [e["sent"] - e["planned"] for e in entries]
    assert entries[-1]["planned"] > 0.9  # 9.7 s of capture at x10
    assert min(errors) >= -0.001 and statistics.median(errors) < 0.02 and max(errors) < 0.2


def test_network_switch_with_a_reset_from_outside_the_client():
    """drop=kill: `ss -K` aborts the old connections (the parked long poll too), as a NAT does."""
    import shutil

    import pytest

    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed")
    with running_server(port=0, **FAST) as srv:
        try:
            replay, report = run_replay(SAMPLE, srv.url, f"network-switch@{QUERY},drop=kill,source=127.0.0.9",
                                        as_user=BOB, sessions=("ctx-7f3a9c",))
        except Exception as exc:  # no CAP_NET_ADMIN here
            pytest.skip(str(exc))
    assert report["scenarios"][0]["verdict"] == "as predicted", report["scenarios"]
    mailbox = replay.runs[0]
    after = next(e for e in mailbox.entries if e["number"] == QUERY)
    assert mailbox.events[0]["drop"] == "kill" and after["client"].startswith("127.0.0.9:")
    assert after["outcome"] == "ok" and mailbox.reconnects == 0


def test_a_capture_of_another_server_replays_through_the_maps():
    """gromox-session.pcapng: recorded from gromox, whose handles, ids, cookies and DNs are its own."""
    with running_server(port=0, **FAST) as srv:
        replay, report = run_replay(SAMPLE.replace("outlook-session", "gromox-session"), srv.url, as_user=BOB)
    assert report["exit_status"] == 0 and report["counts"]["protocol_divergences"] == 0, protocol(report)
    mailbox = next(r for r in replay.runs if r.plan.endpoint == "emsmdb")
    assert mailbox.main.rewriter.maps.summary()["handle"]["replaced"] >= 1
    assert all(e["outcome"] == "ok" for r in replay.runs for e in r.entries)


def test_network_switch_drops_the_parked_long_poll_and_parks_it_again():
    ping = sample_number("PING")
    with running_server(port=0, **{**FAST, "notification_wait_limit": 3}) as srv:
        replay, report = run_replay(SAMPLE, srv.url, f"network-switch@{ping},drop=rst,source=127.0.0.8",
                                    as_user=BOB, sessions=("ctx-7f3a9c",))
    assert report["scenarios"][0]["verdict"] == "as predicted", report["scenarios"]
    waits = [e for e in replay.runs[0].entries if e["type"] == "NotificationWait"]
    dropped = [e for e in waits if e["outcome"] == "dropped"]
    reparked = [e for e in waits if e["kind"] == "repark"]
    assert dropped and dropped[0]["client"].startswith("127.0.0.1:")
    assert reparked and reparked[0]["client"].startswith("127.0.0.8:")
    assert report["exit_status"] == 0, protocol(report)
