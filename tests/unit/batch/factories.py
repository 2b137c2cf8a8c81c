"""Builders and a tiny simulated cluster for the unit tests of TranscriptionBatch and its decision core."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.names import child_name
from scribe_operator.kinds.batch.api.spec import TranscriptionBatchSpec
from scribe_operator.kinds.batch.api.status import BatchStatus
from scribe_operator.kinds.batch.core.observed import BatchObserved, Expansion, ObservedChild, SummaryResult
from scribe_operator.kinds.batch.core.plan import BatchPlan, CreateChild, DeleteChild, ExpandPrefix, WriteSummary
from scribe_operator.kinds.batch.core.reconcile import reconcile_batch
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.task.api.status import Phase

from tests.unit.simulation import T0, SimulatedClock, passes

UID = "batch-uid-1"
SETTINGS = BatchSettings()


def inputs(n: int, bucket: str = "audio") -> list[str]:
    return [f"s3://{bucket}/calls/call-{i}.wav" for i in range(n)]


def make_batch(
    name: str = "calls", n: int | None = 3, status: BatchStatus | None = None, created: datetime = T0, **spec: Any
) -> TranscriptionBatch:
    """A batch of ``n`` listed inputs (or ``spec`` overrides, camelCase JSON, e.g. inputPrefix with n=None)."""
    body: dict[str, Any] = {"inputs": inputs(n)} if n is not None else {}
    body.update(spec)
    return TranscriptionBatch(
        metadata={"name": name, "namespace": "media", "uid": UID, "generation": 1, "creation_timestamp": created},
        spec=TranscriptionBatchSpec.model_validate(body),
        status=status or BatchStatus(),
    )


def child(
    index: int, phase: Phase | None = None, batch: str = "calls", uid: str | None = UID, **kw: Any
) -> ObservedChild:
    return ObservedChild(name=child_name(batch, index), index=index, owner_uid=uid, phase=phase, **kw)


def creates(plan: BatchPlan) -> list[int]:
    return [a.index for a in plan.of(CreateChild)]


def deletes(plan: BatchPlan) -> list[str]:
    return [a.name for a in plan.of(DeleteChild)]


def summaries(plan: BatchPlan) -> list[WriteSummary]:
    return plan.of(WriteSummary)


@dataclass
class BatchCluster(SimulatedClock):
    """Carries out batch plans as the effects layer does; children are plain values the test edits."""

    batch: TranscriptionBatch
    settings: BatchSettings = SETTINGS
    children: dict[int, ObservedChild] = field(default_factory=dict)
    expansion: Expansion = field(default_factory=lambda: Expansion("ok", tuple(inputs(3))))
    summary_fails: bool = False
    ever_created: list[int] = field(default_factory=list)
    """Every index a CreateChild was carried out for that actually created a child (AlreadyExists excluded)."""
    written: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: list[BatchPlan] = field(default_factory=list)

    def reconcile(self) -> BatchPlan:
        """One handler invocation with its follow-up passes (expansion, summary), as the controller runs it.

        Returns the passes merged: every action, the last status written, the last pass' requeue."""
        plans = passes(self._decide, self._act, max_passes=4)
        status = next((p.status for p in reversed(plans) if p.status), None)
        actions = tuple(a for p in plans for a in p.actions)
        return BatchPlan(status=status, actions=actions, requeue_after=plans[-1].requeue_after)

    def _decide(self, answers: dict[str, Any] | None) -> BatchPlan:
        """One pass of the core (a batch's answers are for that pass only)."""
        observed = BatchObserved(tuple(self.children.values()), **(answers or {}))
        plan = reconcile_batch(self.batch, observed, self.now, self.settings)
        self.plans.append(plan)
        self.batch = plan.apply(self.batch)
        return plan

    def _act(self, plan: BatchPlan) -> dict[str, Any] | None:
        follow: dict[str, Any] = {}
        for action in plan.actions:
            if isinstance(action, ExpandPrefix):
                follow["expansion"] = self.expansion
            elif isinstance(action, CreateChild) and action.index not in self.children:
                self.children[action.index] = ObservedChild(
                    name=action.name, index=action.index, owner_uid=self.batch.metadata.uid, phase=None
                )
                self.ever_created.append(action.index)
            elif isinstance(action, DeleteChild):
                self.children = {i: c for i, c in self.children.items() if c.name != action.name}
            elif isinstance(action, WriteSummary):
                if self.summary_fails:
                    follow["summary"] = SummaryResult(action.uri, "HTTP 503 SlowDown")
                else:
                    self.written[action.uri] = dict(action.document)
                    follow["summary"] = SummaryResult(action.uri)
        return follow or None

    def set(self, index: int, phase: Phase | None, **kw: Any) -> None:
        self.children[index] = replace(self.children[index], phase=phase, **kw)

    def delete(self, index: int) -> None:
        self.children.pop(index, None)

    @property
    def status(self) -> BatchStatus:
        return self.batch.status
