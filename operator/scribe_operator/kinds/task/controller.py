"""The reconcile loop around the pure core: observe, decide, carry out, requeue.

One task is reconciled at a time (a lock per task); task and pod events, requeue timers and restarts all end
in :meth:`Controller.reconcile`, which reads only what the watches delivered (no GETs) and derives everything
from it, so a missed event or a restart changes nothing.

New tasks are started a few at a time (``capacity.concurrent_starts``, a FIFO semaphore over the reconciles of
tasks without an attempt): a burst of a thousand new tasks would otherwise fill the event loop with their probes,
presigning and creates, and a finished attempt's status write would wait behind all of them. Reconciles of tasks
already started never wait.

Two operator-wide concerns meet here: the running-attempt limits (:mod:`.capacity`: the core asks with
``CheckCapacity``, a freed slot wakes the first waiting tasks) and the circuit breaker (:mod:`.circuit`: its verdict
goes into every reconcile, the failures each status write records are fed to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from scribe_contract.taxonomy import Reason

from scribe_operator.api.meta import ObjectKey
from scribe_operator.api.parse import ValidationProblem
from scribe_operator.kernel.conditions import is_true
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kernel.notify import SendNotification
from scribe_operator.kernel.plan import DeleteObject
from scribe_operator.kernel.replan import replan
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.names import pod_name
from scribe_operator.kinds.task.api.outputs import output_prefix, output_uris
from scribe_operator.kinds.task.api.parse import parse_task
from scribe_operator.kinds.task.api.result import ResultRecord, record_uri
from scribe_operator.kinds.task.api.status import TaskStatus
from scribe_operator.kinds.task.capacity import CapacityTracker
from scribe_operator.kinds.task.circuit import CircuitBreaker
from scribe_operator.kinds.task.core.breaker import failures_between
from scribe_operator.kinds.task.core.capacity import queue_entry, waiting_entry
from scribe_operator.kinds.task.core.classify import create_refused
from scribe_operator.kinds.task.core.conditions import CIRCUIT_OPEN
from scribe_operator.kinds.task.core.notify import task_cloud_event
from scribe_operator.kinds.task.core.observed import LaunchError, Observed, ObservedPod, PodCheck
from scribe_operator.kinds.task.core.plan import (
    CheckCapacity,
    ConfirmPod,
    LaunchAttempt,
    ProbeInput,
    ProbeOutput,
    RecordResult,
    TaskPlan,
)
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.kinds.task.manifests import attempt_pod, attempt_secret
from scribe_operator.kinds.task.progress import reports_progress, worker_identity
from scribe_operator.kinds.task.storage import ModelSourceError, PresignError, Storage
from scribe_operator.kinds.task.workerenv import model_source
from scribe_operator.runtime.kube.client import ApiFailure
from scribe_operator.runtime.kube.effects import Conflict, KubeEffects
from scribe_operator.runtime.loop import ReconcileLoop
from scribe_operator.runtime.metrics import RECONCILE_DURATION, RECONCILE_ERRORS, observe_transition, track_namespace
from scribe_operator.runtime.notifier import Notifier
from scribe_operator.runtime.parsecache import ParsedByVersion
from scribe_operator.runtime.settings import OperatorSettings

log = logging.getLogger("scribe_operator")

WAKE_COALESCE_SECONDS = 0.05
MAX_TASK_PASSES = 5  # capacity, the storage probes, launch (or launch error), and one spare


class Controller(ReconcileLoop[ObservedPod]):
    """The TranscriptionTask controller: a reconcile loop around the pure core, plus capacity and the breaker."""

    kind = "task"
    errors = RECONCILE_ERRORS
    duration = RECONCILE_DURATION

    def __init__(
        self,
        *,
        settings: OperatorSettings,
        effects: KubeEffects,
        storage: Storage,
        notifier: Notifier | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__()
        self.settings, self.effects, self.storage, self.clock = settings, effects, storage, clock
        self.core: CoreSettings = settings.core()
        self.capacity = CapacityTracker(self.core.capacity, self.core.pod_lost_grace_seconds)
        self.breaker = CircuitBreaker(settings.breaker.core(), storage.probe, self.wake, clock)
        self.notifier = notifier or Notifier(effects, settings.notification.allow_http)
        self.seeded = False
        self.identities: set[str] = set()  # namespaces whose worker account exists
        self._wake_pending: asyncio.TimerHandle | None = None
        self.parsed = ParsedByVersion(parse_task, keep=_in_flight)  # a requeue or a pod event does not parse again
        self.starts = asyncio.Semaphore(settings.capacity.concurrent_starts)  # reconciles of tasks with no attempt

    # -- operator-wide state ---------------------------------------------------------------------
    def seed(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        """Fill the queue of waiting tasks from every task the watch holds (once, before the first reconcile)."""
        self.seeded = True
        if not self.capacity.limited:
            return
        for body in bodies:
            task = parse_task(body)
            if isinstance(task, TranscriptionTask):
                self.capacity.note(task.metadata.key, waiting_entry(task))

    def wake(self, keys: Iterable[ObjectKey]) -> None:
        """Reconcile ``keys`` now."""
        for key in keys:
            self.requeue(key, 0)

    def capacity_freed(self) -> None:
        """A slot may have come free (a pod ended or went away, a reservation ended, the queue moved): wake the
        waiting tasks that get one. Bursts (the initial listing, many pods ending) are coalesced into one wake."""
        if not self.capacity.limited or self._wake_pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._wake_pending = loop.call_later(WAKE_COALESCE_SECONDS, self._wake_admitted)

    def capacity_frees_at(self, moment: dt.datetime) -> None:
        """A pod being deleted stops holding its slot at ``moment``, the end of its grace period, even if no event
        comes then (its node hung: the object stays until someone removes it)."""
        if not self.capacity.limited:
            return
        delay = max(0.0, (moment - self.clock()).total_seconds()) + 0.1
        asyncio.get_running_loop().call_later(delay, self.capacity_freed)

    def _wake_admitted(self) -> None:
        self._wake_pending = None
        if self.breaker.state.closed:
            self.wake(self.capacity.admitted(self.clock()))

    # -- scheduling ------------------------------------------------------------------------------
    def forget(self, key: ObjectKey) -> None:
        super().forget(key)
        self.breaker.forget(key)
        self.capacity.release(key)
        self.capacity.note(key, None)
        self.parsed.forget(key)
        self.capacity_freed()

    async def _reconcile(self, body: Mapping[str, Any], seen: tuple[ObservedPod, ...]) -> float | None:
        meta = body.get("metadata") or {}
        parsed = self.parsed.parse((meta.get("namespace") or "", meta.get("name") or ""), body)
        if isinstance(parsed, ValidationProblem):
            self.ignore_invalid(body, parsed, log)
            return None
        original, now = parsed, self.clock()
        track_namespace(original.metadata.namespace or "")
        key = original.metadata.key
        launched: list[LaunchAttempt] = []  # the attempts whose pods this reconcile created
        completed = False
        starting = not original.status.attempts and not original.status.terminal  # waits for a start slot
        if starting:
            await self.starts.acquire()
        try:
            run = await replan(
                original,
                Observed(pods=seen, circuit=self.breaker.hold(now)),
                decide=lambda task, observed: reconcile(task, observed, now, self.core),
                answer=lambda task, observed, plan: self._act(task, observed, plan, now, launched),
                max_passes=MAX_TASK_PASSES,
            )
            status = run.latest(lambda plan: plan.status)
            await self._write(run.subject, status, run.latest(lambda plan: plan.dead_letter_label))
            completed = True
        finally:
            if starting:
                self.starts.release()
            # A slot reserved for a launch that did not happen is given back; others are woken for it unless this
            # reconcile failed (it is retried shortly and, being first in line, would take the slot again).
            if not launched and self.capacity.release(key) and completed:
                self.capacity_freed()
        if launched:
            expiry = self.capacity.next_expiry()
            if expiry is not None:  # a pod that never shows up must not hold its slot for ever
                delay = (expiry - now).total_seconds() + 0.1
                asyncio.get_running_loop().call_later(delay, self.capacity_freed)
        self._note(key, original, run.outcome, run.observed, status, now)
        if status is not None:
            observe_transition(original, original.status, status)
            _log_transition(original, status)
        return run.final.requeue_after

    def _note(
        self,
        key: ObjectKey,
        original: TranscriptionTask,
        task: TranscriptionTask,
        observed: Observed,
        written: TaskStatus | None,
        now: dt.datetime,
    ) -> None:
        """Keep the operator-wide state current after a reconcile: the queue, the tasks the breaker holds, and the
        failures the written status recorded."""
        was_waiting = key in self.capacity.queue.entries
        self.capacity.note(key, waiting_entry(task))
        if was_waiting and key not in self.capacity.queue.entries:
            self.capacity_freed()  # the queue moved up
        held = observed.circuit is not None and is_true(task.status.conditions, CIRCUIT_OPEN)
        self.breaker.holding(key, task.spec.input if held else None)
        if written is not None:
            for reason in failures_between(original.status, written):
                self.breaker.failed(now, key, reason, task.spec.input)

    async def _act(
        self,
        task: TranscriptionTask,
        observed: Observed,
        plan: TaskPlan,
        now: dt.datetime,
        launched: list[LaunchAttempt],
    ) -> Observed | None:
        """Carry out the plan's actions; returns the observation completed with the answers to what the plan asked,
        None when it asked nothing. Appends each attempt whose pod was created to ``launched``."""
        answered = observed
        namespace = task.metadata.namespace or "default"
        for action in plan.actions:
            if isinstance(action, CheckCapacity):
                pod = pod_name(task.metadata.name, action.attempt)
                answered = replace(answered, capacity=self.capacity.request(queue_entry(task), pod, now))
            elif isinstance(action, ProbeInput):
                answered = replace(answered, input_probe=await self.storage.probe(task.spec.input))
            elif isinstance(action, ProbeOutput):
                probe = await self.storage.probe_bucket(output_prefix(task.spec))
                if action.lookup and probe.result == "ok":
                    probe = replace(probe, stored=await self.storage.stored_result(record_uri(task.spec)))
                answered = replace(answered, output_probe=probe)
            elif isinstance(action, ConfirmPod):
                found = await self.effects.get_pod(action.name, namespace)
                check = PodCheck(action.name, None if found is None else ObservedPod.from_pod(found))
                answered = replace(answered, pod_check=check)
            elif isinstance(action, RecordResult):
                await self._record(task, action)
            elif isinstance(action, SendNotification):
                target = task.spec.notification
                if target is not None:
                    event = task_cloud_event(task, action.id)
                    result = await self.notifier.send(namespace, target, action.id, event)
                    answered = replace(answered, notification=result)
            elif isinstance(action, LaunchAttempt):
                error = await self._launch(task, action)
                if error is not None:
                    answered = replace(answered, launch_error=error)
                else:
                    launched.append(action)
            elif isinstance(action, DeleteObject):
                await self.effects.delete(action.kind, action.name, namespace)
            elif isinstance(action, EmitEvent):
                await self.effects.emit(task, action)
        return None if answered is observed else answered

    async def _launch(self, task: TranscriptionTask, launch: LaunchAttempt) -> LaunchError | None:
        source = model_source(task.spec, self.settings)
        try:
            urls = self.storage.presign(task.spec.input, output_uris(task.spec), launch.url_ttl_seconds)
            if source.s3 is not None:
                model_urls = await self.storage.presign_model(source.s3.prefix, launch.url_ttl_seconds)
                urls = replace(urls, model_urls=model_urls)
        except PresignError as exc:
            return LaunchError(launch.attempt, Reason.PRESIGN_FAILED, str(exc))
        except ModelSourceError as exc:
            return LaunchError(launch.attempt, Reason.INVALID_CONFIGURATION, str(exc))
        namespace = task.metadata.namespace or "default"
        progress = reports_progress(task, self.settings)
        if progress:
            await self._worker_identity(namespace)
        for manifest in (attempt_secret(task, launch, urls), attempt_pod(task, launch, self.settings)):
            try:
                await self._create(manifest, namespace, progress)
            except (
                ApiFailure
            ) as exc:  # refused (invalid, quota, admission): the attempt fails; else retry the reconcile
                name = manifest["metadata"]["name"]
                refused = create_refused(launch.attempt, manifest["kind"], name, exc.code, exc.message)
                if refused is None:
                    raise
                return refused
        log.info(
            "%s/%s: launched attempt %d",
            task.metadata.namespace,
            task.metadata.name,
            launch.attempt,
            extra=log_fields(task, attempt=launch.attempt, pod=launch.pod_name),
        )
        return None

    async def _create(self, manifest: dict[str, Any], namespace: str, progress: bool) -> None:
        """Create an attempt's object; a pod refused for a missing worker account (its namespace was deleted and made
        again since this process created the account) gets the account again and one more try."""
        try:
            await self.effects.create(manifest)
        except ApiFailure as exc:
            if not (progress and manifest["kind"] == "Pod" and exc.code == 403 and "service account" in exc.message):
                raise
            self.identities.discard(namespace)
            await self._worker_identity(namespace)
            await self.effects.create(manifest)

    async def _record(self, task: TranscriptionTask, action: RecordResult) -> None:
        """Write the result record of a successful attempt beside its outputs (best effort, never fails the task)."""
        outputs = {fmt: (uri, "") for fmt, uri in output_uris(task.spec).items()}
        record = ResultRecord(task.spec.input, action.input_etag, action.input_size, action.options, outputs)
        meta = task.metadata
        writer = {"namespace": meta.namespace or "", "name": meta.name, "uid": meta.uid}
        await self.storage.write_result(record_uri(task.spec), record, writer, action.attempt)

    async def _worker_identity(self, namespace: str) -> None:
        """The namespace's worker account (ServiceAccount, Role, RoleBinding), created once per operator process."""
        if namespace in self.identities:
            return
        for manifest in worker_identity(namespace, self.settings):
            await self.effects.create(manifest)
        self.identities.add(namespace)

    async def _write(self, task: TranscriptionTask, status: TaskStatus | None, label: bool | None) -> None:
        key = task.metadata.key
        if status is not None:
            self.written[key] = await self.effects.write_status(task, status)
        if label is not None:
            with contextlib.suppress(Conflict):
                self.written[key] = await self.effects.set_dead_letter_label(task, label)


def log_fields(task: TranscriptionTask, **more: Any) -> dict[str, Any]:
    """The structured fields every log line about a task carries (never a URL)."""
    return {"namespace": task.metadata.namespace, "task": task.metadata.name, **more}


def _log_transition(task: TranscriptionTask, status: TaskStatus) -> None:
    old = task.status
    if status.phase != old.phase or status.attempt != old.attempt:
        log.info(
            "%s/%s: %s -> %s", task.metadata.namespace, task.metadata.name, old.phase or "New", status.phase,
            extra=log_fields(task, attempt=status.attempt, phase=str(status.phase), reason=status.reason),
        )  # fmt: skip


def _in_flight(parsed: TranscriptionTask | ValidationProblem) -> bool:
    """A parse worth keeping: a valid task that has not finished (a finished one is rarely reconciled again)."""
    return isinstance(parsed, TranscriptionTask) and not parsed.status.terminal
