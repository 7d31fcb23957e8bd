"""Decoding on several workers gives exactly what one process gives, in the same order."""

import functools
import os

import pytest

from mapiwire.cli import render_record
from mapiwire.dissect.filters import RecordFilter
from mapiwire.dissect.parallel import decode_rendered
from mapiwire.dissect.sources import open_capture

CAPTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "captures")


@pytest.mark.parametrize("name", ["outlook-session.pcapng", "malformed.pcap", "serve-day.saz"])
def test_workers_agree_with_one_process(name):
    path = os.path.join(CAPTURES, name)
    render = functools.partial(render_record, "ndjson", RecordFilter())
    one = list(decode_rendered(open_capture(path), render, workers=1))
    assert one and list(decode_rendered(open_capture(path), render, workers=3)) == one


def test_filters_apply_in_the_workers():
    path = os.path.join(CAPTURES, "outlook-session.pcapng")
    render = functools.partial(render_record, "text",
                               RecordFilter(request_types=frozenset({"execute"}), sessions=frozenset({"ctx-7f3a9c"})))
    texts = list(decode_rendered(open_capture(path), render, workers=2))
    assert len(texts) == 6 and all("[ctx-7f3a9c] Execute" in t.splitlines()[0] for t in texts)


def test_exchanges_that_are_not_records_do_not_shift_the_numbering():
    """A non-MAPI response without its request (a capture starting mid-connection) is no record,
    for the workers as for one process: the indexes stay the same."""
    from mapiwire.dissect.exchange import Exchange, HttpMessage

    stray = Exchange(request=None, response=HttpMessage(headers=[("Content-Type", "text/html")], status=200))
    exchanges = [stray] + list(open_capture(os.path.join(CAPTURES, "outlook-session.pcapng")))
    render = functools.partial(render_record, "ndjson", RecordFilter())
    one = list(decode_rendered(iter(exchanges), render, workers=1))
    assert '"index": 0' in one[0] and list(decode_rendered(iter(exchanges), render, workers=2)) == one
