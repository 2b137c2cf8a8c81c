"""Properties of the batch decision core over arbitrary sequences of child phases, deletions, watch lag, time and
S3 trouble (hypothesis): counts always add up, terminal is absorbing, no child is created twice or beyond
parallelism, a running batch always has a timer no later than its deadline, and whatever happened, the batch
ends once its children have ended or its deadline has passed."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.status import BatchStatus
from scribe_operator.kinds.batch.core.observed import BatchObserved, Expansion, ObservedChild, SummaryResult
from scribe_operator.kinds.batch.core.plan import BatchPlan, CreateChild, DeleteChild, ExpandPrefix, WriteSummary
from scribe_operator.kinds.batch.core.reconcile import reconcile_batch
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.task.api.status import Phase

from tests.unit.batch.factories import T0, inputs, make_batch

SETTINGS = BatchSettings(max_creates_per_pass=2, expansion_timeout_seconds=300, max_summary_attempts=3)
UNFINISHED = [None, Phase.PENDING, Phase.QUEUED, Phase.RUNNING, Phase.RETRYING]


@dataclass
class Sim:
    """The cluster as the core sees it, with a watch that can lag behind creates."""

    batch: TranscriptionBatch
    expansion: Expansion
    now: Any = T0
    visible: dict[int, ObservedChild] = field(default_factory=dict)
    lagging: dict[int, ObservedChild] = field(default_factory=dict)
    observed_once: set[int] = field(default_factory=set)
    """Children some reconcile saw. (One deleted before any reconcile saw it may be created again.)"""
    summary_fails: bool = False
    terminal_seen: BatchStatus | None = None

    def existing(self) -> dict[int, ObservedChild]:
        return {**self.lagging, **self.visible}

    def reconcile(self) -> None:
        extras: dict[str, Any] = {}
        for _ in range(4):
            children = tuple(self.visible.values())
            self.observed_once.update(c.index for c in children)  # the batch has seen them: never created again
            plan = reconcile_batch(self.batch, BatchObserved(children, **extras), self.now, SETTINGS)
            assert plan == reconcile_batch(self.batch, BatchObserved(children, **extras), self.now, SETTINGS), (
                "not deterministic"
            )
            self.check(plan)
            self.batch = plan.apply(self.batch)
            extras = self.act(plan)
            self.check_status(plan)
            if not extras:
                return

    def act(self, plan: BatchPlan) -> dict[str, Any]:
        follow: dict[str, Any] = {}
        for action in plan.actions:
            if isinstance(action, ExpandPrefix):
                follow["expansion"] = self.expansion
            elif isinstance(action, CreateChild):
                if action.index in self.existing():
                    continue  # AlreadyExists
                assert action.index not in self.observed_once, f"child {action.index} created again"
                self.lagging[action.index] = ObservedChild(
                    name=action.name, index=action.index, owner_uid=self.batch.metadata.uid
                )
            elif isinstance(action, DeleteChild):
                self.visible = {i: c for i, c in self.visible.items() if c.name != action.name}
                self.lagging = {i: c for i, c in self.lagging.items() if c.name != action.name}
            elif isinstance(action, WriteSummary):
                follow["summary"] = SummaryResult(action.uri, "HTTP 500" if self.summary_fails else None)
        return follow

    def check(self, plan: BatchPlan) -> None:
        before = self.batch.status
        if before.terminal:
            assert not [a for a in plan.actions if isinstance(a, CreateChild | DeleteChild | ExpandPrefix)]

    def check_status(self, plan: BatchPlan) -> None:
        status = self.batch.status
        c = status.counts
        assert c.pending + c.running + c.retrying + c.succeeded + c.dead == c.total
        known = self.batch.inputs()
        if known is not None and status.started_at is not None:
            assert c.total == len(known)
        if self.terminal_seen is not None:
            frozen = ("phase", "counts", "succeeded_indexes", "failed_indexes", "failed", "finished_at", "reason")
            for name in frozen:
                assert getattr(status, name) == getattr(self.terminal_seen, name), name
        elif status.terminal:
            self.terminal_seen = status
            assert status.finished_at is not None
        if status.phase is not None and not status.terminal and status.deadline_at is not None:
            assert plan.requeue_after is not None, "a running batch without a timer"
            assert self.now + timedelta(seconds=plan.requeue_after) <= status.deadline_at
        limit = self.batch.spec.parallelism
        if limit is not None and not status.terminal:
            active = [ch for ch in self.existing().values() if not ch.terminal and not ch.deleting]
            assert len(active) <= limit, f"{len(active)} unfinished children, parallelism {limit}"

    # --- the world moving ---------------------------------------------------------------------------------

    def watch(self) -> None:
        self.visible.update(self.lagging)
        self.lagging = {}

    def set_phase(self, index: int, phase: Phase | None, reason: str | None) -> None:
        child = self.visible.get(index)
        if child is None or child.terminal:  # tasks never leave Succeeded or Dead (requeue aside)
            return
        self.visible[index] = replace(child, phase=phase, reason=reason)

    def delete(self, index: int, at_once: bool) -> None:
        if at_once:
            self.visible.pop(index, None)
            self.lagging.pop(index, None)
        elif index in self.visible:
            self.visible[index] = replace(self.visible[index], deleting=True)


step = st.one_of(
    st.tuples(st.just("reconcile")),
    st.tuples(st.just("watch")),
    st.tuples(st.just("tick"), st.integers(0, 400)),
    st.tuples(
        st.just("phase"),
        st.integers(0, 5),
        st.sampled_from([*UNFINISHED, Phase.SUCCEEDED, Phase.DEAD]),
        st.sampled_from([None, "InvalidAudio", "RetriesExhausted"]),
    ),
    st.tuples(st.just("delete"), st.integers(0, 5), st.booleans()),
    st.tuples(st.just("summary"), st.booleans()),
    st.tuples(st.just("expansion"), st.sampled_from(["ok", "error"])),
)


@st.composite
def batches(draw: st.DrawFn) -> tuple[TranscriptionBatch, Expansion]:
    n = draw(st.integers(1, 5))
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["deadline"] = {"seconds": draw(st.integers(1, 900))}
    else:
        spec["deadline"] = {"perItemSeconds": draw(st.integers(1, 200)), "bufferSeconds": draw(st.integers(0, 200))}
    if draw(st.booleans()):
        spec["parallelism"] = draw(st.integers(1, 3))
    if draw(st.booleans()):
        spec["outputPrefix"] = "s3://out/run/"
    expansion = draw(
        st.sampled_from(
            [
                Expansion("ok", tuple(inputs(n))),
                Expansion("ok", ()),
                Expansion("error", message="HTTP 503"),
                Expansion("not_found", message="HTTP 404"),
            ]
        )
    )
    if draw(st.booleans()):
        return make_batch(n=None, inputPrefix="s3://audio/calls/", **spec), expansion
    return make_batch(n=n, **spec), expansion


def run(sim: Sim, steps: list[tuple[Any, ...]]) -> None:
    for s in steps:
        match s:
            case ("reconcile",):
                sim.reconcile()
            case ("watch",):
                sim.watch()
            case ("tick", seconds):
                sim.now += timedelta(seconds=seconds)
            case ("phase", index, phase, reason):
                sim.set_phase(index, phase, reason)
            case ("delete", index, at_once):
                sim.delete(index, at_once)
            case ("summary", fails):
                sim.summary_fails = fails
            case ("expansion", result):
                if result == "error":
                    sim.expansion = Expansion("error", message="HTTP 503")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.lists(step, max_size=40), st.data())
def test_batches_always_end_and_never_break_their_invariants(
    made: tuple[TranscriptionBatch, Expansion], steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    batch, expansion = made
    sim = Sim(batch, expansion)
    run(sim, steps)

    # the deadline passes (and S3 stays down past the expansion timeout): the batch ends, children or not
    late = copy.deepcopy(sim)
    for _ in range(2):  # a batch not started yet starts now, with its deadline from now
        late.now += timedelta(seconds=1000 * 3 + SETTINGS.expansion_timeout_seconds)
        late.reconcile()
        late.watch()
        late.reconcile()
    assert late.batch.status.terminal, late.batch.status

    # or every child ends, in any way, and S3 answers: the batch ends before its deadline
    if sim.expansion.result == "error":
        sim.expansion = Expansion("ok", tuple(inputs(2)))
    deleted: set[int] = set()  # each child is deleted at most once: a child deleted before the batch saw it is
    for _ in range(12):  # created again, and an adversary deleting every new child forever is the deadline's case
        sim.reconcile()
        sim.watch()
        for index, child in list(sim.visible.items()):
            if not child.terminal:
                how = data.draw(
                    st.sampled_from(["succeed", "die"] if index in deleted else ["succeed", "die", "delete"])
                )
                if how == "delete":
                    deleted.add(index)
                if how == "delete":
                    sim.delete(index, at_once=True)
                else:
                    sim.set_phase(index, Phase.SUCCEEDED if how == "succeed" else Phase.DEAD, None)
        sim.now += timedelta(seconds=SETTINGS.create_requeue_seconds)
        if sim.batch.status.terminal:
            break
    assert sim.batch.status.terminal, sim.batch.status


@settings(max_examples=200, deadline=None)
@given(batches(), st.lists(step, max_size=30))
def test_after_the_end_plans_are_empty(
    made: tuple[TranscriptionBatch, Expansion], steps: list[tuple[Any, ...]]
) -> None:
    batch, expansion = made
    sim = Sim(batch, expansion)
    sim.now += timedelta(days=1)  # start late, so everything ends at once
    run(sim, [("reconcile",), *steps, ("tick", 100_000), ("reconcile",), ("watch",), ("reconcile",)])
    assert sim.batch.status.terminal
    for _ in range(SETTINGS.max_summary_attempts + 1):
        sim.now += timedelta(hours=1)
        sim.reconcile()
    plan = reconcile_batch(sim.batch, BatchObserved(tuple(sim.visible.values())), sim.now + timedelta(days=1), SETTINGS)
    assert plan.status is None and not plan.actions and plan.requeue_after is None
