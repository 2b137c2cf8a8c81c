"""The reconcile loop shared by the task and the batch controllers, in the style of controller-runtime.

One object is reconciled at a time (a lock per key); watch events and requeue timers both end in
:meth:`ReconcileLoop.reconcile`, which reads only what the watches delivered (``lookup``), prefers our own newer
write over a stale event, and requeues after what the subclass's ``_reconcile`` returns. A failed reconcile is
retried with per-key exponential backoff (:class:`.backoff.ItemBackoff`): a refused (stale) write from
:data:`CONFLICT_BACKOFF`, any other error from :data:`ERROR_BACKOFF`; a reconcile that succeeds resets both.

A watch event that brings nothing new is not reconciled again: after every reconcile that succeeds the loop keeps
what it reconciled, the object's resourceVersion (its own write's, when it wrote) and what the watches held about
its children, and an event whose object and children are exactly that (the echo of its own status write; a pod
event that changes nothing the core reads) ends there, counted in ``scribe_reconciles_skipped_total``. The core is
idempotent (the same observation again plans nothing new), and whatever depends on time or on operator-wide state
(deadlines, backoff, a freed capacity slot, the circuit breaker) arrives as a timer or a wake-up, which always
reconciles.

A requeue is a timer; when it fires, the reconcile runs as an asyncio task that the loop keeps (the event loop
holds only a weak reference to a task: one nobody keeps may be garbage-collected before it ends) until it is
done. Forgetting an object cancels its timer and its wake-up tasks. Nothing in the loop is authoritative: a
restart re-derives everything from the API server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar

from prometheus_client import Counter, Histogram

from scribe_operator.api.meta import ObjectKey
from scribe_operator.api.parse import ValidationProblem
from scribe_operator.runtime.backoff import ItemBackoff
from scribe_operator.runtime.kube.effects import Conflict
from scribe_operator.runtime.metrics import RECONCILES_SKIPPED

log = logging.getLogger("scribe_operator")

Seen = TypeVar("Seen")  # what the watches hold about an object's children (pods of a task, tasks of a batch)

CONFLICT_BACKOFF: Final = (1.0, 30.0)
"""(base, cap) seconds of the retries after a refused (stale) status write: the watch brings the newer version."""
ERROR_BACKOFF: Final = (5.0, 300.0)
"""(base, cap) seconds of the retries after any other failed reconcile (API or storage errors, a bug)."""


def resource_version(body: Mapping[str, Any]) -> int:
    try:
        return int(body.get("metadata", {}).get("resourceVersion") or 0)
    except (TypeError, ValueError):
        return 0


class ReconcileLoop(Generic[Seen]):
    """Subclasses set ``kind`` (the log field naming the object: ``task``, ``batch``), the two metrics, and
    implement ``_reconcile(body, seen) -> requeue seconds | None``."""

    kind = "object"
    errors: Counter
    duration: Histogram | None = None

    def __init__(self) -> None:
        self.locks: dict[ObjectKey, asyncio.Lock] = {}
        self.timers: dict[ObjectKey, asyncio.TimerHandle] = {}
        self.wakeups: dict[ObjectKey, set[asyncio.Task[None]]] = {}  # reconciles started by timers, until they end
        self.written: dict[ObjectKey, dict[str, Any]] = {}  # the newest body our own writes returned
        self.settled: dict[ObjectKey, tuple[int, tuple[Seen, ...]]] = {}  # what the last reconcile that succeeded saw
        self.conflicts: ItemBackoff[ObjectKey] = ItemBackoff(*CONFLICT_BACKOFF)
        self.failures: ItemBackoff[ObjectKey] = ItemBackoff(*ERROR_BACKOFF)
        self.lookup: Callable[[ObjectKey], tuple[Mapping[str, Any] | None, Iterable[Seen]]] | None = None

    async def _reconcile(self, body: Mapping[str, Any], seen: tuple[Seen, ...]) -> float | None:
        raise NotImplementedError

    def ignore_invalid(self, body: Mapping[str, Any], problem: ValidationProblem, logger: logging.Logger) -> None:
        """An object whose spec cannot be understood is logged (with the fields at fault) and left alone: no status
        write, no requeue; its next change brings it back."""
        meta = body.get("metadata", {})
        logger.error(
            "ignoring invalid %s: %s", self.kind, problem.message,
            extra={"namespace": meta.get("namespace"), self.kind: meta.get("name"), "fields": list(problem.fields)},
        )  # fmt: skip

    # -- scheduling ------------------------------------------------------------------------------
    def requeue(self, key: ObjectKey, delay: float) -> None:
        """Reconcile `key` again after `delay` seconds (replacing any earlier timer for it)."""
        self._cancel_timer(key)
        loop = asyncio.get_running_loop()
        self.timers[key] = loop.call_later(max(0.0, delay), self._wake, key)

    def _wake(self, key: ObjectKey) -> None:
        """A timer fired: reconcile `key` in a task the loop keeps until it ends."""
        self.timers.pop(key, None)
        task = asyncio.get_running_loop().create_task(
            self.reconcile_key(key), name=f"reconcile {self.kind} {key[0]}/{key[1]}"
        )
        tasks = self.wakeups.setdefault(key, set())
        tasks.add(task)
        task.add_done_callback(lambda done: self._woken(key, done))

    def _woken(self, key: ObjectKey, task: asyncio.Task[None]) -> None:
        tasks = self.wakeups.get(key)
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                del self.wakeups[key]

    def _cancel_timer(self, key: ObjectKey) -> None:
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def forget(self, key: ObjectKey) -> None:
        """The object is gone: cancel its timer and wake-ups, drop what we remembered of it."""
        self._cancel_timer(key)
        current = asyncio.current_task() if _in_loop() else None
        for task in self.wakeups.pop(key, set()):
            if task is current:  # a wake-up that found the object gone: it ends by itself, kept until then
                self.wakeups[key] = {task}
            else:
                task.cancel()
        self.written.pop(key, None)
        self.settled.pop(key, None)
        self.locks.pop(key, None)
        self.conflicts.forget(key)
        self.failures.forget(key)

    async def on_event(self, key: ObjectKey, event_type: str | None) -> None:
        """A watch event for the object itself: forget it once deleted, else reconcile it."""
        if event_type == "DELETED":
            self.forget(key)
        else:
            await self.reconcile_key(key, event=True)

    async def reconcile_key(self, key: ObjectKey, *, event: bool = False) -> None:
        """Reconcile from what the watches hold now. ``event``: woken by a watch event (of the object or of a
        child), which is not reconciled when it brings nothing the last reconcile did not see; timers always are."""
        if self.lookup is None:
            return
        body, seen = self.lookup(key)
        if body is None:
            self.forget(key)
            return
        await self.reconcile(key, body, seen, event=event)

    # -- reconcile -------------------------------------------------------------------------------
    async def reconcile(
        self, key: ObjectKey, body: Mapping[str, Any], seen: Iterable[Seen], *, event: bool = False
    ) -> None:
        children = tuple(seen)
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            newest = self.written.get(key)
            if newest is not None and resource_version(newest) > resource_version(body):
                body = newest  # our own write is newer than the event that woke us
            version = resource_version(body)
            if event and version and self.settled.get(key) == (version, children):
                RECONCILES_SKIPPED.labels(self.kind).inc()
                return  # nothing new since the last reconcile: its plan and its timer stand
            self.settled.pop(key, None)
            try:
                if self.duration is not None:
                    with self.duration.time():
                        delay = await self._reconcile(body, children)
                else:
                    delay = await self._reconcile(body, children)
            except Conflict:
                self.errors.labels("conflict").inc()
                delay = self.conflicts.when(key)
            except Exception:
                self.errors.labels("error").inc()
                delay = self.failures.when(key)
                log.exception(
                    "%s/%s: %s reconcile failed; retrying in %ss", *key, self.kind, delay,
                    extra={"namespace": key[0], self.kind: key[1], "retries": self.failures.retries(key)},
                )  # fmt: skip
            else:
                self.conflicts.forget(key)
                self.failures.forget(key)
                written = self.written.get(key)
                settled = max(version, resource_version(written) if written is not None else 0)
                if settled:
                    self.settled[key] = (settled, children)
        self._cancel_timer(key)
        if delay is not None:
            self.requeue(key, delay)


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
