"""Autodiscover, the POX form Outlook posts to /autodiscover/autodiscover.xml (MS-OXDSCLI).

The request (MS-OXDSCLI 2.2.3: EMailAddress or LegacyDN, AcceptableResponseSchema) is read with
xml.etree after refusing any DTD, so no entity is ever expanded; the answer (2.2.4) names the user and
offers the protocol sections a mailbox server sends: the mapiHttp one (2.2.4.1.1.2.6, `<Protocol
Type="mapiHttp" Version="1">` with MailStore and AddressBook Internal/ExternalUrl) first, then EXCH and
EXPR (RPC, and RPC over HTTP). `mapi_http=False` plays MapiHttpEnabled = false: the mapiHttp section is
left out and a client falls back to EXPR. A request the server cannot answer gets the Error response
(2.2.4.1.1.3) with its ErrorCode (2.2.4.1.1.3.x): 500 unknown address, 600 invalid request, 601 no
provider for the schema asked.
"""

from __future__ import annotations

import datetime
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

REQUEST_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
ROOT_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
CONTENT_TYPE = "text/xml; charset=utf-8"
MAX_REQUEST = 64 * 1024  # a POX request is a few hundred bytes
MAPI_HTTP_VERSION = 1  # the mapiHttp Protocol Version this server offers
SERVER_VERSION = "73C18880"  # MS-OXDSCLI 2.2.4.1.1.2.2.x ServerVersion: Exchange 2013 (15.0)

ERRORS = {500: "The email address can't be found.", 600: "Invalid Request",
          601: "The Autodiscover server was unable to provide configuration information of the requested type."}


class InvalidRequest(Exception):
    """A body that is not an MS-OXDSCLI 2.2.3 request (ErrorCode 600)."""


