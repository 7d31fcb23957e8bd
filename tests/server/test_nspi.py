"""The address book endpoint (server/nspi.py): every request body is built with the defs, parsed back,
handled, and the response built with the defs and parsed back by the dissector; the checks are the
MS-OXNSPI 3.1.4.1 semantics (positions in the STAT, ANR, restrictions, MIds, return values)."""

from __future__ import annotations

import uuid

import construct as c
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mapiwire.dissect.defs import addressbook as ab
from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.dissect.defs.addressbook import large_tag_array, stat
from mapiwire.samples import address_book_session
from mapiwire.server import nspi
from mapiwire.server.directory import GUID_NSPI, tag
from mapiwire.server.store import User

from .fakes import ORG



class Store:
    """The Store attributes the address book reads (server-contract.md): organization and users."""

    organization = ORG

    def __init__(self):
        people = [("alice", "Alice Archer", {"title": "Engineer", "department": "R&D", "phone": "+1 555 0101"}),
                  ("bob", "Bob Baker", {"title": "Accountant"}), ("carol", "Carol Cole", {}),
                  ("dave", "Dave Dunn", {}), ("alina", "Alina Archer", {"department": "Sales"})]
        self.users = [User(a, n, f"{a}@mapiwire.test", f"{a}-pw", f"{ORG['dn_prefix']}/cn=Recipients/cn={a}", x)
                      for a, n, x in people]


ORDER = ["alice", "alina", "bob", "carol", "dave"]  # by display name: the table's order
DISPLAY_NAME, SMTP, TITLE = tag("PidTagDisplayName"), tag("PidTagSmtpAddress"), tag("PidTagTitle")
ENTRY_ID, ACCOUNT = tag("PidTagEntryId"), tag("PidTagAccount")
NOT_FOUND = 0x8004010F
AUX = {"AuxiliaryBuffer": {"Blocks": []}}


@pytest.fixture
def store():
    return Store()


@pytest.fixture
def session(store):
    return nspi.AddressBookSession(store, store.users[0], mailbox_url="https://mail.mapiwire.test/mapi/emsmdb/?a",
                                   addressbook_url="https://mail.mapiwire.test/mapi/nspi/?a")


def call(session, request_type: str, **value):
    """Build the request with the defs, parse it, handle it, build the answer, parse it back."""
    body = BODIES[request_type]
    request = parse(body.request, build(body.request, {**value, **AUX}))
    answer = session.handle(request_type, request)
    definition = body.success if answer["StatusCode"] == 0 else body.failure
    return parse(definition, build(definition, answer))


def mids(session) -> dict[str, int]:
    """alias -> MId, through DNToMId."""
    names = [f"{ORG['dn_prefix']}/cn=Recipients/cn={a}" for a in ORDER]
    answer = call(session, "DNToMId", Reserved=0, HasNames=1, Names={"Strings": names})
    return dict(zip(ORDER, answer.MinimalIds))


def fields(state) -> dict:
    """A parsed STAT as a plain dict of its nine fields."""
    return {name: int(state[name]) for name in stat()}


def plain(values) -> list:
    """Row values without the column tag the dissector adds for naming."""
    return [{k: v for k, v in value.items() if k != "PropertyTag" and not k.startswith("_")} for value in values]


def query(session, state, count=10, columns=(DISPLAY_NAME,), explicit=(), flags=0):
    return call(session, "QueryRows", Flags=flags, HasState=1, State=state, ExplicitTable=list(explicit),
                RowCount=count, HasColumns=1 if columns is not None else 0,
                Columns=large_tag_array(*columns) if columns is not None else None)


def names(answer) -> list[str]:
    return [row.ValueArray[0].PropertyValue for row in answer.RowData]


# Bind, Unbind, URLs, the types this server does not have -----------------------------------------

