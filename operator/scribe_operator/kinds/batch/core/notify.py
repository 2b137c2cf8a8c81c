"""A batch's completion notification: its event id ``<uid>/<phase>`` (a batch ends once) and its CloudEvent; the
delivery itself is :func:`scribe_operator.kernel.notify.notify_step`."""

from __future__ import annotations

from typing import Any

from scribe_operator.api.meta import to_json
from scribe_operator.kernel.notify import cloud_event
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.names import BATCH_PLURAL


def batch_notification_id(batch: TranscriptionBatch) -> str:
    return f"{batch.metadata.uid}/{batch.status.phase}"


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
    return cloud_event(BATCH_PLURAL, "transcriptionbatch", batch.metadata, key, status.finished_at, data)
