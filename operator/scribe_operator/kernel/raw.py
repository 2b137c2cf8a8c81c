"""Reading the loosely typed JSON objects the API server sends (watch events, GETs): every accessor returns a value
of the type asked for, or an empty one, and never raises."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_text(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def int_label(metadata: Any, key: str) -> int | None:
    """The value of label ``key`` in raw ``metadata`` as an integer; None when it is absent or not one."""
    try:
        return int(str(as_mapping(as_mapping(metadata).get("labels")).get(key)))
    except ValueError:
        return None


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time from the API (``2026-01-01T12:00:00Z``) or a datetime, timezone-aware; None if absent or
    bad."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