def test_bind_returns_the_server_guid_and_unbind_unbind_success(session, store):
    answer = call(session, "Bind", Flags=0, HasState=1, State=stat())
    assert (answer.StatusCode, answer.ErrorCode) == (0, 0)
    other = nspi.AddressBookSession(store, store.users[1], mailbox_url="", addressbook_url="")
    assert answer.ServerGuid == call(other, "Bind", Flags=0, HasState=0).ServerGuid != uuid.UUID(int=0)
    assert int(call(session, "Unbind", Reserved=0).ErrorCode) == 0x1  # MS-OXNSPI 3.1.4.1.2


def test_bind_with_a_unicode_code_page_is_refused(session):
    answer = call(session, "Bind", Flags=0, HasState=1, State=stat(CodePage=0x4B0))
    assert (answer.StatusCode, int(answer.ErrorCode)) == (0, 0x8004011E)  # InvalidCodepage


def test_urls_come_from_the_constructor(session):
    assert call(session, "GetMailboxUrl", Flags=0, ServerDn="/o=x/cn=srv").ServerUrl.endswith("/mapi/emsmdb/?a")
    assert call(session, "GetAddressBookUrl", Flags=0, UserDn="/o=x/cn=a").ServerUrl.endswith("/mapi/nspi/?a")


@pytest.mark.parametrize("request_type, value", [
    ("GetTemplateInfo", {"Flags": 1, "DisplayType": 0, "HasTemplateDn": 0, "CodePage": 0x4E4, "LocaleId": 0x409}),
    ("ModProps", {"Reserved": 0, "HasState": 1, "State": stat(), "HasPropertyTags": 0, "HasPropertyValues": 0}),
    ("ModLinkAtt", {"Flags": 0, "PropertyTag": {"PropertyType": 0xD, "PropertyId": 0x8009}, "MinimalId": 0x20,
                    "HasEntryIds": 0}),
    ("ResortRestriction", {"Reserved": 0, "HasState": 1, "State": stat(), "HasMinimalIds": 1, "MinimalIds": [1]}),
])
def test_types_without_support_answer_not_supported(session, request_type, value):
    answer = call(session, request_type, **value)
    assert (answer.StatusCode, int(answer.ErrorCode)) == (0, 0x80040102)


def test_a_type_of_the_other_endpoint_gets_a_failure_body(session):
    answer = session.handle("Execute", {})
    assert answer["StatusCode"] != 0
    assert parse(BODIES["Unbind"].failure, build(BODIES["Unbind"].failure, answer)).StatusCode == 0x80040102


# GetSpecialTable, DNToMId, CompareMIds -----------------------------------------------------------

@pytest.mark.parametrize("flags, ptype, code_page", [(0x4, 0x1F, 0x4B0), (0x0, 0x1E, 0x4E4)])
def test_hierarchy_table_is_the_global_address_list(session, flags, ptype, code_page):
    answer = call(session, "GetSpecialTable", Flags=flags, HasState=1, State=stat(), HasVersion=1, Version=0)
    assert (answer.CodePage, answer.HasVersion, answer.Version) == (code_page, 1, 1)
    (row,) = answer.Rows
    values = {(v.PropertyId << 16) | v.PropertyType: v.PropertyValue.PropertyValue for v in row.PropertyValues}
    assert values[(0x3001 << 16) | ptype] == "Global Address List"
    assert values[tag("PidTagAddressBookContainerId")] == 0 and values[tag("PidTagDepth")] == 0
    assert values[tag("PidTagContainerFlags")] == 0x9  # AB_RECIPIENTS | AB_UNMODIFIABLE
    entry_id = parse(ab.PermanentEntryID, values[ENTRY_ID])
    assert (entry_id.DisplayTypeString.name, entry_id.DistinguishedName) == ("DT_CONTAINER", "/")
    assert entry_id.ProviderUID == GUID_NSPI


def test_hierarchy_table_the_client_already_holds_has_no_rows(session):
    answer = call(session, "GetSpecialTable", Flags=0x4, HasState=0, HasVersion=1, Version=1)
    assert (answer.Version, answer.Rows) == (1, [])
    assert int(call(session, "GetSpecialTable", Flags=0, HasState=1, State=stat(CodePage=0x4B0), HasVersion=0)
               .ErrorCode) == 0x8004011E  # 8-bit strings asked in CP_WINUNICODE


