"""Which records `mapiwire dissect` prints: the command line's filters over the JSON contract.

A record is printed when it passes every filter given: request types, sessions (a session may be
given by a unique prefix of its key), X-ResponseCodes, `errors` (decoding errors, a non-zero
X-ResponseCode, an HTTP status of 400 or more, a failure body's StatusCode), ROP names (in the request or the response),
client addresses (`10.0.0.5` or `10.0.0.5:51234`) and a time window (ISO 8601, any prefix:
`2025-11-24T16:00`, or a time of day `16:00:05` on the record's own date).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UsageError
from .render import rop_names


@dataclass(frozen=True)
class RecordFilter:
    request_types: frozenset = frozenset()
    sessions: frozenset = frozenset()  # keys or prefixes
    response_codes: frozenset = frozenset()
    errors: bool = False
    rops: frozenset = frozenset()  # lower-case, "rop" prefix removed
    clients: frozenset = frozenset()
    since: str | None = None
    until: str | None = None

    @property
    def active(self) -> bool:
        return any((self.request_types, self.sessions, self.response_codes, self.errors, self.rops, self.clients,
                    self.since, self.until))

    def matches(self, record: dict) -> bool:
        if self.request_types and (record.get("request_type") or "").lower() not in self.request_types:
            return False
        session = record.get("session") or ""
        if self.sessions and not any(session.startswith(prefix) for prefix in self.sessions):
            return False
        if self.response_codes and record.get("response_code") not in self.response_codes:
            return False
        if self.errors and not (record.get("errors") or record.get("response_code")
                                or (record.get("status") or 0) >= 400 or (record.get("response") or {}).get("StatusCode")):
            return False
        if self.rops:
            names = {rop_key(n) for side in ("request", "response") for n in rop_names(record.get(side))}
            if not names & self.rops:
                return False
        if self.clients and not any(_same_client(record.get("client") or "", c) for c in self.clients):
            return False
        time = record.get("time") or ""
        if self.since and (not time or time < _bound(self.since, time)):
            return False
        if self.until and (not time or time > _bound(self.until, time, upper=True)):
            return False
        return True


def rop_key(name: str) -> str:
    """`RopQueryRows`, `queryrows`, `ropqueryrows` -> `queryrows`."""
    name = name.strip().lower()
    return name[3:] if name.startswith("rop") else name


def _same_client(client: str, wanted: str) -> bool:
    if client == wanted:
        return True
    address = client.rsplit(":", 1)[0] if client.count(":") == 1 or client.startswith("[") else client
    return address.strip("[]") == wanted.strip("[]")


def _bound(value: str, time: str, upper: bool = False) -> str:
    """A filter time in the records' ISO form; a time of day takes the record's date. An upper
    bound given to the second covers that whole second."""
    if len(value) <= 15 and ":" in value and "T" not in value:
        value = time[:11] + value
    return value + "\uffff" if upper else value


def check_time(value: str | None, option: str) -> str | None:
    """An ISO 8601 time or a time of day, as given, else a usage error."""
    if value is None:
        return None
    digits = value.replace("-", "").replace(":", "").replace("T", "").replace(".", "").rstrip("Z")
    if not digits.isdigit():
        raise UsageError(f"{option} {value!r}: give an ISO 8601 time (2025-11-24T16:00:05) or a time of day (16:00:05)")
    return value.rstrip("Z")


class SessionPrefixes:
    """Checks, as the capture is read, that each --session prefix names one session."""

    def __init__(self, prefixes):
        self.prefixes = tuple(prefixes)
        self.matched: dict[str, str] = {}

    def see(self, key: str) -> None:
        for prefix in self.prefixes:
            if key.startswith(prefix) and key != prefix:
                first = self.matched.setdefault(prefix, key)
                if first != key and prefix not in (first, key):
                    raise UsageError(f"--session {prefix!r} matches more than one session: {first}, {key}")
