"""Delay before the next attempt: exponential, capped, with deterministic per-task jitter.

    base(n)  = min(maxSeconds, initialSeconds * factor ** (n - 1))      n = the attempt that just failed
    delay(n) = max(1, base(n) * scale(uid)),   scale(uid) = 1 - jitter * u(uid),  u(uid) in [0, 1)

``u`` comes from a hash of the task's uid, so it is fixed per task: every delay of a task is shortened by the
same fraction. Hence delays never exceed maxSeconds (scale <= 1), are monotone non-decreasing in n (base is,
and scale is constant), and tasks that failed together (same n) still spread over (1 - jitter, 1] times the
delay, at the cap too. Jitter only ever shortens.
"""

from __future__ import annotations

import hashlib
import math

from scribe_operator.kinds.task.api.retry import Backoff

MIN_DELAY_SECONDS = 1.0


def base_delay(backoff: Backoff, attempt: int) -> float:
    """The un-jittered delay after attempt ``attempt`` (1-based) failed."""
    steps = max(attempt, 1) - 1
    if backoff.factor > 1 and steps * math.log(backoff.factor) >= math.log(
        backoff.max_seconds / backoff.initial_seconds
    ):
        return float(backoff.max_seconds)
    return float(min(backoff.max_seconds, backoff.initial_seconds * backoff.factor**steps))


def jitter_fraction(uid: str) -> float:
    """``u(uid)`` in [0, 1): a stable hash of the task uid."""
    digest = hashlib.sha256(uid.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def backoff_delay(backoff: Backoff, attempt: int, uid: str) -> float:
    """Seconds to wait after attempt ``attempt`` failed before starting the next one."""
    scale = 1.0 - backoff.jitter * jitter_fraction(uid)
    return max(MIN_DELAY_SECONDS, base_delay(backoff, attempt) * scale)
