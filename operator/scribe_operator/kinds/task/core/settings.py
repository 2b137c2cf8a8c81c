"""Tunables of the decision core, as one explicit, immutable settings object."""

from __future__ import annotations

from dataclasses import dataclass, field

from scribe_operator.api.constants import MAX_HISTORY
from scribe_operator.kernel.notify import NotificationSettings
from scribe_operator.kinds.task.core.capacity import Limits


@dataclass(frozen=True)
class CoreSettings:
    """Operator-wide knobs the decision core needs. The operator builds one from its settings
    (:meth:`scribe_operator.runtime.settings.OperatorSettings.core`), whose defaults are these."""

    attempt_overhead_seconds: float = 120.0
    """Estimated attempt deadline: this fixed overhead (pull, model load, upload) ..."""
    seconds_per_mib: float = 30.0
    """... plus this many seconds per MiB of input (depends on model and hardware; tiny model default)."""
    min_attempt_seconds: int = 300
    """Lower clamp of an estimated attempt deadline (not applied to spec.timeouts.attemptSeconds)."""
    max_attempt_seconds: int = 6 * 3600
    """Upper clamp of an estimated deadline; also the deadline when the input's size is unknown."""
    url_ttl_margin_seconds: int = 300
    """Presigned URLs outlive the attempt's pending time, deadline and grace by this margin."""
    max_url_ttl_seconds: int = 7 * 86_400
    """Longest presigned URL lifetime (S3 SigV4 allows at most 7 days)."""
    pod_lost_grace_seconds: float = 60.0
    """An attempt with no observed pod this long after its launch ended with PodLost."""
    deadline_grace_seconds: float = 60.0
    """The watchdog ends a pod still running this long past its attempt deadline (DeadlineExceeded)."""
    max_history: int = MAX_HISTORY
    """Entries kept in status.attempts (failureCounts keeps counting)."""
    default_memory_limit: str | None = "2Gi"
    """Worker memory limit when spec.resources.limits.memory is omitted; the base of OOM escalation."""
    oom_memory_factor: float = 2.0
    """After an OOMKilled attempt the next attempt's memory limit is the last one times this ..."""
    max_memory_limit: str = "16Gi"
    """... but never more than this."""
    max_message_length: int = 1024
    """Messages copied into status (termination messages, pod messages) are clipped to this length."""
    capacity: Limits = field(default_factory=Limits)
    """Most attempts running at once, operator-wide and per namespace; over a limit, tasks wait in phase Queued."""
    default_model: str | None = None
    """The model of a task that names none (None: the worker's default); checked against the task's options."""
    stall_timeout_seconds: int = 900
    """A running attempt whose progress has not moved this long is ended as Stalled; 0: never
    (``spec.timeouts.stallSeconds`` overrides it)."""

    result_cache: bool = True
    """Reuse complete results already at a task's output location (CacheHit), and record each success's."""
    transcript_defaults: tuple[tuple[str, str], ...] = ()
    """The operator's defaults that shape a transcript (worker image, default model, device, ...), hashed with a
    task's options for the result cache."""

    notification: NotificationSettings = field(default_factory=NotificationSettings)
    """Tries and backoff of completion notifications."""
