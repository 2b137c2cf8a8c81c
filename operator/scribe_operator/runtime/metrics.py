"""Prometheus metrics (served on SCRIBE_METRICS_PORT at /metrics); names and meanings in docs/metrics.md.

Counters move only when a status write succeeded, from the difference between the status before and after, so a
replayed reconcile or a refused (stale) write never counts twice. Tasks by phase are read from the watch cache at
scrape time, so they are right after a restart too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Final

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from scribe_contract.taxonomy import Reason

from scribe_operator.api.constants import PLURAL
from scribe_operator.api.notification import DeliveryState, NotificationStatus
from scribe_operator.kinds.batch.api.names import BATCH_PLURAL
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.retry import MATCHABLE_REASONS
from scribe_operator.kinds.task.api.status import Phase, TaskStatus

NOTIFICATION_RESULTS: Final = ("delivered", "failed")
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, float("inf"))

_STARTED_AT_ZERO: list[tuple[Counter, tuple[str, ...]]] = []
"""The counters by namespace, with the known values of their second label (if any): :func:`track_namespace`
creates each of their series at 0."""


def _namespace_counter(name: str, documentation: str, label: str | None = None, values: Iterable[str] = ()) -> Counter:
    """A counter by namespace (and ``label``, whose series of ``values`` are created too) of the tasks' events."""
    counter = Counter(name, documentation, ["namespace"] if label is None else ["namespace", label])
    _STARTED_AT_ZERO.append((counter, tuple(values)))
    return counter


DEAD_REASONS = (Reason.RETRIES_EXHAUSTED, *MATCHABLE_REASONS)

ATTEMPTS_STARTED = _namespace_counter("scribe_attempts_started_total", "Attempts launched (pods created).")
ATTEMPT_FAILURES = _namespace_counter(
    "scribe_attempt_failures_total", "Attempts that failed, by reason.", "reason", (r.value for r in MATCHABLE_REASONS)
)
RETRIES_SCHEDULED = _namespace_counter("scribe_retries_scheduled_total", "Retries scheduled after a failure.")
DEAD_LETTERED = _namespace_counter(
    "scribe_dead_lettered_total", "Tasks that went Dead, by reason.", "reason", (r.value for r in DEAD_REASONS)
)
SUCCEEDED = _namespace_counter("scribe_tasks_succeeded_total", "Tasks that reached Succeeded.")
NOTIFICATION_TRIES = _namespace_counter(
    "scribe_notification_tries_total", "POSTs of completion notifications, by result.", "result", NOTIFICATION_RESULTS
)
NOTIFICATIONS_FAILED = _namespace_counter(
    "scribe_notifications_failed_total", "Completion notifications given up on (tries used up)."
)
CACHE_HITS = _namespace_counter(
    "scribe_cache_hits_total", "Tasks that succeeded with a result already at their output (no pod)."
)
TASK_CPU_SECONDS = _namespace_counter(
    "scribe_task_cpu_seconds_total", "CPU seconds used by finished attempts' worker containers."
)
TASK_GPU_SECONDS = _namespace_counter(
    "scribe_task_gpu_seconds_total", "GPU seconds held by finished attempts (GPUs requested x wall time)."
)
ATTEMPT_DURATION = Histogram(
    "scribe_attempt_duration_seconds", "Wall time of finished attempts, start to end.", ["outcome"],
    buckets=DURATION_BUCKETS,
)  # fmt: skip
TIME_TO_SUCCESS = Histogram(
    "scribe_task_time_to_success_seconds", "From task creation to Succeeded.", buckets=DURATION_BUCKETS
)
RECONCILE_DURATION = Histogram(
    "scribe_reconcile_duration_seconds", "Time to reconcile one task (decide and act).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf")),
)  # fmt: skip
RECONCILE_ERRORS = Counter("scribe_reconcile_errors_total", "Reconciles that failed and were retried.", ["kind"])
RECONCILES_SKIPPED = Counter(
    "scribe_reconciles_skipped_total",
    "Watch events not reconciled: the object and its children as the last reconcile saw them.",
    ["kind"],
)
API_REQUESTS = Counter(
    "scribe_kube_api_requests_total", "Requests the operator made to the Kubernetes API.", ["verb", "resource"]
)
EVENTS_DROPPED = Counter(
    "scribe_events_dropped_total", "Events not posted: over the per-object or the shared rate limit.", ["reason"]
)
WATCH_EVENTS = Counter(
    "scribe_watch_events_total", "Watch events the operator received from the API server, by resource.", ["resource"]
)
for _resource in (PLURAL, BATCH_PLURAL, "pods"):  # every watch's series from 0, before its first event
    WATCH_EVENTS.labels(_resource)
BREAKER_OPEN = Gauge(
    "scribe_circuit_breaker_open", "1 while the circuit breaker is open or half-open (new attempts paused), else 0."
)
BREAKER_OPENINGS = Counter(
    "scribe_circuit_breaker_openings_total", "Times the circuit breaker opened, by the failure reason.", ["reason"]
)
BREAKER_PROBES = Counter(
    "scribe_circuit_breaker_probes_total", "Probes of the storage by the half-open breaker, by result.", ["result"]
)


