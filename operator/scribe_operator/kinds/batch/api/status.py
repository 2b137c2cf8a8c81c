"""The TranscriptionBatch's status, written by the operator only: the phase, counts, which inputs succeeded and
failed, the deadline and the summary."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import Field

from scribe_operator.api.base import ApiModel
from scribe_operator.api.meta import Condition, conditions_field
from scribe_operator.api.notification import NotificationStatus

MAX_FAILED_LISTED: Final = 100
"""``status.failed`` lists at most this many failed inputs (the lowest indexes); the summary lists them all."""


class BatchPhase(StrEnum):
    """Where a batch is; Succeeded, CompletedWithFailures and Failed are terminal."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    COMPLETED_WITH_FAILURES = "CompletedWithFailures"
    FAILED = "Failed"


TERMINAL_BATCH_PHASES: Final = frozenset({BatchPhase.SUCCEEDED, BatchPhase.COMPLETED_WITH_FAILURES, BatchPhase.FAILED})


class BatchReason(StrEnum):
    """Machine-readable reasons a batch, or one of its inputs, ends with (besides the child task's own reason)."""

    ALL_SUCCEEDED = "AllSucceeded"
    CHILDREN_FAILED = "ChildrenFailed"
    BATCH_DEADLINE_EXCEEDED = "BatchDeadlineExceeded"
    CHILD_DELETED = "ChildDeleted"
    INVALID_INPUT = "InvalidInput"
    INPUT_PREFIX_EMPTY = "InputPrefixEmpty"
    INPUT_PREFIX_NOT_FOUND = "InputPrefixNotFound"
    INPUT_PREFIX_UNAVAILABLE = "InputPrefixUnavailable"
    TOO_MANY_INPUTS = "TooManyInputs"
    UNKNOWN = "Unknown"


class BatchCounts(ApiModel):
    """Inputs by where their child is; the counts always add up to total."""

    total: int = Field(0, ge=0, description="Inputs in the batch.")
    pending: int = Field(0, ge=0, description="Child not created yet, or not started (Pending, Queued).")
    running: int = Field(0, ge=0, description="Child Running.")
    retrying: int = Field(0, ge=0, description="Child Retrying (waiting for its next attempt).")
    succeeded: int = Field(0, ge=0, description="Child Succeeded.")
    dead: int = Field(
        0,
        ge=0,
        description="Ended without a transcript: child Dead, child deleted, invalid input, or ended by the deadline.",
    )


class FailedInput(ApiModel):
    """An input that ended without a transcript."""

    index: int = Field(ge=0, description="Index of the input (0-based).")
    input: str = Field(description="The input's s3:// URI.")
    task: str | None = Field(None, description="The child TranscriptionTask, if one was created.")
    reason: str = Field(
        description="The child's terminal reason (e.g. InvalidAudio, RetriesExhausted), or ChildDeleted, "
        "BatchDeadlineExceeded, InvalidInput."
    )
    message: str | None = Field(None, description="Human-readable detail.")


class BatchStatus(ApiModel):
    """Observed state, written by the operator only."""

    phase: BatchPhase | None = Field(None, description="Pending, Running, Succeeded, CompletedWithFailures or Failed.")
    reason: str | None = Field(None, description="Why the batch is in its phase (CamelCase), once it ended.")
    message: str | None = Field(None, description="Human-readable detail of reason.")
    inputs: list[str] | None = Field(
        None, description="The inputs found under spec.inputPrefix, listed once when the batch started."
    )
    counts: BatchCounts = Field(default_factory=BatchCounts, description="Inputs by where their child is.")
    created: int = Field(0, ge=0, description="Children created so far: those of indexes 0 to created-1.")
    succeeded_indexes: str | None = Field(None, description="Indexes of the inputs that succeeded, as ranges: 0-3,7.")
    failed_indexes: str | None = Field(
        None, description="Indexes of the inputs that ended without a transcript, as ranges: 4-6,8."
    )
    failed: list[FailedInput] = Field(
        default_factory=list, description="The failed inputs with the lowest indexes (at most 100), with reasons."
    )
    started_at: datetime | None = Field(None, description="When the batch started (its first children created).")
    deadline_at: datetime | None = Field(None, description="When unfinished children are ended.")
    finished_at: datetime | None = Field(None, description="When the batch reached its terminal phase.")
    summary: str | None = Field(None, description="The summary object (s3:// URI) once written.")
    notification: NotificationStatus | None = Field(
        None, description="The delivery of spec.notification's event for the batch's ending."
    )
    summary_attempts: int = Field(0, ge=0, description="Failed attempts to write the summary.")
    conditions: list[Condition] = conditions_field("Complete, Ready and SummaryWritten conditions.")
    observed_generation: int | None = Field(None, description="metadata.generation last reconciled.")

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_BATCH_PHASES
