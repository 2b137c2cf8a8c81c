"""Messages and lists cut to what the API objects keep: a clipped text ends in ``…``, a clipped listing says how
many were left out."""

from __future__ import annotations

from collections.abc import Sequence

_ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """``text``, or its first ``limit - 1`` characters and ``…`` when it is longer than ``limit``."""
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def listing(names: Sequence[str], limit: int = 10) -> str:
    """``a, b, c``; beyond ``limit`` names ``a, b, c and 4 more``."""
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
