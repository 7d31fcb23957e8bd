"""Aggregates over records: `mapiwire sessions` and `mapiwire stats`."""

from __future__ import annotations

import datetime
import html
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator

from ..errors import MapiwireError
from .exchange import Exchange
from .transport import (RESPONSE_CODES, REQUEST_TYPES, REQUEST_TYPES_LOWER, is_record, parse_inner, response_code,
                        split_request_id)

MAX_FAILURES = 100  # listed per session; the counts stay exact
CONTEXT_NOT_FOUND = 10  # MS-OXCMAPIHTTP 2.2.3.3.3
SMALL_BODY = 64 * 1024  # below defs/budget.MAX_PLAIN (tests/dissect/test_summary.py)


def _iso(ts: float) -> str:
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def human(seconds: float) -> str:
    """`2 h 15 min`, `4 min 10 s`, `30.5 s`, `12 ms`: a duration as people say it."""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{round(seconds, 1):g} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _clock(text: str | None) -> str:
    """The time of day of an ISO time (`09:01:18`), for one-line summaries."""
    return text[11:19] if text and len(text) >= 19 else "-"


def _guid(value: str | None) -> str | None:
    ids = split_request_id(value)
    return ids[0] if ids else None


def _header(record: dict, side: str, name: str) -> str | None:
    for key, value in reversed(((record.get("http") or {}).get(f"{side}_headers") or [])):
        if key.lower() == name.lower():
            return value
    return None


def failure_of(record: dict) -> dict | None:
    """What went wrong with an exchange at the HTTP layer: an X-ResponseCode other than 0
    (MS-OXCMAPIHTTP 2.2.3.3.3) or an HTTP status of 400 or more; None when nothing did."""
    code, status = record.get("response_code"), record.get("status")
    if not code and not (status and status >= 400):
        return None
    out = {"index": record.get("index"), "time": record.get("time"), "request_type": record.get("request_type")}
    if code:
        out.update(response_code=code, response_code_name=record.get("response_code_name"))
    if status is not None:
        out["status"] = status
    text = diagnostic(record)
    if text:
        out["text"] = text
    return out


def diagnostic(record: dict, limit: int = 160) -> str | None:
    """The refusal's own words: the text a server sends with a non-zero X-ResponseCode (its HTML
    body, tags stripped; gromox puts it in a <p>)."""
    text = (record.get("response") or {}).get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    paragraph = re.search(r"<p[^>]*>(.*?)</p>", text, re.S | re.I)
    plain = re.sub(r"<[^>]+>", " ", paragraph.group(1) if paragraph else text)
    plain = " ".join(html.unescape(plain).split())
    return plain[:limit] + ("..." if len(plain) > limit else "") if plain else None


