"""Completion notifications, decided purely: when to POST, what, and what the delivery state becomes.

Once a task with ``spec.notification`` is terminal, its next reconcile asks for ``SendNotification``; the effects
layer POSTs and hands back a :class:`NotificationResult`, and the core records it in ``status.notification``:
Delivered, or another try after a backoff (doubling, capped), or Failed once the tries are used up. The task's own
phase never waits for or depends on any of it. The event id (also the Idempotency-Key) is ``<uid>/<phase>/<attempt>``:
a redelivery carries the same id, a later ending (after a requeue) a new one. At-least-once: a POST whose answer was
lost (operator crash) is made again with the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from ..api.constants import API_VERSION, PLURAL
from ..api.notification import DeliveryState, NotificationStatus
from ..api.task import TranscriptionTask, to_json

EVENT_TYPE_PREFIX: Final = "dev.scribe.transcriptiontask."
MAX_MESSAGE: Final = 512


@dataclass(frozen=True)
class NotificationSettings:
    """How hard the operator tries to deliver a notification."""

    max_tries: int = 6
    backoff_seconds: float = 5.0
    """Delay before the second try; each further delay doubles ..."""
    max_backoff_seconds: float = 300.0
    """... up to this."""

    def delay(self, tries: int) -> float:
        """The wait after ``tries`` failed tries (tries >= 1)."""
        return float(min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (tries - 1)))


@dataclass(frozen=True)
class NotificationResult:
    """How a POST of notification ``id`` went."""

    id: str
    delivered: bool
    message: str
    retryable: bool = True


@dataclass(frozen=True)
class SendNotification:
    """POST the CloudEvent of notification ``id`` (:func:`cloud_event`), then reconcile again with the result
    (``Observed.notification``)."""

    id: str


def notification_id(task: TranscriptionTask) -> str:
    status = task.status
    return f"{task.metadata.uid}/{status.phase}/{status.attempt}"


@dataclass(frozen=True)
class NotifyStep:
    status: NotificationStatus | None = None
    """The new delivery state, when it changed."""
    send: SendNotification | None = None
    wake_at: datetime | None = None


def notify_step(
    task: TranscriptionTask, result: NotificationResult | None, now: datetime, settings: NotificationSettings
) -> NotifyStep:
    """The next step of a terminal task's notification (nothing when it has none, or it was delivered or failed)."""
    if task.spec.notification is None or not task.status.terminal:
        return NotifyStep()
    key = notification_id(task)
    current = task.status.notification
    fresh = current is None or current.id != key
    state = NotificationStatus(id=key, state=DeliveryState.PENDING) if fresh or current is None else current
    if state.state is not DeliveryState.PENDING:
        return NotifyStep()
    if result is not None and result.id == key:
        tries = state.tries + 1
        update: dict[str, Any] = {"tries": tries, "last_try_at": now, "message": result.message[:MAX_MESSAGE]}
        if result.delivered:
            update.update(state=DeliveryState.DELIVERED, next_try_at=None)
        elif not result.retryable or tries >= settings.max_tries:
            update.update(state=DeliveryState.FAILED, next_try_at=None)
        else:
            update["next_try_at"] = (now + timedelta(seconds=settings.delay(tries))).replace(microsecond=0)
        new = state.model_copy(update=update)
        return NotifyStep(status=new, wake_at=new.next_try_at)
    due = state.next_try_at
    if due is not None and now < due:
        return NotifyStep(status=state if fresh else None, wake_at=due)
    return NotifyStep(status=state if fresh else None, send=SendNotification(key))


def cloud_event(task: TranscriptionTask, key: str) -> dict[str, Any]:
    """The notification as a CloudEvents 1.0 event in structured mode: phase, reason, outputs (s3:// URIs, never a
    URL), attempts and usage in ``data``."""
    meta, status = task.metadata, task.status
    phase = str(status.phase)
    when = status.finished_at or status.updated_at
    data: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "namespace": meta.namespace,
        "name": meta.name,
        "uid": meta.uid,
        "input": task.spec.input,
        "phase": phase,
        "reason": status.reason,
        "message": status.message,
        "attempts": status.attempt,
        "outputs": dict(status.outputs),
        "finishedAt": None if when is None else when.isoformat().replace("+00:00", "Z"),
    }
    if status.usage is not None:
        data["usage"] = to_json(status.usage)
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": key,
        "source": f"/apis/{API_VERSION}/namespaces/{meta.namespace}/{PLURAL}/{meta.name}",
        "type": EVENT_TYPE_PREFIX + phase.lower(),
        "subject": f"{meta.namespace}/{meta.name}",
        "datacontenttype": "application/json",
        "data": data,
    }
    if when is not None:
        event["time"] = data["finishedAt"]
    return event
