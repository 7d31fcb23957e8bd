"""Scenarios: steps inserted into a plan, each with the verdict the spec predicts (REPLAY.md 2, 4.11-4.15).

- `network-switch@STEP[,drop=fin|rst|blackhole|kill][,source=IP]`: the old connections die (with a
  parked NotificationWait; `kill` resets them from outside the client with `ss -K`, as a NAT
  does), the next request goes on a new connection from a new source address
  with the same cookies. Predicted: the session continues (MS-OXCMAPIHTTP 1.3, 3.1.5.7: "the client
  SHOULD continue where it left off").
- `cut@STEP,during=request|response`: a failure while sending → resend as-is on a new connection,
  same context (3.1.7.1); while reading the response → a new Session Context, log on again,
  reopen, go on (3.1.7.2).
- `hibernate@STEP,sleep=DURATION[,ping=yes|no]`, DURATION absolute (`2s`, `500ms`) or relative to
  the last X-ExpirationInfo (`expiry+1s`, `expiry-500ms`): predicted: the context is kept within
  the expiry or when PINGs keep it alive (3.1.5.3, 3.2.6); past it X-ResponseCode 10 (or 6), then
  reconnect and go on (3.2.5.6).
- `sequence-probe@STEP,kind=stale|overlap`: a request with the previous sequence cookie, or two
  at once: predicted X-ResponseCode 15 (3.2.5.1).
- `impair@STEP,mode=latency|stall|reset|blackhole[,duration=D][,delay=D]`: through the built-in
  proxy (impair.py): latency and stall slow the step, a reset kills the connection (resend on a
  new one, 3.1.7.1), a black-hole loses the response (reconnect, 3.1.7.2).

STEP is the capture's record number (`#N` in `mapiwire dissect` and `--plan-only`).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from ..dissect.transport import context_cookie
from ..errors import UsageError

KINDS = ("network-switch", "cut", "hibernate", "sequence-probe", "impair")
_DURATION = re.compile(r"^(?:(expiry)\s*([+-])\s*)?(\d+(?:\.\d+)?)(ms|s)?$|^(expiry)$")


def parse_duration(text: str, expiry_s: float | None) -> float:
    """`2s`, `250ms`, `1.5` (seconds), `expiry`, `expiry+1s`, `expiry-500ms`."""
    match = _DURATION.match(text.strip())
    if not match:
        raise UsageError(f"duration {text!r}: e.g. 2s, 500ms, expiry+1s")
    if match.group(5):
        base, sign, amount = expiry_s, "+", 0.0
    else:
        amount = float(match.group(3)) / (1000 if match.group(4) == "ms" else 1)
        base, sign = (expiry_s if match.group(1) else 0.0), match.group(2) or "+"
    if base is None:
        raise UsageError(f"duration {text!r}: the server sent no X-ExpirationInfo yet")
    return max(0.0, base + amount if sign == "+" else base - amount)


@dataclass
class Scenario:
    """One scenario of the command line, applied before its step."""

    spec: str
    kind: str
    step: int
    params: dict = field(default_factory=dict)
    result: dict | None = None

    CHOICES = {"network-switch": ("drop", ("fin", "rst", "blackhole", "kill")),
               "cut": ("during", ("request", "response")),
               "sequence-probe": ("kind", ("stale", "overlap")),
               "impair": ("mode", ("latency", "stall", "reset", "blackhole"))}

    def validate(self, step) -> None:
        """Refuse a scenario that cannot run at `step` before the replay starts (UsageError)."""
        if self.kind in self.CHOICES:
            key, allowed = self.CHOICES[self.kind]
            if key in self.params and self.params[key] not in allowed:
                raise UsageError(f"{self.spec}: {key}={'|'.join(allowed)}")
        if self.kind in ("cut", "sequence-probe") and (step.lane != "main"
                                                        or step.request_type in ("Connect", "Bind")):
            raise UsageError(f"{self.spec}: #{self.step} is {step.request_type}; "
                             "choose a request of the main lane after Connect/Bind")
        for key in ("sleep", "duration", "delay"):
            if key in self.params:
                parse_duration(self.params[key], 1.0)

    def apply(self, run, step) -> bool:
        """Run the scenario at `step` of `run` (a scheduler.SessionRun, which validated it first);
        True when it sent the step."""
        return getattr(self, "_" + self.kind.replace("-", "_"))(run, step)

    def _verdict(self, run, expected: str, actual: str, ok: bool, **figures) -> None:
        self.result = {"spec": self.spec, "session": run.plan.key, "step": self.step, "expected": expected,
                       "actual": actual, "verdict": "as predicted" if ok else "unexpected",
                       "reconnects": run.reconnects, **figures}
        run.event("scenario", f"{self.spec}: {self.result['verdict']}", verdict=self.result["verdict"])

    # network switch --------------------------------------------------------------------------

    def _network_switch(self, run, step) -> bool:
        drop = self.params.get("drop", "fin")
        run.wait_until(run.replay.planned(step))
        before = context_cookie(run.main.session.cookies)
        reconnects = run.reconnects
        event = run.switch_network(drop, self.params.get("source"), f"scenario {self.spec}")
        start = run.now()
        entry = run.step(step, follow=False)
        if entry is None:  # a NotificationWait: parked again on the new network
            self._verdict(run, "session continues", "long poll parked on the new connection", True,
                          resume_s=None, reconnect_s=None)
            return True
        run.last_client = step.client_ip
        same = context_cookie(run.main.session.cookies) == before and run.reconnects == reconnects
        ok = entry["outcome"] == "ok" and same
        resume = entry["received"] - start if ok else None
        event["until"] = entry["received"]
        reconnect = run.measure_reconnect(step)
        actual = "session continued on the same context" if ok else (
            f"X-ResponseCode {entry.get('code')} then reconnect" if not same
            else f"{entry['outcome']}: {entry.get('error')}")
        self._verdict(run, "session continues on the same context", actual, ok, resume_s=resume, reconnect_s=reconnect,
                      source=event.get("new"))
        return True

    # cuts -------------------------------------------------------------------------------------

    def _cut(self, run, step) -> bool:
        during = self.params.get("during", "request")
        run.wait_until(run.replay.planned(step))
        before = context_cookie(run.main.session.cookies)
        if during == "request":
            cut = run.send(step, kind="cut", cut_after=int(self.params.get("after", 64)))
            start = run.now()
            entry = run.send(step, kind="plan")  # 3.1.7.1: new connection, same cookies, as-is
            same = context_cookie(run.main.session.cookies) == before
            ok = cut["outcome"] == "cut" and entry["outcome"] == "ok" and same
            actual = ("resent on a new connection, same context" if ok
                      else f"cut {cut['outcome']}, resend {entry['outcome']}")
            self._verdict(run, "resent as-is on a new connection, same context", actual, ok,
                          resume_s=entry["received"] - start if ok else None, reconnect_s=None)
            return True
        cut = run.send(step, kind="cut", cut_at_meta=self.params.get("at", "PROCESSING"))
        took = run.reconnect(step, f"scenario {self.spec}: response lost (3.1.7.2)")
        entry = run.send(step, kind="plan")
        new_context = context_cookie(run.main.session.cookies)
        ok = cut["outcome"] == "cut" and new_context != before and entry["outcome"] == "ok"
        actual = (f"new context, step {entry['outcome']}" if new_context != before
                  else f"same context kept, step {entry['outcome']}")
        self._verdict(run, "new session context, log on again, reopen, go on", actual, ok,
                      resume_s=None, reconnect_s=took)
        return True

    # hibernation ------------------------------------------------------------------------------

    def _hibernate(self, run, step) -> bool:
        run.wait_until(run.replay.planned(step))
        session = run.main.session
        expiry = session.expiration_ms / 1000 if session.expiration_ms else None
        sleep = parse_duration(self.params.get("sleep", "expiry+1s"), expiry)
        ping = self.params.get("ping", "no") in ("yes", "1", "true")
        margin = max(0.25, expiry * 0.1) if expiry else 0.0  # the server's expiry sweep is not instant
        if expiry is None or ping or sleep <= expiry - margin:
            predicted, codes = "context kept", ()
        elif sleep >= expiry + margin:
            predicted, codes = "context lost (10 or 6), then reconnect", (6, 10)
        else:
            predicted, codes = "either (sleep close to the expiry)", (6, 10)
        if codes:
            run.expected.append({"step": step.number, "codes": codes})
        before = context_cookie(session.cookies)
        last = max((e["received"] or 0 for e in run.entries if e["lane"] == "main"), default=run.now())
        if session.connection is not None:
            session.connection.close("fin")
            session.connection = None
        run.drop_notify("fin")
        start = run.now()
        event = run.event("hibernate", self.spec, until=start + sleep,
                          expiry_at=last + expiry if expiry is not None else None)
        if ping and expiry:
            interval = max(0.05, expiry / 3)  # well inside the expiry, allowing for latency (3.1.5.3)
            while run.now() + interval < start + sleep:
                time.sleep(interval)
                run.ping()
        run.wait_until(start + sleep)
        wake = run.now()
        reconnects = run.reconnects
        entry = run.send(step)
        code = entry.get("inner_code") or entry.get("code")
        lost = code in (6, 10)
        entry = run.recover(step, entry)
        event["until"] = wake
        if lost:
            reconnect = next((e["took"] for e in reversed(run.events) if e["kind"] == "reconnect"), None)
            resume = None
            then = " and went on" if entry["outcome"] == "ok" else f", then {entry['outcome']}"
            actual = f"X-ResponseCode {code}, reconnected{then}"
        else:
            resume = entry["received"] - wake if entry["outcome"] == "ok" else None
            reconnect = run.measure_reconnect(step)
            actual = "context kept" if entry["outcome"] == "ok" and context_cookie(session.cookies) == before \
                else f"{entry['outcome']} (X-ResponseCode {code})"
        went_on = entry["outcome"] == "ok"
        if predicted == "context kept":
            ok = not lost and went_on
        elif predicted.startswith("context lost"):
            ok = lost and went_on and run.reconnects > reconnects
        else:
            ok = went_on
        self._verdict(run, predicted, actual, ok, resume_s=resume, reconnect_s=reconnect, sleep_s=sleep,
                      expiry_s=expiry, ping=ping)
        return True

    # sequence probe ---------------------------------------------------------------------------

    def _sequence_probe(self, run, step) -> bool:
        kind = self.params.get("kind", "stale")
        run.wait_until(run.replay.planned(step))
        run.expected.append({"step": step.number, "codes": (15,)})
        if kind == "stale":
            stale = dict(run.jar_before)
            same = stale == run.main.session.cookies
            probe = run.send(step, kind="probe", cookies=stale)
            code = probe.get("inner_code") or probe.get("code")
            entry = run.recover(step, run.send(step))
            note = " (no new cookie from the server: nothing stale to send)" if same else ""
            actual = f"X-ResponseCode {code}{note}"
            self._verdict(run, "X-ResponseCode 15", actual, code == 15 and entry["outcome"] == "ok",
                          then=entry["outcome"])
            return True
        # The second request goes once the first is in flight (its PROCESSING came back) and
        # before the first's response is read, so both carry the same cookies.
        session = run.main.session
        connections = [session.open_connection(), session.open_connection()]
        entries: list = [None, None]
        in_flight, second_done = threading.Event(), threading.Event()
        timeout = session.options["timeout"]

        def second():
            try:
                if in_flight.wait(timeout):
                    entries[1] = run.send(step, kind="probe", connection=connections[1])
            finally:
                second_done.set()

        def hold_first(tag, _at):
            if tag == "PROCESSING" and not in_flight.is_set():
                in_flight.set()
                second_done.wait(timeout)

        thread = threading.Thread(target=second)
        thread.start()
        entries[0] = run.send(step, kind="plan", connection=connections[0], on_meta=hold_first)
        in_flight.set()
        thread.join()
        for connection in connections:
            connection.close()
        entries = [e for e in entries if e is not None]
        codes = sorted((e.get("inner_code") or e.get("code") or 0) if e["outcome"] in ("ok", "error") else -1
                       for e in entries)
        if not any(e["outcome"] == "ok" for e in entries):
            run.recover(step, entries[0])
        self._verdict(run, "the second of two at once gets X-ResponseCode 15", f"X-ResponseCodes {codes}",
                      codes == [0, 15])
        return True

    # impairments through the proxy ------------------------------------------------------------

    def _impair(self, run, step) -> bool:
        proxy = run.replay.impair
        if proxy is None:
            raise UsageError(f"{self.spec}: needs the impairment proxy (the replay starts one for impair@)")
        mode = self.params.get("mode", "latency")
        run.wait_until(run.replay.planned(step))
        duration = parse_duration(self.params.get("duration", "1s"), None)
        before = context_cookie(run.main.session.cookies)
        reconnects = run.reconnects
        start = run.now()
        if mode == "latency":
            proxy.latency = parse_duration(self.params.get("delay", "100ms"), None)
            entry = run.step(step, follow=False)
            proxy.latency = 0.0
            ok = entry is not None and entry["outcome"] == "ok"
            self._verdict(run, "slower, same context", f"{entry['outcome'] if entry else 'parked'}", ok,
                          elapsed_s=(entry["received"] - entry["sent"]) if entry else None)
        elif mode == "stall":
            proxy.stall_for(duration)
            entry = run.step(step, follow=False)
            ok = entry is not None and entry["outcome"] == "ok"
            self._verdict(run, f"answered after the {duration:g} s stall, same context",
                          entry["outcome"] if entry else "parked", ok,
                          elapsed_s=(entry["received"] - start) if entry else None)
        elif mode == "reset":
            proxy.reset_all()
            time.sleep(0.05)  # the RST reaches the idle connection before the next request, as on a real path
            entry = run.step(step, follow=False)
            same = context_cookie(run.main.session.cookies) == before and run.reconnects == reconnects
            ok = entry is not None and entry["outcome"] == "ok" and same
            self._verdict(run, "new connection, same context (3.1.7.1)",
                          "same context" if ok else (entry["outcome"] if entry else "parked"), ok,
                          resume_s=(entry["received"] - start) if ok else None, reconnect_s=None)
        else:  # blackhole
            proxy.blackhole_for(duration)
            session = run.main.session
            timeout = session.options["timeout"]
            session.options["timeout"] = max(0.2, duration / 2)
            if session.connection is not None:
                session.connection.timeout = session.options["timeout"]
            entry = run.send(step)
            session.options["timeout"] = timeout
            session.connection = None
            lost = entry["outcome"] in ("lost", "failed")
            if lost:
                run.wait_until(start + duration)
                took = run.reconnect(step, f"scenario {self.spec}: response lost (3.1.7.2)")
                entry = run.send(step, kind="plan")
            else:
                took = None
            ok = lost and entry["outcome"] == "ok"
            self._verdict(run, "response lost, then a new context (3.1.7.2)",
                          ("lost, reconnected, " + entry["outcome"]) if lost else entry["outcome"], ok,
                          resume_s=None, reconnect_s=took)
        return True


def parse_scenario(spec: str) -> Scenario:
    """`kind@STEP[,key=value...]`."""
    head, _, rest = spec.partition(",")
    kind, at, number = head.partition("@")
    kind = kind.strip()
    if kind not in KINDS or not at:
        raise UsageError(f"--scenario {spec!r}: KIND@STEP[,key=value...] with KIND one of {', '.join(KINDS)}")
    try:
        step = int(number.strip().lstrip("#"))
    except ValueError:
        raise UsageError(f"--scenario {spec!r}: STEP is a record number (#N of --plan-only)") from None
    params = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"--scenario {spec!r}: {part!r} is not key=value")
        params[key.strip()] = value.strip()
    return Scenario(spec, kind, step, params)
