"""Autodiscover, the POX form (MS-OXDSCLI 2.2.3 request, 2.2.4 response) as Outlook asks it:
a POST to /autodiscover/autodiscover.xml with `X-MapiHttpCapability: 1` (MS-OXDSCLI 2.2.2.1), and
the answer's User (LegacyDN: the UserDn of Connect) and its mapiHttp Protocol section
(MailStore and AddressBook Internal/ExternalUrl). A server with MapiHttpEnabled = false leaves
that section out; Outlook then falls back to RPC over HTTP (the EXPR / EXCH sections).

The parser lives on the client side (the client never imports the server, DESIGN.md).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from ..errors import MapiwireError
from .http import Connection

PATH = "/autodiscover/autodiscover.xml"
REQUEST_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
MAX_XML = 1 << 20


class AutodiscoverError(MapiwireError):
    """The Autodiscover answer is missing, not XML, or an Error response (MS-OXDSCLI 2.2.4.2)."""


@dataclass
class AutodiscoverResult:
    """What Outlook takes from the answer."""

    display_name: str = ""
    legacy_dn: str = ""  # User/LegacyDN: the UserDn of Connect (MS-OXCMAPIHTTP 2.2.4.1.1)
    smtp_address: str = ""  # User/AutoDiscoverSMTPAddress: the MailboxId
    mailbox_url: str | None = None  # mapiHttp MailStore URL (Internal, else External)
    addressbook_url: str | None = None
    protocols: list[str] = field(default_factory=list)  # Protocol types offered (mapiHttp, EXCH, EXPR, WEB ...)

    @property
    def mapi_http(self) -> bool:
        return self.mailbox_url is not None


def request_body(email: str) -> bytes:
    """MS-OXDSCLI 2.2.3 the POX request."""
    return (f'<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="{REQUEST_SCHEMA}">'
            f"<Request><EMailAddress>{escape(email)}</EMailAddress>"
            f"<AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>").encode()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(element, name: str):
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element, *path: str) -> str | None:
    for name in path:
        if element is None:
            return None
        element = _child(element, name)
    return (element.text or "").strip() if element is not None else None


def parse_autodiscover(body: bytes) -> AutodiscoverResult:
    """The response (MS-OXDSCLI 2.2.4): User, and the Account's Protocol sections; the
    mapiHttp one is `<Protocol Type="mapiHttp" Version="1">` (2.2.4.1.1.2.2)."""
    if len(body) > MAX_XML:
        raise AutodiscoverError(f"answer of {len(body)} bytes is too large")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise AutodiscoverError("answer with a DTD refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise AutodiscoverError(f"answer is not XML: {exc}") from exc
    response = _child(root, "Response")
    if response is None:
        raise AutodiscoverError("answer has no Response element")
    error = _child(response, "Error")
    if error is not None:
        raise AutodiscoverError(f"Error {_text(error, 'ErrorCode')}: {_text(error, 'Message')}")
    user, account = _child(response, "User"), _child(response, "Account")
    result = AutodiscoverResult(display_name=_text(user, "DisplayName") or "", legacy_dn=_text(user, "LegacyDN") or "",
                                smtp_address=_text(user, "AutoDiscoverSMTPAddress") or "")
    for protocol in (account if account is not None else ()):
        if _local(protocol.tag) != "Protocol":
            continue
        kind = protocol.get("Type") or _text(protocol, "Type") or ""
        result.protocols.append(kind)
        if kind.lower() == "mapihttp":
            result.mailbox_url = _text(protocol, "MailStore", "InternalUrl") or _text(protocol, "MailStore", "ExternalUrl")
            result.addressbook_url = (_text(protocol, "AddressBook", "InternalUrl")
                                      or _text(protocol, "AddressBook", "ExternalUrl"))
    return result


def autodiscover(base_url: str, email: str, *, auth=None, exchanges: list | None = None,
                 **connection_options) -> AutodiscoverResult:
    """POST the request to `base_url` + /autodiscover/autodiscover.xml (with the 401 legs `auth`
    needs) and parse the answer; each HTTP exchange is appended to `exchanges`."""
    from ..dissect.exchange import Exchange

    connection = Connection(base_url, **connection_options)
    headers = [("Content-Type", "text/xml"), ("X-MapiHttpCapability", "1"), ("User-Agent", "mapiwire")]
    body = request_body(email)
    try:
        extra = auth.headers(connection) if auth else []
        for _ in range(4):
            request, response = connection.exchange("POST", PATH, headers + extra, body)
            if exchanges is not None:
                exchanges.append(Exchange(request, response, connection=f"{connection.local_address}-{connection.peer_address}",
                                          client=connection.local_address, server=connection.peer_address))
            if response.status == 401 and auth and (extra := auth.challenge(connection, response)):
                continue
            break
    finally:
        connection.close()
    if response.status != 200:
        raise AutodiscoverError(f"HTTP {response.status} {response.reason}")
    return parse_autodiscover(response.body)
