"""Decoding on several cores (DESIGN.md principle 6: sessions are independent).

The reader stays in this process; each exchange goes to the worker that owns its session (the
same key the decoder uses, so one session's state lives in one worker); workers decode and
render, and the output comes back in capture order. Queues are bounded: memory stays flat.
"""

from __future__ import annotations

import multiprocessing
import queue
import zlib
from collections.abc import Callable, Iterable, Iterator

from .decode import Decoder, is_record, session_key
from .exchange import Exchange

BATCH = 32  # exchanges per message to a worker
QUEUED_BATCHES = 8  # per worker


def _work(inbox, outbox, render: Callable[[dict], str | None], strict: bool) -> None:
    decoder = Decoder(strict=strict)
    while True:
        batch = inbox.get()
        if batch is None:
            outbox.put(None)
            return
        results = []
        for index, exchange in batch:
            record = decoder.decode(exchange, index=index)
            results.append((index, render(record) if record is not None else None))
        outbox.put(results)


def decode_rendered(exchanges: Iterable[Exchange], render: Callable[[dict], str | None], workers: int,
                    strict: bool = False) -> Iterator[str]:
    """The rendered records of `exchanges`, in order (`render` returns None to leave one out).
    `render` must be a module-level function (it runs in the workers)."""
    if workers <= 1:
        decoder = Decoder(strict=strict)
        for exchange in exchanges:
            record = decoder.decode(exchange)
            text = render(record) if record is not None else None
            if text is not None:
                yield text
        return
    context = multiprocessing.get_context("fork")
    outbox = context.Queue()
    inboxes = [context.Queue(QUEUED_BATCHES) for _ in range(workers)]
    processes = [context.Process(target=_work, args=(inbox, outbox, render, strict), daemon=True)
                 for inbox in inboxes]
    for process in processes:
        process.start()
    pending: dict[int, str | None] = {}
    next_index = 0
    batches: list[list] = [[] for _ in range(workers)]
    running = workers

    def drain(block: bool):
        """Collect finished batches: all that are there, or (block) wait for one."""
        nonlocal running
        while running:
            try:
                results = outbox.get(block=block)
            except queue.Empty:
                return
            if results is None:
                running -= 1
            else:
                pending.update(results)
            if block:
                return

    def ready():
        nonlocal next_index
        while next_index in pending:
            text = pending.pop(next_index)
            next_index += 1
            if text is not None:
                yield text

    try:
        index = 0
        for exchange in exchanges:
            if not is_record(exchange):
                continue
            shard = zlib.crc32(session_key(exchange).encode()) % workers
            batches[shard].append((index, exchange))
            index += 1
            if len(batches[shard]) >= BATCH:
                inboxes[shard].put(batches[shard])
                batches[shard] = []
                drain(block=False)
                yield from ready()
        for shard, batch in enumerate(batches):
            if batch:
                inboxes[shard].put(batch)
            inboxes[shard].put(None)
        while running:
            drain(block=True)
            yield from ready()
        yield from ready()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
