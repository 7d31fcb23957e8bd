"""Live capture from an interface: dumpcap writes pcapng to a pipe, the streaming pcap reader
reads it, each exchange comes out as soon as its response ends.

With a TLS key log, tshark captures instead (`-i IFACE -l`) and decrypts with the key log,
which it reads again as it grows (new secrets appear as Outlook opens connections), through
the same path as `tls.read_exchanges`. Ctrl-C ends the capture, not the reading: the capture
process stops, the pipe ends, and the reader hands out what it still holds (requests without
their response included); a second Ctrl-C interrupts.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from typing import Iterator

from ...errors import MalformedError
from ..exchange import Exchange


def capture_command(interface: str, capture_filter: str | None = None) -> list[str]:
    """dumpcap writing pcapng to stdout (dumpcap writes each packet through at once)."""
    cmd = ["dumpcap", "-q", "-i", interface, "-w", "-"]
    if capture_filter:
        cmd += ["-f", capture_filter]
    return cmd


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        raise MalformedError(f"{tool} is needed for live capture and was not found on PATH "
                             "(Debian: apt-get install tshark)", where=tool)


class _Interrupt:
    """While capturing, SIGINT stops the capture process instead of raising (main thread only)."""

    def __init__(self):
        self.previous = None

    def watch(self, proc: subprocess.Popen) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def stop(signum, frame):
            signal.signal(signal.SIGINT, self.previous)
            proc.terminate()

        self.previous = signal.signal(signal.SIGINT, stop)

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def live_exchanges(interface: str, capture_filter: str | None = None,
                   keylog: str | None = None) -> Iterator[Exchange]:
    """Exchanges captured on `interface` (BPF `capture_filter`) until the capture ends or the
    consumer stops; held back by nothing (an exchange is handed out when its response ends)."""
    interrupt = _Interrupt()
    try:
        if keylog is not None:
            yield from _tshark(interface, capture_filter, os.fspath(keylog), interrupt)
        else:
            yield from _dumpcap(interface, capture_filter, interrupt)
    finally:
        interrupt.restore()


def _tshark(interface, capture_filter, keylog, interrupt) -> Iterator[Exchange]:
    _need("tshark")
    from .http import MAX_BODY
    from .tls import _run, _Tracker, tshark_command

    command = tshark_command(None, keylog, interface=interface, capture_filter=capture_filter)
    yield from _run(command, _Tracker(MAX_BODY, 0), started=interrupt.watch)


def _dumpcap(interface, capture_filter, interrupt) -> Iterator[Exchange]:
    _need("dumpcap")
    from .pcap import read_exchanges

    proc = subprocess.Popen(capture_command(interface, capture_filter), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    interrupt.watch(proc)
    try:
        try:
            exchanges = read_exchanges(proc.stdout, max_hold=0)
        except MalformedError:
            proc.wait(5)
            problem = proc.stderr.read(4096).decode("utf-8", "replace").strip().splitlines()
            raise MalformedError(f"dumpcap could not capture on {interface}: "
                                 f"{problem[-1] if problem else 'no output'}", where="dumpcap") from None
        yield from exchanges
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()
