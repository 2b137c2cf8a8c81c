"""Tunables of the batch decision core."""

from __future__ import annotations

from dataclasses import dataclass, field

from scribe_operator.kernel.notify import NotificationSettings
from scribe_operator.kinds.batch.api.status import MAX_FAILED_LISTED


@dataclass(frozen=True)
class BatchSettings:
    """Tunables of the batch core (environment ``SCRIBE_BATCH_*``, see docs/batches.md)."""

    max_creates_per_pass: int = 50
    """At most this many children are created per reconcile; the rest follow at once in the next passes."""
    create_requeue_seconds: float = 1.0
    """Reconcile again this soon while children remain to be created."""
    expansion_retry_seconds: float = 10.0
    """Listing an inputPrefix failed (S3 error): try again after this long ..."""
    expansion_timeout_seconds: float = 600.0
    """... until this long after the batch was created; then the batch is Failed (InputPrefixUnavailable)."""
    summary_retry_seconds: float = 30.0
    """Writing the summary failed: attempt k+1 is made k times this long after the batch finished ..."""
    max_summary_attempts: int = 5
    """... and after this many failed attempts the operator stops trying (condition SummaryWritten False)."""
    max_message_length: int = 512
    """Messages copied from children into the batch's status are clipped to this length."""
    max_failed_listed: int = MAX_FAILED_LISTED
    notification: NotificationSettings = field(default_factory=NotificationSettings)
    """Tries and backoff of the batch's completion notification (the operator's SCRIBE_NOTIFICATION_*)."""
