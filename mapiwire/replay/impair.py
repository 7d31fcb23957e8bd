"""A user-space TCP proxy between the replayer and the target that impairs the path (REPLAY.md 3:
netem is absent on our machines, so delay, stalls and black-holes are made in user space).

Latency delays every forwarded chunk; a stall holds the bytes for a while and then delivers them;
a black-hole silently drops everything for a while on the connections open at that time (the
sockets stay open: no FIN, no RST, as when a path disappears); a reset aborts every open
connection with a RST on both sides (SO_LINGER 0), as a middlebox or NAT does. Listens on
loopback only.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

RECV = 65536


class ImpairProxy:
    """`with ImpairProxy(host, port) as proxy:` then connect to `proxy.address`."""

    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.latency = 0.0  # seconds added before each forwarded chunk
        self._stall_until = 0.0
        self._blackhole_until = 0.0
        # Pairs are kept by themselves, never by id(): a closed pair's id is reused by a new one.
        self._blackholed: set[tuple] = set()  # the pairs black-holed: they never forward again
        self._reset: set[tuple] = set()  # the pairs being reset
        self._pumps: dict[tuple, list[threading.Thread]] = {}  # the two forwarding threads of each pair
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((listen_host, 0))
        self._listener.listen(64)
        self.address = self._listener.getsockname()[:2]
        self.connections = 0  # accepted so far
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="impair-proxy", daemon=True)

    def __enter__(self) -> "ImpairProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # impairments ---------------------------------------------------------------------------------

    def stall_for(self, seconds: float) -> None:
        """Hold every byte for `seconds`, then deliver (a slow or congested path)."""
        self._stall_until = time.monotonic() + seconds

    def blackhole_for(self, seconds: float) -> None:
        """The connections open now drop every byte, silently and for good (their path is gone);
        new connections also drop for `seconds`."""
        with self._lock:
            self._blackholed.update(self._pairs)
        self._blackhole_until = time.monotonic() + seconds

    def reset_all(self) -> int:
        """RST every open connection on both sides; returns how many. The pump threads are woken
        (shutdown of the read side) and close their sockets with SO_LINGER 0: a socket closed
        while another thread still reads it would not send its RST."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self._reset.update(pairs)
        for pair in pairs:
            for sock in pair:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass
        for pair in pairs:  # the RSTs are out when the pumps have closed their sockets
            for pump in self._pumps.get(pair, ()):
                pump.join(1.0)
        return len(pairs)

    def close(self) -> None:
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                try:
                    sock.close()
                except OSError:
                    pass

    # forwarding ----------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=10)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            pair = (client, upstream)
            with self._lock:
                self._pairs.append(pair)
                if time.monotonic() < self._blackhole_until:
                    self._blackholed.add(pair)
                self.connections += 1
            pumps = [threading.Thread(target=self._pump, args=(pair, src, dst), daemon=True)
                     for src, dst in ((client, upstream), (upstream, client))]
            self._pumps[pair] = pumps
            for pump in pumps:
                pump.start()

    def _pump(self, pair, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(RECV)
            except OSError:
                data = b""
            if pair in self._reset:
                src.close()  # SO_LINGER 0 is set: the peer gets a RST
                return
            if not data:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                return
            if pair in self._blackholed:
                continue
            wait = max(self.latency, self._stall_until - time.monotonic())
            if wait > 0:
                time.sleep(wait)
            try:
                dst.sendall(data)
            except OSError:
                return


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass
