"""How an attempt ends in the task core: Succeeded (outputs, result record), or failed and then retried after a
backoff or Dead (``spec.retryPolicy``: its rules, its attempts), each ending recorded in the attempt history with
what it cost."""

from __future__ import annotations

from datetime import datetime, timedelta

from scribe_contract.taxonomy import Reason
from scribe_contract.termination import parse_termination_message

from scribe_operator.kernel.clock import ceil_stamp, iso
from scribe_operator.kinds.task.api.names import secret_name
from scribe_operator.kinds.task.api.outputs import output_prefix, output_uris
from scribe_operator.kinds.task.api.status import AttemptRecord, Phase
from scribe_operator.kinds.task.core import classify
from scribe_operator.kinds.task.core.backoff import backoff_delay
from scribe_operator.kinds.task.core.classify import AttemptOutcome
from scribe_operator.kinds.task.core.draft import TaskDraft
from scribe_operator.kinds.task.core.observed import ObservedPod
from scribe_operator.kinds.task.core.plan import DeleteSecret, EventReason, RecordResult
from scribe_operator.kinds.task.core.usage import add_usage, attempt_usage


class AttemptEndings(TaskDraft):
    """The steps that end an attempt."""

    def _succeed(self, n: int, pod: ObservedPod) -> None:
        tm = parse_termination_message(pod.termination_message)
        finished = self._finished(pod)
        message = f"transcripts written under {output_prefix(self.spec)}"
        self._end(n, finished, exit_code=pod.exit_code or 0, reason=Reason.COMPLETED.value, message=message, pod=pod)
        self.set(
            phase=Phase.SUCCEEDED,
            reason=Reason.COMPLETED.value,
            message=message,
            outputs=tm.outputs if tm is not None and tm.outputs else output_uris(self.spec),
            retry_at=None,
            finished_at=finished,
        )
        self.actions.append(DeleteSecret(secret_name(self.task.metadata.name, n)))
        etag, size = self.status.input_etag, self.status.input_size
        if self.settings.result_cache and etag is not None and size is not None:
            self.actions.append(RecordResult(n, etag, size, self._options))
        self.event("Normal", EventReason.SUCCEEDED, f"{self._of(n)} succeeded: {message}")

    def _fail(self, n: int, outcome: AttemptOutcome, pod: ObservedPod | None = None, cleanup: bool = True) -> None:
        """Record attempt ``n`` as failed, then retry it or go Dead. ``cleanup``: delete its URL secret."""
        outcome = classify.apply_rules(outcome, self.spec.retry_policy.rules)
        finished = self._finished(pod)
        message = self.clip(outcome.message)
        self._end(n, finished, outcome.exit_code, outcome.reason, message, outcome.retryable, pod)
        counts = dict(self.status.failure_counts)
        counts[outcome.reason] = counts.get(outcome.reason, 0) + 1
        self.set(attempt=max(self.status.attempt, n), failure_counts=counts)
        if cleanup:
            self.actions.append(DeleteSecret(secret_name(self.task.metadata.name, n)))
        self.event("Warning", EventReason.ATTEMPT_FAILED, f"{self._of(n)} failed: {outcome.reason}: {message}")
        if not outcome.retryable:
            self._dead(outcome.reason, message, finished)
        elif self._round(n) >= self.max_attempts:
            last = f"last attempt ({self._count(n)}) failed: {outcome.reason}: {message}"
            self._dead(Reason.RETRIES_EXHAUSTED.value, self.clip(last), finished)
        else:
            delay = backoff_delay(self.spec.retry_policy.backoff, self._round(n), self.task.metadata.uid)
            retry_at = ceil_stamp(min(finished, self.stamp) + timedelta(seconds=delay))
            self.set(phase=Phase.RETRYING, retry_at=retry_at, reason=outcome.reason, message=message)
            self.event("Normal", EventReason.RETRY_SCHEDULED, f"{self._of(n + 1)} at {iso(retry_at)}")

    def _dead(self, reason: str, message: str, finished: datetime) -> None:
        self.set(phase=Phase.DEAD, reason=reason, message=message, retry_at=None, finished_at=finished)
        self.event("Warning", EventReason.DEAD_LETTERED, f"{reason}: {message}")

    def _end(
        self,
        n: int,
        finished: datetime,
        exit_code: int | None,
        reason: str,
        message: str,
        retryable: bool | None = None,
        pod: ObservedPod | None = None,
    ) -> None:
        """Record attempt ``n``'s end, and add what it cost (from ``pod``'s termination message) to the total."""
        record = self.status.record(n) or AttemptRecord(attempt=n, created_at=self.stamp)
        tm = parse_termination_message(pod.termination_message) if pod is not None else None
        usage = attempt_usage(self.spec, record, tm.usage if tm is not None else None, finished)
        self._put(
            record.model_copy(
                update={
                    "finished_at": finished,
                    "exit_code": exit_code,
                    "reason": reason,
                    "message": message,
                    "retryable": retryable,
                    "usage": usage,
                }
            )
        )
        self.set(usage=add_usage(self.status.usage, usage))
