"""Index sets in the ``"0-3,7"`` notation of ``status.succeededIndexes`` and ``status.failedIndexes`` (as in a
Kubernetes Indexed Job's completedIndexes)."""

from __future__ import annotations

from collections.abc import Iterable

from scribe_operator.kinds.batch.api.spec import MAX_BATCH_INPUTS


def format_indexes(indexes: Iterable[int]) -> str | None:
    """``{0, 1, 2, 3, 7}`` -> ``"0-3,7"``; None for no indexes."""
    ordered = sorted(set(indexes))
    if not ordered:
        return None
    parts: list[str] = []
    start = prev = ordered[0]
    for i in [*ordered[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ",".join(parts)


def parse_indexes(text: str | None, limit: int = MAX_BATCH_INPUTS) -> frozenset[int]:
    """``"0-3,7"`` -> ``{0, 1, 2, 3, 7}``; malformed parts and indexes at or beyond ``limit`` are ignored."""
    out: set[int] = set()
    for part in (text or "").split(","):
        low, sep, high = part.strip().partition("-")
        try:
            first = int(low)
            last = int(high) if sep else first
        except ValueError:
            continue
        out.update(range(max(first, 0), min(last, limit - 1) + 1))
    return frozenset(out)
