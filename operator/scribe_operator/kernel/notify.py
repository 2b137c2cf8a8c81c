"""Completion notifications, decided purely: when to POST, what, and what the delivery state becomes.

Once an object with ``spec.notification`` is terminal, its next reconcile asks for ``SendNotification``; the effects
layer POSTs and hands back a :class:`NotificationResult`, and the core records it in ``status.notification``:
Delivered, or another try after a backoff (doubling, capped), or Failed once the tries are used up. The object's own
phase never waits for or depends on any of it. Each kind names its event (the id is also the Idempotency-Key) so
that a redelivery carries the same id and a later ending (a task after a requeue) a new one. At-least-once: a POST
whose answer was lost (operator crash) is made again with the same id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from scribe_operator.api.constants import API_VERSION
from scribe_operator.api.meta import ObjectMeta
from scribe_operator.api.notification import DeliveryState, Notification, NotificationStatus
from scribe_operator.kernel.clock import iso, stamp

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
    """POST the CloudEvent of notification ``id``, then reconcile again with the result (the observation's
    ``notification``)."""

    id: str


@dataclass(frozen=True)
class NotifyStep:
    status: NotificationStatus | None = None
    """The new delivery state, when it changed."""
    send: SendNotification | None = None
    wake_at: datetime | None = None


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
            update["next_try_at"] = stamp(now + timedelta(seconds=settings.delay(tries)))
        new = state.model_copy(update=update)
        return NotifyStep(status=new, wake_at=new.next_try_at)
    due = state.next_try_at
    if due is not None and now < due:
        return NotifyStep(status=state if fresh else None, wake_at=due)
    return NotifyStep(status=state if fresh else None, send=SendNotification(key))


def cloud_event(
    plural: str, kind: str, meta: ObjectMeta, key: str, when: datetime | None, data: dict[str, Any]
) -> dict[str, Any]:
    """A CloudEvents 1.0 event in structured mode about object ``meta`` (of ``plural``; ``kind`` in lower case names
    the event type), its ``data`` completed with the object's identity."""
    finished = iso(when)
    phase = str(data["phase"])
    body = {"apiVersion": API_VERSION, "namespace": meta.namespace, "name": meta.name, "uid": meta.uid, **data}
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": key,
        "source": f"/apis/{API_VERSION}/namespaces/{meta.namespace}/{plural}/{meta.name}",
        "type": f"{EVENT_TYPE_PREFIX}{kind}.{phase.lower()}",
        "subject": f"{meta.namespace}/{meta.name}",
        "datacontenttype": "application/json",
        "data": {**body, "finishedAt": finished},
    }
    if finished is not None:
        event["time"] = finished
    return event
