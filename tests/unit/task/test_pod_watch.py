"""What the decision core does about an attempt's pod, with a simulated cluster carrying out the plans: the
pending and deadline watchdogs, pods that are lost, evicted or deleted, pods adopted after a crash, and the memory
limit raised after an OOM kill."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.memory import memory_request
from scribe_operator.kinds.task.core.observed import Observed, PodCheck
from scribe_operator.kinds.task.core.plan import (
    ConfirmPod,
    DeletePod,
    DeleteSecret,
    ProbeInput,
)
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.settings import CoreSettings

from tests.unit.plans import events
from tests.unit.task.factories import T0, Cluster, launches, make_pod, make_task, phase

SETTINGS_GRACE = CoreSettings().pod_lost_grace_seconds


@pytest.mark.parametrize(
    ("waiting", "unschedulable", "node", "reason"),
    [
        ("ImagePullBackOff", None, "n1", "ImagePullBackOff"),
        ("ErrImagePull", None, "n1", "ImagePullBackOff"),
        ("CreateContainerConfigError", None, "n1", "CreateContainerConfigError"),
        (None, "0/3 nodes are available: insufficient memory", None, "Unschedulable"),
        (None, None, None, "Unschedulable"),
        ("ContainerCreating", None, "n1", "CreateContainerConfigError"),
    ],
)
def test_pending_timeout(waiting: str | None, unschedulable: str | None, node: str | None, reason: str) -> None:
    c = Cluster(make_task(timeouts={"pendingSeconds": 120}))
    c.reconcile()
    c.pods[1] = replace(c.pods[1], waiting_reason=waiting, unschedulable_message=unschedulable, node=node)
    c.tick(60)
    plan = c.reconcile()
    assert plan.actions == () and plan.requeue_after == 60 and plan.status is None
    assert phase(c) is Phase.RUNNING
    c.tick(60)
    plan = c.reconcile()
    assert c.status.attempts[0].node == node  # recorded with the attempt's end
    assert DeletePod("talk-a1") in plan.actions and DeleteSecret("talk-a1-urls") in plan.actions
    assert phase(c) is Phase.RETRYING and c.status.reason == reason
    assert "did not start within 120s" in (c.status.message or "")


def test_deadline_watchdog_ends_a_pod_running_too_long() -> None:
    c = Cluster(make_task(timeouts={"attemptSeconds": 100}))
    assert launches(c.reconcile())[0].deadline_seconds == 100
    c.tick(5)
    c.start(1)
    c.tick(100 + 59)
    assert c.reconcile().requeue_after == 1
    c.tick(1)
    plan = c.reconcile()
    assert DeletePod("talk-a1") in plan.actions
    assert c.status.reason == "DeadlineExceeded" and phase(c) is Phase.RETRYING


def test_pod_that_never_appears_is_lost_after_the_grace() -> None:
    c = Cluster(make_task())
    c.reconcile()
    del c.pods[1]  # the create never took effect
    c.tick(59)
    assert c.reconcile().requeue_after == 1
    c.tick(1)
    c.reconcile()
    assert c.status.reason == "PodLost" and phase(c) is Phase.RETRYING


def test_a_pod_the_watch_has_not_shown_is_asked_for_before_it_is_called_lost() -> None:
    """A busy operator's watch can lag minutes behind: past the grace the core asks the API server (ConfirmPod) and
    only its 404 makes the attempt PodLost; a pod it returns is followed as if the watch had shown it."""
    c = Cluster(make_task())
    c.reconcile()
    pod = c.pods.pop(1)  # created, but not delivered by the watch yet
    c.tick(SETTINGS_GRACE + 1)
    asked = reconcile(c.task, c.observed(), c.now, c.settings)
    assert ConfirmPod(pod.name) in asked.actions and asked.status is None  # nothing decided before the answer

    running = replace(pod, phase="Running", started_at=c.now)
    found = reconcile(c.task, c.observed(pod_check=PodCheck(pod.name, running)), c.now, c.settings)
    assert found.status is None and found.actions == () and found.requeue_after  # followed: the deadline's wake-up

    gone = reconcile(c.task, c.observed(pod_check=PodCheck(pod.name, None)), c.now, c.settings)
    assert gone.status is not None and gone.status.reason == "PodLost"


def test_running_pod_deleted_is_lost() -> None:
    c = Cluster(make_task())
    c.reconcile()
    c.tick(70)
    c.start(1)
    c.reconcile()
    c.pods[1] = replace(c.pods[1], deleting=True)
    plan = c.reconcile()
    assert plan.status is None and DeletePod("talk-a1") not in plan.actions  # waits for it to go
    del c.pods[1]
    c.reconcile()
    assert c.status.reason == "PodLost"


def test_evicted_pod_is_lost() -> None:
    c = Cluster(make_task())
    c.reconcile()
    c.start(1)
    c.finish(1, 137, pod_reason="Evicted", pod_message="The node was low on memory.")
    c.reconcile()
    assert c.status.reason == "PodLost" and "low on memory" in (c.status.message or "")


def test_adopts_a_pod_created_before_a_crash() -> None:
    # the operator created talk-a1 and crashed before writing status
    task = make_task()
    pod = make_pod(1, "Running", node="n1", started_at=T0 + timedelta(seconds=5))
    plan = reconcile(task, Observed(pods=(pod,)), T0 + timedelta(seconds=30))
    assert not launches(plan) and ProbeInput() not in plan.actions
    assert plan.status is not None and plan.status.attempt == 1 and plan.status.phase is Phase.RUNNING
    assert plan.status.attempts[0].pod == "talk-a1" and plan.status.attempts[0].created_at == T0
    assert ("Normal", "AttemptAdopted") in events(plan)


def test_adopts_the_next_attempt_while_retrying() -> None:
    c = Cluster(make_task(retryPolicy={"backoff": {"jitter": 0}}))
    c.reconcile()
    c.finish(1, 30)
    c.reconcile()
    c.pods[2] = make_pod(2, "Pending", created=c.now)  # created, but the status write was lost
    plan = c.reconcile()
    assert not launches(plan) and c.status.attempt == 2 and phase(c) is Phase.RUNNING
    assert [r.attempt for r in c.status.attempts] == [1, 2]


def test_older_pods_are_left_alone_unless_still_running() -> None:
    c = Cluster(make_task(timeouts={"attemptSeconds": 10}))
    c.reconcile()
    c.start(1)
    c.tick(71)
    running = c.pods[1]
    assert DeletePod("talk-a1") in c.reconcile().actions  # the watchdog
    # the delete has not taken effect yet: asking again is all that happens
    replay = reconcile(c.task, Observed(pods=(running,)), c.now)
    assert replay.status is None and replay.actions == (DeletePod("talk-a1"),)
    # a finished pod of an earlier attempt is history: left alone
    done = replace(running, phase="Failed", exit_code=143, finished_at=c.now)
    assert reconcile(c.task, Observed(pods=(done,)), c.now).actions == ()


def test_oom_raises_the_memory_limit_of_the_next_attempt() -> None:
    task = make_task(resources={"limits": {"memory": "1Gi"}}, retryPolicy={"maxRetries": 5})
    c = Cluster(task, settings=CoreSettings(max_memory_limit="3Gi"))
    seen = []
    for attempt in range(1, 5):
        plan = c.reconcile()
        seen.append(launches(plan)[0].memory_limit)
        c.finish(attempt, 137, terminated_reason="OOMKilled")
        c.tick(c.reconcile().requeue_after or 0)
    assert seen == ["1Gi", "2048Mi", "3072Mi", "3072Mi"]
    assert c.status.failure_counts == {"OOMKilled": 4}
    assert c.status.attempts[-1].memory_limit == "3072Mi"


def test_raised_memory_limit_stays_after_other_failures() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 5}))
    c.reconcile()
    c.finish(1, 137, terminated_reason="OOMKilled")
    c.tick(c.reconcile().requeue_after or 0)
    c.reconcile()
    c.finish(2, 30)
    c.tick(c.reconcile().requeue_after or 0)
    assert launches(c.reconcile())[0].memory_limit == "4096Mi"


def test_a_pod_deleted_under_a_running_attempt_is_pod_lost_at_once() -> None:
    c = Cluster(make_task())
    c.reconcile()
    c.start(1)
    c.reconcile()
    c.tick(5)
    c.pods[1] = replace(
        c.pods[1], deleting=True, finished_at=c.now, exit_code=143, terminated_reason="Error", node="node-1"
    )
    c.reconcile()  # no waiting for the pod-lost grace: the worker stopped because its pod is being deleted
    record = c.status.attempts[0]
    assert (record.reason, record.retryable, record.exit_code, record.node) == ("PodLost", True, 143, "node-1")
    assert phase(c) is Phase.RETRYING


@pytest.mark.parametrize(
    ("request_", "limit", "raised", "expected"),
    [
        ("40Mi", "40Mi", "80Mi", "80Mi"),  # request == limit: both double
        ("20Mi", "40Mi", "80Mi", "40Mi"),  # the request grows in proportion
        ("20Mi", "40Mi", "40Mi", "20Mi"),  # not raised: the spec's request
        (None, "40Mi", "80Mi", None),  # no request: none is invented
    ],
)
def test_memory_request_grows_with_a_raised_limit(
    request_: str | None, limit: str, raised: str, expected: str | None
) -> None:
    requests = {"memory": request_} if request_ else {}
    spec = make_task(resources={"requests": requests, "limits": {"memory": limit}}).spec
    assert memory_request(spec, raised, CoreSettings()) == expected
