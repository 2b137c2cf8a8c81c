"""Following an attempt in flight in the task core: its pod (PodLost only on the API server's word), its node and
start, its progress reports, its end, and the watchdogs (pending timeout, stall, deadline)."""

from __future__ import annotations

from datetime import datetime, timedelta

from scribe_operator.kernel.clock import stamp
from scribe_operator.kinds.task.api.names import pod_name
from scribe_operator.kinds.task.api.status import AttemptProgress, AttemptRecord
from scribe_operator.kinds.task.core import classify
from scribe_operator.kinds.task.core.classify import AttemptOutcome
from scribe_operator.kinds.task.core.deadline import attempt_deadline
from scribe_operator.kinds.task.core.endings import AttemptEndings
from scribe_operator.kinds.task.core.observed import ObservedPod, PodProgress
from scribe_operator.kinds.task.core.plan import ConfirmPod, DeletePod


def attempt_progress(attempt: int, seen: PodProgress, heartbeat: datetime) -> AttemptProgress:
    """status.progress from a pod's report: the numbers, a percentage and the PROGRESS column's text."""
    total = seen.total_seconds
    percent = None if not total else min(100, int(100 * seen.processed_seconds / total))
    return AttemptProgress(
        attempt=attempt,
        processed_seconds=seen.processed_seconds,
        total_seconds=total,
        percent=percent,
        summary=f"{percent}%" if percent is not None else f"{seen.processed_seconds:.0f}s",
        reported_at=None if seen.at is None else stamp(seen.at),
        heartbeat_time=heartbeat,
    )


class AttemptWatch(AttemptEndings):
    """The steps while an attempt is in flight."""

    def watch(self, n: int) -> bool:
        """Follow attempt ``n``'s pod; True when the attempt ended."""
        record = self.status.record(n)
        expected = record.pod if record and record.pod else pod_name(self.task.metadata.name, n)
        pod = self._pod(n, expected)
        if pod is None:
            return self._missing_pod(n, expected, record)
        record = self._observe(n, pod)
        self._progress(n, pod)
        if pod.terminated:
            if pod.phase == "Succeeded":
                self._succeed(n, pod)
            else:
                self._fail(n, classify.classify_terminated(pod), pod=pod)
            return True
        if not pod.started:
            pending = self.spec.timeouts.pending_seconds
            return self._watchdog(
                pod, record, pod.created_at + timedelta(seconds=pending), classify.classify_pending(pod, pending)
            )
        progress = self.status.progress
        stall = self.spec.timeouts.stall_seconds
        stall = self.settings.stall_timeout_seconds if stall is None else stall
        if stall > 0 and progress is not None and progress.attempt == n and not progress.complete:
            limit = progress.heartbeat_time + timedelta(seconds=stall)
            outcome = classify.stalled(pod, stall, progress.processed_seconds, progress.total_seconds)
            if self._watchdog(pod, record, limit, outcome):
                return True
        deadline = record.deadline_seconds or attempt_deadline(self.spec, self.status.input_size, self.settings)
        limit = (pod.started_at or pod.created_at) + timedelta(seconds=deadline + self.settings.deadline_grace_seconds)
        return self._watchdog(pod, record, limit, classify.deadline_exceeded(pod, deadline))

    def _progress(self, n: int, pod: ObservedPod) -> None:
        """Copy the pod's progress report into status when it has moved (the heartbeat is when it was seen to)."""
        seen = pod.progress
        if seen is None:
            return
        current = self.status.progress if self.status.progress and self.status.progress.attempt == n else None
        if current is None or seen.processed_seconds > current.processed_seconds:
            heartbeat = self.stamp
        elif seen.total_seconds != current.total_seconds:
            heartbeat = current.heartbeat_time
        else:
            return
        self.set(progress=attempt_progress(n, seen, heartbeat))

    def _missing_pod(self, n: int, expected: str, record: AttemptRecord | None) -> bool:
        error = self.observed.launch_error
        if error is not None and error.attempt == n:
            if record is not None:
                self._put(record.model_copy(update={"pod": None}))  # planned, never created
            self._fail(n, classify.launch_failed(error))
            return True
        created = record.created_at if record else None
        if created is not None:
            limit = created + timedelta(seconds=self.settings.pod_lost_grace_seconds)
            if self.now < limit:
                self.wake_at.append(limit)
                return False
        check = self.observed.pod_check
        if check is None or check.name != expected:
            self.actions.append(ConfirmPod(expected))  # the watch may only be late: ask the API server first
            return False
        self._fail(n, classify.pod_lost(expected))
        return True

    def _watchdog(self, pod: ObservedPod, record: AttemptRecord, limit: datetime, outcome: AttemptOutcome) -> bool:
        """End the attempt of ``record`` with ``outcome`` (deleting its pod) once ``limit`` has passed."""
        if self.now < limit:
            self.wake_at.append(limit)
            return False
        self.actions.append(DeletePod(pod.name))
        self._put(record)  # what the pod told about the attempt (node, start) goes into history with its end
        self._fail(record.attempt, outcome, pod=pod)
        return True

    def _observe(self, n: int, pod: ObservedPod) -> AttemptRecord:
        """What the pod tells about attempt ``n`` (its node, when it started).

        Written into the history only when the attempt ends, in the same status write as its outcome: a pod
        being scheduled or starting costs no write (``kubectl get pod`` shows it meanwhile), which keeps a
        one-attempt task at two status writes (launch and finish).
        """
        record = self.status.record(n) or AttemptRecord(attempt=n, created_at=stamp(pod.created_at))
        record = record.model_copy(
            update={
                "pod": pod.name,
                "node": pod.node or record.node,
                "started_at": stamp(pod.started_at) if pod.started_at else record.started_at,
            }
        )
        if pod.terminated or self.status.record(n) is None:
            self._put(record)
        return record
