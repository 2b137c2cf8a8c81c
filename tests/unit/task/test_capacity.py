"""Capacity limits: who gets a free slot (core.capacity), how a task waits in phase Queued (the decision core), and
the controller's count of running attempts with its short-lived reservations (capacity.CapacityTracker)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from scribe_operator.kinds.task.api.status import Phase, TaskStatus
from scribe_operator.kinds.task.capacity import CapacityTracker, WaitQueue
from scribe_operator.kinds.task.core.capacity import Limits, RunningAttempts, Waiting, admitted, verdict, waiting_entry
from scribe_operator.kinds.task.core.observed import CapacityVerdict, CircuitHold, InputProbe, Observed
from scribe_operator.kinds.task.core.plan import CheckCapacity, ProbeInput
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.settings import CoreSettings

from tests.unit.plans import events
from tests.unit.task.factories import T0, Cluster, launches, make_pod, make_task, phase

LIMITED = CoreSettings(capacity=Limits(total=3))
FULL = CapacityVerdict(False, "OperatorCapacity", "3 of 3 attempts running operator-wide")
FREE = CapacityVerdict(True)
RUNNING = "attempts running operator-wide"
OP = "OperatorCapacity"
TWO = Limits(total=2)


def w(name: str, ns: str = "media", priority: int = 0, age: int = 0, due_in: int | None = None) -> Waiting:
    """A waiting task created ``age`` seconds before T0 (older first)."""
    due = None if due_in is None else T0 + timedelta(seconds=due_in)
    return Waiting(ns, name, priority, T0 - timedelta(seconds=age), due)


def in_order(*entries: Waiting) -> list[Waiting]:
    return sorted(entries, key=lambda e: e.order)


# --- who gets a slot ------------------------------------------------------------------------------------------


def test_slots_go_by_priority_then_age_then_name() -> None:
    queue = in_order(w("new", age=1), w("old", age=9), w("urgent", priority=5), w("b", age=5), w("a", age=5))
    assert [e.name for e in queue] == ["urgent", "old", "a", "b", "new"]
    got = admitted(queue, RunningAttempts(1, {"media": 1}), Limits(total=4), T0)
    assert [e.name for e in got] == ["urgent", "old", "a"]


def test_unlimited_admits_everyone_and_full_admits_no_one() -> None:
    queue = in_order(w("a"), w("b"))
    assert len(list(admitted(queue, RunningAttempts(100, {"media": 100}), Limits(), T0))) == 2
    assert not list(admitted(queue, RunningAttempts(3, {"media": 3}), Limits(total=3), T0))


def test_a_full_namespace_does_not_block_other_namespaces() -> None:
    queue = in_order(w("a1", "a", age=9), w("a2", "a", age=8), w("b1", "b", age=1))
    usage = RunningAttempts(1, {"a": 1})
    got = admitted(queue, usage, Limits(total=5, per_namespace=1), T0)
    assert [e.key for e in got] == [("b", "b1")]
    assert verdict(w("b1", "b", age=1), queue, usage, Limits(total=5, per_namespace=1), T0).admitted
    no = verdict(w("a2", "a", age=8), queue, usage, Limits(total=5, per_namespace=1), T0)
    assert no == CapacityVerdict(False, "NamespaceCapacity", "1 of 1 attempts running in namespace a")


def test_retries_not_due_yet_keep_no_place() -> None:
    queue = in_order(w("retrying", age=9, due_in=30), w("queued", age=1))
    assert [e.name for e in admitted(queue, RunningAttempts(), Limits(total=1), T0)] == ["queued"]
    assert [e.name for e in admitted(queue, RunningAttempts(), Limits(total=1), T0 + timedelta(seconds=30))] == [
        "retrying"
    ]


@pytest.mark.parametrize(
    ("target", "running", "expected"),
    [
        (w("first", age=9), 2, FREE),
        (w("second", age=5), 2, CapacityVerdict(False, OP, f"2 of 3 {RUNNING}; 1 earlier task starts first")),
        (w("third", age=1), 1, CapacityVerdict(False, OP, f"1 of 3 {RUNNING}; 2 earlier tasks start first")),
        (w("urgent", priority=1), 2, FREE),  # not in the queue yet: placed by its own order
        (w("first", age=9), 3, FULL),
    ],
)  # fmt: skip
def test_verdict_for_a_task_and_why(target: Waiting, running: int, expected: CapacityVerdict) -> None:
    queue = in_order(w("first", age=9), w("second", age=5), w("third", age=1))
    assert verdict(target, queue, RunningAttempts(running, {"media": running}), Limits(total=3), T0) == expected


@pytest.mark.parametrize(
    ("status", "waiting", "due"),
    [
        (TaskStatus(), True, None),
        (TaskStatus(phase=Phase.PENDING), True, None),
        (TaskStatus(phase=Phase.QUEUED, attempt=2), True, None),
        (TaskStatus(phase=Phase.RETRYING, attempt=1, retry_at=T0), True, T0),
        (TaskStatus(phase=Phase.RUNNING, attempt=1), False, None),
        (TaskStatus(phase=Phase.SUCCEEDED, attempt=1), False, None),
        (TaskStatus(phase=Phase.DEAD, attempt=1), False, None),
    ],
)
def test_which_tasks_wait(status: TaskStatus, waiting: bool, due: object) -> None:
    task = make_task(status=status, priority=7)
    task = task.model_copy(update={"metadata": task.metadata.model_copy(update={"creation_timestamp": T0})})
    entry = waiting_entry(task)
    assert (entry is not None) is waiting
    if entry is not None:
        assert (entry.key, entry.priority, entry.created_at, entry.due_at) == (("media", "talk"), 7, T0, due)


# --- the decision core: Queued ---------------------------------------------------------------------------------


def test_a_task_over_the_limit_is_queued_in_one_write_without_spending_an_attempt() -> None:
    c = Cluster(make_task(), settings=LIMITED, capacity=FULL)
    plan = c.reconcile()
    assert [type(a) for a in c.plans[0].actions] == [CheckCapacity]  # asked first, before any probe
    assert phase(c) is Phase.QUEUED and c.status.attempt == 0 and not c.pods
    assert not launches(plan) and ProbeInput() not in plan.actions
    assert plan.requeue_after is None  # no timer: a freed slot wakes it
    assert events(plan) == [("Normal", "Queued")]
    assert "3 of 3 attempts running operator-wide" in next(a.message for a in plan.actions if hasattr(a, "message"))
    queued = {cond.type: cond for cond in c.status.conditions}["Queued"]
    assert (queued.status, queued.reason, queued.message) == ("True", "OperatorCapacity", FULL.message)

    # still full, other counts: no write, no event, no timer
    c.capacity = CapacityVerdict(False, "NamespaceCapacity", "2 of 2 attempts running in namespace media")
    c.tick(600)
    plan = c.reconcile()
    assert plan.status is None and not events(plan) and plan.requeue_after is None

    c.capacity = FREE
    plan = c.reconcile()
    assert [a.attempt for a in launches(plan)] == [1]
    assert phase(c) is Phase.RUNNING and c.status.attempt == 1
    queued = {cond.type: cond for cond in c.status.conditions}["Queued"]
    assert (queued.status, queued.reason, queued.last_transition_time) == ("False", "Admitted", c.now)


def test_a_retry_over_the_limit_waits_queued_with_its_attempts_and_last_failure() -> None:
    c = Cluster(make_task(retryPolicy={"backoff": {"initialSeconds": 10, "jitter": 0}}), settings=LIMITED)
    c.reconcile()
    c.finish(1, 12)  # DownloadFailed
    plan = c.reconcile()
    assert phase(c) is Phase.RETRYING and plan.requeue_after == 10
    c.capacity = FULL
    c.tick(10)
    plan = c.reconcile()
    assert phase(c) is Phase.QUEUED and c.status.retry_at is None and plan.requeue_after is None
    assert c.status.attempt == 1 and c.status.reason == "DownloadFailed"  # the last failure stays visible
    c.tick(3600)
    assert c.reconcile().status is None
    c.capacity = FREE
    assert [a.attempt for a in launches(c.reconcile())] == [2]
    assert c.status.failure_counts == {"DownloadFailed": 1}


def test_no_limits_no_capacity_check() -> None:
    c = Cluster(make_task(), capacity=FULL)  # the answer is never asked for
    assert [a.attempt for a in launches(c.reconcile())] == [1]
    assert not [a for p in c.plans for a in p.actions if isinstance(a, CheckCapacity)]


def test_an_existing_pod_is_adopted_whatever_the_capacity() -> None:
    task = make_task(status=TaskStatus(phase=Phase.QUEUED))
    plan = reconcile(task, Observed(pods=(make_pod(1),), capacity=FULL), T0, LIMITED)
    assert plan.status is not None and plan.status.phase is Phase.RUNNING and plan.status.attempt == 1


def test_the_circuit_breaker_is_asked_before_capacity() -> None:
    hold = CircuitHold("DownloadFailed", "circuit breaker open", T0 + timedelta(seconds=30))
    plan = reconcile(make_task(), Observed(circuit=hold), T0, LIMITED)
    assert not [a for a in plan.actions if isinstance(a, CheckCapacity | ProbeInput)]
    assert plan.status is not None and plan.status.phase is Phase.PENDING


def test_a_failed_probe_after_admission_spends_the_attempt_as_usual() -> None:
    c = Cluster(make_task(), settings=LIMITED, probe=InputProbe("not_found", None, "HEAD 404"))
    c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "InputNotFound" and c.status.attempt == 1


# --- the controller's count ------------------------------------------------------------------------------------


def tracker(pods: list[tuple[tuple[str, str], object]], limits: Limits = TWO) -> CapacityTracker:
    return CapacityTracker(limits, ttl_seconds=60, pods=lambda: pods)  # type: ignore[arg-type,return-value]


def test_running_attempts_are_counted_from_pods_not_terminated() -> None:
    pods = [
        (("media", "a"), make_pod(1, "Running", task="a")),
        (("media", "b"), make_pod(1, "Pending", task="b")),
        (("media", "c"), make_pod(1, "Succeeded", task="c")),
        (("other", "d"), make_pod(2, "Failed", task="d")),
        (("other", "e"), replace(make_pod(1, "Running", task="e"), deleting=True)),  # still running until gone
    ]
    assert tracker(pods).usage(T0) == RunningAttempts(3, {"media": 2, "other": 1})


def test_a_pod_deleted_past_its_grace_period_holds_no_slot() -> None:
    """Its node hung or vanished: the object stays Terminating, but a kubelet would have killed it by now."""
    ending = replace(make_pod(1, "Running", task="a"), deleting=True, delete_by=T0 + timedelta(seconds=30))
    t = tracker([(("media", "a"), ending)])
    assert t.usage(T0 + timedelta(seconds=29)) == RunningAttempts(1, {"media": 1})
    assert t.usage(T0 + timedelta(seconds=30)) == RunningAttempts(0, {})


def test_a_reservation_holds_the_slot_until_the_pod_is_seen() -> None:
    pods: list[tuple[tuple[str, str], object]] = []
    t = tracker(pods, Limits(total=1))
    for name, age in (("a", 9), ("b", 5)):
        t.note(("media", name), w(name, age=age))
    assert t.admitted(T0) == [("media", "a")]
    assert t.request(w("a", age=9), "a-a1", T0).admitted
    # a launched; its pod is not in the watch yet: b must not take the last slot
    t.note(("media", "a"), None)
    assert not t.request(w("b", age=5), "b-a1", T0).admitted
    assert t.admitted(T0) == []
    pods.append((("media", "a"), make_pod(1, "Pending", task="a")))
    assert t.usage(T0) == RunningAttempts(1, {"media": 1})  # the pod, counted once
    pods[0] = (("media", "a"), make_pod(1, "Succeeded", task="a"))
    assert t.admitted(T0) == [("media", "b")]
    assert t.request(w("b", age=5), "b-a1", T0).admitted


def test_a_reservation_ends_when_released_or_expired() -> None:
    t = tracker([], Limits(total=1))
    assert t.request(w("a"), "talk-a1", T0).admitted
    assert t.usage(T0).total == 1 and t.next_expiry() == T0 + timedelta(seconds=60)
    assert t.usage(T0 + timedelta(seconds=60)).total == 0  # a pod that never showed up
    assert t.release(("media", "a")) and not t.release(("media", "a"))
    assert t.usage(T0).total == 0


def test_a_task_asking_again_replaces_its_own_reservation() -> None:
    t = tracker([], Limits(total=1))
    assert t.request(w("a"), "talk-a1", T0).admitted
    assert t.request(w("a"), "talk-a2", T0).admitted


def test_wait_queue_keeps_order_through_updates() -> None:
    q = WaitQueue()
    q.set(("media", "b"), w("b", age=1))
    q.set(("media", "a"), w("a", age=5))
    q.set(("media", "c"), w("c", priority=1))
    assert [e.name for e in q] == ["c", "a", "b"]
    q.set(("media", "a"), w("a", age=5, due_in=10))  # now retrying: same place
    q.set(("media", "c"), None)
    q.set(("media", "x"), None)
    assert [e.name for e in q] == ["a", "b"] and len(q) == 2
    assert next(iter(q)).due_at == T0 + timedelta(seconds=10)


def test_without_limits_the_queue_is_not_kept() -> None:
    t = tracker([], Limits())
    t.note(("media", "a"), w("a"))
    assert len(t.queue) == 0 and t.admitted(T0) == []