def test_address_creation_table_is_empty(session):
    answer = call(session, "GetSpecialTable", Flags=0x2, HasState=1, State=stat(), HasVersion=0)
    assert (answer.HasRows, answer.Rows, answer.Version) == (1, [], None)


def test_dn_to_mid_maps_known_dns_and_gives_zero_for_unknown_ones(session):
    known = mids(session)
    assert len(set(known.values())) == 5 and min(known.values()) >= 0x10  # below 0x10 are signals (2.2.9.1)
    assert [known[a] for a in ORDER] == sorted(known.values())  # assigned in table order
    names = [f"{ORG['dn_prefix']}/cn=Recipients/cn=BOB".upper(), "/o=elsewhere/cn=nobody", ""]
    answer = call(session, "DNToMId", Reserved=0, HasNames=1, Names={"Strings": names})
    assert list(answer.MinimalIds) == [known["bob"], 0, 0]
    assert mids(session) == known  # stable within the session


def test_mids_are_per_session(store):
    sessions = [nspi.AddressBookSession(store, store.users[0], mailbox_url="", addressbook_url="") for _ in range(4)]
    assert len({mids(s)["alice"] for s in sessions}) > 1
    assert all(s.directory.catalog is sessions[0].directory.catalog for s in sessions)  # users' data shared


def test_compare_mids_orders_by_table_position(session):
    known = mids(session)
    compare = [call(session, "CompareMIds", Reserved=0, HasState=1, State=stat(), MinimalId1=known[a],
                    MinimalId2=known[b]).Result for a, b in (("alice", "dave"), ("carol", "carol"), ("dave", "bob"))]
    assert compare[0] < 0 and compare[1] == 0 and compare[2] > 0
    unknown = call(session, "CompareMIds", Reserved=0, HasState=0, MinimalId1=known["bob"], MinimalId2=0x7)
    assert int(unknown.ErrorCode) == 0x80004005


# QueryRows and the STAT ---------------------------------------------------------------------------

def test_query_rows_walks_the_table_and_moves_the_stat(session):
    known = mids(session)
    first = query(session, stat(), count=2)
    assert names(first) == ["Alice Archer", "Alina Archer"]
    state = first.State
    assert (state.CurrentRec, state.NumPos, state.TotalRecs, state.Delta) == (known["bob"], 2, 5, 0)
    assert (state.CodePage, state.SortLocale) == (0x4E4, 0x409)  # the rest as the client sent it
    second = query(session, dict(state), count=10)
    assert names(second) == ["Bob Baker", "Carol Cole", "Dave Dunn"]
    assert (second.State.CurrentRec, second.State.NumPos) == (0x2, 5)  # MID_END_OF_TABLE
    assert query(session, dict(second.State)).RowData == []


def test_query_rows_honours_delta_and_fractional_position(session):
    known = mids(session)
    back = query(session, stat(CurrentRec=2, Delta=-2), count=1)  # two rows before the end
    assert names(back) == ["Carol Cole"] and back.State.CurrentRec == known["dave"]
    middle = query(session, stat(CurrentRec=1, NumPos=50, TotalRecs=100), count=1)  # MID_CURRENT: half way
    assert names(middle) == ["Bob Baker"]
    from_mid = query(session, stat(CurrentRec=known["carol"], Delta=-10), count=1)  # clamped at the start
    assert names(from_mid) == ["Alice Archer"]


def test_query_rows_with_an_explicit_table(session):
    known = mids(session)
    answer = query(session, stat(), count=3, explicit=[known["dave"], 0x99, known["alice"]], columns=(DISPLAY_NAME,))
    assert [row.Flags for row in answer.RowData] == [0, 1, 0]
    assert len(query(session, stat(), count=2, explicit=[known["dave"], 0x99, known["alice"]]).RowData) == 2
    assert answer.RowData[0].ValueArray[0].PropertyValue == "Dave Dunn"
    missing = answer.RowData[1].ValueArray[0]
    assert (missing.Flag, int(missing.PropertyValue.PropertyValue)) == (0xA, NOT_FOUND)
    assert fields(answer.State) == stat()  # an explicit table leaves the STAT alone


