"""A "MAPI/HTTP" content view for mitmproxy and mitmweb: the decoded tree of a request or
response body (the dissector's text rendering, with the record's errors)."""

from __future__ import annotations

from mitmproxy import contentviews

from ..dissect.decode import Decoder
from ..dissect.render import render_tree
from ..dissect.transport import MAPI_CONTENT_TYPE
from .flows import exchange_of


class MapiView(contentviews.View):
    name = "MAPI/HTTP"

    def __init__(self, records=None):
        self.records = records  # flow id -> record (the addon's stateful decode), if any

    def __call__(self, data: bytes, *, content_type=None, flow=None, http_message=None, **_):
        record = None
        if flow is not None and self.records is not None:
            record = self.records(flow.id)
        if record is None and flow is not None:
            record = Decoder().decode(exchange_of(flow))  # alone: no state from earlier flows
        if record is None:
            return "MAPI/HTTP", iter([[("error", "not a MAPI/HTTP exchange")]])
        side = "response" if flow is not None and http_message is flow.response else "request"
        part = record.get(side) or {}
        lines = [[("header", f"{record.get('request_type') or '?'} {side}")]]
        for line in render_tree(part).splitlines():
            lines.append([("text", line)])
        for error in record.get("errors", []):
            where = error.get("where", "")
            if where.startswith(side) or side == "request" and not where.startswith("response"):
                offset = f" at offset {error['offset']}" if "offset" in error else ""
                lines.append([("error", f"[error] {where}{offset}: {error.get('error')}")])
        return f"MAPI/HTTP {record.get('request_type') or ''}".strip(), iter(lines)

    def render_priority(self, data: bytes, *, content_type=None, flow=None, http_message=None, **_) -> float:
        if content_type and content_type.split(";")[0].strip().lower() == MAPI_CONTENT_TYPE:
            return 2.0
        if http_message is not None and "X-RequestType" in http_message.headers:
            return 2.0
        return 0.0


def register(records=None) -> MapiView:
    """Add the view to mitmproxy (replacing one added before: one proxy per process at a time)."""
    old = contentviews.get(MapiView.name)
    if old is not None:
        contentviews.remove(old)
    view = MapiView(records)
    contentviews.add(view)
    return view
