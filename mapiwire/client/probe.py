"""`mapiwire probe`: what Exchange's Test-OutlookConnectivity runs with the
OutlookMapiHttpSelfTestProbe, step by step, with each step's result and time.

Steps: Autodiscover (MS-OXDSCLI, when given a bare host), then on the mailbox endpoint Connect,
RopLogon, RopGetReceiveFolder, a table read (the Inbox's contents table) and Disconnect, and on the
address book endpoint Bind, DNToMId and Unbind. A failed step fails the ones that depend on it
(Skipped); the probe succeeds only when every step did.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

from ..errors import MapiwireError
from .addressbook import AddressBook
from .http import ConnectionFailed
from .mailbox import Mailbox, Rop
from .profiles import CONTENTS_COLUMNS, INBOX, OutlookClient, object_id, tags
from .session import MapiHttpError

MONITOR = "OutlookMapiHttp.Protocol\\OutlookMapiHttpSelfTestProbe"
FALLBACK = "Outlook would fall back to RPC over HTTP"


@dataclass
class Step:
    name: str
    start: float = 0.0
    end: float = 0.0
    result: str = "Skipped"
    error: str = ""
    exception: str = ""

    @property
    def latency_ms(self) -> float:
        return round((self.end - self.start) * 1000, 1) if self.end else 0.0


@dataclass
class ProbeReport:
    target: str
    steps: list[Step] = field(default_factory=list)
    exchanges: list = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return bool(self.steps) and all(s.result == "Succeeded" for s in self.steps)

    def table(self) -> str:
        """The cmdlet's columns, one row per step and a last row for the probe as a whole."""
        def when(ts):
            return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if ts else ""
        first = min((s.start for s in self.steps if s.start), default=0.0)
        last = max((s.end for s in self.steps if s.end), default=0.0)
        failed = next((s for s in self.steps if s.result != "Succeeded"), None)
        rows = [(f"{MONITOR}\\{s.name}", when(s.start), when(s.end), s.result, s.error, s.exception,
                 f"{s.latency_ms}") for s in self.steps]
        rows.append((MONITOR, when(first), when(last), "Succeeded" if self.succeeded else "Failed",
                     failed.error if failed else "", failed.exception if failed else "",
                     f"{round((last - first) * 1000, 1) if last else 0.0}"))
        head = ("MonitorIdentity", "StartTime", "EndTime", "Result", "Error", "Exception", "Latency(ms)")
        widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
        lines = ["  ".join(str(v).ljust(w) for v, w in zip(head, widths)).rstrip(),
                 "  ".join("-" * len(h) + " " * (w - len(h)) for h, w in zip(head, widths)).rstrip()]
        lines += ["  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines)


def _reason(exc: BaseException) -> tuple[str, str]:
    """(Error, Exception) columns for a failure."""
    if isinstance(exc, MapiHttpError) and exc.status == 404:
        return f"{exc} (no MAPI/HTTP virtual directory: {FALLBACK})", type(exc).__name__
    if isinstance(exc, MapiHttpError) and exc.status == 401:
        return f"{exc} (the credentials were refused)", type(exc).__name__
    return str(exc), type(exc).__name__


class _Runner:
    def __init__(self, report: ProbeReport):
        self.report = report

    def step(self, name: str, action, *, skip_reason: str | None = None):
        step = Step(name)
        self.report.steps.append(step)
        if skip_reason:
            step.error = skip_reason
            return None
        step.start = time.time()
        try:
            value = action()
            step.result = "Succeeded"
            return value
        except (MapiwireError, OSError) as exc:
            step.result = "Failed"
            step.error, step.exception = _reason(exc)
            return None
        finally:
            step.end = time.time()


def probe(target: str, auth=None, *, timeout: float = 15.0, **client_options) -> ProbeReport:
    """Run the probe against `target`: a bare host ("mail.contoso.com", "127.0.0.1:8080": Autodiscover
    first, https then http) or a URL (its scheme and host; no Autodiscover)."""
    report = ProbeReport(target)
    run = _Runner(report)
    bare = "://" not in target
    blocked = None
    client = OutlookClient(target if not bare else f"https://{target}", auth, timeout=timeout, **client_options)
    if bare:
        def discover():
            try:
                return client.autodiscover()
            except ConnectionFailed:
                client.base_url = f"http://{target}"
                return client.autodiscover()
        if run.step("Autodiscover", discover) is None:
            blocked = "Autodiscover failed"

    mailbox = Mailbox(client.session("emsmdb"), client.user_dn, recover=False)
    connected = run.step("Connect", mailbox.connect, skip_reason=blocked)
    after = None if connected is not None else (blocked or "Connect failed")
    logged_on = run.step("Logon", lambda: mailbox.execute([Rop("RopLogon", {
        "LogonFlags": 0x01, "OpenFlags": 0x0100040C, "StoreState": 0, "Essdn": client.user_dn}, out="logon")]),
        skip_reason=after)
    after = after or (None if logged_on is not None else "Logon failed")
    run.step("GetReceiveFolder", lambda: mailbox.execute([
        Rop("RopGetReceiveFolder", {"MessageClass": "IPM.Note"}, on="logon")]), skip_reason=after)

    def table_read():
        inbox = object_id(logged_on[0]["FolderIds"][INBOX])
        mailbox.execute([
            Rop("RopOpenFolder", {"FolderId": inbox, "OpenModeFlags": 0}, on="logon", out="inbox"),
            Rop("RopGetContentsTable", {"TableFlags": 0}, on="inbox", out="table"),
            Rop("RopSetColumns", {"SetColumnsFlags": 0, "PropertyTags": tags(*CONTENTS_COLUMNS)}, on="table"),
            Rop("RopQueryRows", {"QueryRowsFlags": 0, "ForwardRead": 1, "RowCount": 10}, on="table"),
            Rop("RopRelease", on="table"), Rop("RopRelease", on="inbox")])
    run.step("TableRead", table_read, skip_reason=after)
    run.step("Disconnect", mailbox.disconnect, skip_reason=blocked or (None if connected is not None else "Connect failed"))
    mailbox.session.close()

    book = AddressBook(client.session("nspi"), recover=False)
    bound = run.step("Bind", book.bind, skip_reason=blocked)
    after = blocked or (None if bound is not None else "Bind failed")
    run.step("DNToMId", lambda: book.call("DNToMId", {"Reserved": 0, "HasNames": 1,
                                                       "Names": {"Strings": [client.user_dn]}}), skip_reason=after)
    run.step("Unbind", book.unbind, skip_reason=after)
    book.session.close()
    report.exchanges = client.exchanges
    return report
