"""`mapiwire replay` and `mapiwire report` end to end: options, files written, exit statuses."""

from __future__ import annotations

import json

from click.testing import CliRunner

from mapiwire.cli import main
from mapiwire.server import running_server

from .conftest import FAST, SAMPLE


def test_plan_only_prints_each_session():
    result = CliRunner().invoke(main, ["replay", SAMPLE, "--plan-only", "--session", "ctx-7f3a9c"])
    assert result.exit_code == 0
    assert result.output.startswith("session ctx-7f3a9c (emsmdb): 12 steps")
    assert "notify" in result.output and "RopQueryRows" in result.output


def test_replay_writes_json_and_html_and_says_whether_it_matched(recorded, tmp_path):
    report, page = tmp_path / "r.json", tmp_path / "r.html"
    with running_server(port=0, auth="basic", **FAST) as srv:
        ok = CliRunner().invoke(main, ["replay", recorded, "--target", srv.url, "--auth", "basic:bob:bob-pw",
                                       "--timing", "fast", "--report", str(report), "--html", str(page)])
        refused = CliRunner().invoke(main, ["replay", recorded, "--target", srv.url, "--timing", "fast"])
    assert ok.exit_code == 0, ok.output
    assert "verdict: match (exit 0)" in ok.output
    data = json.loads(report.read_text())
    assert data["verdict"] == "match" and data["counts"]["requests"] == 17
    assert "<svg" not in page.read_text() and 'id="report-data"' in page.read_text()  # drawn by the page's script
    assert refused.exit_code == 1 and "first divergence" in refused.output


def test_unsafe_or_unreachable_targets_exit_2(recorded):
    remote = CliRunner().invoke(main, ["replay", recorded, "--target", "http://192.0.2.1/"])
    assert remote.exit_code == 2 and "not a loopback address" in remote.output
    with running_server(port=0) as srv:
        url = srv.url
    gone = CliRunner().invoke(main, ["replay", recorded, "--target", url, "--timing", "fast", "--timeout", "2"])
    assert gone.exit_code == 2 and "could not run" in gone.output
    bad = CliRunner().invoke(main, ["replay", recorded, "--target", url, "--scenario", "teleport@3"])
    assert bad.exit_code == 2 and "KIND@STEP" in bad.output
    for spec, words in (("cut@4,during=request", "choose a request of the main lane"),  # #4 is the Connect
                        ("network-switch@5,drop=pigeon", "drop=fin|rst|blackhole|kill"),
                        ("hibernate@5,sleep=a while", "duration"), ("cut@999", "no step #999")):
        refused = CliRunner().invoke(main, ["replay", recorded, "--target", url, "--scenario", spec])
        assert refused.exit_code == 2 and words in refused.output, (spec, refused.output)


def test_report_of_a_capture_opens_in_chromium(tmp_path, chromium):
    page = tmp_path / "capture.html"
    result = CliRunner().invoke(main, ["report", SAMPLE, "-o", str(page)])
    assert result.exit_code == 0 and "sessions" in result.output
    dom, log = chromium(page)
    assert 'data-rendered="ok"' in dom and "Uncaught" not in log
    assert dom.count('class="timeline"') >= 3 and 'class="event"' in dom  # the recorded address change
    text = CliRunner().invoke(main, ["report", SAMPLE, "--format", "text"])
    assert text.exit_code == 0 and "ctx-7f3a9c (emsmdb): 12 requests" in text.output


def test_a_hook_edits_requests_before_they_are_built(recorded, tmp_path):
    hook = tmp_path / "hook.py"
    hook.write_text("def small(edit):\n"
                    "    if edit.request_type == 'Execute':\n"
                    "        edit.value['MaxRopOut'] = 0x20  # too small for any response: RopBufferTooSmall\n")
    with running_server(port=0, auth="basic", **FAST) as srv:
        result = CliRunner().invoke(main, ["replay", recorded, "--target", srv.url, "--auth", "basic:bob:bob-pw",
                                           "--timing", "fast", "--hook", f"{hook}:small"])
    assert result.exit_code == 1 and "response ROPs" in result.output
