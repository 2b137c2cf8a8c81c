"""Time as the decision cores write and schedule it. Pure: every function is handed the time it works with.

Times written to status have whole seconds (:func:`stamp`), so re-deriving a status from an unchanged state changes
nothing; a wake-up rounded up (:func:`ceil_stamp`) never comes before the moment it stands for. Text uses the API's
RFC 3339 form with ``Z`` (:func:`iso`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import overload


def aware(moment: datetime) -> datetime:
    """``moment`` with a timezone: a naive time is taken as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stamp(moment: datetime) -> datetime:
    """``moment`` cut to whole seconds, as times are written to status."""
    return moment.replace(microsecond=0)


def ceil_stamp(moment: datetime) -> datetime:
    """``moment`` rounded up to whole seconds."""
    return moment if moment.microsecond == 0 else stamp(moment) + timedelta(seconds=1)


@overload
def iso(moment: datetime) -> str: ...


@overload
def iso(moment: None) -> None: ...


@overload
def iso(moment: datetime | None) -> str | None: ...


def iso(moment: datetime | None) -> str | None:
    """``2026-01-01T12:00:00Z`` (None stays None)."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def requeue_after(wake_at: Iterable[datetime], now: datetime) -> float | None:
    """Seconds from ``now`` until the earliest of ``wake_at`` (0 when it has come); None when there is none."""
    wake = min(wake_at, default=None)
    return None if wake is None else max(0.0, (wake - now).total_seconds())
