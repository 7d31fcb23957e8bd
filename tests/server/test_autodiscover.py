"""POX Autodiscover (server/autodiscover.py, MS-OXDSCLI): the answer's shape with and without the
mapiHttp section, read back by the client's parser; error responses; hostile XML refused."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from mapiwire.client.autodiscover import AutodiscoverError, parse_autodiscover, request_body
from mapiwire.server.autodiscover import REQUEST_SCHEMA, RESPONSE_SCHEMA, ROOT_SCHEMA, autodiscover
from mapiwire.server.store import User

from .fakes import ORG

NS = {"r": ROOT_SCHEMA, "a": RESPONSE_SCHEMA}
INTERNAL, EXTERNAL = "http://127.0.0.1:8080", "https://mail.mapiwire.test"


class Store:
    organization = ORG

    def __init__(self):
        self.users = [User(a, f"{a.title()} & Co", f"{a}@mapiwire.test", "pw", f"{ORG['dn_prefix']}/cn=Recipients/cn={a}")
                      for a in ("alice", "bob")]

    def user(self, name: str):
        name = name.lower()
        return next((u for u in self.users if name in (u.alias, u.smtp, u.dn.lower())), None)


def ask(body: bytes, mapi_http=True, external=EXTERNAL, capability="1"):
    status, content_type, payload = autodiscover(body, store=Store(), internal_url=INTERNAL, external_url=external,
                                                 mapi_http=mapi_http, capability=capability)
    assert status == 200 and content_type.startswith("text/xml")
    return payload


def error_code(payload: bytes) -> int:
    root = ET.fromstring(payload)
    assert root.tag == f"{{{ROOT_SCHEMA}}}Autodiscover"
    error = root.find("a:Response/a:Error", NS)
    assert error is not None and error.get("Time") and error.get("Id")
    assert error.find("a:Message", NS).text and error.find("a:DebugData", NS) is not None
    return int(error.find("a:ErrorCode", NS).text)


def test_answer_has_the_mapi_http_section_with_both_urls():
    payload = ask(request_body("Alice@mapiwire.test"))
    root = ET.fromstring(payload)
    user = root.find("a:Response/a:User", NS)
    assert user.find("a:DisplayName", NS).text == "Alice & Co"  # escaped on the wire, read back whole
    assert user.find("a:LegacyDN", NS).text == f"{ORG['dn_prefix']}/cn=Recipients/cn=alice"
    assert user.find("a:AutoDiscoverSMTPAddress", NS).text == "alice@mapiwire.test"
    account = root.find("a:Response/a:Account", NS)
    assert [account.find(f"a:{n}", NS).text for n in ("AccountType", "Action")] == ["email", "settings"]
    protocols = account.findall("a:Protocol", NS)
    mapi = protocols[0]
    assert (mapi.get("Type"), mapi.get("Version")) == ("mapiHttp", "1")
    assert mapi.find("a:MailStore/a:InternalUrl", NS).text == f"{INTERNAL}/mapi/emsmdb/?MailboxId=alice@mapiwire.test"
    assert mapi.find("a:MailStore/a:ExternalUrl", NS).text == f"{EXTERNAL}/mapi/emsmdb/?MailboxId=alice@mapiwire.test"
    assert mapi.find("a:AddressBook/a:InternalUrl", NS).text == f"{INTERNAL}/mapi/nspi/?MailboxId=alice@mapiwire.test"
    assert mapi.find("a:AddressBook/a:ExternalUrl", NS).text == f"{EXTERNAL}/mapi/nspi/?MailboxId=alice@mapiwire.test"
    assert [p.findtext("a:Type", namespaces=NS) for p in protocols[1:]] == ["EXCH", "EXPR"]
    assert protocols[2].findtext("a:Server", namespaces=NS) == "mail.mapiwire.test"
    assert protocols[2].findtext("a:SSL", namespaces=NS) == "On"
    result = parse_autodiscover(payload)  # the client's reading of it
    assert result.mapi_http and result.mailbox_url.endswith("/mapi/emsmdb/?MailboxId=alice@mapiwire.test")
    assert result.addressbook_url.startswith(INTERNAL) and result.legacy_dn.endswith("/cn=alice")
    assert result.protocols == ["mapiHttp", "EXCH", "EXPR"]


def test_without_mapi_http_the_section_is_left_out():
    payload = ask(request_body("bob@mapiwire.test"), mapi_http=False)
    assert b"mapiHttp" not in payload and b"/mapi/" not in payload
    result = parse_autodiscover(payload)
    assert not result.mapi_http and result.protocols == ["EXCH", "EXPR"]


@pytest.mark.parametrize("capability, version", [(None, None), ("0", None), ("junk", None), ("1", "1"), (" 7 ", "1")])
def test_mapi_http_needs_the_client_capability_header(capability, version):
    payload = ask(request_body("bob@mapiwire.test"), capability=capability)
    protocol = ET.fromstring(payload).find("a:Response/a:Account/a:Protocol[@Type='mapiHttp']", NS)
    assert (None if protocol is None else protocol.get("Version")) == version  # 0 < Version <= the header


def test_without_external_url_only_internal_urls():
    payload = ask(request_body("bob@mapiwire.test"), external=None)
    assert b"ExternalUrl" not in payload and payload.count(b"<InternalUrl>") == 2


def test_legacy_dn_request_finds_the_user():
    body = (f'<Autodiscover xmlns="{REQUEST_SCHEMA}"><Request><LegacyDN>{ORG["dn_prefix"]}/cn=Recipients/cn=bob'
            f"</LegacyDN><AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema></Request>"
            "</Autodiscover>").encode()
    assert parse_autodiscover(ask(body)).display_name == "Bob & Co"


@pytest.mark.parametrize("body, code", [
    (request_body("nobody@mapiwire.test"), 500),
    (request_body("bob@mapiwire.test").replace(b"responseschema/2006a", b"responseschema/2009"), 601),
    (b"<Autodiscover><Request><EMailAddress>bob@mapiwire.test</EMailAddress></Request></Autodiscover>", 600),
    (f'<Autodiscover xmlns="{REQUEST_SCHEMA}"><Request/></Autodiscover>'.encode(), 600),
    (b"not xml at all", 600),
    (b"", 600),
    (request_body("bob@mapiwire.test") + b" " * (64 * 1024), 600),
])
def test_error_responses(body, code):
    payload = ask(body)
    assert error_code(payload) == code
    with pytest.raises(AutodiscoverError, match=str(code)):
        parse_autodiscover(payload)


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
          + f']><Autodiscover xmlns="{REQUEST_SCHEMA}"><Request><EMailAddress>&lol9;</EMailAddress>'
          f"<AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema></Request></Autodiscover>").encode()
EXTERNAL_ENTITY = (f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   f'<Autodiscover xmlns="{REQUEST_SCHEMA}"><Request><EMailAddress>&x;</EMailAddress>'
                   f"<AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema></Request>"
                   "</Autodiscover>").encode()


@pytest.mark.parametrize("body", [LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_is_refused_without_expanding_anything(body):
    start = time.monotonic()
    payload = ask(body)
    assert error_code(payload) == 600 and b"root:" not in payload
    assert time.monotonic() - start < 0.5
