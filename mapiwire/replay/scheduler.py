"""Re-driving the plans against a live server (REPLAY.md 4.2-4.4, 1.4).

Timing is anchored to one fixed origin for all sessions (planned send time = origin + the step's
offset in the capture, scaled and with long gaps capped: no drift from accumulated sleeps);
`original`, `fast` (no waiting: each request as soon as the previous answered) or a speed factor
`xN`. Each session runs in its own thread, strictly one request at a time
(MS-OXCMAPIHTTP 3.2.5.1); NotificationWait runs on a lane of its own as a long poll
(3.1.5.5: it may be pending while another request is), and the Execute that fetches the
notifications goes as soon as the live long poll says EventPending (3.2.5.5), not at its recorded
time. Everything on the wire goes through the client package (client/session.py, client/http.py).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..client.session import ClientInstance, MapiSession, ResponseLost
from ..client.http import Connection, ConnectionFailed
from ..dissect.context import DecodingContext
from ..dissect.decode import parse_body, rops_of
from ..dissect.defs.mapihttp import BODIES
from ..dissect.transport import context_cookie, parse_inner
from ..errors import MapiwireError, UsageError
from .check import Divergence, cadence, compare, inner_of, response_codes
from .network import check_target, is_loopback, kill_connection
from .plan import SessionPlan, Step, replayable
from .rewrite import SHARED_KINDS, Identity, RewriteError, Rewriter, recorded_mailbox, writes_in

CONTEXT_LOST = (6, 10)  # MS-OXCMAPIHTTP 2.2.3.3.3 (10; 6 from some servers, REPLAY.md 2.9)
MAX_SOURCES = 250  # loopback source addresses handed out for client address changes
SPIN = 0.0003  # seconds before a planned send spent spinning rather than sleeping
ROP_NOTIFY = 0x2A  # RopNotify (MS-OXCROPS 2.2.14.2)
LONG_POLL = 330.0  # a NotificationWait may take 5 minutes (MS-OXCMAPIHTTP 3.2.5.5), PENDINGs or not
SWITCH_INTERVAL = 0.0005  # thread switch interval while a timed replay runs (Python's default is 5 ms)


@dataclass
class Timing:
    """`original`, `fast` or `xN` (N times faster), with gaps capped at `max_gap` seconds."""

    factor: float  # seconds of replay per second of capture; 0: fast
    max_gap: float | None = None
    name: str = "original"

    @classmethod
    def parse(cls, text: str, max_gap: float | None = None) -> "Timing":
        if text == "original":
            return cls(1.0, max_gap, text)
        if text == "fast":
            return cls(0.0, max_gap, text)
        if text.startswith("x"):
            try:
                speed = float(text[1:])
            except ValueError:
                speed = 0.0
            if speed > 0:
                return cls(1.0 / speed, max_gap, text)
        raise UsageError(f"--timing {text!r}: original, fast or xN (e.g. x2, x0.5)")

    def offsets(self, times: list[float]) -> dict[float, float]:
        """Planned offset (s from the origin) of each capture time: gaps capped, then scaled."""
        out: dict[float, float] = {}
        previous = offset = None
        for t in sorted(set(times)):
            if previous is None:
                offset = 0.0
            else:
                gap = t - previous
                if self.max_gap is not None:
                    gap = min(gap, self.max_gap)
                offset += gap * self.factor
            out[t] = offset
            previous = t
        return out


@dataclass
class ReplayOptions:
    target: str
    timing: Timing = field(default_factory=lambda: Timing(0.0, None, "fast"))
    auth: object = None  # client.auth.Auth
    ca_file: str | None = None
    insecure: bool = False
    source_address: str | None = None
    allow_writes: bool = False
    allow_remote: bool = False
    max_requests: int | None = None
    timeout: float = 30.0
    scenarios: list = field(default_factory=list)  # scenarios.Scenario
    as_user: str | None = None
    policies: dict | None = None
    hook: object = None
    compare_content: bool = False
    notify_grace: float = 1.0  # how long a plan's end waits for a parked long poll, and a fetch for its event
    proxy: str | None = None  # route through this HTTP proxy (impair.py's proxy uses `via` instead)
    via: tuple[str, int] | None = None  # connect to this address instead (the impairment proxy)
    progress: object = None  # callable(str)
    sessions: tuple[str, ...] = ()  # replay only these sessions (context cookies)


class Channel:
    """A session context on the wire: the client's MapiSession, the rewriter of its plan and the
    live decoding state (columns by live handle) its responses are parsed with."""

    def __init__(self, run: "SessionRun", rewriter: Rewriter, source: str | None):
        options = run.replay.options
        self.run = run
        self.rewriter = rewriter
        self.session = MapiSession(run.replay.base_url, run.plan.endpoint, auth=options.auth,
                                   mailbox_id=rewriter.mailbox, client=run.replay.client, source_address=source,
                                   ca_file=options.ca_file, insecure=options.insecure, timeout=options.timeout,
                                   proxy=options.proxy)
        self.ctx = DecodingContext(run.plan.key)

    def parse_response(self, step: Step, request_value, response):
        """(value, response ROPs, response handle table) of a live response, or Nones."""
        if response is None or response.status != 200 or any(c not in (None, 0) for c in response_codes(response)):
            return None, [], []
        body_def = BODIES.get(step.request_type)
        if body_def is None or body_def.success is None:
            return None, [], []
        body = parse_inner(response.body).body
        if len(body) < 4:
            return None, [], []
        status = int.from_bytes(body[:4], "little")
        params = {}
        rops, handles = [], []
        if step.request_type == "Execute" and request_value is not None:
            rops, handles = rops_of(request_value.get("RopBuffer"))
            rops = [type(rop)(rop) for rop in rops]  # annotated here: the value may be the recorded one
            self.ctx.annotate(rops, handles)
            params = {"request_rops": rops, "notify_state": self.ctx.notify_state}
        if status == 0 and self.as_recorded(step, request_value, rops, body):
            value, live_rops, live_handles = step.response_value, step.response_rops, step.response_handles
        else:
            value = parse_body(body_def.success if status == 0 else body_def.failure, body, [], "response", **params)
            if value is None or step.request_type != "Execute" or status != 0:
                return value, [], []
            live_rops, live_handles = rops_of(value.get("RopBuffer"))
        if step.request_type == "Execute":
            self.ctx.learn(rops, live_rops, handles, live_handles)
        return value, live_rops, live_handles

    @staticmethod
    def as_recorded(step: Step, request_value, rops: list, body: bytes) -> bool:
        """Whether the live answer is the recorded one, already parsed: the same request went out
        (not rewritten), the same response bytes came back, and the parse would get the same
        state (the columns and logon flags annotated on the request ROPs; no RopNotify, whose
        layout follows the live tables)."""
        recorded = step.exchange.response
        if step.response_value is None or request_value is not step.request_value or recorded is None:
            return False
        if inner_of(recorded).body != body or any(r.get("RopId") == ROP_NOTIFY for r in step.response_rops):
            return False
        return len(rops) == len(step.request_rops) and all(
            a.get("_columns") == b.get("_columns") and a.get("_logon_flags") == b.get("_logon_flags")
            for a, b in zip(rops, step.request_rops))


class SessionRun:
    """One plan re-driven: the main lane, the NotificationWait lane, scenarios, recovery."""

    def __init__(self, replay: "Replay", plan: SessionPlan):
        self.replay = replay
        self.plan = plan
        self.options = replay.options
        self.identity = replay.identity_for(plan)
        self.main = Channel(self, self.new_rewriter(), self.options.source_address)
        self.entries: list[dict] = []  # the timeline: every live request (plan steps and extra ones)
        self.events: list[dict] = []  # scenario events, address changes, reconnects
        self.divergences: list[Divergence] = []
        self.reconnects = 0
        self.sent_ok: set[int] = set()  # positions of Execute steps answered with success
        self.notify: dict | None = None  # the parked long poll: {"thread", "connection", "entry", "done"}
        self.zombies: list[Connection] = []  # black-holed connections, closed at the end
        self.jar_before: dict = {}
        self.expected: list[dict] = []  # codes a scenario predicts: {"step", "codes", "until"}
        self.lock = threading.Lock()
        self.error: str | None = None
        self.closing = False  # the plan's Disconnect / Unbind went out
        self.last_client = plan.steps[0].client_ip if plan.steps else None

    def new_rewriter(self) -> Rewriter:
        return Rewriter(self.plan, policies=self.options.policies, identity=self.identity, hook=self.options.hook,
                        shared=self.replay.shared)

    # time ------------------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() - self.replay.origin

    def wait_until(self, offset: float) -> None:
        """Sleep until `offset` (s after the origin), waking SPIN early (a sleep overshoots by
        the timer slack and the wake-up) and spinning the rest while holding the interpreter:
        a time.sleep(0) would hand it to another session and wait up to a switch interval
        (SWITCH_INTERVAL > SPIN) to get it back."""
        delay = offset - self.now()
        if delay > SPIN:
            time.sleep(delay - SPIN)
        while self.now() < offset:
            pass

    # sending ---------------------------------------------------------------------------------

    def send(self, step: Step, **options) -> dict:
        """Rewrite and send one step, parse and check its answer, learn the maps (see `_send`);
        the progress line hears of it."""
        entry = self._send(step, **options)
        if self.options.progress:
            self.options.progress(entry)
        return entry

    def _send(self, step: Step, *, kind: str = "plan", channel: Channel | None = None, lane: str = "main",
              connection: Connection | None = None, cut_after: int | None = None, cut_at_meta: str | None = None,
              cookies: dict | None = None, at: float | None = None, on_meta=None,
              timeout: float | None = None) -> dict:
        """Rewrite and send one step on `channel` (default: the main one), at offset `at` when
        given (the rewrite is done before waiting, so the send keeps its time); returns the
        timeline entry (also appended to `entries`)."""
        channel = channel or self.main
        entry = self.new_entry(step, step.request_type, lane, kind)
        writes = writes_in(step)
        if writes and not self.options.allow_writes:
            entry.update(outcome="refused", error="writes without --allow-writes: " + ", ".join(writes))
            return entry
        if not self.replay.take_budget():
            entry.update(outcome="skipped", error="--max-requests reached")
            return entry
        try:
            rewritten = channel.rewriter.request(step)
        except RewriteError as exc:
            entry.update(outcome="error", error=str(exc))
            self._diverge(entry, Divergence(step.number, "protocol", "could not be sent", None, str(exc)))
            return entry
        if at is not None:
            self.wait_until(at)
        session = channel.session
        session.mailbox_id = rewritten.mailbox_id or session.mailbox_id
        if kind == "plan" and lane == "main":
            self.jar_before = dict(session.cookies)
        saved = None
        if cookies is not None:
            saved, session.cookies = session.cookies, dict(cookies)
        entry["sent"] = self.now()

        def meta(tag, at):
            entry["meta"].append([tag, at - self.replay.origin])
            if on_meta is not None:
                on_meta(tag, at)

        exchange = None
        try:
            exchange = session.request(step.request_type, rewritten.body, connection=connection,
                                       cut_after=cut_after, cut_at_meta=cut_at_meta, on_meta=meta,
                                       timeout=timeout)
        except ResponseLost as exc:
            exchange = exc.exchange
            entry.update(outcome="lost", error=str(exc))
        except (ConnectionFailed, MapiwireError, OSError) as exc:
            entry.update(outcome="failed", error=str(exc))
        finally:
            if saved is not None:
                session.cookies = saved
        entry["received"] = self.now()
        if exchange is not None:
            entry["client"] = exchange.client
            if getattr(exchange, "cut", None):
                entry.update(outcome="cut", error=str(exchange.cut))
        response = exchange.response if exchange is not None else None
        entry["context"] = context_cookie(session.cookies)
        if response is None or entry["outcome"] in ("cut", "lost", "failed"):
            return entry
        entry["status"] = response.status
        entry["code"], entry["inner_code"] = response_codes(response)
        entry["expiration"] = _int(response.header("X-ExpirationInfo"))
        entry["pending_period"] = _int(response.header("X-PendingPeriod"))
        value, live_rops, live_handles = channel.parse_response(step, rewritten.value, response)
        entry["rops"] = [[r.get("RopName"), _hex(r.get("ReturnValue"))] for r in live_rops]
        code = entry["inner_code"] if entry["inner_code"] not in (None, 0) else entry["code"]
        entry["outcome"] = "ok" if response.status == 200 and not code else "error"
        if step.request_type == "NotificationWait" and value is not None:
            entry["event_pending"] = int(value.get("EventPending", 0))
        if entry["outcome"] == "ok":
            channel.rewriter.learn(step, value, live_rops, live_handles)
            if step.request_type == "Execute" and not writes:
                self.sent_ok.add(step.position)
        for divergence in compare(step, response, value, live_rops) + cadence(
                step.number, [(t, at) for t, at in entry["meta"]], entry["pending_period"], entry["received"]):
            self._diverge(entry, divergence)
        return entry

    def new_entry(self, step: Step | None, request_type: str, lane: str, kind: str, **fields) -> dict:
        """A timeline entry (appended to `entries`): one live request, or a step not sent."""
        entry = {"number": step.number if step else None, "position": step.position if step else None,
                 "type": request_type, "lane": lane, "kind": kind,
                 "planned": self.replay.planned(step) if step else None, "sent": None, "received": None,
                 "outcome": None, "status": None, "code": None, "inner_code": None, "meta": [], "client": None,
                 "context": None, "error": None, "rops": [], "divergences": [], **fields}
        with self.lock:
            self.entries.append(entry)
        return entry

    def _expect(self, entry: dict) -> None:
        """The divergences of `entry` were foreseen (a long poll answered by a closed context)."""
        for item in entry["divergences"]:
            item["expected"] = True
        whats = {d["what"] for d in entry["divergences"]}
        with self.lock:
            for divergence in self.divergences:
                if divergence.step == entry["number"] and divergence.what in whats:
                    divergence.expected = True

    def _diverge(self, entry: dict, divergence: Divergence) -> None:
        if entry["kind"] != "plan":
            divergence.expected = True  # extra requests are judged by their scenario's verdict
        for expectation in self.expected:
            if expectation["step"] == divergence.step and divergence.live in expectation["codes"]:
                divergence.expected = True
        entry["divergences"].append(divergence.as_dict())
        with self.lock:
            self.divergences.append(divergence)

    def ping(self) -> dict:
        """A PING on the main session (MS-OXCMAPIHTTP 3.1.5.3, 2.2.6: no body): keeps the context alive."""
        entry = self.new_entry(None, "PING", "main", "ping", sent=self.now())
        try:
            exchange = self.main.session.request("PING", b"")
            response = exchange.response
            entry.update(status=response.status if response else None, client=exchange.client)
            entry["code"], entry["inner_code"] = response_codes(response)
            answered = response is not None and response.status == 200 and not entry["code"]
            entry["outcome"] = "ok" if answered else "error"
        except (MapiwireError, OSError) as exc:
            entry.update(outcome="failed", error=str(exc))
        entry["received"] = self.now()
        return entry

    # the NotificationWait lane --------------------------------------------------------------

    def start_notify(self, step: Step, kind: str = "plan") -> None:
        """Park a NotificationWait on a connection of its own (MS-OXCMAPIHTTP 3.1.5.5); `kind`
        "repark": the same long poll again after its connection died with the network."""
        if self.notify is not None and not self.notify["done"].is_set():
            self.event("notify-still-parked", f"#{step.number}: the previous long poll is still parked, not sent again")
            return
        connection = self.main.session.open_connection()
        lane = {"step": step, "connection": connection, "done": threading.Event(), "entry": None}

        def run():
            try:
                entry = lane["entry"] = self.send(step, kind=kind, lane="notify", connection=connection,
                                                  timeout=max(self.options.timeout, LONG_POLL))
                if lane.get("dropped") and entry["outcome"] in ("lost", "failed"):
                    entry["outcome"] = "dropped"  # its connection died with the network, on purpose
                if self.closing and (entry.get("inner_code") or entry.get("code")) in CONTEXT_LOST:
                    entry["outcome"] = "closed"  # the session's Disconnect destroyed the context it waited on
                    self._expect(entry)
            finally:
                lane["done"].set()

        lane["thread"] = threading.Thread(target=run, name=f"notify-{self.plan.key}", daemon=True)
        self.notify = lane
        lane["thread"].start()

    def drop_notify(self, how: str) -> Step | None:
        """The parked long poll's connection dies with the network (how: fin, rst, blackhole);
        returns its step when it was still parked (to park it again on the new network)."""
        lane = self.notify
        if lane is None or lane["done"].is_set():
            return None
        lane["dropped"] = True
        self.drop_connection(lane["connection"], how)
        if how != "blackhole":
            lane["done"].wait(self.options.timeout)
        self.notify = None
        return lane["step"]

    def wait_for_event(self, deadline: float) -> None:
        """Before an Execute that fetches notifications: go as soon as the parked long poll
        completes (EventPending), or at `deadline` (replay offset) if it does not."""
        lane = self.notify
        if lane is not None:
            lane["done"].wait(max(0.0, deadline - self.now()))

    # network -----------------------------------------------------------------------------------

    def drop_connection(self, connection: Connection, how: str) -> None:
        """fin / rst: the client closes; blackhole: left open and never used again (its path is
        gone); kill: reset from outside the client, as a NAT or middlebox does."""
        if how in ("blackhole", "kill"):
            self.zombies.append(connection)
            if how == "kill":
                kill_connection(connection)
        else:
            connection.close(how)

    def switch_network(self, how: str, source: str | None, reason: str) -> dict:
        """Old connections die (fin, rst, blackhole or kill, including a parked NotificationWait);
        the next request goes on a new connection from a new source address, same cookies."""
        session = self.main.session
        old = session.connection
        if old is not None:
            self.drop_connection(old, how)
        session.connection = None
        before = session.source_address
        new_source = source or self.replay.next_source()
        if new_source:
            session.source_address = new_source
        parked = self.drop_notify(how)
        event = self.event("address-change", reason, old=before or (old.local_address if old else None),
                           new=new_source, drop=how)
        if parked is not None:
            self.start_notify(parked, kind="repark")
        return event

    def follow_recorded_client(self, step: Step) -> None:
        """The capture shows the client on a new address: do the same (a loopback source)."""
        if step.client_ip != self.last_client and self.last_client is not None:
            self.switch_network("fin", None, f"recorded: client {self.last_client} -> {step.client_ip}")
        self.last_client = step.client_ip

    def event(self, kind: str, what: str, **details) -> dict:
        event = {"kind": kind, "what": what, "at": self.now(), **details}
        with self.lock:
            self.events.append(event)
        return event

    # recovery ----------------------------------------------------------------------------------

    def reopen_steps(self, upto: Step) -> list[Step]:
        """The Execute steps before `upto` that succeeded: re-running them brings a new context
        back to the same objects (a new logon, the folders and tables reopened, releases too)."""
        return [s for s in self.plan.steps[:upto.position]
                if s.request_type == "Execute" and s.request_rops and s.position in self.sent_ok]

    def reconnect(self, upto: Step, reason: str) -> float:
        """MS-OXCMAPIHTTP 3.1.5.7 / 3.2.5.6: Connect (Bind) carrying all the old cookies, a new
        context with new cookies only, then log on again and reopen the objects."""
        start = self.now()
        session = self.main.session
        session.new_context(reconnect=True)
        self.main.rewriter.maps.new_context()
        self.main.ctx = DecodingContext(self.plan.key)
        opener = next((s for s in self.plan.steps if s.request_type in ("Connect", "Bind")), None)
        ok = False
        if opener is not None:
            ok = self.send(opener, kind="reconnect")["outcome"] == "ok"
            if ok:
                for step in self.reopen_steps(upto):
                    self.send(step, kind="reopen")
        self.reconnects += 1
        took = self.now() - start
        self.event("reconnect", reason, took=took, ok=ok, context=context_cookie(session.cookies))
        return took

    def measure_reconnect(self, upto: Step) -> float | None:
        """A full reconnect timed beside a resume, in the same run: a second context (Connect,
        logon, reopen to the same point) on a new connection, then disconnected."""
        opener = next((s for s in self.plan.steps if s.request_type in ("Connect", "Bind")), None)
        if opener is None:
            return None
        side = Channel(self, self.new_rewriter(), self.main.session.source_address)
        start = self.now()
        ok = self.send(opener, kind="measure", channel=side, lane="measure")["outcome"] == "ok"
        if ok:
            for step in self.reopen_steps(upto):
                self.send(step, kind="measure", channel=side, lane="measure")
        took = self.now() - start
        closer = next((s for s in self.plan.steps if s.request_type in ("Disconnect", "Unbind")), None)
        if ok and closer is not None:
            self.send(closer, kind="measure", channel=side, lane="measure")
        side.session.close()
        return took if ok else None

    # the plan ----------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # a bug or a broken server must not hang the other sessions
            self.error = f"{type(exc).__name__}: {exc}"
            self.event("error", self.error)
        finally:
            self.finish()

    def _run(self) -> None:
        scenarios = self.replay.scenarios_for(self.plan)
        for step in self.plan.steps:
            if self.replay.exhausted():
                self.new_entry(step, step.request_type, step.lane, "plan", outcome="skipped",
                               error="--max-requests reached")
                continue
            handled = False
            for scenario in scenarios.get(step.number, ()):
                handled = scenario.apply(self, step) or handled
            if handled:
                continue
            self.step(step)

    def step(self, step: Step, *, follow: bool = True) -> dict | None:
        """One plan step at its planned time, with the spec's recovery when the context is lost."""
        planned = self.replay.planned(step)
        if step.lane == "notify":
            self.wait_until(planned)
            self.start_notify(step)
            return None
        if step.request_type == "Execute" and not step.request_rops:
            self.wait_until(planned)
            self.wait_for_event(self.now() + self.options.notify_grace)
            planned = None
        if follow:
            self.follow_recorded_client(step)
        if step.request_type in ("Disconnect", "Unbind"):
            self.closing = True
        entry = self.send(step, at=planned)
        return self.recover(step, entry)

    def recover(self, step: Step, entry: dict) -> dict:
        """Context lost (10, or 6) on anything but Connect/Bind, or a response lost after the
        whole request went out (MS-OXCMAPIHTTP 3.1.7.2): reconnect, reopen, resend."""
        code = entry.get("inner_code") or entry.get("code")
        lost = entry["outcome"] == "lost"
        if (lost or code in CONTEXT_LOST) and step.request_type not in ("Connect", "Bind") \
                and step.exchange.response is not None and step.response_code not in CONTEXT_LOST:
            self.reconnect(step, f"#{step.number}: " + ("response lost" if lost else f"X-ResponseCode {code}"))
            if step.request_type not in ("Disconnect", "Unbind", "PING"):
                return self.send(step, kind="resend")
        return entry

    def finish(self) -> None:
        lane = self.notify
        if lane is not None and not lane["done"].wait(self.options.notify_grace):
            lane["connection"].close("fin")
            lane["done"].wait(self.options.timeout)
            entry = lane.get("entry")
            if entry is not None:
                entry["outcome"] = "abandoned"
                entry["divergences"] = [d for d in entry["divergences"] if d["what"] != "no live response"]
                with self.lock:
                    self.divergences = [d for d in self.divergences
                                        if not (d.step == entry["number"] and d.what == "no live response")]
            self.event("notify-abandoned", "the long poll was still parked at the end of the plan")
        self.main.session.close()
        for connection in self.zombies:
            connection.close("fin")


