"""The TranscriptionTask's status, written by the operator only: the phase, the attempt history, progress, usage
and the last requeue request handled."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import Field

from scribe_operator.api.base import ApiModel
from scribe_operator.api.meta import Condition, conditions_field
from scribe_operator.api.notification import NotificationStatus


class Phase(StrEnum):
    """Where a task is in its life; Succeeded and Dead are terminal."""

    PENDING = "Pending"
    QUEUED = "Queued"
    RUNNING = "Running"
    RETRYING = "Retrying"
    SUCCEEDED = "Succeeded"
    DEAD = "Dead"


TERMINAL_PHASES: Final = frozenset({Phase.SUCCEEDED, Phase.DEAD})


class Usage(ApiModel):
    """What attempts cost: CPU and GPU time, and the highest memory use."""

    cpu_seconds: float | None = Field(
        None, ge=0, description="CPU seconds the worker container used, from its own cgroup; summed over attempts."
    )
    peak_memory_bytes: int | None = Field(
        None, ge=0, description="Peak memory of the worker container, from its cgroup; the highest of any attempt."
    )
    gpu_seconds: float | None = Field(
        None,
        ge=0,
        description=(
            "GPUs requested (nvidia.com/gpu) times the attempt's wall time, container start to end; summed over "
            "attempts. Omitted when no GPU was requested."
        ),
    )


class AttemptRecord(ApiModel):
    """One attempt: its pod and how it ended."""

    attempt: int = Field(ge=1, description="Attempt number, 1-based.")
    pod: str | None = Field(None, description="The attempt's pod; empty when it failed before a pod was made.")
    node: str | None = Field(None, description="Node the pod ran on.")
    created_at: datetime | None = Field(None, description="When the attempt was launched.")
    started_at: datetime | None = Field(None, description="When the worker container started.")
    finished_at: datetime | None = Field(None, description="When the attempt ended.")
    exit_code: int | None = Field(None, description="Worker container exit code.")
    reason: str | None = Field(None, description="How the attempt ended (failure taxonomy reason).")
    message: str | None = Field(None, description="Human-readable detail of how the attempt ended.")
    retryable: bool | None = Field(None, description="Whether the failure was retryable (after rules).")
    memory_limit: str | None = Field(None, description="Memory limit the attempt ran with.")
    deadline_seconds: int | None = Field(None, description="How long the attempt was allowed to run.")
    usage: Usage | None = Field(
        None, description="What the attempt cost, as its worker reported at the end (none if it was killed)."
    )

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class AttemptProgress(ApiModel):
    """How far the running (or last) attempt's worker has got, from its progress reports."""

    attempt: int = Field(ge=1, description="The attempt the progress is of.")
    processed_seconds: float = Field(ge=0, description="Audio seconds transcribed so far.")
    total_seconds: float | None = Field(None, description="The audio's length in seconds, once the worker knows it.")
    percent: int | None = Field(None, ge=0, le=100, description="processedSeconds of totalSeconds, in percent.")
    summary: str = Field(description="What kubectl get shows in the PROGRESS column: 42% (or 12s while no total).")
    reported_at: datetime | None = Field(None, description="When the worker sent its last report (its clock).")
    heartbeat_time: datetime = Field(
        description="When the operator last saw the progress move; the stall watchdog counts from here."
    )

    @property
    def complete(self) -> bool:
        return self.total_seconds is not None and self.processed_seconds >= self.total_seconds


class RequeueOutcome(StrEnum):
    """What the operator did with a requeue request."""

    REQUEUED = "Requeued"
    IGNORED = "Ignored"


class RequeueRecord(ApiModel):
    """The last requeue request (annotation scribe.dev/requeue) the operator handled."""

    token: str = Field(
        description=(
            "The scribe.dev/requeue annotation's value (longer ones as sha256:<hex>). "
            "Only a different value is a new request."
        )
    )
    at: datetime | None = Field(None, description="When the operator handled the request.")
    reset_attempts: bool = Field(
        False,
        description="Whether scribe.dev/requeue-reset-attempts was true: attempt history and failure counts cleared.",
    )
    outcome: RequeueOutcome = Field(description="Requeued, or Ignored: the task was not Dead.")
    message: str | None = Field(None, description="Human-readable detail of the outcome.")


class TaskStatus(ApiModel):
    """Observed state, written by the operator only."""

    phase: Phase | None = Field(None, description="Pending, Queued, Running, Retrying, Succeeded or Dead.")
    attempt: int = Field(0, ge=0, description="Attempts started so far (the current try's number).")
    retry_at: datetime | None = Field(None, description="While Retrying: when the next attempt may start.")
    reason: str | None = Field(None, description="Last failure's or the terminal reason (CamelCase).")
    message: str | None = Field(None, description="Human-readable detail of reason.")
    attempts: list[AttemptRecord] = Field(
        default_factory=list, description="The most recent attempts (at most 20), oldest first."
    )
    failure_counts: dict[str, int] = Field(
        default_factory=dict, description="Failed attempts per reason, over all attempts."
    )
    outputs: dict[str, str] = Field(default_factory=dict, description="Once Succeeded: format -> s3:// URI.")
    conditions: list[Condition] = conditions_field(
        "Ready (True once Succeeded) and Failed (True once Dead); Queued (True while waiting for a free attempt slot) "
        "and CircuitOpen (True while the circuit breaker holds the next attempt) once they apply."
    )
    observed_generation: int | None = Field(None, description="metadata.generation last reconciled.")
    input_size: int | None = Field(None, description="Size of the input in bytes, from the last probe.")
    input_etag: str | None = Field(None, description="ETag of the input (its version), from the last probe.")
    started_at: datetime | None = Field(None, description="When the first attempt was launched.")
    finished_at: datetime | None = Field(None, description="When the task reached Succeeded or Dead.")
    updated_at: datetime | None = Field(
        None, description="When the operator last changed this status (a phase, an attempt, a condition, progress)."
    )
    requeues: int = Field(0, ge=0, description="Times the task was requeued from Dead (scribe.dev/requeue).")
    attempt_base: int = Field(
        0,
        ge=0,
        description=(
            "Attempts made before the last requeue. Attempts are numbered on across requeues; since the last "
            "requeue the task may make attempts attemptBase+1 .. attemptBase+maxRetries+1."
        ),
    )
    requeue: RequeueRecord | None = Field(None, description="The last requeue request the operator handled.")
    progress: AttemptProgress | None = Field(
        None, description="While an attempt runs (and after it ends): the worker's last reported progress."
    )
    notification: NotificationStatus | None = Field(
        None, description="The delivery of spec.notification's event for the task's last ending."
    )
    usage: Usage | None = Field(
        None,
        description=(
            "What the task has cost so far, over all its attempts (also those no longer kept in attempts, and "
            "across requeues): cpuSeconds and gpuSeconds summed, peakMemoryBytes the highest."
        ),
    )

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @property
    def round_attempts(self) -> int:
        """Attempts started since the last requeue (since creation if never requeued)."""
        return max(0, self.attempt - self.attempt_base)

    def record(self, attempt: int) -> AttemptRecord | None:
        """The history entry of ``attempt``, if it is still kept."""
        return next((r for r in reversed(self.attempts) if r.attempt == attempt), None)