_TRACKED_NAMESPACES: set[str] = set()


def track_namespace(namespace: str) -> None:
    """Create a namespace's counter series at zero when its first task is reconciled, before anything is counted.

    A series that first appears with value 1 shows no change to ``increase()`` or ``rate()``, so the first task to
    go Dead after an operator start would slip past ScribeDeadLetterGrowing; starting every series at 0 avoids that.
    """
    if namespace in _TRACKED_NAMESPACES:
        return
    _TRACKED_NAMESPACES.add(namespace)
    for counter, values in _STARTED_AT_ZERO:
        for value in values:
            counter.labels(namespace, value)
        if not values:
            counter.labels(namespace)


def observe_transition(task: TranscriptionTask, old: TaskStatus, new: TaskStatus) -> None:
    """Count what changed between two statuses of one task (called after the new one was written)."""
    ns = task.metadata.namespace or ""
    if new.attempt > old.attempt:
        ATTEMPTS_STARTED.labels(ns).inc(new.attempt - old.attempt)
    before = {r.attempt: r for r in old.attempts}
    for record in new.attempts:
        previous = before.get(record.attempt)
        if record.finished_at is None or (previous is not None and previous.finished_at is not None):
            continue
        outcome = "succeeded" if record.exit_code == 0 and record.reason == "Completed" else "failed"
        if outcome == "failed":
            ATTEMPT_FAILURES.labels(ns, record.reason or "Unknown").inc()
        if record.usage is not None:
            TASK_CPU_SECONDS.labels(ns).inc(record.usage.cpu_seconds or 0)
            TASK_GPU_SECONDS.labels(ns).inc(record.usage.gpu_seconds or 0)
        if record.started_at is not None:
            ATTEMPT_DURATION.labels(outcome).observe((record.finished_at - record.started_at).total_seconds())
    if new.phase is Phase.RETRYING and (old.phase is not Phase.RETRYING or new.retry_at != old.retry_at):
        RETRIES_SCHEDULED.labels(ns).inc()
    if new.phase is Phase.DEAD and old.phase is not Phase.DEAD:
        DEAD_LETTERED.labels(ns, new.reason or "Unknown").inc()
    observe_notification(ns, old.notification, new.notification)
    if new.phase is Phase.SUCCEEDED and old.phase is not Phase.SUCCEEDED:
        SUCCEEDED.labels(ns).inc()
        if new.reason == Reason.CACHE_HIT:
            CACHE_HITS.labels(ns).inc()
        created = task.metadata.creation_timestamp
        if created is not None and new.finished_at is not None:
            TIME_TO_SUCCESS.observe((new.finished_at - created).total_seconds())


def observe_notification(ns: str, old: NotificationStatus | None, after: NotificationStatus | None) -> None:
    """Count the tries and the give-up between two delivery states of one task's or batch's notification."""
    if after is None:
        return
    before = old if old is not None and old.id == after.id else None
    if after.tries > (before.tries if before else 0):
        NOTIFICATION_TRIES.labels(ns, "delivered" if after.state is DeliveryState.DELIVERED else "failed").inc()
    if after.state is DeliveryState.FAILED and (before is None or before.state is not DeliveryState.FAILED):
        NOTIFICATIONS_FAILED.labels(ns).inc()


PHASE_LABELS: Final = ["namespace", "phase"]


class PhaseCollector(Collector):
    """The objects of one kind by namespace and phase, counted from the watch cache at scrape time into a fresh
    ``family`` (:func:`tasks_by_phase`; a batch's in :mod:`scribe_operator.kinds.batch.controller`)."""

    def __init__(
        self, family: Callable[[], GaugeMetricFamily], objects: Callable[[], Iterable[tuple[str, str]]]
    ) -> None:
        self.family = family
        self.objects = objects  # yields (namespace, phase) per object

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = self.family()
        counts: dict[tuple[str, str], int] = {}
        for key in self.objects():
            counts[key] = counts.get(key, 0) + 1
        for (ns, phase), n in sorted(counts.items()):
            family.add_metric([ns, phase], n)
        yield family


def tasks_by_phase(tasks: Callable[[], Iterable[tuple[str, str]]]) -> PhaseCollector:
    """``scribe_tasks{namespace,phase}``."""
    return PhaseCollector(lambda: GaugeMetricFamily("scribe_tasks", "Tasks by phase.", labels=PHASE_LABELS), tasks)


class RunningCollector(Collector):
    """``scribe_running_attempts{namespace}``: attempts running as the capacity limits count them, at scrape time."""

    def __init__(self, running: Callable[[], Iterable[tuple[str, int]]]) -> None:
        self.running = running  # yields (namespace, attempts running)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "scribe_running_attempts",
            "Attempts running (pods not terminated, plus launches whose pod is not seen yet), by namespace.",
            labels=["namespace"],
        )
        for ns, n in sorted(self.running()):
            family.add_metric([ns], n)
        yield family
