"""The replay report: JSON, readable text, and the facts the HTML timeline draws (REPLAY.md 4.17).

Per session: every live request (plan steps and the extra ones scenarios and recovery send) with
planned, sent and received times, meta-tags, codes and divergences; scenario events; the maps.
Across sessions: divergences classed protocol / content, the first one, X-ResponseCodes grouped
(context lost 6/10, sequence 15, endpoint 16/18; MS-OXCMAPIHTTP 2.2.3.3.3), resume vs reconnect
figures, and the verdict: exit 0 when no protocol divergence beyond what the scenarios predict
(`compare_content`: content divergences count too), 1 otherwise.
"""

from __future__ import annotations

import datetime
import json

from .check import code_group
from .plan import SessionPlan

REPORT_VERSION = 1


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def recorded_steps(plan: SessionPlan, origin: float) -> list[dict]:
    """The recorded side of a plan for the timeline (times relative to `origin`)."""
    out = []
    for step in plan.steps:
        response = step.exchange.response
        pending_period = None
        expiration = None
        meta = step.record.get("response", {}).get("meta", []) if isinstance(step.record.get("response"), dict) else []
        if response is not None:
            pending_period = _int(response.header("X-PendingPeriod"))
            expiration = _int(response.header("X-ExpirationInfo"))
        rops = [r.get("RopName") for r in step.request_rops]
        out.append({"number": step.number, "position": step.position, "type": step.request_type, "lane": step.lane,
                    "start": step.time - origin, "end": step.end_time - origin, "client": step.exchange.client,
                    "status": step.record.get("status"), "code": step.response_code, "meta": meta,
                    "pending_period": pending_period, "expiration": expiration, "rops": rops})
    return out


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def capture_report(plans: list[SessionPlan], capture: str) -> dict:
    """The report of a capture alone (`mapiwire report CAPTURE`): the recorded timeline."""
    origin = min((p.start for p in plans), default=0.0)
    sessions = []
    for plan in plans:
        recorded = recorded_steps(plan, origin)
        sessions.append({"key": plan.key, "endpoint": plan.endpoint, "clients": plan.clients,
                         "recorded": recorded, "live": [], "events": _recorded_events(recorded), "maps": None,
                         "reconnects": 0})
    codes = _group_codes(s for p in sessions for s in p["recorded"])
    return {"version": REPORT_VERSION, "mode": "capture", "capture": capture, "target": None,
            "origin": _iso(origin), "duration_s": max((p.end for p in plans), default=origin) - origin,
            "sessions": sessions, "divergences": [], "first_divergence": None, "codes": codes,
            "recovery": [], "scenarios": [], "verdict": None, "exit_status": 0}


def _recorded_events(recorded: list[dict]) -> list[dict]:
    """Client address changes and long gaps the capture shows."""
    events = []
    previous = None
    for step in recorded:
        ip = (step["client"] or "").rsplit(":", 1)[0]
        if previous is not None and ip != previous:
            events.append({"kind": "address-change", "what": f"client {previous} -> {ip}", "at": step["start"],
                           "recorded": True})
        previous = ip
    return events


def _group_codes(steps) -> dict:
    groups: dict[str, dict] = {}
    for step in steps:
        if step.get("outcome") == "closed":  # a long poll the plan's own Disconnect ended
            continue
        code = step.get("inner_code") or step.get("code")
        group = code_group(code)
        if group is None:
            continue
        slot = groups.setdefault(group, {"count": 0, "codes": {}})
        slot["count"] += 1
        slot["codes"][str(code)] = slot["codes"].get(str(code), 0) + 1
    return groups


