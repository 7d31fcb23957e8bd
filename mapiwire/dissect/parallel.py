"""Decoding on several cores (DESIGN.md principle 6: sessions are independent).

This process reads; each record goes to the worker that owns its session (the key the decoder
uses, so one session's state lives in one worker); workers decode and render, and this process
merges the rendered text back into capture order. (Workers that each read the whole capture
themselves, so that only rendered text crosses a process boundary, were tried: each extra reading
costs more than the pickling it saves while reading a capture costs more than pickling and
unpickling its exchanges, 0.42 against 0.33 CPU s on bench/out/realistic-10mb: 10-30 % more CPU
in all with two workers.)

Records are numbered in capture order (`is_record`) and cut into steps of STEP records per
worker; each worker answers every step with one message, the text of its records in that step
(maybe none). So this process merges one step at a time and holds one step, whatever the size of
the capture. Every other buffer is bounded too: this process keeps at most WINDOW steps in
flight, taking the answers to the oldest before it sends a new one, so a worker's inbox and its
answers pipe never hold more. Nothing can wait in a circle: this process never blocks on a send
(each inbox's feeder thread writes), and it only ever waits for the oldest answer of one worker,
which that worker writes before any later one.

A worker never leaves the run waiting: the decoder turns its own failures into `errors`
entries, anything else a worker raises comes back as a message, and a worker that dies (killed,
out of memory) is seen at once through its process sentinel. Both end the run with a one-line
error.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import zlib
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait

from ..errors import MapiwireError
from .decode import Decoder, session_key
from .exchange import Exchange
from .transport import is_record

STEP = 32  # records per worker in one step, the unit of the merge
WINDOW = 8  # steps in flight to the workers this process feeds
PIPE_BYTES = 1 << 20  # answers a pipe holds (Linux's default pipe-max-size): a worker seldom waits on the merge


class WorkerFailed(MapiwireError):
    """A decoding worker raised or died: the run cannot give every record."""


def decode_rendered(exchanges: Iterable[Exchange], render: Callable[[dict], str | None], workers: int,
                    strict: bool = False, hex_bodies: bool = False) -> Iterator[str]:
    """The rendered records of `exchanges`, in order (`render` returns None to leave one out).
    `render` must be a module-level function (it runs in the workers). Raises WorkerFailed
    when a worker fails or dies."""
    if workers <= 1:
        decoder = Decoder(strict=strict, hex_bodies=hex_bodies)
        for index, exchange in _numbered(exchanges):
            text = _render(render, decoder.decode(exchange, index=index))
            if text is not None:
                yield text
        return
    yield from _Pool(workers, render, strict, hex_bodies).run(exchanges)


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


def _work(number: int, inbox, answers, inherited: list, render, strict: bool, hex_bodies: bool) -> None:
    """Decode and render each step's records, answering each step with one message, until the
    None step, then say "done"; report a failure instead of dying."""
    for connection in inherited:  # the main process's ends of the pipes: a worker holding one
        connection.close()  # would not see the main process go (EPIPE)
    try:
        decoder = Decoder(strict=strict, hex_bodies=hex_bodies)
        for step in iter(inbox.get, None):
            texts = []
            for index, exchange in step:
                text = _render(render, decoder.decode(exchange, index=index))
                if text is not None:
                    texts.append((index, text))
            answers.send(("step", texts))
        answers.send(("done", None))
    except BaseException as exc:  # noqa: B036 - whatever it is, the main process must hear of it
        line = (str(exc).strip().splitlines() or [""])[-1][:300]
        try:
            answers.send(("failed", f"{type(exc).__name__}: {line}"))
        except BrokenPipeError:
            pass  # the main process is gone: nobody to tell


class _Pool:
    """The worker processes, their inboxes and the pipes of their answers."""

    def __init__(self, workers: int, render, strict: bool, hex_bodies: bool):
        self.context = multiprocessing.get_context("fork")
        self.workers = workers
        self.work_args = (render, strict, hex_bodies)
        self.inboxes = [self.context.Queue() for _ in range(workers)]  # bounded by WINDOW, not by size:
        self.answers: list = []  # so that a put never waits
        self.processes: list = []

    def _start(self) -> None:
        """Start the workers one by one, each with its own answers pipe."""
        for number, inbox in enumerate(self.inboxes):
            receiver, sender = self.context.Pipe(duplex=False)
            try:
                fcntl.fcntl(sender.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            except (OSError, AttributeError):
                pass  # the default size (64 KiB) only means less slack
            self.answers.append(receiver)
            process = self.context.Process(target=_work, daemon=True,
                                           args=(number, inbox, sender, list(self.answers),
                                                 *self.work_args))
            process.start()
            sender.close()  # the worker's end: no other worker forked later holds it
            self.processes.append(process)

    def run(self, exchanges: Iterable[Exchange]) -> Iterator[str]:
        """Read, send each worker its records of each step, and merge the answers."""
        size = STEP * self.workers
        try:
            self._start()
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
