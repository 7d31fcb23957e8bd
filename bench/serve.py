"""`mapiwire serve` under load: Execute requests per second and latency, and memory per idle session.

Starts `mapiwire serve` on loopback in a child process (the packaged fixture, no auth) and, in the
same run, a bare aiohttp server that answers every POST with a fixed chunked response (the HTTP
floor of the same library: the anchor). Clients are asyncio keep-alive connections in this
process; each does Connect and a RopLogon, then sends Execute requests carrying one small
RopGetPropertiesSpecific (4 properties of the logon) for --seconds. Prints, for 1, 10 and 100
concurrent clients, Execute/s with p50/p99 latency and the server's CPU time per Execute (from
/proc: what one free core would sustain, whatever else runs on the machine) beside the anchor's
requests/s and CPU per request; then the server's resident memory per idle session after
--sessions Connects (each with a RopLogon), the load average before and after (the machine may be
shared), and ends with `ratio: <mapiwire Execute/s / anchor requests/s at 10 clients>`. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from mapiwire.dissect.defs.core import build, parse  # noqa: E402
from mapiwire.dissect.defs.mapihttp import BODIES  # noqa: E402
from mapiwire.dissect.transport import parse_inner  # noqa: E402

NO_AUX = {"Blocks": []}
ANCHOR = r"""
import sys
from aiohttp import web
BODY = b"DONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 0\r\nX-StartTime: x\r\n\r\n" + bytes(64)
async def handle(request):
    await request.read()
    response = web.StreamResponse(headers={"Content-Type": "application/mapi-http", "X-ResponseCode": "0"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b"PROCESSING\r\n")
    await response.write(BODY)
    await response.write_eof()
    return response
app = web.Application()
app.router.add_post("/mapi/emsmdb/", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, child: subprocess.Popen) -> None:
    for _ in range(200):
        if child.poll() is not None:
            raise SystemExit("server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client:
    """One keep-alive HTTP/1.1 connection with a cookie jar (just enough HTTP for the bench)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.counter = 0

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, request_type: str, body: bytes) -> bytes:
        self.counter += 1
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        head = (f"POST /mapi/emsmdb/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/mapi-http\r\n"
                f"X-RequestType: {request_type}\r\nX-RequestId: {{E2EA6C1C-E61B-49E9-9CFB-38184F907552}}:"
                f"{self.counter}\r\nX-ClientInfo: {{2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}}:1\r\n"
                + (f"Cookie: {cookie}\r\n" if cookie else "") + f"Content-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        status = await self.reader.readline()
        if not status.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"{request_type}: {status!r}")
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "set-cookie":
                key, _, rest = value.strip().partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        data = bytearray()
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return bytes(data)
            data += chunk[:-2]


def execute_body(rops: list, handles: list) -> bytes:
    buffer = {"RPC_HEADER_EXT": [{"Version": 0, "Flags": 0x4}], "RopsList": rops, "ServerObjectHandleTable": handles}
    return build(BODIES["Execute"].request, {"Flags": 0, "RopBuffer": buffer, "MaxRopOut": 0x8000,
                                             "AuxiliaryBuffer": NO_AUX})


def LOGON(user_dn: str) -> list:
    return [{"RopId": 0xFE, "LogonId": 0, "OutputHandleIndex": 0, "LogonFlags": 0x01, "OpenFlags": 0x0100040C,
             "StoreState": 0, "Essdn": user_dn}]


def bodies(user_dn: str) -> tuple[bytes, bytes, callable]:
    connect = build(BODIES["Connect"].request, {"UserDn": user_dn, "Flags": 0, "DefaultCodePage": 1252,
                                                "LcidSort": 1033, "LcidString": 1033, "AuxiliaryBuffer": NO_AUX})
    logon = execute_body(LOGON(user_dn), [0xFFFFFFFF])

    def get_props(handle: int) -> bytes:
        tags = [{"PropertyType": t & 0xFFFF, "PropertyId": t >> 16}
                for t in (0x3001001F, 0x0E080003, 0x66480003, 0x3FDE0003)]  # display name, size, ...
        return execute_body([{"RopId": 0x07, "LogonId": 0, "InputHandleIndex": 0, "PropertySizeLimit": 0,
                              "WantUnicode": 1, "PropertyTags": tags}], [handle])

    return connect, logon, get_props


async def session(port: int, user_dn: str) -> tuple[Client, bytes]:
    connect, logon, get_props = bodies(user_dn)
    client = Client(port)
    await client.open()
    await client.post("Connect", connect)
    reply = parse_inner(await client.post("Execute", logon))
    value = parse(BODIES["Execute"].success, reply.body, request_rops=LOGON(user_dn))
    handle = value.RopBuffer.ServerObjectHandleTable[0]
    return client, get_props(handle)


async def load(port: int, clients: int, seconds: float, user_dn: str, anchor: bool) -> tuple[float, list[float]]:
    latencies: list[float] = []
    sessions = []
    for _ in range(clients):
        if anchor:
            client = Client(port)
            await client.open()
            sessions.append((client, execute_body([], [])))
        else:
            sessions.append(await session(port, user_dn))
    stop = time.perf_counter() + seconds

    async def run(client: Client, body: bytes):
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            inner = await client.post("Execute", body)
            latencies.append(time.perf_counter() - t0)
            if not anchor and b"X-ResponseCode: 0" not in inner[:80]:
                raise RuntimeError("Execute failed")

    t0 = time.perf_counter()
    await asyncio.gather(*(run(c, b) for c, b in sessions))
    elapsed = time.perf_counter() - t0
    for client, _ in sessions:
        client.writer.close()
    return len(latencies) / elapsed, latencies


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def idle_sessions(port: int, count: int, user_dn: str) -> None:
    connect, logon, _ = bodies(user_dn)
    workers = 20

    async def work(n: int):
        client = Client(port)
        await client.open()
        for _ in range(n):
            client.cookies = {}
            await client.post("Connect", connect)
            await client.post("Execute", logon)
        client.writer.close()

    await asyncio.gather(*(work(count // workers) for _ in range(workers)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="load per concurrency level")
    parser.add_argument("--sessions", type=int, default=10_000, help="idle sessions for the memory figure")
    args = parser.parse_args()
    from mapiwire.server.store import Store

    store = Store.load(None)
    user_dn = store.users[0].dn
    port, anchor_port = free_port(), free_port()
    server = subprocess.Popen([sys.executable, "-m", "mapiwire.cli", "serve", "--port", str(port),
                               "--log", os.devnull, "--max-sessions", str(args.sessions + 1000)],
                              stderr=subprocess.DEVNULL)
    anchor = subprocess.Popen([sys.executable, "-c", ANCHOR, str(anchor_port)], stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, server)
        wait_listening(anchor_port, anchor)
        print("machine: {} cores, load average {:.1f} {:.1f} {:.1f} (1/5/15 min) before the run (requests/s fall "
              "with other load, CPU per request much less)".format(os.cpu_count(), *os.getloadavg()))
        print(f"{'clients':>7}  {'Execute/s':>10}  {'p50 ms':>7}  {'p99 ms':>7}  {'server CPU/Execute':>18}  "
              f"{'anchor req/s':>12}  {'anchor CPU/req':>17}")
        ratio = None
        for clients in (1, 10, 100):
            cpu0 = cpu_seconds(server.pid)
            rate, latencies = asyncio.run(load(port, clients, args.seconds, user_dn, anchor=False))
            cpu_us = (cpu_seconds(server.pid) - cpu0) / (len(latencies) + 2 * clients) * 1e6
            cpu0 = cpu_seconds(anchor.pid)
            anchor_rate, anchor_latencies = asyncio.run(load(anchor_port, clients, args.seconds, user_dn, anchor=True))
            anchor_us = (cpu_seconds(anchor.pid) - cpu0) / len(anchor_latencies) * 1e6
            print(f"{clients:>7}  {rate:>10.0f}  {pct(latencies, 50):>7.2f}  {pct(latencies, 99):>7.2f}  "
                  f"{cpu_us:>15.0f} us  {anchor_rate:>12.0f}  {anchor_us:>14.0f} us", flush=True)
            if clients == 10:
                ratio = rate / anchor_rate
        before = rss_mib(server.pid)
        t0 = time.perf_counter()
        asyncio.run(idle_sessions(port, args.sessions, user_dn))
        after = rss_mib(server.pid)
        print(f"idle sessions: {args.sessions} (Connect + RopLogon each, {time.perf_counter() - t0:.1f} s), "
              f"server RSS {before:.0f} -> {after:.0f} MiB, "
              f"{(after - before) * 1024 / args.sessions:.1f} KiB per session")
        print("load average {:.1f} {:.1f} {:.1f} after the run".format(*os.getloadavg()))
        print(f"ratio: {ratio:.2f}")
    finally:
        for child in (server, anchor):
            child.terminate()
            child.wait()


if __name__ == "__main__":
    main()
