"""The reconcile loop of TranscriptionBatch around its pure core: observe, decide, carry out, requeue.

Shaped like :mod:`..task.controller`: one batch is reconciled at a time (a lock per batch); batch events,
child-task events and requeue timers all end in :meth:`BatchController.reconcile`, which reads only what the
watches delivered (no GETs). Status writes carry the resourceVersion they were computed from, so a stale write
is refused and the batch is reconciled again from the newer version. Nothing in memory is authoritative: the
only memory, the children this process created recently, merely saves repeated creates (AlreadyExists) while
the watch catches up.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from scribe_operator.api.constants import API_VERSION, KIND, OPERATOR_LABELS
from scribe_operator.api.meta import to_json
from scribe_operator.api.parse import ValidationProblem
from scribe_operator.api.s3 import parse_s3_uri
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kernel.notify import SendNotification
from scribe_operator.kernel.replan import replan
from scribe_operator.kinds.batch.api.indexes import format_indexes
from scribe_operator.kinds.batch.api.layout import expands_to
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.names import BATCH_KIND, LABEL_BATCH, LABEL_BATCH_INDEX, batch_label_value
from scribe_operator.kinds.batch.api.parse import parse_batch
from scribe_operator.kinds.batch.api.spec import MAX_BATCH_INPUTS
from scribe_operator.kinds.batch.api.status import BatchStatus
from scribe_operator.kinds.batch.core.notify import batch_cloud_event
from scribe_operator.kinds.batch.core.observed import BatchObserved, ObservedChild
from scribe_operator.kinds.batch.core.plan import BatchPlan, CreateChild, DeleteChild, ExpandPrefix, WriteSummary
from scribe_operator.kinds.batch.core.reconcile import reconcile_batch
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.batch.storage import BatchStorage
from scribe_operator.runtime.kube.effects import KubeEffects
from scribe_operator.runtime.loop import ReconcileLoop
from scribe_operator.runtime.metrics import PHASE_LABELS, PhaseCollector, observe_notification
from scribe_operator.runtime.notifier import Notifier

log = logging.getLogger("scribe_operator.batch")

MAX_BATCH_PASSES = 4  # expand, decide (create / finalize), record the summary, and one spare
RECENT_CREATE_SECONDS = 30.0

CHILDREN_CREATED = Counter("scribe_batch_children_created_total", "Child tasks created by batches.", ["namespace"])
BATCHES_FINISHED = Counter(
    "scribe_batches_finished_total", "Batches that reached a terminal phase, by phase and reason.",
    ["namespace", "phase", "reason"],
)  # fmt: skip
SUMMARIES = Counter("scribe_batch_summaries_total", "Summary writes, by result.", ["result"])
BATCH_RECONCILE_ERRORS = Counter("scribe_batch_reconcile_errors_total", "Batch reconciles retried.", ["kind"])


# --- manifests --------------------------------------------------------------------------------------------


def child_manifest(batch: TranscriptionBatch, create: CreateChild) -> dict[str, Any]:
    """Child task ``create.name``: owned by the batch (deleting the batch deletes it), labelled with the batch
    and its input's index."""
    name = batch.metadata.name
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": create.name,
            "namespace": batch.metadata.namespace,
            "labels": {**OPERATOR_LABELS, LABEL_BATCH: batch_label_value(name), LABEL_BATCH_INDEX: str(create.index)},
            "ownerReferences": [
                {
                    "apiVersion": batch.api_version,
                    "kind": BATCH_KIND,
                    "name": name,
                    "uid": batch.metadata.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": to_json(create.spec),
    }


def prefix_filter(batch: TranscriptionBatch) -> Callable[[str], bool]:
    """Which keys under the batch's inputPrefix become inputs (see :func:`.api.layout.expands_to`)."""
    bucket = parse_s3_uri(batch.spec.input_prefix or "").bucket
    return lambda key: expands_to(key, batch.spec.output_prefix, bucket)


# --- effects ----------------------------------------------------------------------------------------------


class BatchEffects(KubeEffects):
    """The Kubernetes calls of a batch plan: the shared, idempotent effects, named for what a batch does."""

    async def create_child(self, manifest: dict[str, Any]) -> bool:
        """Create a child task; False if it already existed."""
        return await self.create(manifest)

    async def delete_child(self, name: str, namespace: str) -> None:
        await self.delete(DeleteChild.kind, name, namespace)


# --- the loop ---------------------------------------------------------------------------------------------


class BatchController(ReconcileLoop[ObservedChild]):
    """The TranscriptionBatch controller: a reconcile loop around the pure batch core."""

    kind = "batch"
    errors = BATCH_RECONCILE_ERRORS

    def __init__(
        self,
        *,
        effects: BatchEffects,
        storage: BatchStorage,
        settings: BatchSettings | None = None,
        notifier: Notifier | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        super().__init__()
        self.effects, self.storage, self.clock = effects, storage, clock
        self.settings = settings or BatchSettings()
        self.recent: dict[tuple[str, str], float] = {}  # (batch uid, child) -> when this process created it
        self.notifier = notifier or Notifier(effects)

    async def _reconcile(self, body: Mapping[str, Any], seen: tuple[ObservedChild, ...]) -> float | None:
        parsed = parse_batch(body)
        if isinstance(parsed, ValidationProblem):
            self.ignore_invalid(body, parsed, log)
            return None
        original, now = parsed, self.clock()
        # A batch that ends in this reconcile notifies in the next one, once its terminal status is written.
        notify = original.status.terminal
        run = await replan(
            original,
            BatchObserved(children=seen),
            decide=lambda batch, observed: reconcile_batch(batch, observed, now, self.settings),
            answer=lambda batch, observed, plan: self._act(batch, observed, plan, notify=notify),
            max_passes=MAX_BATCH_PASSES,
        )
        status = run.latest(lambda plan: plan.status)
        if status is not None:
            self.written[original.metadata.key] = await self.effects.write_status(original, status)
            _observe(original, status)
        deferred = not notify and any(plan.of(SendNotification) for plan in run.plans)
        return 0.0 if deferred else run.final.requeue_after

    async def _act(
        self, batch: TranscriptionBatch, observed: BatchObserved, plan: BatchPlan, *, notify: bool
    ) -> BatchObserved | None:
        """Carry out the plan's actions (a notification only when ``notify``); returns the observation of the next
        pass, the children and the answers to what the plan asked (a listing, a summary write, a POST), or None
        when it asked nothing."""
        unanswered = answered = BatchObserved(children=observed.children)
        namespace = batch.metadata.namespace or "default"
        created: list[CreateChild] = []
        for action in plan.actions:
            if isinstance(action, ExpandPrefix):
                expansion = await self.storage.list_prefix(action.prefix, MAX_BATCH_INPUTS, prefix_filter(batch))
                answered = replace(answered, expansion=expansion)
            elif isinstance(action, CreateChild):
                if await self._create(batch, action):
                    created.append(action)
            elif isinstance(action, DeleteChild):
                await self.effects.delete_child(action.name, namespace)
            elif isinstance(action, WriteSummary):
                result = await self.storage.put_json(action.uri, action.document)
                SUMMARIES.labels("written" if result.error is None else "failed").inc()
                answered = replace(answered, summary=result)
            elif isinstance(action, EmitEvent):
                await self.effects.emit(batch, action)
            elif isinstance(action, SendNotification) and notify and batch.spec.notification is not None:
                event = batch_cloud_event(batch, action.id)
                sent = await self.notifier.send(namespace, batch.spec.notification, action.id, event)
                answered = replace(answered, notification=sent)
        if created:
            CHILDREN_CREATED.labels(namespace).inc(len(created))
            indexes = format_indexes(c.index for c in created)
            message = f"created {len(created)} child tasks (inputs {indexes})"
            log.info(message, extra=_fields(batch))
            await self.effects.emit(batch, EmitEvent("Normal", "ChildrenCreated", message))
        return None if answered is unanswered else answered

    async def _create(self, batch: TranscriptionBatch, action: CreateChild) -> bool:
        """Create the child unless this process created it moments ago (the watch has not shown it yet)."""
        key = (batch.metadata.uid, action.name)  # a batch re-created under the same name is another batch
        clock = time.monotonic()
        self.recent = {k: t for k, t in self.recent.items() if clock - t < RECENT_CREATE_SECONDS}
        if key in self.recent:
            return False
        made = await self.effects.create_child(child_manifest(batch, action))
        self.recent[key] = clock
        return made


def _fields(batch: TranscriptionBatch, **more: Any) -> dict[str, Any]:
    return {"namespace": batch.metadata.namespace, "batch": batch.metadata.name, **more}


def _observe(batch: TranscriptionBatch, new: BatchStatus) -> None:
    """Log and count a transition (after its status write succeeded)."""
    old = batch.status
    observe_notification(batch.metadata.namespace or "", old.notification, new.notification)
    if new.phase == old.phase:
        return
    log.info(
        "%s -> %s", old.phase or "New", new.phase,
        extra=_fields(batch, phase=str(new.phase), reason=new.reason, counts=to_json(new.counts)),
    )  # fmt: skip
    if new.terminal:
        BATCHES_FINISHED.labels(batch.metadata.namespace or "", str(new.phase), new.reason or "").inc()


def batches_by_phase(batches: Callable[[], Iterable[tuple[str, str]]]) -> PhaseCollector:
    """``scribe_batches{namespace,phase}``: batches by phase, counted from the watch cache at scrape time."""
    return PhaseCollector(
        lambda: GaugeMetricFamily("scribe_batches", "Batches by phase.", labels=PHASE_LABELS), batches
    )


__all__ = [
    "BatchController",
    "BatchEffects",
    "batches_by_phase",
    "child_manifest",
    "prefix_filter",
]
