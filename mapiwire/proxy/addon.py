"""The mitmproxy addon: every MAPI/HTTP exchange decoded as its response ends, and a recording.

Decoding is the dissector's, stateful per session (the `Decoder` keeps one DecodingContext per
context cookie, as `mapiwire dissect` does), so a RopQueryRows is typed by the RopSetColumns of
an earlier flow. Flows that are not MAPI/HTTP pass untouched and unprinted, but are recorded.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from typing import Callable, TextIO

from ..dissect.decode import Decoder
from ..dissect.render import dumps, render_text, rop_names, summary
from ..dissect.transport import is_record
from .flows import exchange_of

MAX_CACHED_RECORDS = 10_000  # decoded records kept for the content view, most recent


class MapiAddon:
    """Prints each MAPI/HTTP exchange (`fmt`: "summary" one line, "text" the tree, "ndjson") and
    keeps every flow for `save` (a .har, .saz, .pcap or .pcapng path) written when mitmproxy stops.

    `request_types` limits what is printed (not what is recorded). In mitmproxy's UIs the flow's
    comment shows the request type and ROP names, and `contentview.MapiView` shows the tree.
    """

    def __init__(self, *, out: TextIO | None = sys.stdout, fmt: str = "summary", request_types=(),
                 save: str | None = None, on_record: Callable[[dict], None] | None = None):
        self.out = out
        self.fmt = fmt
        self.request_types = frozenset(t.lower() for t in request_types)
        self.save = save
        self.on_record = on_record
        self.decoder = Decoder()
        self.exchanges: list = []
        self.records: OrderedDict = OrderedDict()  # flow id -> record, for the content view
        self.lock = threading.Lock()

    # mitmproxy options, so that `mitmproxy -s script.py --set mapiwire_save=FILE` works too
    def load(self, loader) -> None:
        loader.add_option("mapiwire_save", str, "", "Record every flow to this .har/.saz/.pcapng file on exit.")

    def configure(self, updated) -> None:
        from mitmproxy import ctx

        if "mapiwire_save" in updated and ctx.options.mapiwire_save:
            self.save = ctx.options.mapiwire_save

    def response(self, flow) -> None:
        self._seen(flow)

    def error(self, flow) -> None:
        """A flow that failed (client gone mid-request, server unreachable): recorded as such."""
        if flow.response is None:
            self._seen(flow)

    def _seen(self, flow) -> None:
        exchange = exchange_of(flow)
        with self.lock:
            self.exchanges.append(exchange)
            if not is_record(exchange):
                return
            record = self.decoder.decode(exchange)
            self.records[flow.id] = record
            if len(self.records) > MAX_CACHED_RECORDS:
                self.records.popitem(last=False)
        names = rop_names(record.get("request"))
        flow.comment = f"{record.get('request_type') or 'MAPI/HTTP'}" + (": " + ", ".join(names) if names else "")
        if self.on_record is not None:
            self.on_record(record)
        if self.out is not None and self._wanted(record):
            text = {"summary": summary, "text": render_text, "ndjson": dumps}[self.fmt](record)
            print(text, file=self.out, flush=True)

    def _wanted(self, record: dict) -> bool:
        return not self.request_types or (record.get("request_type") or "").lower() in self.request_types

    def record_of(self, flow_id: str) -> dict | None:
        with self.lock:
            return self.records.get(flow_id)

    def done(self) -> None:
        """mitmproxy is stopping: write the recording, complete."""
        if self.save:
            self.write(self.save)

    def write(self, path: str) -> None:
        from ..client.recorder import record

        with self.lock:
            exchanges = list(self.exchanges)
        record(exchanges, path)