def test_query_rows_default_columns_are_8_bit(session):
    answer = query(session, stat(), count=1, columns=None)
    assert [t.PropertyType for t in answer.Columns.PropertyTags] == [0x3, 0x3, 0x3, 0x1E, 0x1E, 0x1E, 0x1E]
    row = answer.RowData[0]
    assert row.Flags == 1  # alice has no primary phone or office: flagged values
    container, object_type, display_type, name, phone, department, office = row.ValueArray
    assert (object_type.PropertyValue.PropertyValue, display_type.PropertyValue.PropertyValue) == (6, 0)
    assert name.PropertyValue.PropertyValue == "Alice Archer" and department.PropertyValue.PropertyValue == "R&D"
    assert phone.Flag == 0xA and office.Flag == 0xA


def test_unspecified_columns_carry_their_type_and_entry_ids(session):
    known = mids(session)
    answer = query(session, stat(CurrentRec=known["bob"]), count=1, flags=0x2,  # fEphID
                   columns=((ACCOUNT & 0xFFFF0000), ENTRY_ID, tag("PidTagAddressBookProxyAddresses")))
    account, entry_id, proxies = plain(answer.RowData[0].ValueArray)
    assert account == {"PropertyType": 0x1F, "PropertyValue": {"HasValue": 0xFF, "PropertyValue": "bob"}}
    ephemeral = parse(ab.EphemeralEntryID, entry_id["PropertyValue"])
    assert ephemeral.MId == known["bob"] and ephemeral.ProviderUID == session.server_guid
    assert [v.Value for v in proxies["PropertyValue"]] == ["SMTP:bob@mapiwire.test",
                                                        f"X500:{ORG['dn_prefix']}/cn=Recipients/cn=bob"]
    permanent = query(session, stat(CurrentRec=known["bob"]), count=1, columns=(ENTRY_ID,))
    entry = parse(ab.PermanentEntryID, permanent.RowData[0].ValueArray[0].PropertyValue)
    assert entry.DistinguishedName.endswith("/cn=bob") and entry.ProviderUID == GUID_NSPI


@pytest.mark.parametrize("state, count, code", [
    (stat(ContainerID=0x55), 1, 0x80040405),  # InvalidBookmark: no such container
    (stat(CurrentRec=0x33), 1, NOT_FOUND),  # a MId not in the table
    (stat(), 0, 0x80070057),  # InvalidParameter
    (stat(CodePage=0x4B0), 1, 0x8004011E),  # InvalidCodepage
])
def test_query_rows_refusals(session, state, count, code):
    answer = query(session, state, count=count)
    assert (answer.StatusCode, int(answer.ErrorCode), answer.HasState, answer.HasColumnsAndRows) == (0, code, 0, 0)


def test_wire_counts_are_capped(session):
    huge = query(session, stat(), count=0xFFFFFFFF)
    assert len(huge.RowData) == 5
    too_many = query(session, stat(), explicit=[0x20] * (nspi.MAX_ROWS + 1))
    assert int(too_many.ErrorCode) == 0x80040403  # TableTooBig
    wide = query(session, stat(), columns=[DISPLAY_NAME] * (nspi.MAX_COLUMNS + 1))
    assert int(wide.ErrorCode) == 0x80040403
    cells = query(session, stat(), count=500, explicit=[0x20] * 500, columns=[DISPLAY_NAME] * nspi.MAX_COLUMNS)
    assert int(cells.ErrorCode) == 0x80040403


