"""Make a TLS capture of MAPI/HTTP exchanges on loopback, with its key log.

A local HTTPS server on 127.0.0.1 (self-signed certificate made at run time with the `openssl`
command) answers each request with the response of its `Exchange`; a client sends the
requests in order, one TCP connection per distinct `Exchange.connection`, and logs its TLS secrets
(`ssl.SSLContext.keylog_filename`, the SSLKEYLOGFILE format). `tshark -i lo` records the traffic.

    python tools/make_tls_capture.py OUT.pcapng [--embed] [--tls12]

writes OUT.pcapng and OUT.keys (with --embed, the secrets also go into the pcapng through
`editcap --inject-secrets`). From Python: `make_tls_capture(exchanges, "out.pcapng")`.
Traffic stays on loopback; tshark is bounded by `-a duration:`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapiwire.dissect.exchange import Exchange, HttpMessage  # noqa: E402
from mapiwire.dissect.sources.http import HttpParser  # noqa: E402
from mapiwire.dissect.sources.writers import serialize  # noqa: E402


def wire(msg: HttpMessage, chunk: int = 1024) -> bytes:
    """The bytes of `msg` on the wire, its Content-Length recomputed (a chunked body is sent
    in pieces of `chunk` bytes)."""
    chunked = bool(msg.header_all("Transfer-Encoding"))
    headers = [(k, v) for k, v in msg.headers if k.lower() != "content-length"]
    if msg.method and not msg.body and not chunked:
        headers.append(("Content-Length", "0"))
    sized = replace(msg, headers=headers)
    return serialize(sized, [chunk] * (len(msg.body) // chunk) if chunked else None)


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def _read_message(sock, parser: HttpParser) -> HttpMessage | None:
    """The next complete message from `sock`, None at end of stream."""
    while True:
        data = sock.recv(65536)
        events = parser.feed(data) if data else parser.close()
        for event in events:
            if isinstance(event, HttpMessage):
                return event
        if not data:
            return None


class _Server:
    """HTTPS server answering each request with the response of the first unanswered
    exchange whose request has the same method, target and body."""

    def __init__(self, exchanges: list[Exchange], cert: Path, key: Path, alpn):
        self.pending = [(_key(ex.request), ex.response) for ex in exchanges]
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        if alpn:
            self.context.set_alpn_protocols(alpn)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw) -> None:
        try:
            with self.context.wrap_socket(raw, server_side=True) as conn:
                parser = HttpParser("request")
                while (request := _read_message(conn, parser)) is not None:
                    if (response := self._answer(request)) is not None:
                        conn.sendall(wire(response))
        except (OSError, ssl.SSLError):
            pass

    def _answer(self, request: HttpMessage) -> HttpMessage | None:
        with self.lock:
            for i, (key, response) in enumerate(self.pending):
                if key == _key(request):
                    del self.pending[i]
                    return response
        return None

    def close(self) -> None:
        self.listener.close()


def _key(msg: HttpMessage) -> tuple:
    return msg.method, msg.target, msg.body


def _send_all(exchanges: list[Exchange], port: int, keys: Path, max_version, alpn) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if alpn:
        context.set_alpn_protocols(alpn)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.keylog_filename = str(keys)
    if max_version is not None:
        context.maximum_version = max_version
    last_use = {ex.connection: i for i, ex in enumerate(exchanges)}
    open_conns: dict = {}
    try:
        for i, ex in enumerate(exchanges):
            if ex.connection not in open_conns:
                raw = socket.create_connection(("127.0.0.1", port))
                open_conns[ex.connection] = (context.wrap_socket(raw, server_hostname="localhost"),
                                             HttpParser("response"))
            conn, parser = open_conns[ex.connection]
            conn.sendall(wire(ex.request))
            if ex.response is not None:
                _read_message(conn, parser)
            if last_use[ex.connection] == i:
                conn.close()
                del open_conns[ex.connection]
    finally:
        for conn, _ in open_conns.values():
            conn.close()


def make_tls_capture(
    exchanges: list[Exchange],
    out: str | os.PathLike,
    *,
    embed: bool = False,
    max_version: ssl.TLSVersion | None = None,
    alpn: list[str] | None = None,
    timeout: float = 60.0,
) -> tuple[Path, Path]:
    """Send `exchanges` over TLS on loopback while tshark captures them.

    Exchanges without a request are left out; the response of each (None: no answer) is
    what the server sends back. Returns (pcapng path, key log path); the key log is `out` with the
    suffix ".keys". `embed` also injects the secrets into the pcapng (a DSB block).
    `max_version=ssl.TLSVersion.TLSv1_2` forces TLS 1.2 (default: the best both sides know);
    `alpn`, e.g. ["http/1.1"], is offered by the client and accepted by the server.
    """
    exchanges = [ex for ex in exchanges if ex.request is not None]
    out = Path(out)
    keys = out.with_suffix(".keys")
    keys.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cert, key = _certificate(tmp)
        server = _Server(exchanges, cert, key, alpn)
        server.thread.start()
        raw_out = tmp / "raw.pcapng" if embed else out
        env = dict(os.environ, HOME=str(tmp), WIRESHARK_CONFIG_DIR=str(tmp))
        capture = subprocess.Popen(
            ["tshark", "-i", "lo", "-f", f"tcp port {server.port}", "-a", f"duration:{int(timeout)}",
             "-q", "-w", str(raw_out)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        try:
            _wait_capturing(capture, timeout)
            _send_all(exchanges, server.port, keys, max_version, alpn)
            time.sleep(0.5)  # let the last segments (FIN/ACK) reach the capture
        finally:
            server.close()
            if capture.poll() is None:
                capture.send_signal(signal.SIGINT)
            try:
                capture.wait(timeout=15)
            except subprocess.TimeoutExpired:
                capture.kill()
                capture.wait()
        if capture.returncode not in (0, -signal.SIGINT):
            raise RuntimeError(f"tshark capture failed with status {capture.returncode}")
        if embed:
            subprocess.run(["editcap", "--inject-secrets", f"tls,{keys}", str(raw_out), str(out)],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    out.chmod(0o644)  # dumpcap creates its files 0600
    return out, keys


def _wait_capturing(capture: subprocess.Popen, timeout: float) -> None:
    """Block until tshark says "Capturing on", then a little longer."""
    seen = threading.Event()
    lines: list[str] = []

    def watch():
        for line in capture.stderr:
            text = line.decode("utf-8", "replace")
            lines.append(text)
            if "Capturing on" in text:
                seen.set()
        seen.set()  # tshark ended

    threading.Thread(target=watch, daemon=True).start()
    if not seen.wait(timeout) or capture.poll() is not None:
        raise RuntimeError("tshark did not start capturing: " + "".join(lines[-3:]).strip())
    time.sleep(1.0)  # "Capturing on" comes a little before the first packets are taken


def sample_exchanges(count: int = 3, size: int = 3000) -> list[Exchange]:
    """Small MAPI/HTTP-shaped exchanges whose bodies contain NUL bytes (for tests and the CLI)."""
    exchanges = []
    for i in range(count):
        body = bytes((i * 7 + n) % 256 for n in range(size)) + b"\x00\x00end"
        inner = (b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 1\r\n"
                 b"X-StartTime: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n" + b"\x00\x01" + body[::-1])
        request = HttpMessage(
            method="POST", target="/mapi/emsmdb/?MailboxId=x@example.com",
            headers=[("Host", "localhost"), ("Content-Type", "application/mapi-http"),
                     ("X-RequestType", "Execute"), ("X-RequestId", f"{{11111111}}:{i + 1}"),
                     ("X-ClientInfo", "{22222222}:1"), ("Cookie", "MapiContext=abc")],
            body=body)
        response = HttpMessage(
            status=200, reason="OK",
            headers=[("Content-Type", "application/mapi-http"), ("X-RequestType", "Execute"),
                     ("X-ResponseCode", "0"), ("Transfer-Encoding", "chunked")],
            body=inner)
        exchanges.append(Exchange(request, response, connection=f"c{i // 2}"))
    return exchanges


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="the pcapng to write (the key log goes next to it, .keys)")
    parser.add_argument("--embed", action="store_true", help="also inject the secrets into the pcapng")
    parser.add_argument("--tls12", action="store_true", help="use TLS 1.2 instead of 1.3")
    parser.add_argument("--alpn", action="store_true", help="negotiate ALPN http/1.1")
    parser.add_argument("--count", type=int, default=3, help="number of sample exchanges")
    parser.add_argument("--size", type=int, default=3000, help="request body size of each")
    args = parser.parse_args(argv)
    out, keys = make_tls_capture(
        sample_exchanges(args.count, args.size), args.out, embed=args.embed,
        max_version=ssl.TLSVersion.TLSv1_2 if args.tls12 else None,
        alpn=["http/1.1"] if args.alpn else None)
    print(f"wrote {out} and {keys}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
