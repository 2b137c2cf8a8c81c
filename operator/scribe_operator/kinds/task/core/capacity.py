"""Capacity: how many attempts may run at once (operator-wide and per namespace) and which waiting tasks get the
free slots. Pure: the controller feeds it what its watches hold.

Attempts running are counted from pods (attempt pods not terminated, of any task) plus the launches the operator
has just made whose pods the watch has not delivered yet: never from memory alone, so the limit holds across
restarts. Tasks that want to start an attempt wait in one order: ``spec.priority`` (higher first), then
creationTimestamp, then namespace and name. Slots go to the first waiting tasks in that order, each taking one
operator-wide and one in its namespace; a task whose namespace is full does not block the tasks behind it from
other namespaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from scribe_operator.api.meta import ObjectKey
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.observed import CapacityVerdict

OPERATOR_CAPACITY: Final = "OperatorCapacity"
NAMESPACE_CAPACITY: Final = "NamespaceCapacity"
ADMITTED_VERDICT: Final = CapacityVerdict(admitted=True)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_WAITING_PHASES: Final = frozenset({None, Phase.PENDING, Phase.QUEUED})


@dataclass(frozen=True)
class Limits:
    """Most attempts running at once; 0 means unlimited."""

    total: int = 0
    per_namespace: int = 0

    @property
    def limited(self) -> bool:
        return self.total > 0 or self.per_namespace > 0


@dataclass(frozen=True)
class RunningAttempts:
    """Attempts running now: in all, and per namespace."""

    total: int = 0
    by_namespace: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def count(cls, namespaces: Iterable[str]) -> RunningAttempts:
        """The usage of one running attempt per item of ``namespaces``."""
        by_namespace: dict[str, int] = {}
        for ns in namespaces:
            by_namespace[ns] = by_namespace.get(ns, 0) + 1
        return cls(sum(by_namespace.values()), by_namespace)


@dataclass(frozen=True)
class Waiting:
    """A task in the queue for a slot. ``due_at``: it wants one from then on (a retry's retryAt); None: now."""

    namespace: str
    name: str
    priority: int = 0
    created_at: datetime = _EPOCH
    due_at: datetime | None = None

    @property
    def key(self) -> ObjectKey:
        return (self.namespace, self.name)

    @property
    def order(self) -> tuple[int, datetime, str, str]:
        """Sort key: higher priority first, then older, then namespace and name."""
        return (-self.priority, self.created_at, self.namespace, self.name)

    def due(self, now: datetime) -> bool:
        return self.due_at is None or self.due_at <= now


def queue_entry(task: TranscriptionTask, due_at: datetime | None = None) -> Waiting:
    """``task``'s place in the queue."""
    meta = task.metadata
    return Waiting(
        namespace=meta.namespace or "",
        name=meta.name,
        priority=task.spec.priority,
        created_at=meta.creation_timestamp or _EPOCH,
        due_at=due_at,
    )


def waiting_entry(task: TranscriptionTask) -> Waiting | None:
    """``task``'s place in the queue if it is waiting to start an attempt (new, Pending or Queued), or will at its
    retryAt (Retrying); None while an attempt runs, once terminal, or while being deleted."""
    status = task.status
    if task.metadata.deletion_timestamp is not None or status.terminal:
        return None
    if status.phase in _WAITING_PHASES:
        return queue_entry(task)
    if status.phase is Phase.RETRYING:
        return queue_entry(task, status.retry_at)
    return None


class _Slots:
    """Free slots, operator-wide and per namespace, handed out one by one."""

    def __init__(self, usage: RunningAttempts, limits: Limits) -> None:
        self.usage, self.limits = usage, limits
        self.taken = 0
        self.taken_in: dict[str, int] = {}

    def free(self) -> bool:
        return not self.limits.total or self.usage.total + self.taken < self.limits.total

    def free_in(self, namespace: str) -> bool:
        if not self.limits.per_namespace:
            return True
        running = self.usage.by_namespace.get(namespace, 0) + self.taken_in.get(namespace, 0)
        return running < self.limits.per_namespace

    def take(self, namespace: str) -> bool:
        """Take a slot for a task of ``namespace`` if there is one."""
        if not (self.free() and self.free_in(namespace)):
            return False
        self.taken += 1
        self.taken_in[namespace] = self.taken_in.get(namespace, 0) + 1
        return True


def admitted(queue: Iterable[Waiting], usage: RunningAttempts, limits: Limits, now: datetime) -> Iterator[Waiting]:
    """The waiting tasks that get the free slots now, in order. ``queue`` must be in ``Waiting.order``."""
    slots = _Slots(usage, limits)
    for entry in queue:
        if not slots.free():
            return
        if entry.due(now) and slots.take(entry.namespace):
            yield entry


def verdict(
    target: Waiting, queue: Iterable[Waiting], usage: RunningAttempts, limits: Limits, now: datetime
) -> CapacityVerdict:
    """Whether ``target`` (due now) gets a slot, after the tasks before it in ``queue`` (in ``Waiting.order``;
    ``target`` is placed by its own order whether it is in the queue or not)."""
    slots = _Slots(usage, limits)
    for entry in queue:
        if entry.key == target.key or not entry.due(now):
            continue
        if entry.order > target.order:
            break
        slots.take(entry.namespace)
    if slots.take(target.namespace):
        return ADMITTED_VERDICT
    if not slots.free():
        message = f"{usage.total} of {limits.total} attempts running operator-wide{_earlier(slots.taken)}"
        return CapacityVerdict(False, OPERATOR_CAPACITY, message)
    ns = target.namespace
    running, earlier = usage.by_namespace.get(ns, 0), _earlier(slots.taken_in.get(ns, 0))
    message = f"{running} of {limits.per_namespace} attempts running in namespace {ns}{earlier}"
    return CapacityVerdict(False, NAMESPACE_CAPACITY, message)


def _earlier(n: int) -> str:
    if not n:
        return ""
    return f"; {n} earlier {'task starts' if n == 1 else 'tasks start'} first"
