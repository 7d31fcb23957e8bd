"""Issue 9: inputs built by reading the code end cleanly, fast and in bounded memory.

Each input of tests/dissect/adversarial.py runs through the command line in a child process
under RLIMIT_AS (the interpreter's own address space plus 512 MiB) and a generous time bound,
and must exit 0 with the expected `errors` entry; the parallel path must print what --jobs 1
prints. Complexity regressions are caught by comparing an operation count or a tracemalloc
figure at n and 4n, not wall time.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import tracemalloc

import pytest

from mapiwire.dissect import context as context_module
from mapiwire.dissect.decode import Decoder
from mapiwire.dissect.defs.budget import MAX_ROPS
from mapiwire.dissect.defs.core import build, parse
from mapiwire.dissect.defs.ropbuffer import RopList
from mapiwire.dissect.parallel import WorkerFailed, decode_rendered
from mapiwire.dissect.render import dumps
from mapiwire.dissect.sources import open_capture
from mapiwire.dissect.sources.pcap import read_exchanges

from . import adversarial

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(ROOT, "captures")
BUDGET = 512 * 1024 * 1024
MiB = 1024 * 1024


class Run:
    """A finished child: exit code, output, CPU seconds and peak resident bytes."""

    def __init__(self, code: int, out: str, err: str, cpu: float, peak: int):
        self.code, self.out, self.err, self.cpu, self.peak = code, out, err, cpu, peak

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def errors(self) -> list[str]:
        return [e["error"] for record in self.records() for e in record["errors"]]


def _child(args: list[str], limit: int | None, timeout: float, tmp) -> Run:
    """Run `python3 -m mapiwire ARGS` (or `python3 -c` for args[0] == "-c") under RLIMIT_AS."""
    out_path, err_path = tmp / "out", tmp / "err"
    command = [sys.executable, *args] if args[0] == "-c" else [sys.executable, "-m", "mapiwire", *args]

    def limit_memory():
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, preexec_fn=limit_memory,
                                   env=dict(os.environ, MAPIWIRE_NO_PROGRESS="1"))
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
    return Run(process.returncode, out_path.read_text(), err_path.read_text(), usage.ru_utime + usage.ru_stime,
               usage.ru_maxrss * 1024)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """(address space, resident bytes, CPU seconds) of the interpreter with the dissector loaded."""
    tmp = tmp_path_factory.mktemp("baseline")
    code = ("import mapiwire.cli, mapiwire.dissect.decode, mapiwire.dissect.parallel, mapiwire.dissect.sources.pcap, "
            "mapiwire.dissect.sources.har, mapiwire.dissect.sources.saz, mapiwire.dissect.render;"
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmPeak')))")
    run = _child(["-c", code], None, 60, tmp)
    assert run.code == 0, run.err
    return int(run.out) * 1024, run.peak, run.cpu


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return adversarial.all_inputs(str(tmp_path_factory.mktemp("adversarial")))


def _dissect(path: str, baseline, tmp, jobs: int = 1, fmt: str = "ndjson", command: str = "dissect") -> Run:
    args = [command, path] + (["--format", "json"] if command != "dissect" else ["--format", fmt, "--jobs", str(jobs)])
    run = _child(args, baseline[0] + BUDGET, 120, tmp)
    assert run.code == 0, run.err[-2000:]
    assert run.peak - baseline[1] < BUDGET
    return run


EXPECTED = {
    "time": "out of range",
    "pairing": "more than the 32768 a payload may carry",
    "pairing-96": "decoding budget: more than 10922 ROPs in one body",
    "amplification": "more than the 32768 a payload may carry",
    "state": "more than the 32768 a payload may carry",
    "reassembly": "bytes missing from the capture",
    "large": "decoding budget: undecoded body of 62914560 bytes",
}


@pytest.mark.parametrize("name", sorted(adversarial.TIME_VARIANTS))
def test_pcapng_times_out_of_range_are_noted_not_fatal(name, inputs, baseline, tmp_path):
    """1: a pcapng if_tsresol/if_tsoffset that puts packet times out of range: dissect,
    sessions and stats exit 0, the capture note says so."""
    path = inputs[f"time-{name}"][0]
    run = _dissect(path, baseline, tmp_path)
    assert any(EXPECTED["time"] in error for error in run.errors())
    assert run.records()[0]["request_type"] == "PING"
    if name == "tsresol-0":  # 2: the default dissect (two workers) hung on this file
        assert _dissect(path, baseline, tmp_path, jobs=2).out == run.out
        for command in ("sessions", "stats"):
            _dissect(path, baseline, tmp_path, command=command)


@pytest.mark.parametrize("name", ["pairing", "pairing-96", "amplification", "state", "reassembly"])
def test_crafted_inputs_end_cleanly_and_fast(name, inputs, baseline, tmp_path):
    """3, 4, 5, 6: each ends with exit 0 and its errors entry, the same on two workers."""
    path = inputs[name][0]
    one = _dissect(path, baseline, tmp_path)
    assert any(EXPECTED[name] in error for error in one.errors()), one.errors()[:5]
    assert one.cpu - baseline[2] < 10  # generous: the figures are in the README
    two = _dissect(path, baseline, tmp_path, jobs=2)
    assert two.out == one.out


@pytest.mark.parametrize("kind", ["pcap", "har", "saz"])
def test_a_large_body_costs_a_small_multiple_of_its_size(kind, inputs, baseline, tmp_path):
    """7: a 60 MiB body through each reader stays within 4x its size (on two workers too)."""
    path = inputs[f"large-{kind}"][0]
    size = 60 * MiB
    for jobs in (1, 2) if kind == "pcap" else (1,):
        run = _dissect(path, baseline, tmp_path, jobs=jobs)
        assert run.peak - baseline[1] < 4 * size
        assert any(EXPECTED["large"] in error for error in run.errors())


def test_execute_request_amplification_through_decode_as(baseline, tmp_path):
    """4: `decode --as execute-request` of 2.5 KB standing for 2.1 million ROPs."""
    body = tmp_path / "body.bin"
    body.write_bytes(adversarial.amplification_body())
    assert len(body.read_bytes()) < 4096
    run = _child(["decode", "--as", "execute-request", "--format", "json", f"@{body}"], baseline[0] + BUDGET, 120,
                 tmp_path)
    assert run.code == 1, run.err  # decode's status for bytes that did not all decode
    assert run.peak - baseline[1] < BUDGET and run.cpu - baseline[2] < 10
    errors = [e["error"] for e in json.loads(run.out)["errors"]]
    assert len(errors) == 96 and all(EXPECTED["amplification"] in e for e in errors)


# 2. workers that fail ---------------------------------------------------------------------------

def _raise_on_execute(record):
    if record.get("request_type") == "Execute":
        raise ValueError("render failed")
    return "ok"


def _die_on_execute(record):
    if record.get("request_type") == "Execute":
        os._exit(3)
    return "ok"


@pytest.mark.parametrize("render, message", [(_raise_on_execute, "ValueError: render failed"),
                                             (_die_on_execute, r"died \(exit code 3\)")])
def test_a_failing_worker_ends_the_run_with_one_line(render, message):
    """2: whatever fails in a worker ends the run with a WorkerFailed, never a wait."""
    exchanges = open_capture(os.path.join(CAPTURES, "outlook-session.pcapng"))
    with pytest.raises(WorkerFailed, match=message):
        list(decode_rendered(exchanges, render, workers=2))


def test_a_decoder_failure_is_an_errors_entry_the_same_on_every_path(monkeypatch):
    """2: the decoder's own failure becomes the record's errors entry, for one process and two."""
    original = Decoder._response

    def broken(self, response, body_def, *args):
        if body_def is not None and body_def.request_type == "Execute":
            raise OverflowError("year 36812 is out of range")
        return original(self, response, body_def, *args)

    monkeypatch.setattr(Decoder, "_response", broken)
    render = dumps
    path = os.path.join(CAPTURES, "outlook-session.pcapng")
    one = list(decode_rendered(open_capture(path), render, workers=1))
    assert list(decode_rendered(open_capture(path), render, workers=2)) == one
    failed = [json.loads(t) for t in one if '"where":"decoder"' in t]
    assert failed and all(r["request_type"] is None for r in failed)
    assert failed[0]["errors"][-1]["error"] == "OverflowError: year 36812 is out of range"


# complexity: n against 4n ------------------------------------------------------------------------

class _CountingRop(dict):
    reads = 0

    def get(self, key, default=None):
        _CountingRop.reads += 1
        return super().get(key, default)


def _pairing_reads(n: int) -> int:
    """Reads of request ROPs to pair n/2 unpaired responses with n requests."""
    requests = [_CountingRop(RopId=0x01, LogonId=0, InputHandleIndex=0) for _ in range(n)]
    responses = build(RopList("response"), [adversarial.OPEN_FOLDER_FAILED] * (n // 2), request_rops=[])
    _CountingRop.reads = 0
    parse(RopList("response"), responses, request_rops=requests, errors=[])
    return _CountingRop.reads


def test_pairing_is_linear():
    """3: each response finds its request through an index, not a scan of the requests."""
    small, large = _pairing_reads(500), _pairing_reads(2000)
    assert large <= 4.5 * small


def test_the_rop_budget_stops_a_list():
    data = build(RopList("request"), [adversarial.RELEASE] * (MAX_ROPS + 50))
    record = Decoder()  # parse_body gives every body its budget
    from mapiwire.dissect.decode import parse_body
    errors: list = []
    rops = parse_body(RopList("request"), data, errors, "request")
    assert len(rops) == MAX_ROPS + 1 and "Undecoded" in rops[-1] and record is not None
    assert errors[0]["offset"] == 3 * MAX_ROPS and "decoding budget" in errors[0]["error"]


def _profile_events(fn) -> int:
    count = 0

    def tick(frame, event, arg):
        nonlocal count
        count += 1

    sys.setprofile(tick)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return count


def test_reassembly_of_many_pieces_is_linear(tmp_path):
    """6: after a lost segment, n one-byte segments cost n times one, however many are buffered."""
    costs = []
    for n in (2000, 8000):
        path = adversarial.reassembly_pcapng(str(tmp_path / f"r{n}.pcapng"), segments=n)
        costs.append(_profile_events(lambda: list(read_exchanges(path))))
    assert costs[1] <= 4.5 * costs[0]


def test_session_state_stays_bounded(monkeypatch):
    """5: column sets on handles never released: the memory the session state holds stops
    growing at the bound (tracemalloc from the 11th exchange, the same at 20 and at 80), and the
    record that made the session forget something says so."""
    monkeypatch.setattr(context_module, "MAX_STATE", 1_000)
    session = adversarial._session()
    columns = [{"PropertyType": 0x0003, "PropertyId": 0x3001 + i} for i in range(100)]
    request = None
    for number in range(80):  # one request body, a new handle in each response
        exchange = adversarial._execute(
            session, [{"RopId": 0x12, "LogonId": 0, "InputHandleIndex": 0, "SetColumnsFlags": 0,
                       "PropertyValueCount": 100, "PropertyTags": columns}] if request is None else [],
            [{"RopId": 0x12, "InputHandleIndex": 0, "ReturnValue": 0, "TableStatus": 0}],
            request_handles=[0x1000], response_handles=[0x1000 + number], raw_request=request)
        request = exchange.request.body
    decoder = Decoder()
    notes = []
    kept = []
    try:
        for number, exchange in enumerate(session.exchanges, 1):
            if number == 11:
                tracemalloc.start()
            record = decoder.decode(exchange)
            notes.append(any("session state over its bound" in e["error"] for e in record["errors"]))
            if number in (20, 80):  # what the session state allocated and still holds
                snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, context_module.__file__)])
                kept.append(sum(stat.size for stat in snapshot.statistics("filename")))
    finally:
        tracemalloc.stop()
    assert notes[:10] == [False] * 10 and all(notes[10:])
    ctx = decoder.sessions["ctx-adversarial"]
    assert ctx.cost <= 1_000 and len(ctx.columns) == 10
    assert kept[1] < kept[0] * 1.5
