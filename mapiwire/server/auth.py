"""HTTP authentication of the server: none, Basic (RFC 7617) and NTLM through pyspnego's acceptor.

NTLM authenticates a TCP connection, as IIS does for Exchange's MAPI virtual directory
(REPLAY.md 2.7): the handshake's state and its result belong to the connection, so a client that
comes back on a new connection (a network switch) authenticates again. pyspnego reads the
acceptor's users from the file named by NTLM_USER_FILE (TOOLCHAIN.md); the server writes one
for its users and points the variable at it only while a step runs, under a lock, so servers
with different users can share a process.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import tempfile
import threading
import weakref

BASIC_CHALLENGE = 'Basic realm="mapiwire"'
NTLM_SCHEMES = ("ntlm", "negotiate")
_ENV_LOCK = threading.Lock()


class Challenge(Exception):
    """The request is not authenticated: answer 401 with these WWW-Authenticate values."""

    def __init__(self, challenges: list[str], reason: str):
        super().__init__(reason)
        self.challenges = challenges
        self.reason = reason


class Authenticator:
    """`authenticate(authorization, transport)` -> the canonical user name, or None when the
    server runs without authentication; raises `Challenge` when a 401 is due.

    `passwords`: user name -> password; `resolve(name)` maps what a client typed
    (alias, smtp, DOMAIN\\alias) to that canonical name, or None."""

    def __init__(self, mode: str, passwords: dict[str, str], resolve, domains: tuple[str, ...] = ()):
        if mode not in ("none", "basic", "ntlm"):
            raise ValueError(f"unknown authentication {mode!r}")
        self.mode = mode
        self.passwords = passwords
        self.resolve = resolve
        self._connections: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._user_file = None
        if mode == "ntlm":
            self._user_file = _write_user_file(passwords, domains)

    def close(self) -> None:
        if self._user_file:
            os.unlink(self._user_file)
            self._user_file = None

    def authenticate(self, authorization: str | None, transport) -> str | None:
        if self.mode == "none":
            return None
        if self.mode == "basic":
            return self._basic(authorization)
        return self._ntlm(authorization, transport)

    def _basic(self, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            raise Challenge([BASIC_CHALLENGE], "Basic credentials required")
        try:
            name, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Challenge([BASIC_CHALLENGE], "malformed Basic credentials") from None
        user = self.resolve(name) if sep else None
        expected = self.passwords.get(user) if user else None
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            raise Challenge([BASIC_CHALLENGE], "wrong user name or password")
        return user

    def _ntlm(self, authorization: str | None, transport) -> str:
        state = self._connections.get(transport) if transport is not None else None
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() not in NTLM_SCHEMES or not token.strip():
            if state is not None and state.get("user"):
                return state["user"]  # this connection authenticated earlier
            raise Challenge(["NTLM"], "NTLM authentication required")
        import spnego

        try:
            data = base64.b64decode(token.strip(), validate=True)
        except binascii.Error:
            raise Challenge(["NTLM"], "malformed NTLM token") from None
        if state is None or state.get("user") or data[8:12] == b"\x01\x00\x00\x00":
            state = {"context": None, "user": None}  # a NEGOTIATE message starts a new handshake
            if transport is not None:
                self._connections[transport] = state
        try:
            with _ENV_LOCK:
                saved = os.environ.get("NTLM_USER_FILE")
                os.environ["NTLM_USER_FILE"] = self._user_file
                try:
                    if state["context"] is None:
                        state["context"] = spnego.server(protocol="ntlm")
                    out = state["context"].step(data)
                finally:
                    if saved is None:
                        os.environ.pop("NTLM_USER_FILE", None)
                    else:
                        os.environ["NTLM_USER_FILE"] = saved
        except Exception as exc:  # pyspnego raises its own errors for bad tokens and bad passwords
            state["context"] = None
            raise Challenge(["NTLM"], f"NTLM authentication failed: {type(exc).__name__}") from None
        if not state["context"].complete:
            raise Challenge([f"NTLM {base64.b64encode(out).decode()}"] if out else ["NTLM"], "NTLM challenge")
        user = self.resolve(state["context"].client_principal or "")
        state["context"] = None
        if user is None:
            raise Challenge(["NTLM"], "authenticated principal is not a user of this server")
        state["user"] = user
        return user


def _write_user_file(passwords: dict[str, str], domains: tuple[str, ...]) -> str:
    """DOMAIN:USER:PASSWORD lines (an empty domain accepts a client that sends none)."""
    fd, path = tempfile.mkstemp(prefix="mapiwire-ntlm-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for user, password in passwords.items():
            for domain in ("",) + tuple(domains):
                f.write(f"{domain}:{user}:{password}\n")
    return path
