"""Which object each ROP acted on (issue 8 point 5) and handle-index checks (point 7)."""

import copy

from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.render import render_text
from mapiwire.samples import LOGON, Last, mailbox_session, outlook_flow


def executes(flow):
    decoder = Decoder()
    records = [decoder.decode(e) for e in mailbox_session(flow)]
    return [r for r in records if r and r["request_type"] == "Execute"]


def rops(record, side):
    return record[side]["RopBuffer"]["RopsList"]


def test_folder_and_table_are_named_from_logon_and_open_folder():
    records = executes(outlook_flow(2))
    open_folder, contents, set_columns = rops(records[1], "request")
    assert open_folder["OutputObject"] == {"Handle": 0x202, "Kind": "folder", "Name": "Inbox", "FolderId": "1-1D"}
    assert contents["InputObject"]["Name"] == "Inbox"
    table = {"Handle": 0x303, "Kind": "contents table", "Of": {"Kind": "folder", "Name": "Inbox", "FolderId": "1-1D"}}
    assert set_columns["InputObject"] == table
    query = rops(records[2], "request")[0]  # a later Execute: the handle is remembered
    assert query["InputObject"] == table and rops(records[2], "response")[0]["InputObject"] == table
    text = render_text(records[2])
    assert "InputObject: 0x303 → contents table of folder Inbox (1-1D)" in text


def test_notification_names_its_subscription_and_release_forgets():
    records = executes(outlook_flow(2))
    notify = rops(records[4], "response")
    assert notify[0]["NotificationObject"]["Kind"] == "contents table"
    assert notify[1]["NotificationObject"]["Kind"] == "notification subscription"
    released = rops(records[5], "request")
    assert [r["InputObject"]["Kind"] for r in released] == ["contents table", "folder", "notification subscription"]


def test_a_handle_opened_before_the_capture_is_said_so():
    query = {"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 0, "QueryRowsFlags": 0, "ForwardRead": 1, "RowCount": 1}
    answer = {"RopId": 0x15, "InputHandleIndex": 0, "ReturnValue": 0x80040305}  # ecNullObject-like failure
    (record,) = executes([([query], [0x999], [answer], [0x999], Last)])
    assert rops(record, "request")[0]["InputObject"] == {"Handle": 0x999, "Kind": "object (opened before the capture)"}


def test_response_with_another_handle_index_is_flagged():
    flow = outlook_flow(2)[:1]
    requests, handles, responses, response_handles, header = flow[0]
    responses = copy.deepcopy(responses)
    responses[1]["InputHandleIndex"] = 3  # RopGetReceiveFolder answered for another index
    (record,) = executes([(requests, handles, responses, [LOGON, 0, 0, 0], header)])
    assert {"where": "response.RopBuffer.RopsList[1]",
            "error": "InputHandleIndex 3 is not its request's 0 (MS-OXCROPS 2.2.1)"} in record["errors"]


def test_folders_are_named_from_hierarchy_rows():
    """A hierarchy table's rows (PidTagFolderId, PidTagDisplayName) name the folders opened later."""
    from mapiwire.samples import fid, mid, row, tags

    logon = outlook_flow(2)[0]
    hierarchy = {"RopId": 0x04, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "TableFlags": 0}
    columns = {"RopId": 0x12, "LogonId": 0, "InputHandleIndex": 1, "SetColumnsFlags": 0,
               "PropertyTags": tags(0x67480014, 0x3001001F)}
    query = {"RopId": 0x15, "LogonId": 0, "InputHandleIndex": 1, "QueryRowsFlags": 0, "ForwardRead": 1, "RowCount": 5}
    answers = [{"RopId": 0x04, "OutputHandleIndex": 1, "ReturnValue": 0, "RowCount": 1},
               {"RopId": 0x12, "InputHandleIndex": 1, "ReturnValue": 0, "TableStatus": 0},
               {"RopId": 0x15, "InputHandleIndex": 1, "ReturnValue": 0, "Origin": 2,
                "RowData": [row(mid(0x42), "Projects")]}]
    browse = ([hierarchy, columns, query], [LOGON, 0xFFFFFFFF], answers, [LOGON, 0x505], Last)
    open_folder = {"RopId": 0x02, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "FolderId": fid(0x42),
                   "OpenModeFlags": 0}
    opened = {"RopId": 0x02, "OutputHandleIndex": 1, "ReturnValue": 0, "HasRules": 0, "IsGhosted": 0}
    records = executes([logon, browse, ([open_folder], [LOGON, 0xFFFFFFFF], [opened], [LOGON, 0x606], Last)])
    assert rops(records[2], "response")[0]["OutputObject"] == {"Handle": 0x606, "Kind": "folder", "Name": "Projects",
                                                               "FolderId": "1-42"}


def _plain(value) -> bool:
    """Only what JSON takes as it is: the classes themselves, not subclasses (EnumValue is an int)."""
    if type(value) is dict:
        return all(type(k) is str and not k.startswith("_") and v is not None and _plain(v) for k, v in value.items())
    return type(value) in (str, int)


def test_objects_are_plain_json_values_as_the_normaliser_passes_them():
    """render.OBJECT_FIELDS are put into records as objects.py made them: they must be plain."""
    import glob
    import os

    from mapiwire.dissect.render import OBJECT_FIELDS
    from mapiwire.dissect.sources import open_capture

    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    seen = 0
    for path in sorted(glob.glob(os.path.join(here, "captures", "*.pcap")) + glob.glob(os.path.join(here, "captures", "*.pcapng"))):
        decoder = Decoder()
        for exchange in open_capture(path):
            record = decoder.decode(exchange)
            for side in ("request", "response"):
                for rop in ((record or {}).get(side) or {}).get("RopBuffer", {}).get("RopsList") or ():
                    for field in OBJECT_FIELDS:
                        if field in rop:
                            seen += 1
                            assert _plain(rop[field]), (path, field, rop[field])
    assert seen > 100
