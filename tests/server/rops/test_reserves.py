"""The room kept for RopBufferTooSmall (MS-OXCROPS 2.2.15.1) counts each request as it builds:
a request layout without a variable part is measured by the definition's sizeof, not built."""

import glob
import os

from mapiwire.dissect.defs.core import build
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.defs.rops import ROP_BY_ID
from mapiwire.dissect.sources import open_capture
from mapiwire.server import emsmdb
from mapiwire.server.rops.session import _fixed_request_size, _request_only, _request_size

CAPTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "captures")


def built_size(rop) -> int:
    return len(build(RopList("request"), [_request_only(rop)]))


def test_fixed_sizes_are_the_built_sizes_of_every_captured_request():
    measured = set()
    for path in sorted(glob.glob(os.path.join(CAPTURES, "*.har"))):
        logons: dict = {}
        for exchange in open_capture(path):
            if exchange.request is None or exchange.request.header("X-RequestType") != "Execute":
                continue
            try:
                request = emsmdb.parse_execute(exchange.request.body, logons)
            except Exception:
                continue  # the damaged ones
            for payload in emsmdb._payloads(request["RopBuffer"]):
                for rop in payload.get("RopsList", []):
                    if "Undecoded" not in rop and _fixed_request_size(rop["RopId"]):
                        assert _request_size(rop) == built_size(rop), rop
                        measured.add(rop["RopId"])
    assert {0x01, 0x02, 0x15} <= measured  # RopRelease, RopOpenFolder, RopQueryRows at least


def test_fixed_size_is_only_used_for_a_complete_decoded_request():
    assert _fixed_request_size(0x07) is None  # RopGetPropertiesSpecific: an array of tags
    assert _fixed_request_size(0x99) is None and _fixed_request_size(None) is None
    release = {"RopId": 0x01, "LogonId": 0, "InputHandleIndex": 2}
    assert _request_size(release) == 3 == built_size(release)
    assert _request_size({"RopId": 0x02, "LogonId": 0}) == 64  # missing fields: does not build, as before
    assert _request_size({"RopId": 0x01, "Undecoded": b"\x01\x00"}) == 2
    for rop_id, rop in ROP_BY_ID.items():
        fixed = _fixed_request_size(rop_id)
        assert fixed is None or fixed[1][0] == "RopId"
