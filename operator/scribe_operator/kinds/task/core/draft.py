"""The working state of one pass of the task core (:mod:`.reconcile`): the task, what was observed, the status as
changed so far, and the helpers every step uses (the bounded attempt history, attempt numbers counted from the last
requeue, clipped messages)."""

from __future__ import annotations

from datetime import datetime

from scribe_operator.kernel.clock import stamp
from scribe_operator.kernel.draft import Draft
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.result import options_hash
from scribe_operator.kinds.task.api.status import AttemptRecord, Phase, TaskStatus
from scribe_operator.kinds.task.core.observed import CapacityVerdict, CircuitHold, Observed, ObservedPod
from scribe_operator.kinds.task.core.plan import TaskAction
from scribe_operator.kinds.task.core.settings import CoreSettings


class TaskDraft(Draft[TaskStatus, TaskAction]):
    """One pass's working state: a copy of the status plus the actions, events and wake-up times gathered."""

    def __init__(self, task: TranscriptionTask, observed: Observed, now: datetime, settings: CoreSettings):
        super().__init__(task.status, now, settings.max_message_length)
        self.task, self.spec, self.observed, self.settings = task, task.spec, observed, settings
        self.max_attempts = task.spec.retry_policy.max_attempts
        self.queued: CapacityVerdict | None = None  # why the task entered Queued in this pass
        self.held: CircuitHold | None = None  # the circuit breaker held its next attempt in this pass

    def _in_flight(self) -> int | None:
        """The attempt currently launched and not yet ended, if any (never one from before a requeue)."""
        n = self.status.attempt
        record = self.status.record(n)
        between = self.status.terminal or self.status.phase is Phase.RETRYING or (record and record.finished)
        return None if between or n <= self.status.attempt_base else n

    @property
    def _reuse(self) -> bool:
        """Whether a result already at the output may be reused (operator-wide and per task)."""
        return self.settings.result_cache and self.spec.cache

    @property
    def _options(self) -> str:
        return options_hash(self.spec, dict(self.settings.transcript_defaults))

    def _pod(self, attempt: int, expected: str) -> ObservedPod | None:
        """The observed pod of ``attempt``, preferring the expected name (the watch's, or one a GET found)."""
        check = self.observed.pod_check
        seen = (*self.observed.pods, *((check.pod,) if check is not None and check.pod is not None else ()))
        pods = sorted((p for p in seen if p.attempt == attempt), key=lambda p: p.name != expected)
        return pods[0] if pods else None

    def _put(self, record: AttemptRecord) -> None:
        """Insert or replace ``record`` in the bounded history."""
        attempts = [r for r in self.status.attempts if r.attempt != record.attempt]
        attempts.append(record)
        attempts.sort(key=lambda r: r.attempt)
        self.set(attempts=attempts[-self.settings.max_history :])

    def _finished(self, pod: ObservedPod | None) -> datetime:
        finished = pod.finished_at if pod is not None and pod.finished_at is not None else self.now
        return stamp(min(finished, self.now))

    def _round(self, n: int) -> int:
        """Attempt ``n``'s number counted from the last requeue (the retry budget's count)."""
        return n - self.status.attempt_base

    def _count(self, n: int) -> str:
        """``2 of 4``; after a requeue ``6, 2 of 4 since the requeue``."""
        if self.status.attempt_base == 0:
            return f"{n} of {self.max_attempts}"
        return f"{n}, {self._round(n)} of {self.max_attempts} since the requeue"

    def _of(self, n: int) -> str:
        return f"attempt {self._count(n)}"
