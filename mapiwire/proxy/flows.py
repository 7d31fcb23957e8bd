"""mitmproxy flows to the dissector's `Exchange` (one adapter, no second decoder)."""

from __future__ import annotations

from ..dissect.exchange import Exchange, HttpMessage


def _headers(message) -> list[tuple[str, str]]:
    """Headers in wire order and spelling (mitmproxy keeps both in `headers.fields`)."""
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in message.headers.fields]


def _body(message) -> bytes:
    """The de-chunked body as it was on the wire (before any Content-Encoding is undone)."""
    raw = message.raw_content
    return raw if raw is not None else b""


def _endpoint(address) -> str:
    if not address:
        return ""
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def exchange_of(flow) -> Exchange:
    """The `Exchange` of one `mitmproxy.http.HTTPFlow`; a flow that ended in an error (the client
    or server went away mid-exchange) keeps that error in `errors`."""
    request = flow.request
    req = HttpMessage(headers=_headers(request), body=_body(request), method=request.method,
                      target=request.path, version=request.http_version,
                      time=request.timestamp_start, end_time=request.timestamp_end)
    resp = None
    if flow.response is not None:
        response = flow.response
        resp = HttpMessage(headers=_headers(response), body=_body(response), status=response.status_code,
                           reason=response.reason, version=response.http_version,
                           time=response.timestamp_start, end_time=response.timestamp_end)
    errors = []
    if flow.error is not None:
        errors.append({"where": "connection", "error": f"proxy: {flow.error.msg}"})
    server = flow.server_conn.peername or flow.server_conn.address
    return Exchange(request=req, response=resp, connection=f"proxy/{flow.client_conn.id[:8]}",
                    client=_endpoint(flow.client_conn.peername), server=_endpoint(server), errors=errors)