def parse_request(body: bytes) -> tuple[str, str]:
    """MS-OXDSCLI 2.2.3: (EMailAddress or LegacyDN, AcceptableResponseSchema) of a POX request.
    A DTD (and with it any entity) is refused before parsing, as is a body over MAX_REQUEST."""
    if len(body) > MAX_REQUEST:
        raise InvalidRequest("request too large")
    if b"<!" in body:  # <!DOCTYPE, <!ENTITY: no DTD processing at all
        raise InvalidRequest("a DTD is not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise InvalidRequest(f"not XML: {exc}") from None
    request = root.find(f"{{{REQUEST_SCHEMA}}}Request")
    if root.tag != f"{{{REQUEST_SCHEMA}}}Autodiscover" or request is None:
        raise InvalidRequest("not an Autodiscover request")
    address = request.findtext(f"{{{REQUEST_SCHEMA}}}EMailAddress") or request.findtext(f"{{{REQUEST_SCHEMA}}}LegacyDN")
    schema = request.findtext(f"{{{REQUEST_SCHEMA}}}AcceptableResponseSchema")
    if not address or not schema:
        raise InvalidRequest("EMailAddress (or LegacyDN) and AcceptableResponseSchema are required")
    return address.strip(), schema.strip()


def element(name: str, text: str) -> str:
    return f"<{name}>{escape(text)}</{name}>"


def document(response: str) -> bytes:
    """The Autodiscover root around one Response (MS-OXDSCLI 2.2.4)."""
    return (f'<?xml version="1.0" encoding="utf-8"?>\r\n<Autodiscover xmlns="{ROOT_SCHEMA}">'
            f'<Response xmlns="{RESPONSE_SCHEMA}">{response}</Response></Autodiscover>').encode()


def error_response(code: int) -> bytes:
    """MS-OXDSCLI 2.2.4.1.1.3 Error: Time, Id, ErrorCode, Message, DebugData."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")
    return document(f'<Error Time="{now}" Id="{uuid.uuid5(uuid.NAMESPACE_DNS, "mapiwire").int % 10**10}">'
                    f"{element('ErrorCode', str(code))}{element('Message', ERRORS[code])}<DebugData /></Error>")


def endpoint_urls(base: str | None, mailbox_id: str) -> tuple[str | None, str | None]:
    """The mailbox and address book URLs under `base` (MS-OXCMAPIHTTP 2.1: /mapi/emsmdb/, /mapi/nspi/)."""
    if not base:
        return None, None
    root = base.rstrip("/")
    return f"{root}/mapi/emsmdb/?MailboxId={mailbox_id}", f"{root}/mapi/nspi/?MailboxId={mailbox_id}"


def mapi_http_version(capability: str | None) -> int:
    """MS-OXDSCLI 2.2.4.1.1.2.6: the mapiHttp Version offered, greater than 0 and at most the request's
    X-MapiHttpCapability (2.2.2.1); 0 when the header is absent or not a positive number."""
    try:
        return min(MAPI_HTTP_VERSION, int((capability or "").strip()))
    except ValueError:
        return 0


def mapi_http_section(internal_url: str, external_url: str | None, mailbox_id: str, version: int) -> str:
    """MS-OXDSCLI 2.2.4.1.1.2.6: the mapiHttp Protocol, MailStore and AddressBook Internal/ExternalUrl."""
    internal, external = endpoint_urls(internal_url, mailbox_id), endpoint_urls(external_url, mailbox_id)
    parts = []
    for index, name in enumerate(("MailStore", "AddressBook")):
        urls = element("InternalUrl", internal[index]) + (element("ExternalUrl", external[index]) if external[0] else "")
        parts.append(f"<{name}>{urls}</{name}>")
    return f'<Protocol Type="mapiHttp" Version="{version}">{"".join(parts)}</Protocol>'


def rpc_sections(user, organization: dict, internal_url: str, external_url: str | None, mailbox_guid: str) -> str:
    """MS-OXDSCLI 2.2.4.1.1.2.2 Protocol sections EXCH (RPC on the internal network) and EXPR (RPC over
    HTTP from outside), as a server sends them beside mapiHttp."""
    domain = organization.get("domain", "")
    server_dn = f"{organization.get('dn_prefix', '')}/cn=Configuration/cn=Servers/cn={mailbox_guid}@{domain}"
    exch = ("<Protocol>" + element("Type", "EXCH") + element("Server", f"{mailbox_guid}@{domain}")
            + element("ServerDN", server_dn) + element("ServerVersion", SERVER_VERSION)
            + element("MdbDN", server_dn + "/cn=Microsoft Private MDB") + element("AuthPackage", "Anonymous")
            + "</Protocol>")
    outside = urlsplit(external_url or internal_url)
    expr = ("<Protocol>" + element("Type", "EXPR") + element("Server", outside.hostname or "")
            + element("SSL", "On" if outside.scheme == "https" else "Off") + element("AuthPackage", "Ntlm")
            + element("ServerExclusiveConnect", "On") + "</Protocol>")
    return exch + expr


def settings_response(user, organization: dict, internal_url: str, external_url: str | None, version: int) -> bytes:
    """MS-OXDSCLI 2.2.4.1.1 the settings answer: User (2.2.4.1.1.1) and Account (2.2.4.1.1.2)."""
    mailbox_guid = str(uuid.uuid5(uuid.NAMESPACE_URL, "mapiwire:" + user.dn))
    deployment = str(uuid.uuid5(uuid.NAMESPACE_DNS, organization.get("domain") or "mapiwire"))
    account = element("AccountType", "email") + element("Action", "settings") + element("MicrosoftOnline", "False")
    if version > 0:
        account += mapi_http_section(internal_url, external_url, user.smtp, version)
    account += rpc_sections(user, organization, internal_url, external_url, mailbox_guid)
    user_part = (element("DisplayName", user.display_name) + element("LegacyDN", user.dn)
                 + element("AutoDiscoverSMTPAddress", user.smtp) + element("DeploymentId", deployment))
    return document(f"<User>{user_part}</User><Account>{account}</Account>")


def autodiscover(body: bytes, *, store, internal_url: str, external_url: str | None, mapi_http: bool,
                 capability: str | None = "1") -> tuple[int, str, bytes]:
    """One POX Autodiscover request -> (HTTP status, content type, body). `capability` is the request's
    X-MapiHttpCapability header (None: absent); the mapiHttp section is offered when `mapi_http`
    (MapiHttpEnabled) and the client announced it. Error answers are MS-OXDSCLI Error responses in a
    200, as Exchange sends them."""
    try:
        address, schema = parse_request(body)
    except InvalidRequest:
        return 200, CONTENT_TYPE, error_response(600)
    if schema != RESPONSE_SCHEMA:
        return 200, CONTENT_TYPE, error_response(601)
    user = store.user(address)
    if user is None:
        return 200, CONTENT_TYPE, error_response(500)
    version = mapi_http_version(capability) if mapi_http else 0
    return 200, CONTENT_TYPE, settings_response(user, store.organization, internal_url, external_url, version)
