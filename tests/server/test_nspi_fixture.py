"""The address book and Autodiscover over the packaged fixture (server/store.py's Store.load()): what
`mapiwire serve` alone shows a client."""

from __future__ import annotations

import pytest

from mapiwire.client.autodiscover import parse_autodiscover, request_body
from mapiwire.dissect.defs.addressbook import stat
from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.server.autodiscover import autodiscover
from mapiwire.server.directory import tag
from mapiwire.server.nspi import AddressBookSession
from mapiwire.server.store import Store

AUX = {"AuxiliaryBuffer": {"Blocks": []}}
COLUMNS = [tag(n) for n in ("PidTagDisplayName", "PidTagSmtpAddress", "PidTagTitle", "PidTagDepartmentName",
                            "PidTagBusinessTelephoneNumber", "PidTagOfficeLocation", "PidTagCompanyName",
                            "PidTagAccount")]


@pytest.fixture(scope="module")
def store():
    return Store.load()


def call(session, request_type, **value):
    body = BODIES[request_type]
    answer = session.handle(request_type, parse(body.request, build(body.request, {**value, **AUX})))
    return parse(body.success, build(body.success, answer))


def test_the_gal_lists_every_fixture_user_with_their_directory_properties(store):
    session = AddressBookSession(store, store.users[0], mailbox_url="m", addressbook_url="a")
    answer = call(session, "QueryRows", Flags=0, HasState=1, State=stat(), ExplicitTable=[], RowCount=100,
                  HasColumns=1, Columns={"PropertyTags": [{"PropertyType": t & 0xFFFF, "PropertyId": t >> 16}
                                                          for t in COLUMNS]})
    rows = [[value.PropertyValue for value in row.ValueArray] for row in answer.RowData]
    assert len(rows) == len(store.users) >= 4 and answer.State.CurrentRec == 0x2  # MID_END_OF_TABLE
    assert [row[0] for row in rows] == sorted(u.display_name for u in store.users)
    for row, user in zip(rows, sorted(store.users, key=lambda u: u.display_name)):
        assert row[1] == user.smtp and row[7] == user.alias
        assert row[2:7] == [user.extra[k] for k in ("title", "department", "phone", "office", "company")]


def test_each_user_resolves_by_alias_and_their_dn_maps_to_that_mid(store):
    session = AddressBookSession(store, store.users[0], mailbox_url="m", addressbook_url="a")
    resolved = call(session, "ResolveNames", Reserved=0, HasState=1, State=stat(), HasPropertyTags=0, HasNames=1,
                    NameValues=[u.alias for u in store.users])
    by_dn = call(session, "DNToMId", Reserved=0, HasNames=1, Names={"Strings": [u.dn for u in store.users]})
    assert list(resolved.MinimalIds) == list(by_dn.MinimalIds) and 0 not in by_dn.MinimalIds


def test_autodiscover_for_every_fixture_user(store):
    for user in store.users:
        status, _, payload = autodiscover(request_body(user.smtp), store=store, internal_url="http://127.0.0.1:1",
                                          external_url=None, mapi_http=True)
        result = parse_autodiscover(payload)
        assert status == 200 and result.legacy_dn == user.dn and result.display_name == user.display_name
        assert result.mailbox_url == f"http://127.0.0.1:1/mapi/emsmdb/?MailboxId={user.smtp}"
