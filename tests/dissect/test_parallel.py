"""Decoding on several workers gives exactly what one process gives, in the same order, with bounded memory."""

import functools
import json
import multiprocessing
import os
import subprocess
import sys
import time

import pytest
from mapiwire.cli import render_record
from mapiwire.dissect import parallel
from mapiwire.dissect.filters import RecordFilter
from mapiwire.dissect.parallel import decode_rendered
from mapiwire.dissect.sources import open_capture

CAPTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "captures")
NDJSON = functools.partial(render_record, "ndjson", RecordFilter())


@pytest.mark.parametrize("name", ["outlook-session.pcapng", "malformed.pcap", "serve-day.saz"])
def test_workers_agree_with_one_process(name):
    path = os.path.join(CAPTURES, name)
    one = list(decode_rendered(open_capture(path), NDJSON, workers=1))
    assert one and list(decode_rendered(open_capture(path), NDJSON, workers=3)) == one


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
    one = list(decode_rendered(iter(exchanges), NDJSON, workers=1))
    assert json.loads(one[0])["index"] == 0
    assert list(decode_rendered(iter(exchanges), NDJSON, workers=2)) == one


def test_many_steps_in_capture_order():
    """More records than a few steps (and than the steps in flight), in capture order."""
    exchanges = list(open_capture(os.path.join(CAPTURES, "serve-day.pcapng"))) * 12  # 672 records, 10.5 steps
    one = list(decode_rendered(iter(exchanges), NDJSON, workers=1))
    assert [json.loads(t)["index"] for t in one] == list(range(672))
    assert list(decode_rendered(iter(exchanges), NDJSON, workers=2)) == one
    assert list(decode_rendered(iter(exchanges), NDJSON, workers=3)) == one


# Bounded memory: a slow consumer holds the workers back ------------------------------------------

RENDERED = multiprocessing.get_context("fork").Value("i", 0)  # records rendered, over all workers


def _counted_large(record):
    with RENDERED.get_lock():
        RENDERED.value += 1
    return "x" * 10_000


def test_a_slow_consumer_holds_the_workers_back():
    """Workers never run further ahead of what was taken than the steps in flight, however long
    the capture (34 MB of text here). Before the bound, the main process fell behind and the
    workers' unbounded results queue held up to 1,750 of these."""
    exchanges = list(open_capture(os.path.join(CAPTURES, "serve-day.pcapng"))) * 60  # 3,360 records
    RENDERED.value = 0
    ahead = taken = 0
    for _ in decode_rendered(iter(exchanges), _counted_large, workers=2):
        taken += 1
        ahead = max(ahead, RENDERED.value - taken)
        time.sleep(0.0003)
    assert taken == 3360 and ahead <= parallel.WINDOW * parallel.STEP * 2


# The command -------------------------------------------------------------------------------------

def _dissect(*args):
    return subprocess.run([sys.executable, "-m", "mapiwire.cli", "dissect", *args], capture_output=True, text=True,
                          env=dict(os.environ, MAPIWIRE_NO_PROGRESS="1"), timeout=60)


@pytest.mark.parametrize("name", ["outlook-session.pcapng", "serve-day.har", "serve-tls.pcapng"])
def test_dissect_jobs_prints_what_one_job_prints(name):
    """The same output and notes (that TLS was not decrypted) as one process."""
    path = os.path.join(CAPTURES, name)
    one, two = _dissect(path, "--format", "json", "-j", "1"), _dissect(path, "--format", "json", "-j", "2")
    assert one.returncode == two.returncode == 0 and json.loads(one.stdout)
    assert (two.stdout, two.stderr) == (one.stdout, one.stderr)


def test_dissect_jobs_checks_session_prefixes():
    """--session prefixes are checked as the capture is read, as with one process."""
    run = _dissect(os.path.join(CAPTURES, "outlook-session.pcapng"), "--session", "ctx", "-j", "2")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "mapiwire: --session 'ctx' matches more than one session: ctx-7f3a9c, ctx-reconnected\n"
