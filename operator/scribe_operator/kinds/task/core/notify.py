"""Completion notifications, decided purely: when to POST, what, and what the delivery state becomes.

Once a task (or a batch) with ``spec.notification`` is terminal, its next reconcile asks for ``SendNotification``;
the effects layer POSTs and hands back a :class:`NotificationResult`, and the core records it in
``status.notification``: Delivered, or another try after a backoff (doubling, capped), or Failed once the tries are
used up. The object's own phase never waits for or depends on any of it. The event id (also the Idempotency-Key) is
``<uid>/<phase>/<attempt>`` for a task (``<uid>/<phase>`` for a batch): a redelivery carries the same id, a later
ending (after a requeue) a new one. At-least-once: a POST whose answer was lost (operator crash) is made again with
the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from scribe_operator.api.constants import API_VERSION, PLURAL
from scribe_operator.api.meta import ObjectMeta, to_json
from scribe_operator.api.notification import DeliveryState, Notification, NotificationStatus
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.names import BATCH_PLURAL
from scribe_operator.kinds.task.api.model import TranscriptionTask

EVENT_TYPE_PREFIX: Final = "dev.scribe."
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


def batch_notification_id(batch: TranscriptionBatch) -> str:
    return f"{batch.metadata.uid}/{batch.status.phase}"


@dataclass(frozen=True)
class NotifyStep:
    status: NotificationStatus | None = None
    """The new delivery state, when it changed."""
    send: SendNotification | None = None
    wake_at: datetime | None = None


def task_notify_step(
    task: TranscriptionTask, result: NotificationResult | None, now: datetime, settings: NotificationSettings
) -> NotifyStep:
    """The next step of a task's notification."""
    key = notification_id(task) if task.status.terminal else None
    return notify_step(task.spec.notification, key, task.status.notification, result, now, settings)


def notify_step(
    target: Notification | None,
    key: str | None,
    current: NotificationStatus | None,
    result: NotificationResult | None,
    now: datetime,
    settings: NotificationSettings,
) -> NotifyStep:
    """The next step of notification ``key`` (None: the object has not ended) to ``target``, whose delivery is at
    ``current``; nothing when there is no target, or it was delivered or failed."""
    if target is None or key is None:
        return NotifyStep()
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


def _event(
    plural: str, kind: str, meta: ObjectMeta, key: str, when: datetime | None, data: dict[str, Any]
) -> dict[str, Any]:
    """A CloudEvents 1.0 event in structured mode about object ``meta`` (of ``plural``), its ``data`` completed with
    the object's identity."""
    stamp = None if when is None else when.isoformat().replace("+00:00", "Z")
    phase = str(data["phase"])
    body = {"apiVersion": API_VERSION, "namespace": meta.namespace, "name": meta.name, "uid": meta.uid, **data}
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": key,
        "source": f"/apis/{API_VERSION}/namespaces/{meta.namespace}/{plural}/{meta.name}",
        "type": f"{EVENT_TYPE_PREFIX}{kind}.{phase.lower()}",
        "subject": f"{meta.namespace}/{meta.name}",
        "datacontenttype": "application/json",
        "data": {**body, "finishedAt": stamp},
    }
    if stamp is not None:
        event["time"] = stamp
    return event


def cloud_event(task: TranscriptionTask, key: str) -> dict[str, Any]:
    """A task's notification: phase, reason, outputs (s3:// URIs, never a URL), attempts and usage in ``data``."""
    status = task.status
    data: dict[str, Any] = {
        "input": task.spec.input,
        "phase": str(status.phase),
        "reason": status.reason,
        "message": status.message,
        "attempts": status.attempt,
        "outputs": dict(status.outputs),
    }
    if status.usage is not None:
        data["usage"] = to_json(status.usage)
    return _event(PLURAL, "transcriptiontask", task.metadata, key, status.finished_at or status.updated_at, data)


def batch_cloud_event(batch: TranscriptionBatch, key: str) -> dict[str, Any]:
    """A batch's notification: phase, reason, counts, the indexes that failed and the summary's s3:// URI."""
    status = batch.status
    data: dict[str, Any] = {
        "phase": str(status.phase),
        "reason": status.reason,
        "message": status.message,
        "counts": to_json(status.counts),
        "failedIndexes": status.failed_indexes,
        "summary": status.summary,
    }
    return _event(BATCH_PLURAL, "transcriptionbatch", batch.metadata, key, status.finished_at, data)