class Sessions:
    """One row per MAPI session: context cookie, client addresses (more than one: the client
    changed networks), endpoints, requests per type, errors, first/last time, what went wrong
    (non-zero X-ResponseCodes with their times), the longest idle gap beside X-ExpirationInfo,
    and which later session replaced it (a reconnect)."""

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self._last: dict[str, float] = {}
        self._ids: dict[str, dict] = {}  # session -> what tells a reconnect: GUIDs, clients, refusals

    def add(self, record: dict) -> None:
        if not (record.get("request_type") or record.get("client")):
            return  # a problem of the capture itself (TLS not decrypted, a cut file): told on stderr
        key = record.get("session") or "unknown"
        row = self.rows.setdefault(key, {
            "session": key, "clients": [], "endpoints": [], "requests": Counter(), "errors": 0,
            "first": record.get("time"), "last": record.get("time"), "longest_idle_s": 0.0,
            "response_codes": Counter(), "failures": []})
        ids = self._ids.setdefault(key, {"guids": set(), "context_lost": None})
        address = (record.get("client") or "").rsplit(":", 1)[0]
        if address and address not in row["clients"]:
            row["clients"].append(address)
        if record.get("endpoint") and record["endpoint"] not in row["endpoints"]:
            row["endpoints"].append(record["endpoint"])
        row["requests"][record.get("request_type") or "?"] += 1
        if record.get("response_code") is not None:
            row["response_codes"][str(record["response_code"])] += 1
        row["errors"] += len(record.get("errors") or ())
        failure = failure_of(record)
        if failure is not None and len(row["failures"]) < MAX_FAILURES:
            row["failures"].append(failure)
        if record.get("response_code") == CONTEXT_NOT_FOUND and ids["context_lost"] is None:
            ids["context_lost"] = (_ts(record.get("time")), address)
        ids["guids"].update(g for g in (_guid(record.get("client_info")), _guid(record.get("request_id"))) if g)
        expiry = _header(record, "response", "X-ExpirationInfo")
        if expiry and expiry.strip().isdigit():
            row["expiration_ms"] = int(expiry.strip())  # MS-OXCMAPIHTTP 2.2.3.3.5
        start = _ts(record.get("time"))
        if start is not None:
            previous = self._last.get(key)
            if previous is not None and start - previous > row["longest_idle_s"]:
                row["longest_idle_s"] = round(start - previous, 3)
                row["longest_idle_from"] = _iso(previous)
            end = start + (record.get("elapsed_ms") or 0) / 1000
            self._last[key] = max(end, previous or end)
            row["last"] = record.get("time")

    def result(self) -> list[dict]:
        rows = [dict(row, requests=dict(row["requests"]), response_codes=dict(row["response_codes"]))
                for row in self.rows.values()]
        for row in rows:
            if row["longest_idle_s"]:
                row["longest_idle"] = human(row["longest_idle_s"])
            if row.get("expiration_ms") is not None:
                row["idle_beyond_expiry"] = row["longest_idle_s"] * 1000 > row["expiration_ms"]
            successor = self._successor(row, rows)
            if successor is not None:
                row["replaced_by"] = successor
        return rows

    def _successor(self, row: dict, rows: list[dict]) -> str | None:
        """The first later session of the same endpoint that shares an X-ClientInfo or X-RequestId
        GUID with this one (MS-OXCMAPIHTTP 2.2.3.3.2, 2.2.3.3.4), or that the same client address
        began after this session's context was not found (X-ResponseCode 10)."""
        mine = self._ids.get(row["session"], {})
        end = _ts(row["last"])
        lost = mine.get("context_lost")
        for other in rows:
            if other is row or other["endpoints"] != row["endpoints"] or _ts(other["first"]) is None \
                    or other["session"].startswith("requestid:"):  # a reconnect gets a context cookie
                continue
            begins = _ts(other["first"])
            theirs = self._ids.get(other["session"], {})
            if end is not None and begins >= end and mine.get("guids", set()) & theirs.get("guids", set()):
                return other["session"]
            if lost is not None and lost[0] is not None and begins >= lost[0] and lost[1] in other["clients"]:
                return other["session"]
        return None

    def text(self) -> str:
        """One line per session, then a line for each thing that went wrong."""
        lines = []
        for row in self.result():
            requests = ", ".join(f"{k} {v}" for k, v in row["requests"].items())
            switch = " (network change)" if len(row["clients"]) > 1 else ""
            idle = "longest idle -"
            if row["longest_idle_s"]:
                idle = f"longest idle {row['longest_idle']} from {_clock(row.get('longest_idle_from'))}"
            if row.get("expiration_ms") is not None:
                idle += f" (expiry {human(row['expiration_ms'] / 1000)}"
                idle += ": idle longer than the expiry)" if row["idle_beyond_expiry"] else ")"
            failed = f", failed {len(row['failures'])}" if row["failures"] else ""
            lines.append(f"{row['session']}  {'/'.join(row['endpoints']) or '-'}  "
                         f"clients {','.join(row['clients']) or '-'}{switch}  {row['first']} .. {row['last']}  "
                         f"{idle}  errors {row['errors']}{failed}  {requests}")
            for failure in row["failures"]:
                lines.append("    " + failure_text(failure))
            if row.get("replaced_by"):
                lines.append(f"    replaced by {row['replaced_by']}")
        return "\n".join(lines)


