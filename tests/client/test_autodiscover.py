"""Autodiscover answers (MS-OXDSCLI 2.2.4) and Set-Cookie handling, against the real server's answers
and hand-made edge cases."""

import pytest

from mapiwire.client.autodiscover import AutodiscoverError, autodiscover, parse_autodiscover
from mapiwire.client.session import cookie_updates
from mapiwire.dissect.exchange import HttpMessage

NS = 'xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"'
INNER = 'xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"'


def test_the_servers_answer_with_and_without_mapi_http(server):
    found = autodiscover(server.url, "bob@mapiwire.test")
    assert found.mapi_http and found.mailbox_url.startswith(server.url + "/mapi/emsmdb/")
    assert found.addressbook_url.startswith(server.url + "/mapi/nspi/")
    assert found.legacy_dn.endswith("/cn=Recipients/cn=bob") and found.smtp_address == "bob@mapiwire.test"
    from mapiwire.server import running_server

    with running_server(port=0, mapi_http=False) as srv:
        off = autodiscover(srv.url, "bob")
        assert not off.mapi_http and "EXPR" in off.protocols


@pytest.mark.parametrize("body, message", [
    (f'<Autodiscover {NS}><Response {INNER}><Error><ErrorCode>500</ErrorCode><Message>no</Message></Error>'
     "</Response></Autodiscover>", "Error 500: no"),
    ("<not xml", "not XML"),
    ('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DTD"),
    (f"<Autodiscover {NS}/>", "no Response"),
])
def test_bad_answers_are_errors(body, message):
    with pytest.raises(AutodiscoverError, match=message):
        parse_autodiscover(body.encode())


def test_set_cookie_updates_and_expiry():
    message = HttpMessage(headers=[("Set-Cookie", "MapiContext=abc; path=/mapi/; HttpOnly"),
                                   ("Set-Cookie", "MapiSequence=; Max-Age=0"),
                                   ("Set-Cookie", "old=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
                                   ("Set-Cookie", "broken")])
    assert cookie_updates(message) == {"MapiContext": "abc", "MapiSequence": None, "old": None}
