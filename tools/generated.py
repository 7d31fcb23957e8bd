"""How every generator in tools/ ends: write the generated text, or with --check tell whether the
checked-in file is still exactly it (the tests run the --check)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, argv: list[str], tool: str) -> int:
    """Exit status: with --check 1 when `path` is missing or differs from `text`; else write it."""
    if "--check" in argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is stale: run python tools/{tool}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path} ({text.count(chr(10))} lines)")
    return 0
