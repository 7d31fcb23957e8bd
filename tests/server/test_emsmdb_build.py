"""Execute responses are built once per ROP: the bytes the session built to size each response
are the ones the RopBuffer carries (MS-OXCROPS 2.2.1), identical to a build from the values."""

import os

from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.mapihttp import BODIES
from mapiwire.dissect.defs.ropbuffer import RopOutputBuffer
from mapiwire.dissect.sources import open_capture
from mapiwire.server import emsmdb
from mapiwire.server.rops import MailboxSession
from mapiwire.server.rops.session import BuiltResponse
from mapiwire.server.store import Store

CAPTURE = os.path.join(os.path.dirname(__file__), "..", "..", "captures", "serve-day.har")
UNSOLICITED = (0x2A, 0xFF)  # RopNotify, RopBufferTooSmall


def test_prebuilt_responses_are_the_bytes_built_from_the_values():
    """The Executes of a recorded day (logon, folders, tables, streams, a sent message,
    notifications) run again on a fresh store: every solicited response carries its bytes, and
    the RopsList built from them equals the one built from the plain values."""
    store = Store.load()
    session, logons, seen = None, {}, 0
    for exchange in open_capture(CAPTURE):
        request_type = exchange.request.header("X-RequestType")
        if request_type == "Connect":
            user = store.user(str(parse(BODIES["Connect"].request, exchange.request.body).UserDn))
            session, logons = MailboxSession(store, user), {}
        if request_type != "Execute" or session is None or "emsmdb" not in exchange.request.target.lower():
            continue
        request = emsmdb.parse_execute(exchange.request.body, logons)
        for payload in emsmdb._payloads(request["RopBuffer"]):
            rops = list(payload["RopsList"])
            responses, handles = session.execute(rops, list(payload["ServerObjectHandleTable"]), 0x8000)
            assert all(isinstance(r, BuiltResponse) for r in responses if r["RopId"] not in UNSOLICITED)
            params = {"request_rops": rops, "notify_state": session.notify_state}
            reused = build(RopOutputBuffer, {"RopsList": emsmdb._prebuilt(responses),
                                             "ServerObjectHandleTable": handles}, **params)
            plain = build(RopOutputBuffer, {"RopsList": [dict(r) for r in responses],
                                            "ServerObjectHandleTable": handles}, **params)
            assert reused == plain
            emsmdb._learn_logons(rops, responses, logons)
            seen += len(responses)
    assert seen > 50
