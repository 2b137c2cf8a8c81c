"""The reconcile loop shared by the task and the batch controllers, in the style of controller-runtime.

One object is reconciled at a time (a lock per key); watch events and requeue timers both end in
:meth:`ReconcileLoop.reconcile`, which reads only what the watches delivered (``lookup``), prefers our own newer
write over a stale event, and requeues after what the subclass's ``_reconcile`` returns: a refused (stale) write
soon, an error after a pause. Nothing in it is authoritative: a restart re-derives everything from the API server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from prometheus_client import Counter, Histogram

from scribe_operator.runtime.kube.effects import Conflict

log = logging.getLogger("scribe_operator")

Key = tuple[str, str]  # (namespace, name)
Seen = TypeVar("Seen")  # what the watches hold about an object's children (pods of a task, tasks of a batch)
CONFLICT_RETRY_SECONDS = 1.0
ERROR_RETRY_SECONDS = 5.0


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
        self.locks: dict[Key, asyncio.Lock] = {}
        self.timers: dict[Key, asyncio.TimerHandle] = {}
        self.written: dict[Key, dict[str, Any]] = {}  # the newest body our own writes returned
        self.lookup: Callable[[Key], tuple[Mapping[str, Any] | None, Iterable[Seen]]] | None = None

    async def _reconcile(self, body: Mapping[str, Any], seen: tuple[Seen, ...]) -> float | None:
        raise NotImplementedError

    # -- scheduling ------------------------------------------------------------------------------
    def requeue(self, key: Key, delay: float) -> None:
        """Reconcile `key` again after `delay` seconds (replacing any earlier timer for it)."""
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self.timers[key] = loop.call_later(max(0.0, delay), lambda: asyncio.ensure_future(self.reconcile_key(key)))

    def forget(self, key: Key) -> None:
        """The object is gone: drop its timer and what we remembered of it."""
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        self.written.pop(key, None)
        self.locks.pop(key, None)

    async def on_event(self, key: Key, event_type: str | None) -> None:
        """A watch event for the object itself: forget it once deleted, else reconcile it."""
        if event_type == "DELETED":
            self.forget(key)
        else:
            await self.reconcile_key(key)

    async def reconcile_key(self, key: Key) -> None:
        """Reconcile from what the watches hold now (events and timers)."""
        if self.lookup is None:
            return
        body, seen = self.lookup(key)
        if body is None:
            self.forget(key)
            return
        await self.reconcile(key, body, seen)

    # -- reconcile -------------------------------------------------------------------------------
    async def reconcile(self, key: Key, body: Mapping[str, Any], seen: Iterable[Seen]) -> None:
        lock = self.locks.setdefault(key, asyncio.Lock())
        async with lock:
            newest = self.written.get(key)
            if newest is not None and resource_version(newest) > resource_version(body):
                body = newest  # our own write is newer than the event that woke us
            try:
                if self.duration is not None:
                    with self.duration.time():
                        delay = await self._reconcile(body, tuple(seen))
                else:
                    delay = await self._reconcile(body, tuple(seen))
            except Conflict:
                self.errors.labels("conflict").inc()
                delay = CONFLICT_RETRY_SECONDS
            except Exception:
                self.errors.labels("error").inc()
                log.exception(
                    "%s/%s: %s reconcile failed; retrying in %ss", *key, self.kind, ERROR_RETRY_SECONDS,
                    extra={"namespace": key[0], self.kind: key[1]},
                )  # fmt: skip
                delay = ERROR_RETRY_SECONDS
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if delay is not None:
            self.requeue(key, delay)