def test_update_stat_moves_and_reports_delta(session):
    known = mids(session)
    answer = call(session, "UpdateStat", Reserved=0, HasState=1, State=stat(CurrentRec=known["alina"], Delta=2),
                  DeltaRequested=1)
    assert (answer.State.CurrentRec, answer.State.NumPos, answer.State.Delta, answer.Delta) == (known["carol"], 3, 0, 2)
    clamped = call(session, "UpdateStat", Reserved=0, HasState=1, State=stat(Delta=100), DeltaRequested=1)
    assert (clamped.State.CurrentRec, clamped.Delta) == (0x2, 5)
    quiet = call(session, "UpdateStat", Reserved=0, HasState=1, State=stat(Delta=1), DeltaRequested=0)
    assert (quiet.HasDelta, quiet.State.CurrentRec) == (0, known["alina"])


# SeekEntries, GetProps, GetPropList, QueryColumns -------------------------------------------------

def seek(session, text, state=None, columns=(DISPLAY_NAME,), explicit=None, property_id=0x3001):
    return call(session, "SeekEntries", Reserved=0, HasState=1, State=state or stat(), HasTarget=1,
                Target={"PropertyType": 0x1F, "PropertyId": property_id, "PropertyValue": {"PropertyValue": text}},
                HasExplicitTable=0 if explicit is None else 1, ExplicitTable=explicit,
                HasColumns=1 if columns else 0, Columns=large_tag_array(*columns) if columns else None)


def test_seek_entries_positions_at_the_first_name_at_or_after_the_target(session):
    known = mids(session)
    answer = seek(session, "c")
    assert (answer.State.CurrentRec, answer.State.NumPos) == (known["carol"], 3)
    assert names(answer) == ["Carol Cole", "Dave Dunn"]
    assert seek(session, "Bob Baker", columns=()).State.CurrentRec == known["bob"]
    in_explicit = seek(session, "Alj", explicit=[known["alice"], known["dave"]])
    assert (in_explicit.State.CurrentRec, in_explicit.State.NumPos, in_explicit.State.TotalRecs) == (known["dave"], 1, 2)
    assert names(in_explicit) == ["Alice Archer", "Dave Dunn"]  # the whole explicit table, as QueryRows gives it
    assert int(seek(session, "zz").ErrorCode) == NOT_FOUND
    assert int(seek(session, "a", explicit=[known["dave"], known["alice"]]).ErrorCode) == 0x80070057  # unsorted
    assert int(seek(session, "b", state=stat(SortType=0x3)).ErrorCode) == 0x80004005  # GeneralFailure
    assert int(seek(session, "b", property_id=ACCOUNT >> 16).ErrorCode) == 0x80004005


def test_get_props_returns_values_and_errors_returned(session):
    known = mids(session)
    answer = call(session, "GetProps", Flags=0, HasState=1, State=stat(CurrentRec=known["alice"]),
                  HasPropertyTags=1, PropertyTags=large_tag_array(DISPLAY_NAME, SMTP, TITLE, tag("PidTagMobileTelephoneNumber")))
    assert int(answer.ErrorCode) == 0x00040380  # ErrorsReturned: one property is missing
    values = answer.PropertyValues.PropertyValues
    assert [v.PropertyValue.PropertyValue for v in values[:3]] == ["Alice Archer", "alice@mapiwire.test", "Engineer"]
    assert (values[3].PropertyType, int(values[3].PropertyValue.PropertyValue)) == (0xA, NOT_FOUND)
    everything = call(session, "GetProps", Flags=0, HasState=1, State=stat(CurrentRec=known["bob"]), HasPropertyTags=0)
    assert int(everything.ErrorCode) == 0
    got = {(v.PropertyId << 16) | v.PropertyType for v in everything.PropertyValues.PropertyValues}
    narrow = {t & 0xFFFF0000 | 0x1E for t in (DISPLAY_NAME, SMTP, TITLE, tag("PidTagEmailAddress"))}
    assert narrow | {ENTRY_ID, tag("PidTagObjectType")} <= got  # NspiGetPropList's list: strings 8-bit
    unknown = call(session, "GetProps", Flags=0, HasState=1, State=stat(CurrentRec=0x77), HasPropertyTags=1,
                   PropertyTags=large_tag_array(DISPLAY_NAME))  # as if the object had no values (3.1.4.1.7)
    assert int(unknown.ErrorCode) == 0x00040380 and unknown.PropertyValues.PropertyValues[0].PropertyType == 0xA
    listless = call(session, "GetProps", Flags=0, HasState=1, State=stat(CurrentRec=0x77), HasPropertyTags=0)
    assert (int(listless.ErrorCode), listless.HasPropertyValues) == (NOT_FOUND, 0)


