"""Aggregates over records: `mapiwire sessions` and `mapiwire stats`."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict


def _ts(text: str | None) -> float | None:
    if not text:
        return None
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Sessions:
    """One row per MAPI session: context cookie, client addresses (more than one: the client
    changed networks), endpoints, requests per type, errors, first/last time, longest idle gap."""

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self._last: dict[str, float] = {}

    def add(self, record: dict) -> None:
        key = record.get("session") or "unknown"
        row = self.rows.setdefault(key, {
            "session": key, "clients": [], "endpoints": [], "requests": Counter(), "errors": 0,
            "first": record.get("time"), "last": record.get("time"), "longest_idle_s": 0.0,
            "response_codes": Counter()})
        address = (record.get("client") or "").rsplit(":", 1)[0]
        if address and address not in row["clients"]:
            row["clients"].append(address)
        if record.get("endpoint") and record["endpoint"] not in row["endpoints"]:
            row["endpoints"].append(record["endpoint"])
        row["requests"][record.get("request_type") or "?"] += 1
        if record.get("response_code") is not None:
            row["response_codes"][str(record["response_code"])] += 1
        row["errors"] += len(record.get("errors") or ())
        start = _ts(record.get("time"))
        if start is not None:
            previous = self._last.get(key)
            if previous is not None and start - previous > row["longest_idle_s"]:
                row["longest_idle_s"] = round(start - previous, 3)
            end = start + (record.get("elapsed_ms") or 0) / 1000
            self._last[key] = max(end, previous or end)
            row["last"] = record.get("time")

    def result(self) -> list[dict]:
        return [dict(row, requests=dict(row["requests"]), response_codes=dict(row["response_codes"]))
                for row in self.rows.values()]

    def text(self) -> str:
        """One line per session."""
        lines = []
        for row in self.result():
            requests = ", ".join(f"{k} {v}" for k, v in row["requests"].items())
            switch = " (network change)" if len(row["clients"]) > 1 else ""
            lines.append(f"{row['session']}  {'/'.join(row['endpoints']) or '-'}  "
                         f"clients {','.join(row['clients']) or '-'}{switch}  {row['first']} .. {row['last']}  "
                         f"longest idle {row['longest_idle_s']} s  errors {row['errors']}  {requests}")
        return "\n".join(lines)


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


class Stats:
    """Counts per request type and X-ResponseCode, latency percentiles, PENDING counts."""

    def __init__(self):
        self.by_type: Counter = Counter()
        self.by_code: Counter = Counter()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.pending: Counter = Counter()
        self.errors = 0
        self.exchanges = 0

    def add(self, record: dict) -> None:
        self.exchanges += 1
        kind = record.get("request_type") or "?"
        self.by_type[kind] += 1
        code = record.get("response_code")
        self.by_code[f"{code} {record.get('response_code_name') or ''}".strip() if code is not None else "none"] += 1
        if record.get("elapsed_ms") is not None:
            self.latency[kind].append(record["elapsed_ms"])
        meta = (record.get("response") or {}).get("meta") or []
        self.pending[kind] += sum(1 for tag in meta if tag == "PENDING")
        self.errors += len(record.get("errors") or ())

    def result(self) -> dict:
        return {
            "exchanges": self.exchanges,
            "errors": self.errors,
            "request_types": dict(self.by_type),
            "response_codes": dict(self.by_code),
            "latency_ms": {kind: {"count": len(v), "p50": percentile(v, 50), "p90": percentile(v, 90),
                                  "p99": percentile(v, 99), "max": max(v)} for kind, v in self.latency.items()},
            "pending": dict(self.pending),
        }

    def text(self) -> str:
        r = self.result()
        lines = [f"exchanges {r['exchanges']}, errors {r['errors']}", "", "request type          count  PENDING    p50 ms    p90 ms    p99 ms    max ms"]
        for kind, count in sorted(r["request_types"].items()):
            lat = r["latency_ms"].get(kind, {})
            cells = [f"{lat.get(k):9.1f}" if lat.get(k) is not None else "        -" for k in ("p50", "p90", "p99", "max")]
            lines.append(f"{kind:<20} {count:>6} {r['pending'].get(kind, 0):>8} " + " ".join(cells))
        lines += ["", "X-ResponseCode        count"]
        lines += [f"{code:<20} {count:>6}" for code, count in sorted(r["response_codes"].items())]
        return "\n".join(lines)
