"""Rewriting by parse → edit → build on the sample captures: what is built parses back to the
edited values, with the recorded RPC_HEADER_EXT flags (MS-OXCRPC 3.1.4.1.1.1)."""

from __future__ import annotations

import pytest

from mapiwire.dissect.decode import rops_of
from mapiwire.dissect.defs.core import parse
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.replay.plan import load_plans
from mapiwire.replay.rewrite import Identity, RewriteError, Rewriter, copy_value, writes_in
from mapiwire.samples import fid

CAPTURES = ["captures/outlook-session.pcapng", "captures/serve-day.har", "captures/serve-day.saz",
            "captures/outlook-session-damaged.pcap", "captures/malformed.pcap"]
NO_HANDLE = 0xFFFFFFFF


@pytest.fixture(scope="module")
def plans():
    return {p.key: p for p in load_plans("captures/outlook-session.pcapng")}


from .conftest import find_step


def by_rop(plan, rop):
    return find_step(plan, "Execute", rop)


def parsed(step, body):
    return parse(BODIES[step.request_type].request, body, logons=step.logons)


def live_like(step, edit):
    """A live response value: the recorded one with `edit` applied; (value, rops, handles)."""
    value = copy_value(step.response_value)
    edit(value)
    rops, handles = rops_of(value.get("RopBuffer")) if "RopBuffer" in value else ([], [])
    return value, rops, handles


@pytest.mark.parametrize("path", CAPTURES)
def test_unchanged_requests_build_to_the_recorded_bytes(path):
    for plan in load_plans(path):
        built = Rewriter(plan, hook=lambda edit: None)  # a hook makes every request go through build()
        as_recorded = Rewriter(plan)  # nothing to change: the recorded bytes without a build
        for step in plan.steps:
            assert built.request(step).body == step.exchange.request.body
            assert as_recorded.request(step).body is step.exchange.request.body


def test_handles_and_ids_map_through_the_live_responses(plans):
    plan = plans["ctx-7f3a9c"]
    rewriter = Rewriter(plan)
    logon = by_rop(plan, "RopLogon")

    def edit(value):
        value["RopBuffer"]["ServerObjectHandleTable"][0] = 0xA0000001
        rops = value["RopBuffer"]["RopsList"]
        rops[0]["FolderIds"] = [fid(0x500 + i) for i in range(13)]
        rops[1]["FolderId"] = fid(0x99)

    rewriter.learn(logon, *live_like(logon, edit))
    assert rewriter.maps.handle[0x101] == 0xA0000001
    open_folder = by_rop(plan, "RopOpenFolder")
    built = rewriter.request(open_folder)
    value = parsed(open_folder, built.body)
    assert value.RopBuffer.ServerObjectHandleTable == [0xA0000001, NO_HANDLE, NO_HANDLE]
    assert value.RopBuffer.RopsList[0].FolderId == fid(0x99)
    # same framing as recorded: Compressed | XorMagic | Last
    assert value.RopBuffer.RPC_HEADER_EXT[0].Flags == open_folder.request_value.RopBuffer.RPC_HEADER_EXT[0].Flags == 7
    assert [r.RopId for r in value.RopBuffer.RopsList] == [r.RopId for r in open_folder.request_rops]

    def edit2(value):
        value["RopBuffer"]["ServerObjectHandleTable"][1:3] = [0xA0000002, 0xA0000003]
    rewriter.learn(open_folder, *live_like(open_folder, edit2))
    query = by_rop(plan, "RopQueryRows")
    assert parsed(query, rewriter.request(query).body).RopBuffer.ServerObjectHandleTable == [0xA0000003]
    release = by_rop(plan, "RopRelease")
    rewriter.learn(release, *live_like(release, lambda v: None))
    assert 0x303 not in rewriter.maps.handle and 0x202 not in rewriter.maps.handle


def test_message_ids_in_rows_are_learned_by_column(plans):
    plan = plans["ctx-7f3a9c"]
    rewriter = Rewriter(plan)
    query = by_rop(plan, "RopQueryRows")

    def edit(value):
        row = value["RopBuffer"]["RopsList"][0]["RowData"][0]
        row["ValueArray"][0]["PropertyValue"] = 0x1234
    recorded_mid = query.response_rops[0]["RowData"][0]["ValueArray"][0]["PropertyValue"]
    rewriter.learn(query, *live_like(query, edit))
    assert rewriter.maps.id[recorded_mid] == 0x1234


def test_minimal_ids_map_in_address_book_requests(plans):
    plan = plans["nspi-4b1d"]
    rewriter = Rewriter(plan)
    dn_to_mid = find_step(plan, "DNToMId")
    rewriter.learn(dn_to_mid, *live_like(dn_to_mid, lambda v: v.__setitem__("MinimalIds", [0x77])))
    assert rewriter.maps.mid == {0x1A2B: 0x77}
    for request_type, path in (("GetPropList", ("MinimalId",)), ("GetProps", ("State", "CurrentRec"))):
        step = find_step(plan, request_type)
        value = parsed(step, rewriter.request(step).body)
        for key in path:
            value = value[key]
        assert value == 0x77
    compare = find_step(plan, "CompareMIds")  # MinimalId1/2 0x10, 0x11 were never learned: kept
    assert parsed(compare, rewriter.request(compare).body).MinimalId1 == 0x10
    assert {u["value"] for u in rewriter.maps.unmapped} >= {"0x10", "0x11"}


