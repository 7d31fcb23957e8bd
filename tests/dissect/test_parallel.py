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
from mapiwire.dissect.parallel import WorkerFailed, decode_rendered
from mapiwire.dissect.sources import open_capture
from mapiwire.errors import MalformedError

CAPTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "captures")
NDJSON = functools.partial(render_record, "ndjson", RecordFilter())


def _rereader(path):
    """What the CLI gives for a file each worker reads itself."""
    return lambda first: open_capture(path)


@pytest.mark.parametrize("name", ["outlook-session.pcapng", "malformed.pcap", "serve-day.saz"])
def test_workers_agree_with_one_process(name):
    path = os.path.join(CAPTURES, name)
    one = list(decode_rendered(open_capture(path), NDJSON, workers=1))
    assert one and list(decode_rendered(open_capture(path), NDJSON, workers=3)) == one
    assert list(decode_rendered(_rereader(path), NDJSON, workers=2)) == one
    assert list(decode_rendered(_rereader(path), NDJSON, workers=1)) == one


def test_filters_apply_in_the_workers():
    path = os.path.join(CAPTURES, "outlook-session.pcapng")
    render = functools.partial(render_record, "text",
                               RecordFilter(request_types=frozenset({"execute"}), sessions=frozenset({"ctx-7f3a9c"})))
    for source in (open_capture(path), _rereader(path)):
        texts = list(decode_rendered(source, render, workers=2))
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
    assert list(decode_rendered(lambda first: iter(exchanges), NDJSON, workers=2)) == one


def test_many_steps_in_capture_order():
    """More records than a few steps, both ways of feeding the workers, in capture order."""
    exchanges = list(open_capture(os.path.join(CAPTURES, "serve-day.pcapng"))) * 12  # 672 records, 6 steps
    one = list(decode_rendered(iter(exchanges), NDJSON, workers=1))
    assert [json.loads(t)["index"] for t in one] == list(range(672))
    assert list(decode_rendered(iter(exchanges), NDJSON, workers=2)) == one
    assert list(decode_rendered(lambda first: iter(exchanges), NDJSON, workers=3)) == one


def test_the_first_reader_is_the_only_one_told(tmp_path):
    """Progress, notes and --session checks happen once: in one worker's reader."""
    told = tmp_path / "told"

    def read(first):
        if first:
            with open(told, "a") as f:
                f.write("first\n")
        return open_capture(os.path.join(CAPTURES, "outlook-session.pcapng"))

    assert len(list(decode_rendered(read, NDJSON, workers=3))) == 36
    assert told.read_text() == "first\n"


# Bounded memory: a slow consumer holds the workers back ------------------------------------------

RENDERED = multiprocessing.get_context("fork").Value("i", 0)  # records rendered, over all workers


def _counted_large(record):
    with RENDERED.get_lock():
        RENDERED.value += 1
    return "x" * 10_000


@pytest.mark.parametrize("fed", [True, False], ids=["fed", "reading"])
def test_a_slow_consumer_holds_the_workers_back(fed):
    """Workers never run further ahead of what was taken than the pipes (1 MiB a worker) and the
    steps in flight, however long the capture (34 MB of text here). Before the bound, the main
    process fell behind and the workers' unbounded results queue held up to 1,750 of these."""
    exchanges = list(open_capture(os.path.join(CAPTURES, "serve-day.pcapng"))) * 60  # 3,360 records
    RENDERED.value = 0
    ahead = taken = 0
    for _ in decode_rendered(iter(exchanges) if fed else lambda first: iter(exchanges), _counted_large, workers=2):
        taken += 1
        ahead = max(ahead, RENDERED.value - taken)
        time.sleep(0.0003)
    step = parallel.STEP * 2  # a worker's steps: the one rendered, the one written, the pipe; here, the one taken
    bound = parallel.WINDOW * step if fed else 2 * (2 * parallel.STEP + parallel.PIPE_BYTES // 10_000) + step
    assert taken == 3360 and ahead <= bound


# Failures end the run at once, with one line -----------------------------------------------------

def _die_on_execute(record):
    if record.get("request_type") == "Execute":
        os._exit(3)
    return "ok"


def test_a_reading_worker_that_dies_ends_the_run():
    with pytest.raises(WorkerFailed, match=r"died \(exit code 3\)"):
        list(decode_rendered(_rereader(os.path.join(CAPTURES, "outlook-session.pcapng")), _die_on_execute, workers=2))


def test_a_reader_error_in_a_worker_is_raised_as_itself():
    """A MapiwireError of the reader in a worker is what one process would raise."""
    def read(first):
        if not first:
            raise MalformedError("cannot read capture.pcap: Permission denied", where="file")
        return open_capture(os.path.join(CAPTURES, "outlook-session.pcapng"))

    with pytest.raises(MalformedError, match="^cannot read capture.pcap: Permission denied$"):
        list(decode_rendered(read, NDJSON, workers=2))


def test_workers_that_read_different_captures_fail():
    """A file that changes while the workers read it cannot give every record: said, not guessed."""
    exchanges = list(open_capture(os.path.join(CAPTURES, "serve-day.pcapng"))) * 3
    with pytest.raises(WorkerFailed, match="read different captures"):
        list(decode_rendered(lambda first: iter(exchanges if first else exchanges[:60]), NDJSON, workers=2))


# The command -------------------------------------------------------------------------------------

def _dissect(*args):
    return subprocess.run([sys.executable, "-m", "mapiwire.cli", "dissect", *args], capture_output=True, text=True,
                          env=dict(os.environ, MAPIWIRE_NO_PROGRESS="1"), timeout=60)


@pytest.mark.parametrize("name", ["outlook-session.pcapng", "serve-day.har", "serve-tls.pcapng"])
def test_dissect_jobs_prints_what_one_job_prints(name):
    """Workers reading the pcap themselves (and, for HAR, fed): the same output; the note that TLS
    was not decrypted, from the one worker told, once."""
    path = os.path.join(CAPTURES, name)
    one, two = _dissect(path, "--format", "json", "-j", "1"), _dissect(path, "--format", "json", "-j", "2")
    assert one.returncode == two.returncode == 0 and json.loads(one.stdout)
    assert (two.stdout, two.stderr) == (one.stdout, one.stderr)


def test_dissect_jobs_checks_session_prefixes():
    run = _dissect(os.path.join(CAPTURES, "outlook-session.pcapng"), "--session", "ctx", "-j", "2")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "mapiwire: --session 'ctx' matches more than one session: ctx-7f3a9c, ctx-reconnected\n"
