"""What `mapiwire replay` and `mapiwire report` do, apart from parsing their options (cli.py)."""

from __future__ import annotations

import os
import sys

from ..errors import UsageError
from .plan import load_plans


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def plan_text(plans) -> str:
    return "\n".join(plan.text() for plan in plans)


def parse_policies(specs) -> dict[str, str]:
    """`--map handle=fail --map mid=keep` → {"handle": "fail", "mid": "keep"}."""
    from .rewrite import KINDS, POLICIES

    out = {}
    for spec in specs:
        kind, _, policy = spec.partition("=")
        if kind not in KINDS or policy not in POLICIES:
            raise UsageError(f"--map {spec!r}: KIND=POLICY, KIND one of {', '.join(KINDS)}, "
                             f"POLICY one of {', '.join(POLICIES)}")
        out[kind] = policy
    return out


def progress_printer(stream=sys.stderr):
    """A live progress line on a terminal (nothing otherwise)."""
    if not stream.isatty() or os.environ.get("MAPIWIRE_NO_PROGRESS"):
        return None
    count = [0]

    def show(entry: dict) -> None:
        count[0] += 1
        stream.write(f"\r{count[0]:6d} requests  #{entry.get('number')} {entry.get('type')} {entry.get('outcome')}   ")
        stream.flush()

    return show


def run_replay(capture: str, *, target: str | None, keylog=None, tls=False, sessions=(), timing="original",
               max_gap=None, scenarios=(), auth=None, ca=None, insecure=False, source_address=None,
               allow_writes=False, allow_remote=False, report_path=None, html_path=None, max_requests=None,
               timeout=30.0, plan_only=False, as_user=None, policies=(), hook=None, compare_content=False,
               echo=print) -> int:
    """Replay CAPTURE against TARGET; returns the exit status (0 match, 1 diverged)."""
    from ..client.auth import parse_auth
    from .html import render_html
    from .report import dumps, replay_report, text
    from .rewrite import load_hook
    from .scenarios import parse_scenario
    from .scheduler import Replay, ReplayOptions, Timing

    plans = load_plans(capture, keylog=keylog, tls=tls)
    if plan_only:
        echo(plan_text([p for p in plans if not sessions or p.key in sessions]))
        return 0
    if not target:
        raise UsageError("--target URL is required (or --plan-only)")
    parsed = [parse_scenario(s) for s in scenarios]
    options = ReplayOptions(target=target, timing=Timing.parse(timing, max_gap),
                            auth=parse_auth(auth) if auth else None,
                            ca_file=ca, insecure=insecure, source_address=source_address, allow_writes=allow_writes,
                            allow_remote=allow_remote, max_requests=max_requests, timeout=timeout, scenarios=parsed,
                            as_user=as_user, policies=parse_policies(policies), hook=load_hook(hook) if hook else None,
                            compare_content=compare_content, sessions=tuple(sessions), progress=progress_printer())
    replay = Replay(plans, options)
    replay.run()
    if options.progress:
        sys.stderr.write("\n")
    report = replay_report(replay, capture, parsed, compare_content=compare_content)
    if not any(e.get("status") for r in replay.runs for e in r.entries):
        report["exit_status"], report["verdict"] = 2, "could not run"
        errors = [e["error"] for r in replay.runs for e in r.entries if e.get("error")]
        report["error"] = errors[0] if errors else "nothing was replayed"
    if report_path:
        _write(report_path, dumps(report))
    if html_path:
        _write(html_path, render_html(report))
    echo(text(report))
    if report.get("error"):
        echo(f"mapiwire: {report['error']}")
    return report["exit_status"]


def run_report(capture: str, *, output: str | None, fmt: str = "html", keylog=None, tls=False, sessions=(),
               echo=print) -> int:
    """The timeline of a capture without replaying it."""
    from .html import render_html
    from .report import capture_report, dumps, text

    plans = [p for p in load_plans(capture, keylog=keylog, tls=tls) if not sessions or p.key in sessions]
    report = capture_report(plans, capture)
    rendered = {"html": render_html, "json": dumps, "text": text}[fmt](report)
    if output:
        _write(output, rendered)
        requests = sum(len(s["recorded"]) for s in report["sessions"])
        echo(f"{output}: {len(report['sessions'])} sessions, {requests} requests")
    else:
        echo(rendered)
    return 0
