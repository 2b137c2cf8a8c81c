"""The controller's side of the running-attempt limits (``SCRIBE_MAX_RUNNING_ATTEMPTS``, ``..._PER_NAMESPACE``).

What runs is counted from the pods the watch holds (attempt pods not terminated, of every task) plus the launches
this process made whose pods the watch has not delivered yet: a short-lived reservation, taken when a task is
admitted, so two reconciles in a row cannot both take the last slot. Reservations end when the pod shows up, when
the reconcile that took one launched nothing, or after ``ttl``. Nothing else is remembered: after a restart the
pods alone give the count.

The waiting tasks are kept in a small ordered view (:class:`WaitQueue`), filled from the task index at startup
and updated after every reconcile; :mod:`scribe_operator.kinds.task.core.capacity` decides who gets a slot.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from scribe_operator.api.meta import ObjectKey
from scribe_operator.kinds.task.core.capacity import Limits, RunningAttempts, Waiting, admitted, verdict
from scribe_operator.kinds.task.core.observed import CapacityVerdict, ObservedPod

PodSource = Callable[[], Iterable[tuple[ObjectKey, ObservedPod]]]
"""Every attempt pod the watch holds, with the key of the task that owns it."""


class WaitQueue:
    """The tasks waiting (or, for a retry, about to wait) for a slot, in admission order."""

    def __init__(self) -> None:
        self.entries: dict[ObjectKey, Waiting] = {}
        self._order: list[tuple[tuple[int, dt.datetime, str, str], ObjectKey]] = []

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Waiting]:
        for _, key in self._order:
            yield self.entries[key]

    def set(self, key: ObjectKey, entry: Waiting | None) -> None:
        """Put ``key`` in the queue as ``entry``, or take it out (None)."""
        old = self.entries.pop(key, None)
        if old is not None:
            index = bisect.bisect_left(self._order, (old.order, key))
            if index < len(self._order) and self._order[index] == (old.order, key):
                del self._order[index]
        if entry is not None:
            self.entries[key] = entry
            bisect.insort(self._order, (entry.order, key))


@dataclass(frozen=True)
class Reservation:
    """A slot taken for ``pod`` (``namespace``) until the watch shows the pod, or until ``expires``."""

    namespace: str
    pod: str
    expires: dt.datetime


class CapacityTracker:
    def __init__(self, limits: Limits, ttl_seconds: float, pods: PodSource | None = None) -> None:
        self.limits = limits
        self.ttl = dt.timedelta(seconds=ttl_seconds)
        self.pods: PodSource = pods or (lambda: ())
        self.queue = WaitQueue()
        self.reservations: dict[ObjectKey, Reservation] = {}

    @property
    def limited(self) -> bool:
        return self.limits.limited

    def note(self, key: ObjectKey, entry: Waiting | None) -> None:
        """What the latest reconcile made of the task: waiting (or retrying) as ``entry``, or not waiting."""
        if self.limited:
            self.queue.set(key, entry)

    def usage(self, now: dt.datetime, prune: bool = False) -> RunningAttempts:
        """Attempts running: pods not terminated (nor deleted and past their grace period), plus live reservations
        whose pod the watch has not shown yet.
        ``prune``: also forget the reservations that ended (pod seen, expired)."""
        seen: set[tuple[str, str]] = set()
        running: list[str] = []
        for (namespace, _), pod in self.pods():
            seen.add((namespace, pod.name))
            if not pod.terminated and not pod.past_grace(now):
                running.append(namespace)
        for key, r in list(self.reservations.items()):
            if (r.namespace, r.pod) in seen or r.expires <= now:
                if prune:
                    self.reservations.pop(key, None)
            else:
                running.append(r.namespace)
        return RunningAttempts.count(running)

    def request(self, target: Waiting, pod: str, now: dt.datetime) -> CapacityVerdict:
        """May ``target`` start the attempt whose pod is ``pod`` now? If so, a slot is reserved for it."""
        self.release(target.key)
        usage = self.usage(now, prune=True)
        answer = verdict(target, self._waiting(), usage, self.limits, now)
        if answer.admitted:
            self.reservations[target.key] = Reservation(target.namespace, pod, now + self.ttl)
        return answer

    def release(self, key: ObjectKey) -> bool:
        """Give back ``key``'s reservation (its reconcile launched nothing); True if it had one."""
        return self.reservations.pop(key, None) is not None

    def admitted(self, now: dt.datetime) -> list[ObjectKey]:
        """The waiting tasks that would get a slot now (to wake them), in order."""
        if not self.limited:
            return []
        usage = self.usage(now, prune=True)
        return [w.key for w in admitted(self._waiting(), usage, self.limits, now)]

    def next_expiry(self) -> dt.datetime | None:
        return min((r.expires for r in self.reservations.values()), default=None)

    def _waiting(self) -> Iterator[Waiting]:
        """The queue without the tasks that hold a reservation (they are counted as running)."""
        return (w for w in self.queue if w.key not in self.reservations)
