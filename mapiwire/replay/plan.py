"""Capture → one ordered plan per MAPI session (REPLAY.md 4.1).

A session is a Session Context (MS-OXCMAPIHTTP 3.1.5): the exchanges sharing its context cookie,
mailbox (emsmdb) or address book (nspi). Each step keeps the recorded exchange, the decoder's
record (JSON contract) and the recorded bodies parsed with the dissector's definitions (the
values the rewriter edits and builds again), with the same per-session state the Decoder keeps
(`DecodingContext`: logon flags, columns) so the parse is the decoder's parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..dissect.context import DecodingContext
from ..dissect.decode import Decoder, parse_body, rops_of
from ..dissect.defs.mapihttp import BODIES, BODIES_LOWER
from ..dissect.exchange import Exchange
from ..dissect.sources import open_capture
from ..dissect.transport import parse_inner

MAX_STEPS = 200_000  # a plan larger than this is refused (bounded memory)


@dataclass
class Step:
    """One recorded request of a session, with what answered it."""

    number: int  # the capture's record index (#N of `mapiwire dissect`)
    position: int  # index within its session plan
    request_type: str
    endpoint: str
    exchange: Exchange
    record: dict
    request_value: object = None  # parsed request body (construct Container), None when it has none
    response_value: object = None  # parsed response body, None when not decodable / not 200+0
    request_rops: list = field(default_factory=list)  # Execute: the request's RopsList (annotated)
    request_handles: list = field(default_factory=list)
    response_rops: list = field(default_factory=list)
    response_handles: list = field(default_factory=list)
    logons: dict = field(default_factory=dict)  # LogonId -> LogonFlags before this step (build params)
    rewrite_sites: list | None = field(default=None, repr=False, compare=False)  # rewrite.rewrite_sites, once
    same_response_pairs: list | None = field(default=None, repr=False, compare=False)  # learnt from its own response

    @property
    def time(self) -> float:
        return self.exchange.request.time or 0.0

    @property
    def end_time(self) -> float:
        response = self.exchange.response
        return (response.end_time or response.time or self.time) if response is not None else self.time

    @property
    def client_ip(self) -> str:
        return self.exchange.client.rsplit(":", 1)[0].strip("[]")

    @property
    def lane(self) -> str:
        """NotificationWait runs on its own lane (MS-OXCMAPIHTTP 3.1.5.5: it may be pending while
        another request is); everything else is strictly serial."""
        return "notify" if self.request_type == "NotificationWait" else "main"

    @property
    def response_code(self) -> int | None:
        return self.record.get("response_code")

    def describe(self) -> str:
        what = self.request_type
        if self.request_rops:
            what += ": " + ", ".join(r.get("RopName") or f"{r.get('RopId')}" for r in self.request_rops)
        elif self.request_type == "Execute":
            what += " (no ROPs: fetches notifications)"
        code = self.response_code
        return f"#{self.number} {what} -> HTTP {self.record.get('status')}, X-ResponseCode {code}"


@dataclass
class SessionPlan:
    """The ordered steps of one Session Context."""

    key: str
    endpoint: str
    steps: list[Step] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.steps[0].time if self.steps else 0.0

    @property
    def end(self) -> float:
        return max((s.end_time for s in self.steps), default=0.0)

    @property
    def clients(self) -> list[str]:
        seen: list[str] = []
        for step in self.steps:
            if step.client_ip not in seen:
                seen.append(step.client_ip)
        return seen

    @property
    def user_dn(self) -> str | None:
        """The mailbox's user DN as recorded (Connect or GetAddressBookUrl UserDn, RopLogon Essdn)."""
        for step in self.steps:
            if step.request_type in ("Connect", "GetAddressBookUrl") and step.request_value is not None:
                return str(step.request_value.get("UserDn") or "") or None
            for rop in step.request_rops:
                if rop.get("RopId") == 0xFE and rop.get("Essdn"):
                    return str(rop["Essdn"])
        return None

    def text(self) -> str:
        head = (f"session {self.key} ({self.endpoint}): {len(self.steps)} steps, clients {', '.join(self.clients)}, "
                f"{self.end - self.start:.3f} s")
        lines = [head]
        for step in self.steps:
            lines.append(f"  {step.position:3d} +{step.time - self.start:8.3f}s {step.lane:6s} {step.describe()}")
        return "\n".join(lines)


