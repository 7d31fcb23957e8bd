"""`mapiwire serve`: a MAPI/HTTP server (MS-OXCMAPIHTTP) on loopback, seeded from a JSON fixture.

`running_server(...)` starts one in a background thread for tests and for the client, replay
and proxy helpers:

    with running_server(port=0, session_timeout=1) as srv:
        srv.url     # "http://127.0.0.1:PORT" (https with TLS)
        srv.store   # the Store
        srv.log     # the request log lines so far
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from dataclasses import dataclass, fields

from .app import MapiServer, Options


def load_passwords(path: str) -> dict[str, str]:
    """--users users.json: {"alice": "pw", ...} or [{"alias": "alice", "password": "pw"}, ...]."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict):
        return {str(k): str(v) for k, v in data.items()}
    return {str(u.get("alias") or u.get("user") or u["name"]): str(u["password"]) for u in data}


def build_server(options: Options, *, store=None, mailbox: str | None = None, echo_log: bool = False,
                 tls: bool = False, mailbox_factory=None, addressbook_factory=None, autodiscover=None) -> MapiServer:
    """A MapiServer over `store` (default: the fixture at `mailbox`, or the packaged one) with the
    STORE's MailboxSession, the ADDRESS BOOK's AddressBookSession and autodiscover."""
    if store is None:
        from .store import Store

        store = Store.load(mailbox)
    if mailbox_factory is None:
        from .rops import MailboxSession as mailbox_factory
    if addressbook_factory is None:
        from .nspi import AddressBookSession as addressbook_factory
    if autodiscover is None:
        from .autodiscover import autodiscover
    return MapiServer(store, options, mailbox_factory=mailbox_factory, addressbook_factory=addressbook_factory,
                      autodiscover=autodiscover, echo_log=echo_log, tls=tls)


@dataclass
class RunningServer:
    url: str
    host: str
    port: int
    server: MapiServer

    @property
    def store(self):
        return self.server.store

    @property
    def log(self) -> list[str]:
        return list(self.server.log.lines)

    @property
    def sessions(self):
        return self.server.sessions


async def start(server: MapiServer, host: str, port: int, ssl_context=None):
    """Listen; returns the aiohttp runner and the bound port."""
    from aiohttp import web

    runner = web.AppRunner(server.application(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context, reuse_address=True)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]
    scheme = "https" if ssl_context is not None else "http"
    server.url = f"{scheme}://{host if ':' not in host else f'[{host}]'}:{bound}"
    return runner, bound


@contextlib.contextmanager
def running_server(port: int = 0, *, host: str = "127.0.0.1", store=None, mailbox: str | None = None,
                   ssl_context=None, mailbox_factory=None, addressbook_factory=None, autodiscover=None, **options):
    """A server in a background thread for the `with` block. `options` are `Options` fields:
    auth, session_timeout, pending_period, notification_wait_limit, slow_ms, mapi_http,
    internal_url, external_url, max_sessions, max_body, passwords, log_path."""
    known = {f.name for f in fields(Options)}
    unknown = set(options) - known
    if unknown:
        raise TypeError(f"unknown server options: {', '.join(sorted(unknown))}")
    opts = Options(host=host, port=port, **options)
    server = build_server(opts, store=store, mailbox=mailbox, tls=ssl_context is not None,
                          mailbox_factory=mailbox_factory, addressbook_factory=addressbook_factory,
                          autodiscover=autodiscover)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict = {}

    def run():
        asyncio.set_event_loop(loop)
        try:
            state["runner"], state["port"] = loop.run_until_complete(start(server, host, port, ssl_context))
        except BaseException as exc:  # reported to the caller below
            state["error"] = exc
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(state["runner"].cleanup())
        leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in leftovers:  # connection handlers of clients that kept their connection open
            task.cancel()
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, name="mapiwire-server", daemon=True)
    thread.start()
    ready.wait()
    if "error" in state:
        thread.join()
        raise state["error"]
    try:
        yield RunningServer(server.url, host, state["port"], server)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def serve_forever(options: Options, *, mailbox: str | None = None, ssl_context=None, announce=print) -> None:
    """`mapiwire serve`: listen until interrupted, one log line per request. The generated body
    parser is made before listening, so that the first request does not wait for it."""
    from ..dissect import fastpath

    server = build_server(options, mailbox=mailbox, echo_log=True, tls=ssl_context is not None)
    if fastpath.enabled():
        fastpath.tree()

    async def main():
        runner, _ = await start(server, options.host, options.port, ssl_context)
        users = ", ".join(u.alias for u in server.store.users)
        announce(f"mapiwire serve: {server.url}/mapi/emsmdb/ and /mapi/nspi/"
                 + ("" if options.mapi_http else " disabled (--no-mapi-http)")
                 + f", autodiscover {server.url}/autodiscover/autodiscover.xml; auth {options.auth}; users {users}")
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


__all__ = ["MapiServer", "Options", "RunningServer", "build_server", "load_passwords", "running_server", "serve_forever", "start"]
