"""``reconcile(task, observed, now, settings) -> Plan``: the level-triggered heart of the operator.

Pure: no I/O, no clock reads, no randomness. The same task, observation and time always give the same plan,
and after a plan's status is written, reconciling the same observation again changes nothing.

One pass advances the task as far as the observation allows, attempt by attempt:

* between attempts (new task, or the last attempt failed and ``retryAt`` has come): adopt a pod that
  already exists for the next attempt (the operator crashed between creating it and writing status); else
  wait while the circuit breaker is open (``Observed.circuit``: the task keeps its phase, gets the condition
  CircuitOpen, and looks again at the next probe); else, when running attempts are limited, ask whether a
  slot is free (``CheckCapacity``) and wait in phase Queued if not (no timer: a freed slot wakes it); else
  ask for the storage probes (the input object, the output bucket and, with the result cache on, the result
  record there); else fail the attempt up front (a probe said not found/forbidden/error, or the launch could
  not presign, or the API server refused its Secret or Pod); else succeed at once as CacheHit when a complete
  result of this input version and options is already at the output (:mod:`.cache`); else launch it. Waiting
  never spends an attempt;
* while an attempt is in flight: wait for its pod (PodLost after the pod-lost grace), record its node and
  start, end it as Succeeded or classify its failure, and run the watchdogs (pending timeout, deadline);
* after a failure: retry with backoff while attempts remain and the failure is retryable, else Dead.

Succeeded and Dead are absorbing: their plans never change the phase or start anything; they only delete
pods still running, repair a missing dead-letter label and deliver ``spec.notification`` (:mod:`.notify`).
The one way out is a requeue request (a new ``scribe.dev/requeue`` token, :mod:`.requeue`): a Dead task goes
back to Pending with a fresh budget of attempts counted from ``status.attemptBase``; a request on a task that is
not Dead is recorded as ignored.
A task being deleted gets an empty plan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scribe_worker import config as worker_config
from scribe_worker.taxonomy import Reason

from scribe_operator.api.constants import DEAD_LETTER_VALUE, LABEL_DEAD_LETTER
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.names import pod_name, secret_name
from scribe_operator.kinds.task.api.outputs import output_prefix, output_uris
from scribe_operator.kinds.task.api.result import options_hash
from scribe_operator.kinds.task.api.status import AttemptProgress, AttemptRecord, Phase, TaskStatus
from scribe_operator.kinds.task.api.transcription import model_problem
from scribe_operator.kinds.task.core import classify
from scribe_operator.kinds.task.core.backoff import backoff_delay
from scribe_operator.kinds.task.core.cache import cache_hit
from scribe_operator.kinds.task.core.classify import Outcome
from scribe_operator.kinds.task.core.conditions import CIRCUIT_OPEN, derive_conditions
from scribe_operator.kinds.task.core.deadline import attempt_deadline, url_ttl
from scribe_operator.kinds.task.core.memory import memory_limit
from scribe_operator.kinds.task.core.notify import task_notify_step
from scribe_operator.kinds.task.core.observed import (
    CapacityVerdict,
    CircuitHold,
    InputProbe,
    Observed,
    ObservedPod,
    PodProgress,
)
from scribe_operator.kinds.task.core.plan import (
    Action,
    CheckCapacity,
    ConfirmPod,
    DeletePod,
    DeleteSecret,
    EmitEvent,
    EventReason,
    EventType,
    LaunchAttempt,
    Plan,
    ProbeInput,
    ProbeOutput,
    RecordResult,
)
from scribe_operator.kinds.task.core.requeue import RequeueRequest, ignored, requeue_request, requeued
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.kinds.task.core.usage import add_usage, attempt_usage


def reconcile(task: TranscriptionTask, observed: Observed, now: datetime, settings: CoreSettings | None = None) -> Plan:
    """The plan that moves ``task`` towards done, given what was ``observed`` at time ``now``."""
    settings = settings or CoreSettings()
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    if task.metadata.deletion_timestamp is not None:
        return Plan()  # being deleted: owned pods and secrets go with it; start nothing new
    request = requeue_request(task)
    if task.status.terminal and request is None:
        step = task_notify_step(task, observed.notification, now, settings.notification)
        status = None if step.status is None else task.status.model_copy(update={"notification": step.status})
        return Plan(
            status=status,
            dead_letter_label=_dead_letter_label(task, task.status),
            actions=(*_stray_pods(observed, None), *([step.send] if step.send else [])),
            requeue_after=None if step.wake_at is None else max(0.0, (step.wake_at - now).total_seconds()),
        )
    run = _Pass(task, observed, now, settings)
    if request is not None:
        run.requeue(request)
    run.advance()
    return run.plan()


def _dead_letter_label(task: TranscriptionTask, status: TaskStatus) -> bool | None:
    """True: the task is Dead but not labelled; False: it is labelled but no longer (or not) Dead."""
    labelled = task.metadata.labels.get(LABEL_DEAD_LETTER) == DEAD_LETTER_VALUE
    dead = status.phase is Phase.DEAD
    return None if labelled is dead else dead


def _stray_pods(observed: Observed, in_flight: int | None) -> tuple[DeletePod, ...]:
    """Delete pods still running that belong to no attempt in flight (watchdog victims, strays)."""
    return tuple(
        DeletePod(p.name)
        for p in sorted(observed.pods, key=lambda p: p.name)
        if p.attempt != in_flight and not p.terminated and not p.deleting
    )


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
        reported_at=None if seen.at is None else _stamp(seen.at),
        heartbeat_time=heartbeat,
    )


def _stamp(moment: datetime) -> datetime:
    """Times written to status have whole seconds."""
    return moment.replace(microsecond=0)


def _ceil_stamp(moment: datetime) -> datetime:
    return moment if moment.microsecond == 0 else _stamp(moment) + timedelta(seconds=1)


class _Pass:
    """One reconcile pass: a working copy of the status plus the actions and wake-up times gathered."""

    def __init__(self, task: TranscriptionTask, observed: Observed, now: datetime, settings: CoreSettings):
        self.task, self.spec, self.observed, self.settings = task, task.spec, observed, settings
        self.now, self.stamp = now, _stamp(now)
        self.status = task.status
        self.max_attempts = task.spec.retry_policy.max_attempts
        self.actions: list[Action] = []
        self.events: list[EmitEvent] = []
        self.wake_at: list[datetime] = []
        self.queued: CapacityVerdict | None = None  # why the task entered Queued in this pass
        self.held: CircuitHold | None = None  # the circuit breaker held its next attempt in this pass

    # --- driving ------------------------------------------------------------------------------------------

    def requeue(self, request: RequeueRequest) -> None:
        """Handle a new requeue request: a Dead task starts over; any other records it as ignored."""
        if self.status.phase is Phase.DEAD:
            self.status = requeued(self.status, request, self.stamp, self.max_attempts)
            self._event("Normal", EventReason.REQUEUED, self.status.message or "requeued")
        else:
            self.status, message = ignored(self.status, request, self.stamp)
            self._event("Warning", EventReason.REQUEUE_IGNORED, message)

    def advance(self) -> None:
        """Take every step the observation allows (each step ends an attempt, starts one, or stops)."""
        for _ in range(2 * self.max_attempts + 2):
            if self.status.terminal:
                return
            n = self._in_flight()
            progressed = self.watch(n) if n is not None else self.start(self.status.attempt + 1)
            if not progressed:
                return

    def plan(self) -> Plan:
        old = self.task.status
        status = self.status.model_copy(
            update={
                "conditions": derive_conditions(
                    self.status, old.conditions, self.stamp, self.task.metadata.generation, self.queued, self.held
                ),
                "observed_generation": self.task.metadata.generation,
            }
        )
        changed = status != old
        if changed:
            status = status.model_copy(update={"updated_at": self.stamp})
        in_flight = self._in_flight()
        deletes = [a for a in _stray_pods(self.observed, in_flight) if a not in self.actions]
        if status.terminal and self.spec.notification is not None:
            self.wake_at.append(self.now)  # the notification goes out in the next reconcile, after this status write
        wake = min(self.wake_at, default=None)
        return Plan(
            status=status if changed else None,
            dead_letter_label=_dead_letter_label(self.task, status),
            actions=(*self.actions, *deletes, *self.events),
            requeue_after=None if wake is None else max(0.0, (wake - self.now).total_seconds()),
        )

    def _in_flight(self) -> int | None:
        """The attempt currently launched and not yet ended, if any (never one from before a requeue)."""
        n = self.status.attempt
        record = self.status.record(n)
        between = self.status.terminal or self.status.phase is Phase.RETRYING or (record and record.finished)
        return None if between or n <= self.status.attempt_base else n

    # --- between attempts --------------------------------------------------------------------------------

    def start(self, m: int) -> bool:
        """Try to start attempt ``m``; False when it has to wait (retryAt, input probe)."""
        pod = self._pod(m, pod_name(self.task.metadata.name, m))
        if self._round(m) > self.max_attempts:
            self._dead(Reason.RETRIES_EXHAUSTED.value, f"no attempts left ({self.max_attempts} allowed)", self.stamp)
            return True
        if pod is not None:
            self._adopt(m, pod)
            return True
        retry_at = self.status.retry_at
        if self.status.phase is Phase.RETRYING and retry_at is not None and self.now < retry_at:
            self.wake_at.append(retry_at)
            return False
        error = self.observed.launch_error
        if error is not None and error.attempt == m:
            self._fail(m, classify.launch_failed(error), cleanup=True)
            return True
        problem = self._model_problem()
        if problem is not None:
            self._fail(m, classify.failure(Reason.INVALID_CONFIGURATION, problem), cleanup=False)
            return True
        if not self._may_start(m):
            return False
        probe, output = self.observed.input_probe, self.observed.output_probe
        if probe is None or output is None:
            if self.status.phase is None:
                self._set(phase=Phase.PENDING)
            wanted = ((ProbeInput(), probe), (ProbeOutput(lookup=self._reuse), output))
            self.actions.extend(a for a, seen in wanted if seen is None)
            return False
        outcome = classify.probe_failed(probe, self.spec.input) or classify.output_probe_failed(
            output, output_prefix(self.spec)
        )
        if outcome is not None:
            self._fail(m, outcome, cleanup=False)
        elif self._reuse and cache_hit(self.spec, probe, output, self._options):
            self._cache_hit(probe)
        else:
            self._launch(m, probe)
        return True

    @property
    def _reuse(self) -> bool:
        """Whether a result already at the output may be reused (operator-wide and per task)."""
        return self.settings.result_cache and self.spec.cache

    @property
    def _options(self) -> str:
        return options_hash(self.spec, dict(self.settings.transcript_defaults))

    def _cache_hit(self, probe: InputProbe) -> None:
        """End the task as Succeeded with the result already at its output location; no attempt is spent."""
        prefix = output_prefix(self.spec)
        message = f"a complete transcript of this input version with the same options is already under {prefix}"
        self._set(
            phase=Phase.SUCCEEDED,
            reason=Reason.CACHE_HIT.value,
            message=message,
            outputs=output_uris(self.spec),
            retry_at=None,
            input_size=probe.size_bytes,
            input_etag=probe.etag,
            finished_at=self.stamp,
        )
        self._event("Normal", EventReason.CACHE_HIT, f"{message}; no pod was started")

    def _model_problem(self) -> str | None:
        """What the task asks of a model that cannot do it, with the default model filled in: the CEL rules see only
        a model the spec names. Caught before any pod (or probe) is spent."""
        model = self.spec.model or self.settings.default_model or worker_config.DEFAULT_MODEL
        problem = model_problem(model, self.spec.language, self.spec.task)
        return None if problem is None else f"{problem} (model {model}, the default when spec.model is omitted)"

    def _may_start(self, m: int) -> bool:
        """Whether attempt ``m`` may start now: the circuit breaker is closed and a slot is free. Else the task waits
        without spending an attempt: held where it is (CircuitOpen) or in phase Queued."""
        hold = self.observed.circuit
        if hold is not None:
            if self.status.phase is None:
                self._set(phase=Phase.PENDING)
            if not any(c.type == CIRCUIT_OPEN and c.status == "True" for c in self.status.conditions):
                self._event("Warning", EventReason.CIRCUIT_OPEN, f"{self._of(m)} waits: {hold.message}")
            self.held = hold
            self.wake_at.append(hold.retry_at)
            return False
        if not self.settings.capacity.limited:
            return True
        verdict = self.observed.capacity
        if verdict is None:
            if self.status.phase is None:
                self._set(phase=Phase.PENDING)
            self.actions.append(CheckCapacity(m))
            return False
        if verdict.admitted:
            return True
        if self.status.phase is not Phase.QUEUED:
            self.queued = verdict
            self._set(phase=Phase.QUEUED, retry_at=None)
            self._event("Normal", EventReason.QUEUED, f"{self._of(m)} waits for a free slot: {verdict.message}")
        return False

    def _launch(self, m: int, probe: InputProbe) -> None:
        deadline = attempt_deadline(self.spec, probe.size_bytes, self.settings)
        memory = memory_limit(self.spec, self.status.attempts, self.settings)
        name = self.task.metadata.name
        pod, secret = pod_name(name, m), secret_name(name, m)
        self._begin(
            AttemptRecord(attempt=m, pod=pod, created_at=self.stamp, memory_limit=memory, deadline_seconds=deadline),
            input_size=probe.size_bytes,
            input_etag=probe.etag,
        )
        self.actions.append(
            LaunchAttempt(m, pod, secret, deadline, url_ttl(self.spec, deadline, self.settings), memory)
        )
        self._event("Normal", EventReason.ATTEMPT_LAUNCHED, f"{self._of(m)}: pod {pod}, deadline {deadline}s")

    def _adopt(self, m: int, pod: ObservedPod) -> None:
        """Take over a pod created for attempt ``m`` whose launch never made it into status."""
        self._begin(
            AttemptRecord(
                attempt=m,
                pod=pod.name,
                created_at=_stamp(pod.created_at),
                memory_limit=memory_limit(self.spec, self.status.attempts, self.settings),
                deadline_seconds=attempt_deadline(self.spec, self.status.input_size, self.settings),
            ),
            input_size=self.status.input_size,
            input_etag=self.status.input_etag,
        )
        self._event("Normal", EventReason.ATTEMPT_ADOPTED, f"{self._of(m)}: adopted existing pod {pod.name}")

    def _begin(self, record: AttemptRecord, input_size: int | None, input_etag: str | None) -> None:
        self._put(record)
        self._set(
            attempt=record.attempt,
            phase=Phase.RUNNING,
            retry_at=None,
            input_size=input_size,
            input_etag=input_etag,
            started_at=self.status.started_at or record.created_at,
            progress=None,
        )

    # --- an attempt in flight ----------------------------------------------------------------------------

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
        self._set(progress=attempt_progress(n, seen, heartbeat))

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

    def _watchdog(self, pod: ObservedPod, record: AttemptRecord, limit: datetime, outcome: Outcome) -> bool:
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
        record = self.status.record(n) or AttemptRecord(attempt=n, created_at=_stamp(pod.created_at))
        record = record.model_copy(
            update={
                "pod": pod.name,
                "node": pod.node or record.node,
                "started_at": _stamp(pod.started_at) if pod.started_at else record.started_at,
            }
        )
        if pod.terminated or self.status.record(n) is None:
            self._put(record)
        return record

    # --- endings -----------------------------------------------------------------------------------------

    def _succeed(self, n: int, pod: ObservedPod) -> None:
        tm = classify.parse_termination_message(pod.termination_message)
        finished = self._finished(pod)
        message = f"transcripts written under {output_prefix(self.spec)}"
        self._end(n, finished, exit_code=pod.exit_code or 0, reason=Reason.COMPLETED.value, message=message, pod=pod)
        self._set(
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
        self._event("Normal", EventReason.SUCCEEDED, f"{self._of(n)} succeeded: {message}")

    def _fail(self, n: int, outcome: Outcome, pod: ObservedPod | None = None, cleanup: bool = True) -> None:
        """Record attempt ``n`` as failed, then retry it or go Dead. ``cleanup``: delete its URL secret."""
        outcome = classify.apply_rules(outcome, self.spec.retry_policy.rules)
        finished = self._finished(pod)
        message = self._clip(outcome.message)
        self._end(n, finished, outcome.exit_code, outcome.reason, message, outcome.retryable, pod)
        counts = dict(self.status.failure_counts)
        counts[outcome.reason] = counts.get(outcome.reason, 0) + 1
        self._set(attempt=max(self.status.attempt, n), failure_counts=counts)
        if cleanup:
            self.actions.append(DeleteSecret(secret_name(self.task.metadata.name, n)))
        self._event("Warning", EventReason.ATTEMPT_FAILED, f"{self._of(n)} failed: {outcome.reason}: {message}")
        if not outcome.retryable:
            self._dead(outcome.reason, message, finished)
        elif self._round(n) >= self.max_attempts:
            last = f"last attempt ({self._count(n)}) failed: {outcome.reason}: {message}"
            self._dead(Reason.RETRIES_EXHAUSTED.value, self._clip(last), finished)
        else:
            delay = backoff_delay(self.spec.retry_policy.backoff, self._round(n), self.task.metadata.uid)
            retry_at = _ceil_stamp(min(finished, self.stamp) + timedelta(seconds=delay))
            self._set(phase=Phase.RETRYING, retry_at=retry_at, reason=outcome.reason, message=message)
            when = retry_at.isoformat().replace("+00:00", "Z")
            self._event("Normal", EventReason.RETRY_SCHEDULED, f"{self._of(n + 1)} at {when}")

    def _dead(self, reason: str, message: str, finished: datetime) -> None:
        self._set(phase=Phase.DEAD, reason=reason, message=message, retry_at=None, finished_at=finished)
        self._event("Warning", EventReason.DEAD_LETTERED, f"{reason}: {message}")

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
        tm = classify.parse_termination_message(pod.termination_message) if pod is not None else None
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
        self._set(usage=add_usage(self.status.usage, usage))

    # --- helpers -----------------------------------------------------------------------------------------

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
        self._set(attempts=attempts[-self.settings.max_history :])

    def _set(self, **fields: object) -> None:
        self.status = self.status.model_copy(update=fields)

    def _event(self, kind: EventType, reason: EventReason, message: str) -> None:
        self.events.append(EmitEvent(kind, reason.value, message))

    def _finished(self, pod: ObservedPod | None) -> datetime:
        finished = pod.finished_at if pod is not None and pod.finished_at is not None else self.now
        return _stamp(min(finished, self.now))

    def _clip(self, text: str) -> str:
        limit = self.settings.max_message_length
        return text if len(text) <= limit else text[: limit - 1] + "…"

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