def _parse_step(step: Step, ctx: DecodingContext) -> None:
    """Parse the recorded bodies the way the Decoder does, keeping the raw values."""
    body_def = BODIES.get(step.request_type) or BODIES_LOWER.get(step.request_type.lower())
    if body_def is None:
        return
    request, response = step.exchange.request, step.exchange.response
    errors: list = []
    step.logons = dict(ctx.logon_flags)
    if body_def.request is not None:
        step.request_value = parse_body(body_def.request, request.body, errors, "request", logons=ctx.logon_flags)
    if step.request_type == "Execute" and step.request_value is not None:
        step.request_rops, step.request_handles = rops_of(step.request_value.get("RopBuffer"))
    if response is None or response.status != 200 or body_def.success is None:
        if step.request_rops:
            ctx.annotate(step.request_rops, step.request_handles)
        return
    inner = parse_inner(response.body)
    codes = [response.header("X-ResponseCode"), dict(inner.headers).get("X-ResponseCode")]
    if any(c not in (None, "0") for c in codes) or len(inner.body) < 4:
        return
    status = int.from_bytes(inner.body[:4], "little")
    definition = body_def.success if status == 0 else body_def.failure
    params = {}
    if step.request_type == "Execute":
        ctx.annotate(step.request_rops, step.request_handles)
        params = {"request_rops": step.request_rops, "notify_state": ctx.notify_state}
    step.response_value = parse_body(definition, inner.body, errors, "response", **params)
    if step.request_type == "Execute" and status == 0 and step.response_value is not None:
        step.response_rops, step.response_handles = rops_of(step.response_value.get("RopBuffer"))
        ctx.learn(step.request_rops, step.response_rops, step.request_handles, step.response_handles)


def build_plans(exchanges, *, sessions: tuple[str, ...] = ()) -> list[SessionPlan]:
    """The plans of an iterable of exchanges (capture order), one per session, in order of
    their first request. `sessions` keeps only those context cookies."""
    decoder = Decoder()
    plans: dict[str, SessionPlan] = {}
    contexts: dict[str, DecodingContext] = {}
    count = 0
    for exchange in exchanges:
        record = decoder.decode(exchange)
        if record is None or exchange.request is None or not record.get("request_type"):
            continue
        key = record["session"]
        if sessions and key not in sessions:
            continue
        count += 1
        if count > MAX_STEPS:
            raise ValueError(f"more than {MAX_STEPS} steps: replay a part with --session")
        endpoint = record.get("endpoint") or "emsmdb"
        plan = plans.setdefault(key, SessionPlan(key, endpoint))
        step = Step(number=record["index"], position=len(plan.steps), request_type=record["request_type"],
                    endpoint=endpoint, exchange=exchange, record=record)
        _parse_step(step, contexts.setdefault(key, DecodingContext(key)))
        plan.steps.append(step)
    for plan in plans.values():
        plan.steps.sort(key=lambda s: (s.time, s.number))
        for i, step in enumerate(plan.steps):
            step.position = i
    return sorted(plans.values(), key=lambda p: (p.start, p.key))


def load_plans(path: str, *, keylog: str | None = None, tls: bool = False,
               sessions: tuple[str, ...] = ()) -> list[SessionPlan]:
    """The plans of a capture file (pcap/pcapng/TLS, HAR, SAZ) read by the dissector."""
    return build_plans(open_capture(path, keylog=keylog, tls=tls), sessions=sessions)


def replayable(plan: SessionPlan) -> bool:
    """A plan can be re-driven when it opens its own context (Connect or Bind): without it the
    server would have no context for the recorded cookies."""
    return any(s.request_type in ("Connect", "Bind") for s in plan.steps)


__all__ = ["Step", "SessionPlan", "build_plans", "load_plans", "replayable"]