class Replay:
    """All plans of a capture re-driven at once, each session in its own thread."""

    lead = 0.02  # the first request goes this long after the origin

    def __init__(self, plans: list[SessionPlan], options: ReplayOptions):
        check_target(options.target, options.allow_remote)
        self.options = options
        mailbox_first = sorted((p for p in plans if p.user_dn), key=lambda p: p.endpoint != "emsmdb")
        self.recorded_dn = mailbox_first[0].user_dn if mailbox_first else None
        self.recorded_mailbox = next((m for m in (recorded_mailbox(p) for p in plans) if m), None)
        self.plans = [p for p in plans if not options.sessions or p.key in options.sessions]
        self.base_url = options.target.rstrip("/")
        if options.via:
            parts = urlsplit(self.base_url)
            self.base_url = f"{parts.scheme}://{options.via[0]}:{options.via[1]}"
        self.client = ClientInstance()
        self.impair = None  # impair.ImpairProxy when the replay goes through it
        self.shared: dict[str, dict] = {kind: {} for kind in SHARED_KINDS}  # recorded -> live, all sessions
        times = [s.time for p in self.plans for s in p.steps]
        self.capture_origin = min(times) if times else 0.0
        self.offsets = options.timing.offsets(times)
        self.origin = time.time()
        self.budget = options.max_requests
        self.lock = threading.Lock()
        self.sources = 1
        self.loopback = is_loopback(urlsplit(options.target).hostname or "")
        self.runs: list[SessionRun] = []
        self.skipped: list[dict] = []

    def identity_for(self, plan: SessionPlan) -> Identity | None:
        if not self.options.as_user:
            return None
        if not self.recorded_dn:
            raise UsageError("--as-user: the capture shows no user DN (no Connect or RopLogon)")
        return Identity.parse(self.options.as_user, self.recorded_dn,
                              recorded_mailbox(plan) or self.recorded_mailbox)

    def planned(self, step: Step) -> float:
        return self.offsets.get(step.time, 0.0) + self.lead

    def take_budget(self) -> bool:
        with self.lock:
            if self.budget is None:
                return True
            if self.budget <= 0:
                return False
            self.budget -= 1
            return True

    def exhausted(self) -> bool:
        return self.budget is not None and self.budget <= 0

    def next_source(self) -> str | None:
        """A fresh loopback source address (127.0.0.2, .3, ...) for a client address change;
        None when the target is not on loopback (the kernel picks the address)."""
        if not self.loopback:
            return None
        with self.lock:
            self.sources = self.sources % MAX_SOURCES + 1
            return f"127.0.{self.sources // 250}.{self.sources % 250 + 1}"

    def scenarios_for(self, plan: SessionPlan) -> dict[int, list]:
        numbers = {s.number for s in plan.steps}
        out: dict[int, list] = {}
        for scenario in self.options.scenarios:
            if scenario.step in numbers:
                out.setdefault(scenario.step, []).append(scenario)
        return out

    def run(self) -> list[SessionRun]:
        known = {s.number: s for p in self.plans for s in p.steps}
        for scenario in self.options.scenarios:
            if scenario.step not in known:
                raise UsageError(f"scenario {scenario.spec!r}: no step #{scenario.step} in the capture")
            scenario.validate(known[scenario.step])
        if any(s.kind == "impair" for s in self.options.scenarios) and self.impair is None:
            from .impair import ImpairProxy

            parts = urlsplit(self.options.target)
            with ImpairProxy(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)) as proxy:
                self.impair = proxy
                self.base_url = f"{parts.scheme}://{proxy.address[0]}:{proxy.address[1]}"
                try:
                    return self._run_all()
                finally:
                    self.impair = None
        return self._run_all()

    def _run_all(self) -> list[SessionRun]:
        for plan in self.plans:
            if replayable(plan):
                self.runs.append(SessionRun(self, plan))
            else:
                self.skipped.append({"session": plan.key, "why": "no Connect or Bind: the capture starts inside it"})
        threads = [threading.Thread(target=r.run, name=f"replay-{r.plan.key}", daemon=True) for r in self.runs]
        switch = sys.getswitchinterval()
        if self.options.timing.factor:  # timed: a session due to send gets the interpreter sooner
            sys.setswitchinterval(SWITCH_INTERVAL)  # (fast: no send is due, forced switches only cost)
        try:
            self.origin = time.time()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            sys.setswitchinterval(switch)
        return self.runs


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _hex(value) -> str | None:
    return hex(int(value)) if value is not None else None
