"""The progress bar measures bytes read from the file (issue 8 point 12)."""

import os

from mapiwire.dissect.sources import Progress, open_capture

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SESSION = os.path.join(ROOT, "captures", "outlook-session.pcapng")


def test_position_follows_the_file():
    progress = Progress()
    positions = [progress.tell() for _ in open_capture(SESSION, progress=progress)]
    size = os.path.getsize(SESSION)
    assert positions == sorted(positions) and positions[-1] > size * 0.95
    assert positions[len(positions) // 2] > size // 4  # the middle exchange is well into the file, not at 6 %


def test_readers_that_cannot_tell_leave_it_unset():
    progress = Progress()
    list(open_capture(os.path.join(ROOT, "captures", "serve-day.har"), progress=progress))
    assert progress.tell is None