def test_get_prop_list_and_query_columns(session):
    known = mids(session)
    listed = call(session, "GetPropList", Flags=0, MinimalId=known["bob"], CodePage=0x4E4)
    types = {t.PropertyId: t.PropertyType for t in listed.PropertyTags.PropertyTags}
    assert types[0x3001] == 0x1E and types[0x800F] == 0x101E and types[0x0FFF] == 0x102  # strings 8-bit
    assert 0x3A18 not in types  # bob has no department
    assert int(call(session, "GetPropList", Flags=0, MinimalId=5, CodePage=0x4E4).ErrorCode) == NOT_FOUND
    wide = call(session, "QueryColumns", Reserved=0, MapiFlags=0x80000000).Columns.PropertyTags
    narrow = call(session, "QueryColumns", Reserved=0, MapiFlags=0).Columns.PropertyTags
    assert {t.PropertyId: t.PropertyType for t in wide}[0x3001] == 0x1F
    assert {t.PropertyId: t.PropertyType for t in narrow}[0x3001] == 0x1E
    assert {t.PropertyId for t in wide} >= {0x3A18, 0x3A17, 0x3A08, 0x39FE, 0x3003}


# ResolveNames and GetMatches ------------------------------------------------------------------------

def test_resolve_names_gives_resolved_ambiguous_and_unresolved(session):
    known = mids(session)
    answer = call(session, "ResolveNames", Reserved=0, HasState=1, State=stat(), HasPropertyTags=1,
                  PropertyTags=large_tag_array(DISPLAY_NAME, SMTP),
                  HasNames=1, NameValues=["alice", "Archer", "nobody", "", "SMTP:dave@mapiwire.test", "car"])
    assert list(answer.MinimalIds) == [known["alice"], 1, 0, 0, known["dave"], known["carol"]]
    assert answer.CodePage == 0x4E4  # the STAT's, for any 8-bit strings in the rows
    assert [[v.PropertyValue for v in row.ValueArray] for row in answer.RowData] == [
        ["Alice Archer", "alice@mapiwire.test"], ["Dave Dunn", "dave@mapiwire.test"],
        ["Carol Cole", "carol@mapiwire.test"]]  # one row per resolved name, in order
    reserved = call(session, "ResolveNames", Reserved=1, HasState=0, HasPropertyTags=0, HasNames=1, NameValues=["a"])
    assert (int(reserved.ErrorCode), reserved.HasMinimalIds) == (0x80070057, 0)
    none = call(session, "ResolveNames", Reserved=0, HasState=0, HasPropertyTags=0, HasNames=0)
    assert (none.HasMinimalIds, none.HasRowsAndCols) == (0, 0)


def content(text, low=0x2, high=0x1, property_tag=DISPLAY_NAME):
    t = {"PropertyType": property_tag & 0xFFFF, "PropertyId": property_tag >> 16}
    return {"RestrictType": 0x03, "FuzzyLevelLow": low, "FuzzyLevelHigh": high, "PropertyTag": t,
            "TaggedValue": {"PropertyTag": t, "PropertyValue": text}}


def matches(session, restriction, count=50, columns=(DISPLAY_NAME,)):
    return call(session, "GetMatches", Reserved=0, HasState=1, State=stat(), HasMinimalIds=0, InterfaceOptionFlags=0,
                HasFilter=1, Filter=restriction, HasPropertyName=0, RowCount=count,
                HasColumns=1 if columns else 0, Columns=large_tag_array(*columns) if columns else None)


ANR = {"PropertyType": 0x1F, "PropertyId": 0x360C}