def test_policy_fail_stops_on_an_unknown_handle(plans):
    plan = plans["ctx-7f3a9c"]
    rewriter = Rewriter(plan, policies={"handle": "fail"})
    with pytest.raises(RewriteError) as info:
        rewriter.request(by_rop(plan, "RopOpenFolder"))
    assert info.value.kind == "handle" and info.value.value == 0x101
    keep = Rewriter(plan, policies={"handle": "keep"})
    keep.maps.add("handle", 0x101, 0x999)
    assert keep.request(by_rop(plan, "RopOpenFolder")).body == by_rop(plan, "RopOpenFolder").exchange.request.body


def test_identity_rewrites_user_dn_essdn_and_mailbox(plans):
    plan = plans["ctx-7f3a9c"]
    live_dn = "/o=mapiwire/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice"
    identity = Identity.parse(f"alice@mapiwire.test={live_dn}", plan.user_dn, "bob@contoso.com")
    rewriter = Rewriter(plan, identity=identity)
    connect = find_step(plan, "Connect")
    assert parsed(connect, rewriter.request(connect).body).UserDn == live_dn
    logon = by_rop(plan, "RopLogon")
    built = rewriter.request(logon)
    assert parsed(logon, built.body).RopBuffer.RopsList[0].Essdn == live_dn
    assert built.mailbox_id == "alice@mapiwire.test"
    # the organization prefix goes too: another recipient's DN in the same organization
    assert identity.substitute(plan.user_dn.replace("cn=bob", "cn=carol")).startswith("/o=mapiwire/")


def test_hook_edits_the_parsed_body(plans):
    plan = plans["ctx-7f3a9c"]

    def hook(edit):
        if edit.request_type == "Execute":
            edit.value["MaxRopOut"] = 0x8000

    rewriter = Rewriter(plan, hook=hook)
    step = by_rop(plan, "RopQueryRows")
    assert parsed(step, rewriter.request(step).body).MaxRopOut == 0x8000


def test_writes_are_named(plans):
    nspi = plans["nspi-4b1d"]
    assert writes_in(find_step(nspi, "ModProps")) == ["ModProps"]
    assert writes_in(find_step(nspi, "ModLinkAtt")) == ["ModLinkAtt"]
    assert not any(writes_in(s) for s in plans["ctx-7f3a9c"].steps)


def test_ephemeral_entry_ids_get_the_live_server_guid_and_mid():
    from mapiwire.dissect.defs.addressbook import EphemeralEntryID
    from mapiwire.dissect.defs.core import GuidValue, build
    from mapiwire.replay.rewrite import Maps, rewrite_value

    recorded_guid, live_guid = GuidValue("dca740c8-c042-101a-b4b9-08002b2fe182"), GuidValue(int=7)
    entry = build(EphemeralEntryID, {"R1": 0, "R2": 0, "R3": 0, "ProviderUID": recorded_guid, "R4": 1,
                                     "DisplayType": 0, "MId": 0x1A2B})
    maps = Maps()
    maps.add("server_guid", recorded_guid, live_guid)
    maps.add("mid", 0x1A2B, 0x77)
    value = {"PropertyTag": {"PropertyType": 0x102, "PropertyId": 0x0FFF}, "PropertyValue": entry}
    rewrite_value(value, maps, None)
    live = parse(EphemeralEntryID, value["PropertyValue"])
    assert live.ProviderUID == live_guid and live.MId == 0x77
    other = bytes([0x87]) + bytes(31)  # another server's entry id: left alone
    assert rewrite_value({"PropertyValue": other}, maps, None)["PropertyValue"] == other


def test_ids_learned_in_one_session_serve_the_others(plans):
    shared = {"id": {}, "long_term_id": {}, "mid": {}, "server_guid": {}}
    nspi = Rewriter(plans["nspi-4b1d"], shared=shared)
    mailbox = Rewriter(plans["ctx-7f3a9c"], shared=shared)
    nspi.maps.add("mid", 0x1A2B, 0x77)
    assert mailbox.maps.mid == {0x1A2B: 0x77} and mailbox.maps.handle is not nspi.maps.handle


def test_address_book_minimal_ids_pair_by_the_rows_names(plans):
    plan = plans["nspi-4b1d"]
    rewriter = Rewriter(plan)
    matches = find_step(plan, "GetMatches")

    def swap(value):  # the live server lists the same two people the other way round, with its own MIds
        value["RowData"] = list(reversed(value["RowData"]))
        value["MinimalIds"] = [0x500, 0x400]

    rewriter.learn(matches, *live_like(matches, swap))
    assert rewriter.maps.mid == {0x10: 0x400, 0x11: 0x500}
