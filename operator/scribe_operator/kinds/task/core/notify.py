"""A task's completion notification: its event id ``<uid>/<phase>/<attempt>`` (a requeued task that ends again
sends a new one), the next step of its delivery (:func:`scribe_operator.kernel.notify.notify_step`) and its
CloudEvent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from scribe_operator.api.constants import PLURAL
from scribe_operator.api.meta import to_json
from scribe_operator.kernel.notify import (
    NotificationResult,
    NotificationSettings,
    NotifyStep,
    cloud_event,
    notify_step,
)
from scribe_operator.kinds.task.api.model import TranscriptionTask


def task_notification_id(task: TranscriptionTask) -> str:
    status = task.status
    return f"{task.metadata.uid}/{status.phase}/{status.attempt}"


def task_notify_step(
    task: TranscriptionTask, result: NotificationResult | None, now: datetime, settings: NotificationSettings
) -> NotifyStep:
    """The next step of a task's notification."""
    key = task_notification_id(task) if task.status.terminal else None
    return notify_step(task.spec.notification, key, task.status.notification, result, now, settings)


def task_cloud_event(task: TranscriptionTask, key: str) -> dict[str, Any]:
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
    when = status.finished_at or status.updated_at
    return cloud_event(PLURAL, "transcriptiontask", task.metadata, key, when, data)
