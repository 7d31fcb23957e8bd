"""Recorded vs live, per step (REPLAY.md 4.16-4.17): what differs and of which class.

Protocol divergences: HTTP status (MS-OXCMAPIHTTP 2.2.2.2), the X-ResponseCode header and the one
after DONE (2.2.3.3.3, 3.2.5.2: a late failure is reported there), the body's StatusCode, each
ROP's RopId and ReturnValue (MS-OXCROPS 2.2.1), the meta-tag stream (2.2.7: PROCESSING first,
DONE last, a PENDING at least every X-PendingPeriod, 2.2.3.3.5), X-ExpirationInfo in every
response (2.2.3.3.8), and a step that could not be sent. Content divergences: row counts,
EventPending, and other values expected to differ when the target's mailbox is not the recorded one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..dissect.transport import InnerStream, parse_inner

CODE_GROUPS = {6: "context lost", 10: "context lost", 15: "sequence", 16: "endpoint", 18: "endpoint"}
PENDING_SLACK = 1.5  # a gap between meta-tags may reach 1.5 x X-PendingPeriod (+ 0.5 s) before it counts
UNSOLICITED = {0x2A, 0x6E}  # RopNotify, RopPending: depend on live events, compared as content


def code_group(code: int | None) -> str | None:
    """The class of an X-ResponseCode, as REPLAY.md 2.9 groups them (raw code kept beside it)."""
    if code in (None, 0):
        return None
    return CODE_GROUPS.get(code, "other")


@dataclass
class Divergence:
    """One difference between the recorded and the live answer of a step."""

    step: int  # capture record number of the step
    kind: str  # "protocol" | "content"
    what: str
    recorded: object = None
    live: object = None
    expected: bool = False  # predicted by a scenario

    def as_dict(self) -> dict:
        return asdict(self)


def inner_of(message) -> InnerStream:
    """The inner stream of a recorded response (MS-OXCMAPIHTTP 2.2.7), split once for all the
    sessions that replay it (kept on the message: live responses are not kept twice)."""
    inner = message.__dict__.get("_inner")
    if inner is None:
        inner = message._inner = parse_inner(message.body)
    return inner


def response_codes(message) -> tuple[int | None, int | None]:
    """(X-ResponseCode header, X-ResponseCode after DONE) of a response."""
    if message is None:
        return None, None
    codes = message.__dict__.get("_codes")
    if codes is None:
        inner = dict(parse_inner(message.body).headers).get("X-ResponseCode")
        codes = message._codes = (_int(message.header("X-ResponseCode")), _int(inner))
    return codes


def _int(value) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def status_code(value) -> int | None:
    return int(value.get("StatusCode")) if isinstance(value, dict) and value.get("StatusCode") is not None else None


def row_count(rop) -> int | None:
    rows = rop.get("RowData")
    if isinstance(rows, list):
        return len(rows)
    return int(rop["RowCount"]) if rop.get("RowCount") is not None else None


def compare(step, live_response, live_value, live_rops: list) -> list[Divergence]:
    """Divergences of one step: the recorded step against the live response (None: not answered)."""
    out: list[Divergence] = []
    number = step.number
    recorded = step.exchange.response
    if live_response is None:
        out.append(Divergence(number, "protocol", "no live response", "answered" if recorded else None, None))
        return out
    if recorded is None:
        return out
    if recorded.status != live_response.status:
        out.append(Divergence(number, "protocol", "HTTP status", recorded.status, live_response.status))
    rec_codes, live_codes = response_codes(recorded), response_codes(live_response)
    for i, name in enumerate(("X-ResponseCode", "X-ResponseCode after DONE")):
        rec, live = rec_codes[i], live_codes[i]
        if (rec or 0) != (live or 0) and not (i == 1 and rec is None and live in (None, 0)):
            out.append(Divergence(number, "protocol", name, rec, live))
    rec_status, live_status = status_code(step.response_value), status_code(live_value)
    if rec_status is not None and live_status is not None and rec_status != live_status:
        out.append(Divergence(number, "protocol", "StatusCode", hex(rec_status), hex(live_status)))
    if step.request_type == "Execute" and live_value is not None:
        out.extend(_compare_rops(number, step.response_rops, live_rops))
    if step.request_type == "NotificationWait" and step.response_value is not None and live_value is not None:
        rec, live = int(step.response_value.get("EventPending", 0)), int(live_value.get("EventPending", 0))
        if rec != live:
            out.append(Divergence(number, "content", "EventPending", rec, live))
    if isinstance(step.response_value, dict) and isinstance(live_value, dict):
        for name in ("MinimalIds", "RowData", "Rows"):
            rec, live = step.response_value.get(name), live_value.get(name)
            if isinstance(rec, list) and isinstance(live, list) and len(rec) != len(live):
                out.append(Divergence(number, "content", f"{name} count", len(rec), len(live)))
    if recorded.header("X-ExpirationInfo") and not live_response.header("X-ExpirationInfo"):
        out.append(Divergence(number, "protocol", "X-ExpirationInfo missing",
                              recorded.header("X-ExpirationInfo"), None))
    return out


def _compare_rops(number: int, recorded: list, live: list) -> list[Divergence]:
    out: list[Divergence] = []
    rec_solicited = [r for r in recorded if r.get("RopId") not in UNSOLICITED]
    live_solicited = [r for r in live if r.get("RopId") not in UNSOLICITED]
    if len(recorded) - len(rec_solicited) != len(live) - len(live_solicited):
        out.append(Divergence(number, "content", "RopNotify/RopPending count", len(recorded) - len(rec_solicited),
                              len(live) - len(live_solicited)))
    if [r.get("RopId") for r in rec_solicited] != [r.get("RopId") for r in live_solicited]:
        out.append(Divergence(number, "protocol", "response ROPs",
                              [r.get("RopName") for r in rec_solicited], [r.get("RopName") for r in live_solicited]))
    for i, (rec, liv) in enumerate(zip(rec_solicited, live_solicited)):
        name = rec.get("RopName")
        if rec.get("RopId") != liv.get("RopId"):
            break
        if int(rec.get("ReturnValue", 0) or 0) != int(liv.get("ReturnValue", 0) or 0):
            out.append(Divergence(number, "protocol", f"{name} ReturnValue", hex(int(rec.get("ReturnValue") or 0)),
                                  hex(int(liv.get("ReturnValue") or 0))))
        rec_strings, live_strings = _strings(rec.get("RowData")), _strings(liv.get("RowData"))
        if isinstance(rec.get("RowData"), dict) and rec_strings != live_strings:
            out.append(Divergence(number, "content", f"{name} property values", rec_strings, live_strings))
        rec_rows, live_rows = row_count(rec), row_count(liv)
        if rec_rows is not None and live_rows is not None and rec_rows != live_rows:
            out.append(Divergence(number, "content", f"{name} rows", rec_rows, live_rows))
    return out


def _strings(row) -> list[str]:
    """The string values of one property row (what names an object: display name, subject)."""
    if not isinstance(row, dict):
        return []
    cells = [c.get("PropertyValue") if isinstance(c, dict) else c for c in row.get("ValueArray") or ()]
    return [c for c in cells if isinstance(c, str)]


def cadence(number: int, meta: list[tuple[str, float]], pending_period_ms: int | None,
            end: float | None) -> list[Divergence]:
    """The live meta-tag stream of one response against MS-OXCMAPIHTTP 2.2.7 and X-PendingPeriod."""
    out: list[Divergence] = []
    tags = [tag for tag, _ in meta]
    if not tags:
        return out
    if tags[0] != "PROCESSING":
        out.append(Divergence(number, "protocol", "first meta-tag", "PROCESSING", tags[0]))
    if tags[-1] != "DONE":
        out.append(Divergence(number, "protocol", "last meta-tag", "DONE", tags[-1]))
    if pending_period_ms:
        limit = pending_period_ms / 1000 * PENDING_SLACK + 0.5
        times = [t for _, t in meta] + ([end] if end is not None and tags[-1] != "DONE" else [])
        gaps = [b - a for a, b in zip(times, times[1:])]
        if gaps and max(gaps) > limit:
            out.append(Divergence(number, "protocol", "PENDING cadence (longest gap, s)",
                                  pending_period_ms / 1000, round(max(gaps), 3)))
    return out
