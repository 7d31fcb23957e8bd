"""mitmproxy's proxy core run in-process with `MapiAddon` (what `mapiwire proxy` runs).

NTLM and Negotiate authenticate a TCP connection, not a request: mitmproxy opens one server
connection per client connection and never pools or shares them, so the client's handshake and
its later requests reach the server on the same connection, as they would without the proxy.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from contextlib import contextmanager
from typing import TextIO

from .addon import MapiAddon
from .contentview import register


def options(*, listen_host: str = "127.0.0.1", listen_port: int = 8080, mode: str = "regular",
            confdir: str | None = None, upstream_ca: str | None = None, upstream_insecure: bool = False):
    """mitmproxy options for the proxy: its CA lives in `confdir` (mitmproxy's default ~/.mitmproxy)."""
    from mitmproxy.options import Options

    opts = Options(listen_host=listen_host, listen_port=listen_port, mode=[mode])
    updates = {"ssl_insecure": upstream_insecure}
    if confdir:
        updates["confdir"] = confdir
    if upstream_ca:
        updates["ssl_verify_upstream_trusted_ca"] = upstream_ca
    opts.update(**updates)
    return opts


def master(opts, addon: MapiAddon):
    from mitmproxy.tools.dump import DumpMaster

    m = DumpMaster(opts, with_termlog=False, with_dumper=False)
    m.addons.add(addon)
    register(addon.record_of)
    return m


def listening(m) -> tuple[str, int] | None:
    """The address mitmproxy's proxy server is bound to, once it is."""
    proxyserver = m.addons.get("proxyserver") if m else None
    for server in getattr(proxyserver, "servers", []) or []:
        for address in server.listen_addrs:
            return address[0], address[1]
    return None


async def _bound(m, task) -> tuple[str, int] | None:
    for _ in range(1000):  # until the listening socket is bound (or mitmproxy gave up)
        address = listening(m)
        if address or task.done():
            return address
        await asyncio.sleep(0.01)
    return None


def run(opts, addon: MapiAddon, announce=None) -> None:
    """Proxy until SIGINT/SIGTERM; the addon's `done` writes the recording on the way out.
    `announce(host, port)` is called once the proxy listens."""

    async def main():
        m = master(opts, addon)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, m.shutdown)
        task = asyncio.create_task(m.run())
        address = await _bound(m, task)
        if address and announce is not None:
            announce(*address)
        await task

    asyncio.run(main())


class RunningProxy:
    """A proxy running in a background thread (tests, replay): `url` to point clients at."""

    def __init__(self, opts, addon: MapiAddon):
        self.opts, self.addon = opts, addon
        self.master = None
        self.loop = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._thread, daemon=True)
        self.failure: BaseException | None = None

    def _thread(self) -> None:
        async def main():
            self.loop = asyncio.get_running_loop()
            self.master = master(self.opts, self.addon)
            task = asyncio.create_task(self.master.run())
            await _bound(self.master, task)
            self.ready.set()
            await task

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self.failure = exc
        finally:
            self.ready.set()

    @property
    def port(self) -> int | None:
        address = listening(self.master)
        return address[1] if address else None

    def start(self) -> "RunningProxy":
        self.thread.start()
        self.ready.wait(10)
        if self.failure is not None or not self.port:
            raise RuntimeError(f"proxy did not start: {self.failure!r}")
        return self

    def stop(self) -> None:
        if self.loop is not None and self.master is not None:
            self.loop.call_soon_threadsafe(self.master.shutdown)
        self.thread.join(10)


@contextmanager
def running_proxy(*, out: TextIO | None = None, fmt: str = "summary", save: str | None = None, **option_args):
    """A proxy on 127.0.0.1 (port 0: a free one) for the `with` block; stopped and recorded after."""
    option_args.setdefault("listen_port", 0)
    addon = MapiAddon(out=out if out is not None else sys.stdout, fmt=fmt, save=save)
    proxy = RunningProxy(options(**option_args), addon).start()
    try:
        yield proxy
    finally:
        proxy.stop()
