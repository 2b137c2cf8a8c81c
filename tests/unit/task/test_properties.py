"""Properties of the decision core over arbitrary observation sequences (hypothesis), with and without running-attempt
limits and circuit-breaker holds."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from scribe_operator.api.constants import ANNOTATION_REQUEUE, DEAD_LETTER_VALUE, LABEL_DEAD_LETTER
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.capacity import Limits
from scribe_operator.kinds.task.core.classify import create_refused
from scribe_operator.kinds.task.core.observed import CapacityVerdict, CircuitHold, InputProbe, Observed, PodProgress
from scribe_operator.kinds.task.core.plan import CheckCapacity, LaunchAttempt, ProbeInput
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.settings import CoreSettings

from tests.unit.task.factories import Cluster, launches, make_pod, make_task

EXIT_CODES = [0, 1, 10, 11, 12, 20, 21, 30, 40, 137, 143, None]
MESSAGES = [
    None,
    "not json",
    json.dumps({"reason": "UploadFailed", "retryable": True, "message": "503"}),
    json.dumps({"reason": "InvalidAudio", "retryable": False}),
    json.dumps({"reason": "Completed", "outputs": {"json": "s3://o/t.json"}}),
    json.dumps({"reason": "SomethingNew"}),
]
EXTRAS: list[dict[str, Any]] = [
    {},
    {"terminated_reason": "OOMKilled"},
    {"pod_reason": "Evicted"},
    {"pod_reason": "DeadlineExceeded"},
    {"deleting": True},
]
PROBES = [
    InputProbe("ok", 5 * 2**20),
    InputProbe("ok", None),
    InputProbe("not_found"),
    InputProbe("forbidden"),
    InputProbe("error"),
]

step = st.one_of(
    st.tuples(st.just("tick"), st.integers(0, 1500)),
    st.tuples(st.just("start")),
    st.tuples(st.just("finish"), st.sampled_from(EXIT_CODES), st.sampled_from(MESSAGES), st.sampled_from(EXTRAS)),
    st.tuples(st.just("vanish")),
    st.tuples(st.just("deleting")),
    st.tuples(st.just("waiting"), st.sampled_from(["ImagePullBackOff", "CreateContainerConfigError", None])),
    st.tuples(st.just("probe"), st.sampled_from(PROBES)),
    st.tuples(st.just("presign"), st.booleans()),
    st.tuples(st.just("output"), st.sampled_from(PROBES)),
    # the API server refuses the next attempt's pod (422 invalid, 403 quota), or stops refusing (None)
    st.tuples(st.just("refuse"), st.sampled_from([422, 403, None])),
    st.tuples(st.just("foreign"), st.integers(1, 8), st.sampled_from(["Pending", "Running", "Failed", "Succeeded"])),
    # a requeue request: a fresh token, or the current one set again; with or without reset-attempts
    st.tuples(st.just("requeue"), st.booleans(), st.booleans()),
    # a slot is free (or not), when running attempts are limited; the circuit breaker opens or closes
    st.tuples(st.just("capacity"), st.booleans()),
    st.tuples(st.just("circuit"), st.booleans()),
    # the worker reports progress (audio seconds of 60) on its pod's annotation
    st.tuples(st.just("report"), st.integers(0, 60)),
)
LIMITED = CoreSettings(capacity=Limits(total=2, per_namespace=1))
FULL = CapacityVerdict(False, "OperatorCapacity", "2 of 2 attempts running operator-wide")
tasks = st.builds(
    lambda retries, initial, rules, stall: make_task(
        retryPolicy={"maxRetries": retries, "backoff": {"initialSeconds": initial, "maxSeconds": 120}, "rules": rules},
        timeouts={"stallSeconds": stall},
    ),
    st.integers(0, 4),
    st.integers(1, 60),
    st.sampled_from(
        [
            [],
            [{"reasons": ["InputNotFound", "InvalidAudio"], "action": "Retry"}],
            [{"exitCodes": [30], "action": "Fail"}],
            [{"reasons": ["Stalled"], "action": "Fail"}],
        ]
    ),
    st.sampled_from([None, 0, 30, 600]),
)


def perform(c: Cluster, action: tuple[Any, ...]) -> None:
    current = c.status.attempt
    pod = c.pods.get(current)
    live = pod is not None and not pod.terminated
    match action:
        case ("tick", seconds):
            c.tick(seconds)
        case ("start",) if live:
            c.start(current)
        case ("finish", code, message, extra) if live:
            c.finish(current, 1 if code == 0 and extra else code, message, **extra)
        case ("vanish",) if pod is not None:
            del c.pods[current]
        case ("deleting",) if pod is not None:
            c.pods[current] = replace(pod, deleting=True)
        case ("waiting", reason) if live and pod is not None:
            c.pods[current] = replace(pod, waiting_reason=reason, node="n1" if reason else None)
        case ("probe", probe):
            c.probe = probe
        case ("presign", fail):
            c.presign_fails = {current + 1} if fail else set()
        case ("output", probe):
            c.output_probe = probe
        case ("refuse", code):
            error = None if code is None else create_refused(current + 1, "Pod", "p", code, "refused")
            c.refused = {current + 1: error} if error is not None else {}
        case ("foreign", attempt, phase):
            c.pods[attempt] = make_pod(attempt, phase, task="stray", created=c.now - timedelta(seconds=5))
        case ("report", seconds) if live and pod is not None:
            c.pods[current] = replace(pod, progress=PodProgress(float(seconds), 60.0, c.now))
        case ("capacity", free):
            c.capacity = CapacityVerdict(True) if free else FULL
        case ("circuit", open_):
            hold = CircuitHold("DownloadFailed", "circuit breaker open", c.now + timedelta(seconds=30))
            c.circuit = hold if open_ else None
        case ("requeue", fresh, reset):
            token = c.task.metadata.annotations.get(ANNOTATION_REQUEUE)
            if fresh or token is None:
                token = f"t{int(token[1:]) + 1 if token else 1}"
            c.annotate(token, reset)


class Requeues:
    """What the test saw of requeues: the tokens honoured, and from which attempt failures are counted."""

    def __init__(self) -> None:
        self.honoured: list[str] = []
        self.counted_from = 0

    def observe(self, c: Cluster, since: int) -> None:
        for plan in c.plans[since:]:
            if any(isinstance(a, EmitEvent) and a.reason == "Requeued" for a in plan.actions):
                assert plan.status is not None and plan.status.requeue is not None
                self.honoured.append(plan.status.requeue.token)
                if plan.status.requeue.reset_attempts:
                    self.counted_from = plan.status.attempt_base


def check(c: Cluster, max_attempts: int, terminal_from: int | None, requeues: Requeues | None = None) -> None:
    requeues = requeues or Requeues()
    status = c.status
    # attempts since the last requeue never exceed maxRetries + 1
    assert 0 <= status.attempt_base <= status.attempt <= status.attempt_base + max_attempts
    # a token is honoured at most once; every honoured request is counted
    assert len(requeues.honoured) == len(set(requeues.honoured)) == status.requeues
    # attempt numbers (and so pod names) are never reused, not even after a reset
    launched = [a.attempt for p in c.plans for a in launches(p)]
    assert launched == sorted(set(launched)) and all(1 <= n <= status.attempt for n in launched)
    assert len(status.attempts) <= c.settings.max_history
    numbers = [r.attempt for r in status.attempts]
    assert numbers == sorted(set(numbers)) and all(n > requeues.counted_from for n in numbers)
    ongoing = 1 if status.phase in (Phase.RUNNING, Phase.SUCCEEDED) else 0
    if status.phase is Phase.PENDING and status.attempt == status.attempt_base:
        ongoing = 0  # just requeued
    assert sum(status.failure_counts.values()) == status.attempt - requeues.counted_from - ongoing
    assert (c.task.metadata.labels.get(LABEL_DEAD_LETTER) == DEAD_LETTER_VALUE) is (status.phase is Phase.DEAD)
    final = c.plans[-1]
    if not status.terminal and status.phase is not Phase.QUEUED:  # a freed slot wakes a Queued task
        assert final.requeue_after is not None and final.requeue_after >= 0, "a waiting task needs a timer"
    check_waiting(c)
    if terminal_from is not None:
        for plan in c.plans[terminal_from:]:
            assert plan.status is None and plan.requeue_after is None
            assert not [a for a in plan.actions if isinstance(a, LaunchAttempt | ProbeInput | EmitEvent)]
    # idempotence: the same observation again, with the plan applied, changes nothing and launches nothing
    replay = reconcile(c.task, c.last_observed, c.now, c.settings)
    assert replay.status is None and replay.dead_letter_label is None
    assert not [a for a in replay.actions if isinstance(a, LaunchAttempt | EmitEvent)]
    # determinism
    assert reconcile(c.task, c.last_observed, c.now, c.settings) == replay


def check_waiting(c: Cluster) -> None:
    """Waiting for a slot or for the circuit breaker never launches, never probes and never spends an attempt."""
    for before, observed, plan in c.steps:
        status = plan.status or before.status
        no_slot = observed.capacity is not None and not observed.capacity.admitted
        if observed.circuit is not None or no_slot:
            assert not launches(plan) and ProbeInput() not in plan.actions, plan
            adopted = any(isinstance(a, EmitEvent) and a.reason == "AttemptAdopted" for a in plan.actions)
            assert status.attempt == before.status.attempt or adopted, "a held or queued task spent an attempt"
        if observed.circuit is not None:
            assert not [a for a in plan.actions if isinstance(a, CheckCapacity)], "held: no slot is asked for"
        if status.phase is Phase.QUEUED:
            assert status.attempt == before.status.attempt and status.retry_at is None
        if launches(plan) and c.settings.capacity.limited:
            assert observed.capacity is not None and observed.capacity.admitted, "launched without a slot"
        if launches(plan):
            assert observed.circuit is None, "launched while the circuit breaker was open"
        conditions = {cond.type: cond.status for cond in status.conditions}
        held_before = {cond.type: cond.status for cond in before.status.conditions}.get("CircuitOpen")
        still_queued = before.status.phase is Phase.QUEUED and status.phase is Phase.QUEUED
        if still_queued and held_before == conditions.get("CircuitOpen") and status.requeue == before.status.requeue:
            assert plan.status is None, "a status write while still queued"
        assert (conditions.get("Queued") == "True") is (status.phase is Phase.QUEUED)
        if conditions.get("CircuitOpen") == "True":
            assert observed.circuit is not None, "CircuitOpen stays True only while the breaker holds the task"
        if any(isinstance(a, EmitEvent) and a.reason == "CircuitOpen" for a in plan.actions):
            assert conditions.get("CircuitOpen") == "True" and not status.terminal


@settings(max_examples=300, deadline=None)
@given(tasks, st.lists(step, min_size=10, max_size=60), st.sampled_from(["unlimited", "free", "full"]))
def test_arbitrary_observation_sequences(task: Any, actions: list[tuple[Any, ...]], capacity: str) -> None:
    c = Cluster(task)
    if capacity != "unlimited":
        c.settings, c.capacity = LIMITED, FULL if capacity == "full" else CapacityVerdict(True)
    max_attempts = task.spec.retry_policy.max_attempts
    terminal_from: int | None = None
    requeues = Requeues()
    c.reconcile()
    check(c, max_attempts, terminal_from, requeues)
    for action in actions:
        token = c.task.metadata.annotations.get(ANNOTATION_REQUEUE)
        perform(c, action)
        before = len(c.plans)
        if c.task.metadata.annotations.get(ANNOTATION_REQUEUE) != token:
            terminal_from = None  # a new request: the one way out of a terminal phase (or recorded as ignored)
        elif terminal_from is None and c.status.terminal:
            terminal_from = before
        c.reconcile()
        requeues.observe(c, before)
        check(c, max_attempts, terminal_from, requeues)


@settings(max_examples=100, deadline=None)
@given(tasks, st.lists(step, min_size=10, max_size=40), st.sampled_from(PROBES), st.integers(0, 10**6))
def test_terminal_phases_are_absorbing(
    task: Any, actions: list[tuple[Any, ...]], probe: InputProbe, later: int
) -> None:
    c = Cluster(task)
    c.reconcile()
    for action in actions:
        perform(c, action)
        c.reconcile()
    if not c.status.terminal:
        return
    observed = Observed(pods=tuple(c.pods.values()), input_probe=probe)
    plan = reconcile(c.task, observed, c.now + timedelta(seconds=later), c.settings)
    assert plan.status is None and plan.requeue_after is None and plan.dead_letter_label is None
    assert not [a for a in plan.actions if isinstance(a, LaunchAttempt | ProbeInput | EmitEvent)]
