"""``reconcile(task, observed, now, settings) -> TaskPlan``: the level-triggered heart of the operator.

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

from datetime import datetime

from scribe_operator.api.constants import DEAD_LETTER_VALUE, LABEL_DEAD_LETTER
from scribe_operator.kernel.clock import requeue_after
from scribe_operator.kernel.decision import decision_core
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.status import Phase, TaskStatus
from scribe_operator.kinds.task.core.conditions import derive_conditions
from scribe_operator.kinds.task.core.notify import task_notify_step
from scribe_operator.kinds.task.core.observed import Observed
from scribe_operator.kinds.task.core.plan import DeletePod, EventReason, TaskPlan
from scribe_operator.kinds.task.core.requeue import RequeueRequest, ignored, requeue_request, requeued
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.kinds.task.core.starting import AttemptStart
from scribe_operator.kinds.task.core.watching import AttemptWatch


@decision_core(empty=TaskPlan, defaults=CoreSettings)
def reconcile(task: TranscriptionTask, observed: Observed, now: datetime, settings: CoreSettings) -> TaskPlan:
    """The plan that moves ``task`` towards done, given what was ``observed`` at time ``now``
    (:func:`~scribe_operator.kernel.decision.decision_core`: a task being deleted gets the empty plan, its pods and
    secrets go with it and nothing new starts)."""
    request = requeue_request(task)
    if task.status.terminal and request is None:
        step = task_notify_step(task, observed.notification, now, settings.notification)
        status = None if step.status is None else task.status.model_copy(update={"notification": step.status})
        return TaskPlan(
            status=status,
            dead_letter_label=_dead_letter_label(task, task.status),
            actions=(*_stray_pods(observed, None), *([step.send] if step.send else [])),
            requeue_after=requeue_after([] if step.wake_at is None else [step.wake_at], now),
        )
    run = TaskPass(task, observed, now, settings)
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


class TaskPass(AttemptStart, AttemptWatch):
    """One reconcile pass: every step the observation allows, then the plan."""

    def requeue(self, request: RequeueRequest) -> None:
        """Handle a new requeue request: a Dead task starts over; any other records it as ignored."""
        if self.status.phase is Phase.DEAD:
            self.status = requeued(self.status, request, self.stamp, self.max_attempts)
            self.event("Normal", EventReason.REQUEUED, self.status.message or "requeued")
        else:
            self.status, message = ignored(self.status, request, self.stamp)
            self.event("Warning", EventReason.REQUEUE_IGNORED, message)

    def advance(self) -> None:
        """Take every step the observation allows (each step ends an attempt, starts one, or stops)."""
        for _ in range(2 * self.max_attempts + 2):
            if self.status.terminal:
                return
            n = self._in_flight()
            progressed = self.watch(n) if n is not None else self.start(self.status.attempt + 1)
            if not progressed:
                return

    def plan(self) -> TaskPlan:
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
        return TaskPlan(
            status=status if changed else None,
            dead_letter_label=_dead_letter_label(self.task, status),
            actions=(*self.actions, *deletes, *self.events),
            requeue_after=self.requeue_after(),
        )
