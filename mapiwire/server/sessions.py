"""Session contexts of both endpoints and the rules MS-OXCMAPIHTTP 3.2.5 puts on them (sans-IO).

- 3.2.5.1: Connect / Bind create a Session Context identified by cookies whose names are the
  implementation's (ours: `MapiContext`, `MapiSequence`); values are unguessable
  (`secrets.token_urlsafe`). The authentication context is kept and checked on every request
  (another user -> 10). One request at a time per context (-> 15), NotificationWait excepted
  (3.1.5.5). The sequence cookie rotates on every sequenced request and a stale one -> 15.
- 3.2.5.2: every accepted response sets the context's cookies again (the app does it from
  `Context.cookies()`).
- 3.2.5.3: PING refreshes the idle timer; 3.2.5.4: Disconnect / Unbind destroy the context;
  3.2.5.5: NotificationWait keeps it alive while parked.
- 3.2.5.6: Connect / Bind carrying the cookies of a live context destroy it first, and ignore
  the sequence cookie.
- 3.2.6 / 3.2.2: the idle-time timer runs while the context has no pending request; at the
  limit the context is destroyed and its cookies die (-> 10 afterwards).
- 2.2.3.3.3: a request without the context cookie -> 13 Missing Cookie, a cookie that is not one
  of ours -> 6 Invalid Context Cookie, one of ours that names no live context -> 10.

The context does not remember the TCP connection or the client address: any connection that
carries the cookies continues the session (3.1.5.6, 3.1.7.1).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable

CONTEXT_COOKIE = "MapiContext"
SEQUENCE_COOKIE = "MapiSequence"
_COOKIE_VALUE = re.compile(r"^[A-Za-z0-9_-]{32}$")  # what token_urlsafe(24) makes

# X-ResponseCode values (MS-OXCMAPIHTTP 2.2.3.3.3) the session rules produce
INVALID_CONTEXT_COOKIE, CONTEXT_NOT_FOUND, MISSING_COOKIE, INVALID_SEQUENCE = 6, 10, 13, 15

CREATES = {"Connect", "Bind"}
ENDS = {"Disconnect", "Unbind"}
# Request types that neither need nor rotate the sequence cookie (RopNotify collection, keep-alive,
# end of session): PING and NotificationWait pass it "if available" (3.1.5.3, 3.1.5.5).
UNSEQUENCED = {"PING", "NotificationWait", "Disconnect", "Unbind"}
MAX_WAITS = 4  # NotificationWait requests parked at once on one context (each holds a connection)


def new_cookie() -> str:
    return secrets.token_urlsafe(24)


@dataclass(eq=False)
class Context:
    """One Session Context: cookies, owner, pending requests, and the endpoint's state object
    (`payload`: the MailboxSession or AddressBookSession)."""

    endpoint: str
    cookie: str
    sequence: str
    principal: str | None  # who authenticated (None: anonymous server)
    idle_since: float
    payload: Any = None
    busy: bool = False  # a request other than NotificationWait is being processed
    waiting: int = 0  # NotificationWait requests parked on this context
    extra: dict = field(default_factory=dict)  # per-context data of the request-type handlers

    def cookies(self) -> dict[str, str]:
        return {CONTEXT_COOKIE: self.cookie, SEQUENCE_COOKIE: self.sequence}

    @property
    def pending(self) -> bool:
        return self.busy or self.waiting > 0


@dataclass
class Refusal:
    code: int
    reason: str


class SessionTable:
    """The live contexts of one server (both endpoints), keyed by context cookie.

    `timeout` is the idle time limit in seconds, `max_sessions` the cap on live contexts;
    `on_destroy(context)` runs when a context ends for any reason (release its state).
    """

    def __init__(self, timeout: float, max_sessions: int, *, on_destroy: Callable[[Context], None] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.timeout = timeout
        self.max_sessions = max_sessions
        self.on_destroy = on_destroy
        self.clock = clock
        self._contexts: dict[str, Context] = {}

    def __len__(self) -> int:
        return len(self._contexts)

    # creation and end ------------------------------------------------------------------------

    def create(self, endpoint: str, principal: str | None, old_cookies: dict[str, str]) -> Context | None:
        """Connect / Bind (3.2.5.1, 3.2.5.6): destroy the live context the old cookies name (same
        endpoint and owner), then make a new one. None when the cap is reached."""
        old = self._contexts.get(old_cookies.get(CONTEXT_COOKIE, ""))
        if old is not None and old.endpoint == endpoint and old.principal == principal and not self._expired(old):
            self.destroy(old)
        if len(self._contexts) >= self.max_sessions:
            self.expire()
            if len(self._contexts) >= self.max_sessions:
                return None
        context = Context(endpoint, new_cookie(), new_cookie(), principal, self.clock(), busy=True)
        self._contexts[context.cookie] = context
        return context

    def destroy(self, context: Context) -> None:
        if self._contexts.pop(context.cookie, None) is not None and self.on_destroy is not None:
            self.on_destroy(context)

    def expire(self) -> list[Context]:
        """Destroy every context whose idle-time timer ran out (3.2.6)."""
        gone = [ctx for ctx in self._contexts.values() if self._expired(ctx)]
        for ctx in gone:
            self.destroy(ctx)
        return gone

    def _expired(self, context: Context) -> bool:
        return not context.pending and self.clock() - context.idle_since >= self.timeout

    # every other request -----------------------------------------------------------------------

    def admit(self, endpoint: str, request_type: str, cookies: dict[str, str],
              principal: str | None) -> Context | Refusal:
        """The context a request continues, or why it is refused (3.2.5.1, 2.2.3.3.3).
        Nothing changes here; `begin` marks the request as pending once it is accepted."""
        value = cookies.get(CONTEXT_COOKIE)
        if not value:
            return Refusal(MISSING_COOKIE, f"the {CONTEXT_COOKIE} cookie is missing")
        if not _COOKIE_VALUE.match(value):
            return Refusal(INVALID_CONTEXT_COOKIE, f"the {CONTEXT_COOKIE} cookie is not one this server issued")
        context = self._contexts.get(value)
        if context is not None and self._expired(context):
            self.destroy(context)
            context = None
        if context is None or context.endpoint != endpoint:
            return Refusal(CONTEXT_NOT_FOUND, "no session context with this cookie (expired or ended)")
        if context.principal != principal:
            return Refusal(CONTEXT_NOT_FOUND, "the session context belongs to another authenticated user")
        if request_type not in UNSEQUENCED:
            sequence = cookies.get(SEQUENCE_COOKIE)
            if not sequence:
                return Refusal(MISSING_COOKIE, f"the {SEQUENCE_COOKIE} cookie is missing")
            if not secrets.compare_digest(sequence, context.sequence):
                return Refusal(INVALID_SEQUENCE, f"stale {SEQUENCE_COOKIE} cookie")
        if context.busy and request_type != "NotificationWait":
            return Refusal(INVALID_SEQUENCE, "another request is being processed in this session context")
        if request_type == "NotificationWait" and context.waiting >= MAX_WAITS:
            return Refusal(INVALID_SEQUENCE, f"{MAX_WAITS} NotificationWait requests are already parked")
        return context

    def begin(self, context: Context, request_type: str) -> None:
        """The request is accepted: it is pending on the context; a sequenced request rotates
        the sequence cookie (3.2.5.1)."""
        if request_type == "NotificationWait":
            context.waiting += 1
        else:
            context.busy = True
        if request_type not in UNSEQUENCED:
            context.sequence = new_cookie()

    def end(self, context: Context, request_type: str) -> None:
        """The request completed: the idle-time timer starts again (3.2.2, 3.2.5.3, 3.2.5.5);
        Disconnect / Unbind destroy the context (3.2.5.4)."""
        if request_type == "NotificationWait":
            context.waiting = max(0, context.waiting - 1)
        else:
            context.busy = False
        context.idle_since = self.clock()
        if request_type in ENDS:
            self.destroy(context)

    def remaining_ms(self, context: Context | None) -> int:
        """X-ExpirationInfo (2.2.3.3.8): ms before the context times out if left idle from now."""
        if context is None or context.pending:
            return int(self.timeout * 1000)
        return max(0, int((self.timeout - (self.clock() - context.idle_since)) * 1000))

    def live(self, cookie: str) -> bool:
        context = self._contexts.get(cookie)
        return context is not None and not self._expired(context)
