"""The front with the ADDRESS BOOK's real AddressBookSession and autodiscover over sockets:
Bind / DNToMId / GetMailboxUrl / PING / Unbind on /mapi/nspi/ (MS-OXCMAPIHTTP 2.2.5), Autodiscover
with and without the mapiHttp section (MS-OXDSCLI), the nspi context apart from the mailbox one."""

from __future__ import annotations

import pytest

from mapiwire.dissect.defs.core import build
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.server import running_server
from mapiwire.server.autodiscover import autodiscover
from mapiwire.server.nspi import AddressBookSession
from mapiwire.server.sessions import CONTEXT_COOKIE

from .fakes import FakeMailbox, FakeStore
from .front_client import NO_AUX, MapiClient
from .test_sessions import ALICE_DN

STAT = {"SortType": 0, "ContainerID": 0, "CurrentRec": 0, "Delta": 0, "NumPos": 0, "TotalRecs": 0,
        "CodePage": 0x4E4, "TemplateLocale": 0x409, "SortLocale": 0x409}
AUTODISCOVER_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/'
    'autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@mapiwire.test</EMailAddress>'
    '<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'
    '</AcceptableResponseSchema></Request></Autodiscover>').encode()


def real(**options):
    return running_server(store=FakeStore(), mailbox_factory=FakeMailbox, addressbook_factory=AddressBookSession,
                          autodiscover=autodiscover, **options)


def nspi(client: MapiClient, request_type: str, value: dict, **kwargs):
    return client.post("nspi", request_type, build(BODIES[request_type].request, value), **kwargs)


def test_address_book_session_over_http():
    with real() as srv:
        client = MapiClient(srv.url)
        bind = nspi(client, "Bind", {"Flags": 0, "HasState": 1, "State": STAT, "AuxiliaryBuffer": NO_AUX})
        assert bind.code == 0 and bind.body("Bind").StatusCode == 0
        assert "Path=/mapi/nspi/" in bind.header_all("Set-Cookie")[0]
        found = nspi(client, "DNToMId", {"Reserved": 0, "HasNames": 1, "Names": {"Strings": [ALICE_DN]},
                                         "AuxiliaryBuffer": NO_AUX})
        assert found.code == 0 and found.body("DNToMId").MinimalIds[0] != 0
        url = nspi(client, "GetMailboxUrl", {"Flags": 0, "ServerDn": "/o=mapiwire/cn=Servers/cn=mapiwire",
                                             "AuxiliaryBuffer": NO_AUX})
        assert url.body("GetMailboxUrl").ServerUrl.startswith(f"{srv.url}/mapi/emsmdb/?MailboxId=")
        assert client.ping("nspi").code == 0
        # an address book context is not a mailbox one
        assert client.post("emsmdb", "PING", b"").code == 10
        cookies = dict(client.cookies)
        assert nspi(client, "Unbind", {"Reserved": 0, "AuxiliaryBuffer": NO_AUX}).code == 0
        assert client.ping("nspi", cookies=cookies).code == 10


def test_malformed_address_book_body_is_12():
    with real() as srv:
        client = MapiClient(srv.url)
        nspi(client, "Bind", {"Flags": 0, "HasState": 1, "State": STAT, "AuxiliaryBuffer": NO_AUX})
        assert client.post("nspi", "GetProps", b"\x00\x01\x02").code == 12
        assert client.cookies[CONTEXT_COOKIE]


@pytest.mark.parametrize("mapi_http", [True, False])
def test_autodiscover(mapi_http):
    with real(mapi_http=mapi_http) as srv:
        reply = MapiClient(srv.url).post("", None, AUTODISCOVER_REQUEST, path="/autodiscover/autodiscover.xml",
                                         headers={"Content-Type": "text/xml", "X-MapiHttpCapability": "1"})
        assert reply.status == 200
        assert (b'Type="mapiHttp"' in reply.raw) is mapi_http
        if mapi_http:
            assert f"{srv.url}/mapi/emsmdb/".encode() in reply.raw
        assert MapiClient(srv.url).ping().status == (200 if mapi_http else 404)