def failure_text(failure: dict) -> str:
    """`#12 09:01:18 Execute: X-ResponseCode 10 (Context Not Found) "Context not found"`."""
    what = []
    if failure.get("response_code"):
        what.append(f"X-ResponseCode {failure['response_code']} ({failure.get('response_code_name') or 'unknown'})")
    if failure.get("status") and failure["status"] != 200:
        what.append(f"HTTP {failure['status']}")
    text = f" \"{failure['text']}\"" if failure.get("text") else ""
    return f"#{failure.get('index')} {_clock(failure.get('time'))} {failure.get('request_type') or '?'}: " \
           f"{', '.join(what)}{text}"


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


def shared_stats(path: str, workers: int, told: Callable = iter) -> Stats:
    """`stats` of a plain pcap/pcapng (sources.shardable) on `workers` processes, each reading the
    whole file but following only its share of the TCP connections (pcap.read_exchanges `shard`);
    `told` wraps each worker's exchanges as the caller wraps one reader's (the CLI says the
    capture's notes on stderr: share 0 has them). A worker that fails or dies fails the run
    (concurrent.futures raises; nothing waits)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            tables = list(pool.map(_share_stats, [path] * workers, range(workers), [workers] * workers,
                                   [told] * workers))
    except BrokenProcessPool as exc:
        raise MapiwireError(f"a stats worker died: {exc}") from exc
    for other in tables[1:]:
        tables[0].merge(other)
    return tables[0]


def _share_stats(path: str, share: int, shares: int, told: Callable = iter) -> Stats:
    """One worker of shared_stats: the table of its share."""
    from .sources import open_capture

    table = Stats()
    for record in transport_records(told(open_capture(path, shard=(share, shares)))):
        table.add(record)
    return table


def transport_records(exchanges: Iterable[Exchange]) -> Iterator[dict]:
    """What `Stats` reads of each record (request_type, status, response_code and its name,
    elapsed_ms, the response's meta-tags, errors of the transport) with the values the Decoder gives
    them, without the rest of the record: no bodies, no session state, no copy of the HTTP layer,
    not even the decoder's imports. tests/dissect/test_summary.py keeps both the same."""
    for exchange in exchanges:
        if not is_record(exchange):
            continue
        try:
            yield _transport_record(exchange.request, exchange.response, list(exchange.errors))
        except Exception as exc:  # as the decoder: its own failure is an error of the record
            message = (str(exc).strip().splitlines() or [""])[-1][:500]
            yield {"request_type": None, "status": None, "response_code": None, "response_code_name": None,
                   "elapsed_ms": None, "response": None, "errors": list(exchange.errors) + [
                       {"where": "decoder", "error": f"{type(exc).__name__}: {message}"}]}


def _transport_record(request, response, errors: list) -> dict:
    """The record's fields as Decoder._decode and Decoder._response set them without bodies
    (MS-OXCMAPIHTTP 2.2.3.1.1 X-RequestType; 2.2.3.3.3 X-ResponseCode, in the headers or after
    DONE; 2.2.7 meta-tags)."""
    record = {"request_type": None, "status": None, "response_code": None, "response_code_name": None,
              "elapsed_ms": None, "response": None, "errors": errors}
    if request is None:  # a response without its request, or the reader's own notes
        if response is not None:
            errors.append({"where": "request", "error": "response without its request in the capture"})
            record["request_type"] = response.header("X-RequestType")
            record["status"] = response.status
        return record
    request_type = record["request_type"] = request.header("X-RequestType")
    known = request_type in REQUEST_TYPES or (request_type or "").lower() in REQUEST_TYPES_LOWER
    if request_type is None:
        errors.append({"where": "request.headers", "error": "no X-RequestType header"})
    elif not known:
        errors.append({"where": "request.headers", "error": f"unknown X-RequestType {request_type!r}"})
    if response is None:
        return record
    record["status"] = status = response.status
    inner = parse_inner(response.body)
    if inner.errors:
        errors.extend(inner.errors)
    record["response"] = {"meta": inner.meta}
    code, _ = response_code(response.header("X-ResponseCode"), inner, errors)
    if code is not None:
        record["response_code"] = code
        record["response_code_name"] = RESPONSE_CODES.get(code)
    if status != 200 or code not in (0, None) or not known:
        size = inner.body_size
        if size > SMALL_BODY:  # smaller ones are kept whole: no need to import the budget (and construct)
            from .defs.budget import MAX_PLAIN

            if size > MAX_PLAIN:  # the decoder keeps only the first bytes of an undecoded body, and says so
                errors.append({"where": "response", "error": f"decoding budget: undecoded body of {size} bytes, "
                               f"only the first {MAX_PLAIN} kept", "offset": MAX_PLAIN})
    if request.time is not None and response.end_time is not None:
        record["elapsed_ms"] = round((response.end_time - request.time) * 1000, 3)
    return record


class Stats:
    """Counts per request type and X-ResponseCode, latency percentiles, PENDING counts."""

    def __init__(self):
        self.by_type: Counter = Counter()
        self.by_code: Counter = Counter()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.pending: Counter = Counter()
        self.errors = 0
        self.exchanges = 0
        self.failed: Counter = Counter()  # exchanges refused: non-zero X-ResponseCode, HTTP status >= 400

    def add(self, record: dict) -> None:
        get = record.get
        self.exchanges += 1
        kind = get("request_type") or "?"
        self.by_type[kind] += 1
        code = get("response_code")
        self.by_code[f"{code} {get('response_code_name') or ''}".strip() if code is not None else "none"] += 1
        elapsed = get("elapsed_ms")
        if elapsed is not None:
            self.latency[kind].append(elapsed)
        meta = (get("response") or {}).get("meta") or ()
        self.pending[kind] += sum(1 for tag in meta if tag == "PENDING") if meta else 0
        errors = get("errors")
        if errors:
            self.errors += len(errors)
        if code:
            self.failed["X-ResponseCode"] += 1
        if (get("status") or 0) >= 400:
            self.failed["HTTP"] += 1

    def merge(self, other: Stats) -> None:
        """Add what another table counted (another share of the same capture's connections)."""
        self.by_type.update(other.by_type)
        self.by_code.update(other.by_code)
        for kind, values in other.latency.items():
            self.latency[kind].extend(values)
        self.pending.update(other.pending)
        self.errors += other.errors
        self.exchanges += other.exchanges
        self.failed.update(other.failed)

    def result(self) -> dict:
        """The figures; each table's keys sorted, so that the same capture gives the same JSON
        whatever order the exchanges were counted in."""
        return {
            "exchanges": self.exchanges,
            "errors": self.errors,
            "failed": {"X-ResponseCode": self.failed["X-ResponseCode"], "HTTP": self.failed["HTTP"]},
            "request_types": dict(sorted(self.by_type.items())),
            "response_codes": dict(sorted(self.by_code.items())),
            "latency_ms": {kind: {"count": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90),
                                  "p99": percentile(v, 99), "max": max(v)} for kind, v in sorted(self.latency.items())},
            "pending": dict(sorted(self.pending.items())),
        }

    def text(self) -> str:
        r = self.result()
        failed = r["failed"]
        head = f"exchanges {r['exchanges']}, errors {r['errors']} (decoding), failed: X-ResponseCode not 0 " \
               f"{failed['X-ResponseCode']}, HTTP status 400 or more {failed['HTTP']}"
        lines = [head, "", "request type          count  PENDING    p50 ms    p90 ms    p99 ms    max ms"]
        for kind, count in sorted(r["request_types"].items()):
            lat = r["latency_ms"].get(kind, {})
            cells = [f"{lat.get(k):9.1f}" if lat.get(k) is not None else "        -" for k in ("p50", "p90", "p99", "max")]
            lines.append(f"{kind:<20} {count:>6} {r['pending'].get(kind, 0):>8} " + " ".join(cells))
        lines += ["", "X-ResponseCode        count"]
        lines += [f"{code:<20} {count:>6}" for code, count in sorted(r["response_codes"].items())]
        return "\n".join(lines)