@pytest.mark.parametrize("restriction, expected", [
    (content("car"), ["carol"]),
    (content("ARCHER", low=0x1), ["alice", "alina"]),
    (content("archer", low=0x1, high=0), []),  # case matters without FL_IGNORECASE
    (content("dave@mapiwire.test", low=0x0, property_tag=SMTP), ["dave"]),
    ({"RestrictType": 0x04, "RelOp": 0x04, "PropTag": ANR, "TaggedValue": {"PropertyTag": ANR, "PropertyValue": "archer"}},
     ["alice", "alina"]),
    ({"RestrictType": 0x00, "Restricts": [content("a"), {"RestrictType": 0x08, "PropTag": large_tag_array(TITLE)["PropertyTags"][0]}]},
     ["alice"]),
    ({"RestrictType": 0x01, "Restricts": [content("bob"), content("dave")]}, ["bob", "dave"]),
    ({"RestrictType": 0x02, "Restriction": content("a")}, ["bob", "carol", "dave"]),
    ({"RestrictType": 0x0B, "Count": 1, "SubRestriction": content("a")}, ["alice"]),  # the first one only
    ({"RestrictType": 0x04, "RelOp": 0x02, "PropTag": large_tag_array(ACCOUNT)["PropertyTags"][0],
      "TaggedValue": {"PropertyTag": large_tag_array(ACCOUNT)["PropertyTags"][0], "PropertyValue": "bob"}}, ["carol", "dave"]),
])
def test_get_matches_evaluates_restrictions(session, restriction, expected):
    known = mids(session)
    answer = matches(session, restriction)
    assert int(answer.ErrorCode) == 0
    assert list(answer.MinimalIds) == [known[a] for a in expected]
    assert len(answer.RowData) == len(expected)
    assert fields(answer.State) == stat(ContainerID=0)  # ContainerID := CurrentRec (0), the rest unchanged


def test_get_matches_refusals(session):
    assert int(matches(session, content("a"), count=1).ErrorCode) == 0x80040403  # TableTooBig: 2 > 1
    sub_object = {"RestrictType": 0x09, "Subobject": large_tag_array(TITLE)["PropertyTags"][0], "Restriction": content("a")}
    assert int(matches(session, sub_object).ErrorCode) == 0x80040117  # TooComplex
    no_filter = call(session, "GetMatches", Reserved=0, HasState=1, State=stat(), HasMinimalIds=0,
                     InterfaceOptionFlags=0, HasFilter=0, HasPropertyName=0, RowCount=5, HasColumns=0)
    assert int(no_filter.ErrorCode) == 0x80004005  # no object at CurrentRec to read a link property of
    bob = mids(session)["bob"]
    link = call(session, "GetMatches", Reserved=0, HasState=1, State=stat(CurrentRec=bob), HasMinimalIds=0,
                InterfaceOptionFlags=0, HasFilter=0, HasPropertyName=0, RowCount=5, HasColumns=0)
    assert int(link.ErrorCode) == 0x80040102  # NotSupported: no link-valued properties here


# The whole sample session and hostile bodies -----------------------------------------------------

def test_every_request_of_the_sample_session_gets_a_well_formed_answer(session):
    seen = set()
    for exchange in address_book_session():
        request_type = exchange.request.header("X-RequestType")
        if request_type == "PING":
            continue
        body = BODIES[request_type]
        answer = session.handle(request_type, parse(body.request, exchange.request.body))
        parse(body.success, build(body.success, answer))
        seen.add(request_type)
    assert len(seen) == 19


REQUESTS = [(exchange.request.header("X-RequestType"), exchange.request.body)
            for exchange in address_book_session() if exchange.request.header("X-RequestType") != "PING"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from(REQUESTS), data=st.data())
def test_mutated_requests_never_raise(session, case, data):
    request_type, original = case
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    body = BODIES[request_type]
    try:
        request = parse(body.request, bytes(mutated))
    except c.ConstructError:
        return  # the front answers an unparsable body itself
    answer = session.handle(request_type, request)
    definition = body.success if answer["StatusCode"] == 0 else body.failure
    parse(definition, build(definition, answer))
