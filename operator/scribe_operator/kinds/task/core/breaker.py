"""The circuit breaker: when one infrastructure failure hits many distinct tasks within a window (a storage outage,
credentials gone), new attempts pause instead of spending every task's retries on it.

A small pure state machine, fed the time and what happened; the controller keeps one, operator-wide and in memory
(a restart starts it closed: it opens again on the next failures), makes the probes and passes its verdict
(:meth:`Breaker.hold`) into the decision core, which then starts no attempt::

    Closed   --(threshold distinct tasks failed with one tripping reason within the window)-->  Open
    Open     --(cooldown passed)-->  HalfOpen: one probe is due (the controller HEADs a waiting task's input)
    HalfOpen --(probe succeeded)-->  Closed (failures forgotten)
    HalfOpen --(probe failed)----->  Open, for another cooldown
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from scribe_contract.taxonomy import Reason

from scribe_operator.kinds.task.api.status import TaskStatus
from scribe_operator.kinds.task.core.observed import CircuitHold

TRIPPING_REASONS: Final = frozenset(
    {Reason.DOWNLOAD_FAILED.value, Reason.UPLOAD_FAILED.value, Reason.PRESIGN_FAILED.value}
)
"""Failure reasons that count: the storage or the signing failed, not the task. A failed input probe that is not a
404 or 403 is a DownloadFailed too; InputNotFound and InputForbidden are about the task's own input and do not."""


class BreakerState(StrEnum):
    CLOSED = "Closed"
    OPEN = "Open"
    HALF_OPEN = "HalfOpen"


@dataclass(frozen=True)
class BreakerSettings:
    threshold: int = 5
    """Distinct tasks one tripping reason must hit within the window to open the breaker; 0 disables it."""
    window_seconds: float = 60.0
    cooldown_seconds: float = 30.0
    """How long the breaker stays open before a probe (and again after a failed probe)."""


@dataclass(frozen=True)
class Breaker:
    """The breaker's state. Every method returns the next state; none reads a clock."""

    settings: BreakerSettings = field(default_factory=BreakerSettings)
    state: BreakerState = BreakerState.CLOSED
    strikes: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    """While closed: the tripping failures within the window, by (task, reason): when that task (any identifier)
    last failed with that reason."""
    reason: str | None = None
    """While open: the failure reason that opened it."""
    tasks: int = 0
    """While open: how many distinct tasks that reason hit."""
    since: datetime | None = None
    """While open: when it (re)opened."""
    probing: bool = False
    """Half-open: the one probe is under way."""

    @property
    def closed(self) -> bool:
        return self.state is BreakerState.CLOSED

    @property
    def probe_at(self) -> datetime | None:
        """When the next probe is due (None while closed)."""
        if self.closed or self.since is None:
            return None
        return self.since + timedelta(seconds=self.settings.cooldown_seconds)

    def failed(self, now: datetime, task: str, reason: str) -> Breaker:
        """An attempt of ``task`` failed with ``reason``. Only tripping reasons count, only while closed."""
        if not self.closed or reason not in TRIPPING_REASONS or self.settings.threshold <= 0:
            return self
        start = now - timedelta(seconds=self.settings.window_seconds)
        kept = {key: at for key, at in self.strikes.items() if at > start}
        strikes = {**kept, (task, reason): now}
        hit = len({struck for struck, struck_by in strikes if struck_by == reason})
        if hit >= self.settings.threshold:
            return Breaker(self.settings, BreakerState.OPEN, reason=reason, tasks=hit, since=now)
        return replace(self, strikes=strikes)

    def at(self, now: datetime) -> Breaker:
        """The breaker as time passes: an Open one whose cooldown is over is HalfOpen (a probe is due)."""
        probe_at = self.probe_at
        if self.state is BreakerState.OPEN and probe_at is not None and now >= probe_at:
            return replace(self, state=BreakerState.HALF_OPEN, probing=False)
        return self

    def probe_due(self, now: datetime) -> bool:
        current = self.at(now)
        return current.state is BreakerState.HALF_OPEN and not current.probing

    def probe_started(self, now: datetime) -> Breaker:
        current = self.at(now)
        return replace(current, probing=True) if current.state is BreakerState.HALF_OPEN else current

    def probe_finished(self, now: datetime, ok: bool) -> Breaker:
        """The probe's result: success closes the breaker (forgetting old failures), failure re-opens it."""
        if self.closed:
            return self
        if ok:
            return Breaker(self.settings)
        return replace(self, state=BreakerState.OPEN, since=now, probing=False)

    def hold(self, now: datetime) -> CircuitHold | None:
        """What the decision core is told: None while closed; else why attempts wait and when to look again."""
        current = self.at(now)
        probe_at = current.probe_at
        if current.closed or probe_at is None:
            return None
        retry_at = (
            probe_at if current.state is BreakerState.OPEN else now + timedelta(seconds=self.settings.cooldown_seconds)
        )
        message = (
            f"circuit breaker open: {current.reason} hit {current.tasks} tasks within "
            f"{_seconds(self.settings.window_seconds)}; new attempts wait until a probe of the storage succeeds"
        )
        return CircuitHold(reason=current.reason or "CircuitOpen", message=message, retry_at=retry_at)


def _seconds(value: float) -> str:
    return f"{int(value)}s" if value == int(value) else f"{value}s"


def failures_between(old: TaskStatus, new: TaskStatus) -> list[str]:
    """The reasons of the attempts that ended in failure between two statuses of one task (what to feed the
    breaker after ``new`` was written)."""
    before = {r.attempt: r for r in old.attempts}
    reasons = []
    for record in new.attempts:
        previous = before.get(record.attempt)
        if record.finished_at is None or (previous is not None and previous.finished_at is not None):
            continue
        if record.reason and record.reason != Reason.COMPLETED.value:
            reasons.append(record.reason)
    return reasons
