"""MailboxSession.execute: dispatch, handles, errors, RopBufferTooSmall (MS-OXCROPS 2.2.15.1,
3.2.5.1), and the Outlook-like flow of samples.outlook_flow answered by the store."""

from mapiwire.samples import NO_HANDLE, fid, outlook_flow
from mapiwire.server.rops import MailboxSession
from mapiwire.server.store import Store

from .helpers import Driver

RECEIVE = {"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 0, "MessageClass": "IPM.Note"}


def test_outlook_flow_gets_the_responses_the_samples_show():
    """Each step of samples.outlook_flow (Essdn, folder ids and handles made this store's) gets a
    response with the same ROPs, the same fields and the same ReturnValues."""
    d = Driver(user="bob")
    handle_map, inbox = {}, None
    for request_rops, request_handles, sample_rops, sample_handles, _ in outlook_flow():
        if not request_rops:
            continue  # the sample's unsolicited RopNotify step: covered by test_oxcnotif
        for rop in request_rops:
            if rop["RopId"] == 0xFE:
                rop["Essdn"] = d.user.dn
            if "FolderId" in rop and inbox is not None:
                rop["FolderId"] = inbox
        rops, handles = d.execute(request_rops, [handle_map.get(h, h) for h in request_handles])
        assert [r.RopId for r in rops] == [r["RopId"] for r in sample_rops]
        for got, want in zip(rops, sample_rops):
            present = {k for k, v in got.items() if v is not None} - {"RopName", "_io"}
            assert {k for k, v in want.items() if v is not None} <= present, (got.RopName, present)
            assert got.ReturnValue == want["ReturnValue"], got
        if rops and rops[0].RopId == 0xFE:
            inbox = rops[0].FolderIds[4]
        handle_map.update({s: h for s, h in zip(sample_handles, handles) if s != NO_HANDLE})
    assert [type(o).__name__ for o in d.session.objects.values()] == ["LogonObject"]  # the rest was released


def test_unhandled_rop_answers_ec_not_supported_and_the_rest_goes_on():
    d = Driver()
    logon, _ = d.logon()
    rops, _ = d.execute([{"RopId": 0x61, "LogonId": 0, "InputHandleIndex": 0,  # RopGetPerUserGuid
                          "LongTermId": {"DatabaseGuid": "{00000000-0000-0000-0000-000000000001}",
                                         "GlobalCounter": bytes(6), "Pad": 0}},
                         RECEIVE], [logon])
    assert [(r.RopName, r.ReturnValue) for r in rops] == [("RopGetPerUserGuid", 0x80040102),
                                                          ("RopGetReceiveFolder", 0)]


def test_invalid_handles_are_ec_null_object():
    d = Driver()
    logon, _ = d.logon()
    rops, _ = d.execute([RECEIVE, {**RECEIVE, "InputHandleIndex": 5}, {**RECEIVE, "InputHandleIndex": 1}],
                        [0x7FFF0000, logon])
    assert [r.ReturnValue for r in rops] == [0x000004B9, 0x000004B9, 0]


def test_a_failed_rop_leaves_its_output_slot_and_later_rops_fail_on_it():
    d = Driver()
    logon, _ = d.logon()
    rops, handles = d.execute([
        {"RopId": 0x02, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "FolderId": fid(0x7777),
         "OpenModeFlags": 0},
        {"RopId": 0x05, "LogonId": 0, "InputHandleIndex": 1, "OutputHandleIndex": 2, "TableFlags": 0},
        RECEIVE], [logon, NO_HANDLE, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0x8004010F, 0x000004B9, 0]
    assert handles == [logon, NO_HANDLE, NO_HANDLE]


def test_buffer_too_small_hands_back_the_unprocessed_requests():
    """MS-OXCROPS 2.2.15.1: RopBufferTooSmall is the last response; it carries the requests not
    processed, and SizeNeeded is enough to process them."""
    d = Driver()
    logon, folders = d.logon()
    table = {"RopId": 0x68, "LogonId": 0, "InputHandleIndex": 0}
    rops, _ = d.execute([RECEIVE, table, RECEIVE], [logon], max_rop_out=100)
    assert [r.RopName for r in rops] == ["RopGetReceiveFolder", "RopBufferTooSmall"]
    assert [r.RopName for r in rops[1].RequestBuffers] == ["RopGetReceiveFolderTable", "RopGetReceiveFolder"]
    again, _ = d.execute(list(rops[1].RequestBuffers), [logon], max_rop_out=rops[1].SizeNeeded)
    assert [r.RopName for r in again][0] == "RopGetReceiveFolderTable"
    again, _ = d.execute(list(rops[1].RequestBuffers), [logon], max_rop_out=rops[1].SizeNeeded + 24)
    assert [r.RopName for r in again] == ["RopGetReceiveFolderTable", "RopGetReceiveFolder"]


def test_query_rows_returns_fewer_rows_when_max_rop_out_is_small():
    """MS-OXCTABL 3.2.5.5: the rows that do not fit stay for the next RopQueryRows."""
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    table, count = d.contents(inbox, [0x0037001F, 0x1000001F])
    seen = []
    for _ in range(count + 1):
        rops, _ = d.execute([{"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 0, "QueryRowsFlags": 0,
                              "ForwardRead": 1, "RowCount": 50}], [table], max_rop_out=700)
        assert rops[0].RopName == "RopQueryRows", rops[0]
        seen += [row.ValueArray[0].PropertyValue for row in rops[0].RowData]
        if rops[0].Origin == 2:
            break
    assert len(seen) == count and len(set(seen)) == count
    rops, _ = d.execute([{"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 0, "QueryRowsFlags": 0x01,
                          "ForwardRead": 0, "RowCount": 50}], [table], max_rop_out=60)
    assert rops[0].RopName == "RopQueryRows" and rops[0].ReturnValue == 0x0000047D  # ecBufferTooSmall


def test_release_frees_the_handle():
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    d.execute([{"RopId": 0x01, "LogonId": 0, "InputHandleIndex": 0}], [inbox])
    assert inbox not in d.session.objects
    rops, _ = d.execute([{"RopId": 0x05, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                          "TableFlags": 0}], [inbox, NO_HANDLE])
    assert rops[0].ReturnValue == 0x000004B9


def test_handles_per_session_are_bounded():
    store = Store.load()
    d = Driver(store)
    d.session.max_handles = 3
    logon, folders = d.logon()
    opened = [d.execute([{"RopId": 0x02, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1,
                          "FolderId": folders[4], "OpenModeFlags": 0}], [logon, NO_HANDLE])[0][0].ReturnValue
              for _ in range(3)]
    assert opened == [0, 0, 0x000004DE]  # ecMaxObjsExceeded


def test_malformed_and_unknown_rops_never_raise():
    store = Store.load()
    session = MailboxSession(store, store.user("alice"))
    rops = [{"RopId": 0x27, "RopName": "RopGetReceiveFolder", "Undecoded": bytes.fromhex("270000")},
            {"RopId": 0x99, "RopName": None, "Undecoded": b"\x99"}]
    responses, handles = session.execute(rops, [NO_HANDLE], 0x8000)
    assert responses == [{"RopId": 0x27, "InputHandleIndex": 0, "ReturnValue": 0x000004B6}]
    assert session.execute([{"RopId": 0x99, "Undecoded": b"\x99"}], [], 0x8000) == ([], [])
    assert session.execute([{"RopId": 0x27, "LogonId": 0, "InputHandleIndex": 9, "MessageClass": "IPM"}],
                           [], 0x8000)[0][0]["ReturnValue"] == 0x000004B9


def test_close_forgets_everything():
    d = Driver()
    d.logon()
    d.session.close()
    assert not d.session.objects and d.session._on_store_event not in d.store.mailbox("alice").listeners
