"""HTTP authentication for the client: Basic (RFC 7617), Bearer (RFC 6750), NTLM / Negotiate
(MS-NTHT, through pyspnego) and "auto" (whatever the server's 401 offers).

NTLM and Negotiate authenticate a TCP connection, as on IIS (REPLAY.md 2.7): the context lives in
`Connection.state`, so a new connection (a network switch) runs the handshake again. The MAPI
virtual directory's authentication methods: MS-OXCMAPIHTTP 2.2.3.2.1 (Authorization header).
"""

from __future__ import annotations

import base64

from ..errors import UsageError

CONNECTION_SCHEMES = ("negotiate", "ntlm")  # connection-bound schemes, preferred in this order


class Auth:
    """Credentials and the scheme to use; `headers()` before a request, `challenge()` on a 401."""

    def __init__(self, scheme: str, user: str = "", password: str = "", token: str = ""):
        if scheme not in ("auto", "basic", "bearer", *CONNECTION_SCHEMES):
            raise UsageError(f"unknown authentication scheme {scheme!r}")
        self.scheme, self.user, self.password, self.token = scheme, user, password, token
        self.chosen = None if scheme == "auto" else scheme  # "auto" picks from the first 401

    @property
    def account(self) -> str:
        """The user name without a DOMAIN\\ prefix (an alias or an SMTP address)."""
        return self.user.rpartition("\\")[2]

    def headers(self, connection) -> list[tuple[str, str]]:
        """The Authorization header for the next request on `connection` (none when the
        connection is already authenticated, or nothing is chosen yet)."""
        if self.chosen == "basic":
            raw = f"{self.user}:{self.password}".encode()
            return [("Authorization", "Basic " + base64.b64encode(raw).decode())]
        if self.chosen == "bearer":
            return [("Authorization", "Bearer " + self.token)]
        if self.chosen in CONNECTION_SCHEMES and not connection.state.get("authenticated"):
            return [("Authorization", self._step(connection, None))]
        return []

    def challenge(self, connection, response) -> list[tuple[str, str]] | None:
        """Headers for another try after a 401 `response`, or None when the credentials were
        refused (the caller reports the 401)."""
        offered = {}
        for value in response.header_all("WWW-Authenticate"):
            name, _, data = value.strip().partition(" ")
            offered[name.lower()] = data.strip()
        if self.chosen is None:
            for scheme in (*CONNECTION_SCHEMES, "basic"):
                if scheme in offered:
                    self.chosen = scheme
                    return self.headers(connection)
            return None
        if self.chosen in CONNECTION_SCHEMES and connection.state.get("spnego") is not None:
            token = offered.get(connection.state["scheme"].lower())
            if token and not connection.state.get("sent_final"):
                return [("Authorization", self._step(connection, base64.b64decode(token)))]
        return None

    def accepted(self, connection) -> None:
        """The server answered something other than 401: a connection-bound handshake is done."""
        if self.chosen in CONNECTION_SCHEMES and connection.state.get("spnego") is not None:
            connection.state["authenticated"] = True

    def _step(self, connection, token: bytes | None) -> str:
        import spnego

        state = connection.state
        if token is None:
            state["scheme"] = "Negotiate" if self.chosen == "negotiate" else "NTLM"
            state["spnego"] = spnego.client(self.user, self.password or None, hostname=connection.host,
                                            service="HTTP", protocol=self.chosen)
            state["sent_final"] = False
        context = state["spnego"]
        out = context.step(token)
        if token is not None:
            state["sent_final"] = True
        return f"{state['scheme']} {base64.b64encode(out or b'').decode()}"


def parse_auth(spec: str) -> Auth:
    """"basic:USER[:PASS]", "ntlm:DOMAIN\\USER[:PASS]", "negotiate:...", "bearer:TOKEN", or
    "USER:PASS" (auto: the scheme the server's first 401 offers, NTLM before Basic)."""
    scheme, sep, rest = spec.partition(":")
    if sep and scheme.lower() in ("basic", "ntlm", "negotiate", "bearer"):
        scheme = scheme.lower()
        if scheme == "bearer":
            return Auth("bearer", token=rest)
        user, _, password = rest.partition(":")
        return Auth(scheme, user, password)
    user, _, password = spec.partition(":")
    return Auth("auto", user, password)