def replay_report(replay, capture: str, scenarios: list, compare_content: bool = False) -> dict:
    """The report of a finished replay (`scheduler.Replay` after `run()`)."""
    origin_capture = replay.capture_origin
    sessions = []
    divergences = []
    for run in replay.runs:
        recorded = recorded_steps(run.plan, origin_capture)
        sent = {e["number"]: e["sent"] for e in reversed(run.entries) if e["kind"] == "plan" and e["sent"] is not None}
        for step in recorded:  # the recorded timeline drawn on the replay's clock
            step["planned"] = replay.offsets.get(step["start"] + origin_capture, 0.0) + replay.lead
            if replay.options.timing.factor == 0:  # fast: nothing is planned; beside its live send instead
                step["planned"] = sent.get(step["number"], step["planned"])
        sessions.append({"key": run.plan.key, "endpoint": run.plan.endpoint, "clients": run.plan.clients,
                         "recorded": recorded, "live": run.entries, "events": run.events,
                         "maps": run.main.rewriter.maps.summary(), "unmapped": run.main.rewriter.maps.unmapped[:50],
                         "reconnects": run.reconnects, "error": run.error})
        for entry in run.entries:
            for d in entry["divergences"]:
                divergences.append({**d, "session": run.plan.key, "at": entry.get("sent"),
                                    "kind_of_request": entry["kind"]})
    counted = [d for d in divergences if not d["expected"] and (d["kind"] == "protocol" or compare_content)]
    divergences.sort(key=lambda d: (d["at"] is None, d["at"] or 0))
    first = next((d for d in divergences if not d["expected"]), None)
    scenario_results = [s.result for s in scenarios if getattr(s, "result", None)]
    failed_scenarios = [s for s in scenario_results if s.get("verdict") == "unexpected"]
    errors = [s for s in sessions if s.get("error")]
    status = 1 if counted or failed_scenarios or errors else 0
    recovery = [{"session": s.get("session"), "scenario": s.get("spec"), "resume_s": s.get("resume_s"),
                 "reconnect_s": s.get("reconnect_s"), "reconnects": s.get("reconnects")}
                for s in scenario_results if "resume_s" in s or "reconnect_s" in s]
    return {"version": REPORT_VERSION, "mode": "replay", "capture": capture, "target": replay.options.target,
            "timing": replay.options.timing.name, "origin": _iso(replay.origin),
            "duration_s": max((e["received"] or 0 for r in replay.runs for e in r.entries), default=0.0),
            "sessions": sessions, "skipped_sessions": replay.skipped, "divergences": divergences,
            "first_divergence": first, "codes": _group_codes(e for r in replay.runs for e in r.entries),
            "recovery": recovery, "scenarios": scenario_results,
            "counts": {"requests": sum(1 for r in replay.runs for e in r.entries if e.get("sent") is not None),
                       "refused_writes": sum(1 for r in replay.runs for e in r.entries if e["outcome"] == "refused"),
                       "protocol_divergences": _unexpected(divergences, "protocol"),
                       "content_divergences": _unexpected(divergences, "content"),
                       "expected_divergences": sum(1 for d in divergences if d["expected"]),
                       "reconnects": sum(r.reconnects for r in replay.runs)},
            "verdict": "match" if status == 0 else "diverged", "exit_status": status}


def text(report: dict) -> str:
    """The readable summary printed at the end of a replay (or for a capture)."""
    lines = []
    if report["mode"] == "capture":
        lines.append(f"capture {report['capture']}: {len(report['sessions'])} sessions, {report['duration_s']:.3f} s")
        for s in report["sessions"]:
            lines.append(f"  {s['key']} ({s['endpoint']}): {len(s['recorded'])} requests, "
                         f"clients {', '.join(s['clients'])}")
        return "\n".join(lines)
    counts = report["counts"]
    lines.append(f"replay of {report['capture']} against {report['target']} ({report['timing']}): "
                 f"{counts['requests']} requests in {report['duration_s']:.3f} s, "
                 f"{len(report['sessions'])} sessions, {counts['reconnects']} reconnects")
    for s in report["sessions"]:
        live = [e for e in s["live"] if e["kind"] == "plan"]
        ok = sum(1 for e in live if e["outcome"] == "ok")
        refused = sum(1 for e in live if e["outcome"] == "refused")
        line = f"  {s['key']} ({s['endpoint']}): {ok}/{len(live)} steps ok"
        if refused:
            line += f", {refused} writes refused"
        skipped = sum(1 for e in live if e["outcome"] == "skipped")
        if skipped:
            line += f", {skipped} not sent (--max-requests)"
        if s.get("error"):
            line += f", error: {s['error']}"
        lines.append(line)
    for s in report.get("skipped_sessions", []):
        lines.append(f"  {s['session']}: not replayed ({s['why']})")
    for group, slot in report["codes"].items():
        codes = ", ".join(f"{c}: {n}" for c, n in slot["codes"].items())
        lines.append(f"  X-ResponseCode {group}: {slot['count']} ({codes})")
    for scenario in report["scenarios"]:
        lines.append(f"  scenario {scenario['spec']}: expected {scenario['expected']}, got {scenario['actual']} "
                     f"-> {scenario['verdict']}")
    for r in report["recovery"]:
        resume = "n/a" if r["resume_s"] is None else f"{r['resume_s'] * 1000:.1f} ms"
        reconnect = "n/a" if r["reconnect_s"] is None else f"{r['reconnect_s'] * 1000:.1f} ms"
        lines.append(f"  {r['scenario']}: resume {resume}  vs  full reconnect {reconnect}")
    lines.append(f"  divergences: {counts['protocol_divergences']} protocol, {counts['content_divergences']} content, "
                 f"{counts['expected_divergences']} predicted by scenarios")
    first = report["first_divergence"]
    if first:
        lines.append(f"  first divergence: #{first['step']} {first['what']}: recorded {first['recorded']!r}, "
                     f"live {first['live']!r} ({first['kind']})")
    lines.append(f"verdict: {report['verdict']} (exit {report['exit_status']})")
    return "\n".join(lines)


def _unexpected(divergences: list[dict], kind: str) -> int:
    return sum(1 for d in divergences if d["kind"] == kind and not d["expected"])


def dumps(report: dict) -> str:
    return json.dumps(report, indent=2, default=_default)


def _default(value):
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
