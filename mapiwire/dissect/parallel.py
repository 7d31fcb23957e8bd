"""Decoding on several cores (DESIGN.md principle 6: sessions are independent).

Each record goes to the worker that owns its session (the key the decoder uses, so one
session's state lives in one worker); workers decode and render, and this process merges the
rendered text back into capture order. The workers are fed in one of two ways:

- a file that can be read again (a pcap through our own reader): every worker reads the whole
  capture itself and decodes only its own sessions' records; nothing but rendered text crosses
  a process boundary, and this process does little more than write;
- anything else (TLS through tshark, HAR, SAZ, an iterator): this process reads, and sends each
  worker its own records.

Records are numbered in capture order (`is_record`) and cut into steps of `STEP` records per
worker; each worker answers every step with one message, the text of its records in that step
(maybe none). So this process merges one step at a time and holds one step, whatever the size of
the capture. Every other buffer is bounded too: a worker writes its answers straight into a pipe
and waits while the pipe is full (it runs ahead of the merge by PIPE_BYTES at most), and this
process keeps at most WINDOW steps in flight to the workers it feeds, taking the answers to the
oldest before it sends a new one. Nothing can wait in a circle: this process never blocks on a
send (each inbox's feeder thread writes), and it only ever waits for the oldest answer of one
worker, which that worker writes before any later one.

A worker never leaves the run waiting: the decoder turns its own failures into `errors`
entries, anything else a worker raises comes back as a message (a MapiwireError of the reader as
itself, as one process would raise it), and a worker that dies (killed, out of memory) is seen at
once through its process sentinel. Both end the run with a one-line error.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import zlib
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait

from ..errors import MapiwireError
from .decode import Decoder, is_record, session_key
from .exchange import Exchange

STEP = 32  # records per worker in one step, the unit of the merge
WINDOW = 8  # steps in flight to the workers this process feeds
PIPE_BYTES = 1 << 20  # answers a worker may write ahead of the merge (Linux's default pipe-max-size)

Reader = Callable[[bool], Iterable[Exchange]]


class WorkerFailed(MapiwireError):
    """A decoding worker raised or died: the run cannot give every record."""


def decode_rendered(exchanges: Iterable[Exchange] | Reader, render: Callable[[dict], str | None], workers: int,
                    strict: bool = False, hex_bodies: bool = False) -> Iterator[str]:
    """The rendered records of `exchanges`, in order (`render` returns None to leave one out).

    `exchanges` is the exchanges, or, for a file that can be read again, a function that reads
    them: each worker then calls it itself, `exchanges(True)` in one worker (the place for a
    progress bar, notes, checks that must happen once), `exchanges(False)` in the others.
    `render` must be a module-level function (it runs in the workers). Raises WorkerFailed
    when a worker fails or dies."""
    if workers <= 1:
        if callable(exchanges):
            exchanges = exchanges(True)
        decoder = Decoder(strict=strict, hex_bodies=hex_bodies)
        for index, exchange in _numbered(exchanges):
            text = _render(render, decoder.decode(exchange, index=index))
            if text is not None:
                yield text
        return
    pool = _Pool(workers, render, strict, hex_bodies)
    if callable(exchanges):
        yield from pool.run_readers(exchanges)
    else:
        yield from pool.run_fed(exchanges)


def _render(render: Callable[[dict], str | None], record: dict | None) -> str | None:
    return render(record) if record is not None else None


def _numbered(exchanges: Iterable[Exchange]) -> Iterator[tuple[int, Exchange]]:
    """The exchanges that are records, with their index in capture order."""
    index = 0
    for exchange in exchanges:
        if is_record(exchange):
            yield index, exchange
            index += 1


def _shard(exchange: Exchange, workers: int) -> int:
    return zlib.crc32(session_key(exchange).encode()) % workers


def _own_steps(exchanges: Iterable[Exchange], number: int, workers: int) -> Iterator[list]:
    """From the whole capture, worker `number`'s (index, exchange) pairs, one list per step of
    STEP * workers records (the same steps as `_Pool.run_fed` cuts), the last one maybe empty."""
    size = STEP * workers
    mine: list = []
    end = size
    for index, exchange in _numbered(exchanges):
        if index == end:
            yield mine
            mine, end = [], end + size
        if _shard(exchange, workers) == number:
            mine.append((index, exchange))
    yield mine


def _work(number: int, steps: Callable[[], Iterable[list]], answers, inherited: list, render, strict: bool,
          hex_bodies: bool) -> None:
    """Decode and render each step's records, answering each step with one message, then "done";
    report a failure instead of dying."""
    for connection in inherited:  # this process's ends of the pipes: a worker holding one would
        connection.close()  # not see the main process go (EPIPE), nor would it see its siblings die
    try:
        decoder = Decoder(strict=strict, hex_bodies=hex_bodies)
        for step in steps():
            texts = []
            for index, exchange in step:
                text = _render(render, decoder.decode(exchange, index=index))
                if text is not None:
                    texts.append((index, text))
            answers.send(("step", texts))
        answers.send(("done", None))
    except BaseException as exc:  # noqa: B036 - whatever it is, the main process must hear of it
        line = (str(exc).strip().splitlines() or [""])[-1][:300]
        for payload in ((exc, f"{type(exc).__name__}: {line}") if isinstance(exc, MapiwireError)
                        else (f"{type(exc).__name__}: {line}",)):
            try:
                answers.send(("failed", payload))
                return
            except BrokenPipeError:
                return  # the main process is gone: nobody to tell
            except Exception:  # noqa: BLE001 - an exception that does not pickle: its line instead
                continue


class _Pool:
    """The worker processes, the pipes of their answers and, when this process reads, their inboxes."""

    def __init__(self, workers: int, render, strict: bool, hex_bodies: bool):
        self.context = multiprocessing.get_context("fork")
        self.workers = workers
        self.work_args = (render, strict, hex_bodies)
        self.answers: list = []
        self.processes: list = []
        self.inboxes: list = []

    def _start(self, steps_of: Callable[[int], Callable[[], Iterable[list]]]) -> None:
        """Start the workers one by one, each with its own answers pipe."""
        for number in range(self.workers):
            receiver, sender = self.context.Pipe(duplex=False)
            try:
                fcntl.fcntl(sender.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except (OSError, AttributeError):
                pass  # the default size (64 KiB) only means less slack
            self.answers.append(receiver)
            process = self.context.Process(target=_work, daemon=True,
                                           args=(number, steps_of(number), sender, list(self.answers),
                                                 *self.work_args))
            process.start()
            sender.close()  # the worker's end: no other worker forked later holds it
            self.processes.append(process)

    def run_readers(self, read: Reader) -> Iterator[str]:
        """Each worker reads the capture itself and decodes its own records."""
        workers = self.workers

        def steps_of(number: int) -> Callable[[], Iterable[list]]:
            return lambda: _own_steps(read(number == 0), number, workers)

        try:
            self._start(steps_of)
            while True:
                kinds, texts = self._step()
                if kinds == {"done"}:
                    return
                if kinds != {"step"}:
                    raise WorkerFailed("the workers read different captures: the file changed while it was read")
                yield from texts
        finally:
            self._stop()

    def run_fed(self, exchanges: Iterable[Exchange]) -> Iterator[str]:
        """This process reads and sends each worker its records of each step."""
        self.inboxes = [self.context.Queue() for _ in range(self.workers)]  # bounded by WINDOW, not by size:
        size = STEP * self.workers  # so that a put never waits

        def steps_of(number: int) -> Callable[[], Iterable[list]]:
            return lambda: iter(self.inboxes[number].get, None)

        try:
            self._start(steps_of)
            in_flight = 0
            step: list[list] = [[] for _ in range(self.workers)]
            for index, exchange in _numbered(exchanges):
                step[_shard(exchange, self.workers)].append((index, exchange))
                if index % size == size - 1:
                    self._send(step)
                    step = [[] for _ in range(self.workers)]
                    in_flight += 1
                    if in_flight == WINDOW:
                        yield from self._step()[1]
                        in_flight -= 1
            if any(step):
                self._send(step)
                in_flight += 1
            self._send([None] * self.workers)
            for _ in range(in_flight):
                yield from self._step()[1]
            if self._step()[0] != {"done"}:
                raise WorkerFailed("a decoding worker answered a step it was not sent")
        finally:
            self._stop()

    def _send(self, step: list) -> None:
        for inbox, batch in zip(self.inboxes, step):
            inbox.put(batch)

    def _step(self) -> tuple[set[str], list[str]]:
        """The next message of every worker: their kinds, and the texts of the step in capture order."""
        kinds, texts = set(), []
        for number in range(self.workers):
            kind, payload = self._next(number)
            kinds.add(kind)
            if kind == "step":
                texts.extend(payload)
        texts.sort(key=lambda pair: pair[0])
        return kinds, [text for _, text in texts]

    def _next(self, number: int) -> tuple[str, object]:
        """The next message of a worker, waiting for it as long as the worker lives."""
        answers, process = self.answers[number], self.processes[number]
        wait([answers, process.sentinel])
        try:
            if not answers.poll():
                raise EOFError
            kind, payload = answers.recv()
        except (EOFError, OSError):
            process.join()
            raise WorkerFailed(f"decoding worker {number} died (exit code {process.exitcode})") from None
        if kind != "failed":
            return kind, payload
        if isinstance(payload, MapiwireError):
            raise payload
        raise WorkerFailed(f"decoding worker {number} failed: {payload}")

    def _stop(self) -> None:
        for inbox in self.inboxes:  # what a stopped worker never read must not hold the exit
            inbox.cancel_join_thread()
        for process in self.processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for answers in self.answers:
            answers.close()
