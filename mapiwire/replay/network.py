"""Where the replay may go and how its connections die (REPLAY.md 3, section "Safety").

The target must be on loopback unless the user names it with --allow-remote; a connection can be
reset from outside the client, as a NAT or middlebox does, with `ss -K` (SOCK_DESTROY).
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
from urllib.parse import urlsplit

from ..client.http import Connection
from ..errors import UsageError


def check_target(url: str, allow_remote: bool) -> None:
    """The target must be loopback unless the user named it with --allow-remote (REPLAY.md 3)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--target {url!r}: an http:// or https:// URL")
    if not allow_remote and not is_loopback(parts.hostname):
        raise UsageError(f"--target {parts.hostname} is not a loopback address: "
                         "add --allow-remote to replay against it")


def is_loopback(host: str) -> bool:
    """Whether every address `host` resolves to is a loopback address (127/8, ::1)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def kill_connection(connection: Connection) -> None:
    """Abort a TCP connection from outside its process: `ss -K` (SOCK_DESTROY; REPLAY.md 3) on its
    exact address pair. The client then gets ECONNABORTED, the server a RST. Needs CAP_NET_ADMIN
    (in the host or in a network namespace the replay runs in)."""
    if connection.sock is None:
        return
    (lhost, lport), (phost, pport) = (_split(connection.local_address), _split(connection.peer_address))
    result = subprocess.run(["ss", "-K", "-t", "src", lhost, "sport", "=", f":{lport}", "dst", phost,
                             "dport", "=", f":{pport}"], capture_output=True, text=True, timeout=10)
    if result.returncode != 0 or f":{lport}" not in result.stdout:
        raise UsageError("drop=kill needs `ss -K` with CAP_NET_ADMIN: " + (result.stderr.strip() or "nothing killed"))


def _split(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)
