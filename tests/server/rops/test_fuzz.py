"""Bad input never crashes a MailboxSession: the request ROPs the other tests send, mutated, on
handles of every object kind, answer something that builds and parses back (MS-OXCROPS 3.2.5.1)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopList, RopOutputBuffer
from mapiwire.samples import NO_HANDLE

from . import test_oxcfold, test_oxcmsg, test_oxcnotif, test_oxcprpt, test_oxctabl
from .helpers import Driver, tags


def _corpus() -> list[bytes]:
    """The RopsLists of a few flows of the other test modules."""
    Driver.recorder = corpus = []
    try:
        test_oxcnotif.test_submit_delivers_to_bobs_inbox_and_notifies_his_session()
        test_oxcmsg.test_create_set_recipients_attachment_and_save()
        test_oxcprpt.test_named_properties_map_both_ways_per_mailbox()
        test_oxcprpt.test_streams_read_write_commit_size_and_seek()
        test_oxctabl.test_restriction_types(test_oxctabl.make_inbox_table())
        test_oxctabl.test_find_row_and_bookmarks(test_oxctabl.make_inbox_table())
        test_oxcfold.test_move_and_copy_folder()
    finally:
        Driver.recorder = None
    return [c for c in corpus if c]


def _objects():
    """A session with a logon, a folder, a table with columns, a message, an attachment, a stream
    and a subscription open; their handles."""
    d = Driver()
    logon, folders = d.logon()
    inbox = d.open_folder(logon, folders[4])
    table, _ = d.contents(inbox, [0x0037001F, 0x674A0014])
    message = next(iter(d.store.mailbox("alice").folders[d.store.mailbox("alice").special[4]].messages.values()))
    ident = {"ReplicaId": 1, "GlobalCounter": message.mid.to_bytes(8, "little")[2:]}
    rops, handles = d.execute([
        {"RopId": 0x03, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 1, "CodePageId": 0x0FFF,
         "FolderId": folders[4], "OpenModeFlags": 0x03, "MessageId": ident},
        {"RopId": 0x22, "LogonId": 0, "InputHandleIndex": 1, "OutputHandleIndex": 2, "OpenAttachmentFlags": 1,
         "AttachmentID": 0},
        {"RopId": 0x2B, "LogonId": 0, "InputHandleIndex": 1, "OutputHandleIndex": 3,
         "PropertyTag": tags(0x1000001F)[0], "OpenModeFlags": 1},
        {"RopId": 0x29, "LogonId": 0, "InputHandleIndex": 0, "OutputHandleIndex": 4, "NotificationTypes": 0x1E,
         "WantWholeStore": 1}], [inbox, NO_HANDLE, NO_HANDLE, NO_HANDLE, NO_HANDLE])
    assert [r.ReturnValue for r in rops] == [0, 0, 0, 0]
    return d, [logon, inbox, table] + handles[1:] + [NO_HANDLE, 0x12345678]


CORPUS = _corpus()
DRIVER, HANDLES = _objects()


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for position, value in edits:
        if out:
            out[position % len(out)] = value
    return bytes(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 255)), max_size=3),
       st.permutations(range(9)), st.integers(min_value=0, max_value=0x10000))
def test_mutated_requests_on_every_object_kind(pick, edits, order, max_rop_out):
    data = _mutate(CORPUS[pick % len(CORPUS)], edits)
    rops = list(parse(RopList("request"), data, errors=[], logons={0: 1}))
    handles = [HANDLES[i] for i in order][:max(1, max((r.get("InputHandleIndex") or 0 for r in rops), default=0) + 2)]
    responses, out_handles = DRIVER.session.execute(rops, list(handles), max_rop_out)
    body = build(RopOutputBuffer, {"RopsList": responses, "ServerObjectHandleTable": out_handles},
                 request_rops=rops, notify_state=DRIVER.session.notify_state)
    errors: list = []
    parsed = parse(RopOutputBuffer, body, request_rops=rops, notify_state=DRIVER.session.notify_state, errors=errors)
    # a malformed request handed back in RopBufferTooSmall stays malformed there; nothing else may be
    assert [e for e in errors if "RequestBuffers" not in e["where"]] == [] and len(parsed.RopsList) == len(responses)
    assert all(r.get("ReturnValue") != 0x80004005 for r in responses), responses  # ecError: a handler failed
