"""Per-key exponential backoff of failed reconciles, as client-go's ``ItemExponentialFailureRateLimiter``.

The n-th failure in a row of one key waits ``base * 2**(n-1)`` seconds, never more than ``cap``; a success (or the
object going away) forgets the key, so its next failure waits ``base`` again. Keys are independent: one object that
keeps failing backs off without slowing the retries of any other.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

_MAX_EXPONENT = 62  # 2**62 seconds is past any cap; keeps the arithmetic finite however long a key fails


@dataclass
class ItemBackoff(Generic[K]):
    """Delays for the failures of each key: ``base``, ``2 * base``, ``4 * base``, ... up to ``cap`` seconds."""

    base: float
    cap: float
    failures: dict[K, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={self.base} cap={self.cap}")

    def when(self, key: K) -> float:
        """Count one more failure of ``key``; the seconds to wait before its retry."""
        n = self.failures.get(key, 0)
        self.failures[key] = n + 1
        return min(self.cap, self.base * 2.0 ** min(n, _MAX_EXPONENT))

    def retries(self, key: K) -> int:
        """Failures of ``key`` in a row so far."""
        return self.failures.get(key, 0)

    def forget(self, key: K) -> None:
        """``key`` succeeded (or is gone): its next failure waits ``base`` again."""
        self.failures.pop(key, None)
