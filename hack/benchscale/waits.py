"""Progress lines and bounded waits: every wait of the benchmark names what it waits for and gives up after a
timeout, saying what it last saw."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def log(msg: str) -> None:
    """A progress line on stderr (stdout carries the results)."""
    print(f"[bench-scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait(
    what: str,
    probe: Callable[[], bool],
    timeout: float,
    interval: float = 0.5,
    *,
    last: Callable[[], str] | None = None,
) -> None:
    """Call ``probe`` every ``interval`` seconds until it is true; after ``timeout`` seconds raise ``TimeoutError``
    naming ``what`` and, when given, what ``last()`` says is still missing."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            detail = f"; still: {last()}" if last is not None else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)
