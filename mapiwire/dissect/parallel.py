"""Decoding on several cores (DESIGN.md principle 6: sessions are independent).

The reader stays in this process; each exchange goes to the worker that owns its session (the
same key the decoder uses, so one session's state lives in one worker); workers decode and
render, and the output comes back in capture order. Queues are bounded: memory stays flat.

A worker never leaves the run waiting: the decoder turns its own failures into `errors`
entries, anything else a worker raises comes back as a message, and a worker that dies (killed,
out of memory) is noticed by watching the processes while waiting. Both end the run with a
one-line `MapiwireError`.
"""

from __future__ import annotations

import multiprocessing
import queue
import zlib
from collections.abc import Callable, Iterable, Iterator

from ..errors import MapiwireError
from .decode import Decoder, is_record, session_key
from .exchange import Exchange

BATCH = 32  # exchanges per message to a worker
QUEUED_BATCHES = 8  # per worker
POLL = 0.2  # seconds between looks at the workers' liveness while waiting on a queue


class WorkerFailed(MapiwireError):
    """A decoding worker raised or died: the run cannot give every record."""


def _render(render: Callable[[dict], str | None], record: dict | None) -> str | None:
    return render(record) if record is not None else None


def _work(number: int, inbox, outbox, render: Callable[[dict], str | None], strict: bool,
          hex_bodies: bool = False) -> None:
    """Decode and render batches until the None batch; report a failure instead of dying."""
    try:
        decoder = Decoder(strict=strict, hex_bodies=hex_bodies)
        while True:
            batch = inbox.get()
            if batch is None:
                outbox.put((number, "done", None))
                return
            outbox.put((number, "results", [(index, _render(render, decoder.decode(exchange, index=index)))
                                            for index, exchange in batch]))
    except BaseException as exc:  # noqa: B036 - whatever it is, the main process must hear of it
        line = (str(exc).strip().splitlines() or [""])[-1][:300]
        outbox.put((number, "failed", f"{type(exc).__name__}: {line}"))


def decode_rendered(exchanges: Iterable[Exchange], render: Callable[[dict], str | None], workers: int,
                    strict: bool = False, hex_bodies: bool = False) -> Iterator[str]:
    """The rendered records of `exchanges`, in order (`render` returns None to leave one out).
    `render` must be a module-level function (it runs in the workers). Raises WorkerFailed
    when a worker fails or dies."""
    if workers <= 1:
        decoder = Decoder(strict=strict, hex_bodies=hex_bodies)
        index = 0
        for exchange in exchanges:
            if not is_record(exchange):
                continue
            text = _render(render, decoder.decode(exchange, index=index))
            index += 1
            if text is not None:
                yield text
        return
    yield from _Pool(render, workers, strict, hex_bodies).run(exchanges)


class _Pool:
    """The worker processes, their queues, and the records waiting for their turn."""

    def __init__(self, render, workers: int, strict: bool, hex_bodies: bool = False):
        context = multiprocessing.get_context("fork")
        self.outbox = context.Queue()
        self.inboxes = [context.Queue(QUEUED_BATCHES) for _ in range(workers)]
        self.processes = [context.Process(target=_work, args=(n, inbox, self.outbox, render, strict, hex_bodies),
                                          daemon=True)
                          for n, inbox in enumerate(self.inboxes)]
        self.running = set(range(workers))
        self.pending: dict[int, str | None] = {}
        self.next_index = 0

    def run(self, exchanges: Iterable[Exchange]) -> Iterator[str]:
        workers = len(self.processes)
        batches: list[list] = [[] for _ in range(workers)]
        for process in self.processes:
            process.start()
        try:
            index = 0
            for exchange in exchanges:
                if not is_record(exchange):
                    continue
                shard = zlib.crc32(session_key(exchange).encode()) % workers
                batches[shard].append((index, exchange))
                index += 1
                if len(batches[shard]) >= BATCH:
                    self._send(shard, batches[shard])
                    batches[shard] = []
                    self._collect(block=False)
                    yield from self._ready()
            for shard, batch in enumerate(batches):
                if batch:
                    self._send(shard, batch)
                self._send(shard, None)
            while self.running:
                self._collect(block=True)
                yield from self._ready()
            yield from self._ready()
        finally:
            for inbox in self.inboxes:  # what a stopped worker never read must not hold the exit
                inbox.cancel_join_thread()
            for process in self.processes:
                if process.is_alive():
                    process.terminate()
                process.join()

    def _send(self, shard: int, batch) -> None:
        """Put a batch in a worker's inbox, waiting while it is full but never on a dead worker."""
        while True:
            try:
                self.inboxes[shard].put(batch, timeout=POLL)
                return
            except queue.Full:
                self._collect(block=False)
                self._check()

    def _collect(self, block: bool) -> None:
        """Take the finished batches that are there, or (block) wait for one, watching the workers."""
        while self.running:
            try:
                message = self.outbox.get(timeout=POLL) if block else self.outbox.get_nowait()
            except queue.Empty:
                if not block:
                    return
                self._check()
                continue
            self._take(message)
            if block:
                return

    def _take(self, message) -> None:
        number, kind, payload = message
        if kind == "results":
            self.pending.update(payload)
        elif kind == "done":
            self.running.discard(number)
        else:
            raise WorkerFailed(f"decoding worker {number} failed: {payload}")

    def _check(self) -> None:
        """A worker that is gone without saying it is done has died: after taking what it sent
        before dying (its messages are all in the pipe once it has exited), fail the run."""
        dead = [n for n in self.running if self.processes[n].exitcode is not None]
        if not dead:
            return
        while True:
            try:
                self._take(self.outbox.get(timeout=POLL))
            except queue.Empty:
                break
        for number in dead:
            if number in self.running:
                raise WorkerFailed(f"decoding worker {number} died (exit code {self.processes[number].exitcode})")

    def _ready(self) -> Iterator[str]:
        while self.next_index in self.pending:
            text = self.pending.pop(self.next_index)
            self.next_index += 1
            if text is not None:
                yield text
