"""The attempt watchdog, as a user sees it: a pod that vanished is ``PodLost``, a pod that cannot be scheduled is
ended as ``Unschedulable`` after ``timeouts.pendingSeconds``, and a task whose status says Running while its pod is
gone is repaired; each then follows the retry policy.

A pod whose node hung after starting it (so its own ``activeDeadlineSeconds`` never fires) is ended by the operator
as ``DeadlineExceeded`` once its deadline plus ``SCRIBE_DEADLINE_GRACE_SECONDS`` has passed; a pod whose node is
deleted is removed by the pod GC and recorded as ``PodLost`` (the hung node is tests/support/hungnode.py).
``ImagePullBackOff`` (the other pending watchdog) and the pod's own ``DeadlineExceeded`` are in test_failures.py.

Timing: a launched attempt without a pod is ``PodLost`` once ``SCRIBE_POD_LOST_GRACE_SECONDS`` (default 60 s) has
passed since the attempt's launch (``createdAt``). The deleted-pod test runs on the session operator with that
default, so it takes about a minute; the repair test starts its own operator with a short grace.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Pod

from tests.support.hungnode import hung_node
from tests.support.operators import Operator, StartOperator, log_on_failure, own_operators
from tests.support.s3 import Buckets
from tests.support.tasks import (
    CreateTask,
    attempt_numbers,
    create_task,
    describe,
    leftovers,
    parse_time,
    pod_names,
    secret_exists,
    status_of,
    task_events,
    task_manifest,
    wait_for_phase,
    wait_for_task,
)
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


DEFAULT_POD_LOST_GRACE = 60
SHORT_POD_LOST_GRACE = 10
"""The repair test's own operator: long enough for a pod's watch event to arrive, short enough to keep it quick."""
SHORT_DEADLINE_GRACE = 3
ATTEMPT_SECONDS = 5


@pytest.fixture
def start_operator(namespace: str, crd: str, tmp_path: Path) -> Iterator[StartOperator]:
    with own_operators(namespace, tmp_path) as start:
        yield start


def _worker_running(kube: Client, pod: str, namespace: str) -> bool:
    """The pod's worker container is running (started, not terminated)."""
    status = kube.get(Pod, pod, namespace=namespace).status
    containers = (status.containerStatuses if status is not None else None) or []
    states = [s.state for s in containers if s.state is not None]
    return bool(states) and all(s.running is not None for s in states)


def _unschedulable(kube: Client, pod: str, namespace: str) -> bool:
    """The scheduler has reported the pod Unschedulable."""
    status = kube.get(Pod, pod, namespace=namespace).status
    conditions = (status.conditions if status is not None else None) or []
    return any((c.type, c.status, c.reason) == ("PodScheduled", "False", "Unschedulable") for c in conditions)


def _failed_events(kube: Client, name: str, namespace: str, reason: str) -> list[dict[str, Any]]:
    return [
        e
        for e in task_events(kube, name, namespace, reason="AttemptFailed")
        if e["type"] == "Warning" and reason in (e.get("message") or "")
    ]


def _assert_lost_then_succeeded(task: dict[str, Any], name: str, audio: str) -> None:
    """Attempt 1 PodLost (retryable), attempt 2 Completed, outputs written."""
    status, shown = task["status"], describe(task)
    assert status["attempt"] == 2 and attempt_numbers(status) == [1, 2], shown
    first, second = status["attempts"]
    assert (first.get("reason"), first.get("retryable")) == ("PodLost", True), shown
    assert first.get("pod") == f"{name}-a1" and first.get("finishedAt"), shown
    assert f"{name}-a1" in (first.get("message") or ""), shown
    # The worker exits 143 on the deletion's SIGTERM, but the operator never sees it: the status records no exit code.
    assert first.get("exitCode") in (None, 143), shown
    assert (second.get("reason"), second.get("exitCode"), second.get("pod")) == ("Completed", 0, f"{name}-a2"), shown
    assert status.get("failureCounts") == {"PodLost": 1}, shown
    assert status.get("reason") == "Completed", shown
    assert status["outputs"]["json"] == f"s3://{audio}/long.transcript/transcript.json", shown


def _assert_dead_after_two(task: dict[str, Any], name: str, reason: str) -> list[dict[str, Any]]:
    """Both attempts of a ``maxRetries: 1`` task ended by a watchdog with ``reason`` (retryable), then Dead with
    RetriesExhausted; returns the attempt records for the caller's own checks."""
    status, shown = task["status"], describe(task)
    assert status.get("reason") == "RetriesExhausted" and reason in (status.get("message") or ""), shown
    assert attempt_numbers(status) == [1, 2], shown
    for record in status["attempts"]:
        assert (record.get("reason"), record.get("retryable")) == (reason, True), shown
        assert record.get("pod") == f"{name}-a{record['attempt']}", shown
    assert status.get("failureCounts") == {reason: 2}, shown
    return list(status["attempts"])


def test_deleted_pod_is_pod_lost_and_retried(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, long_wav: Path
) -> None:
    audio = buckets.with_files(long_wav, "long.wav")  # several seconds of work: still running when deleted
    create_task(kube, task_manifest("lost", f"s3://{audio}/long.wav", language="en"), namespace)  # maxRetries 3

    wait_for_phase(kube, "lost", namespace, "Running", timeout=60)
    wait_for("the worker of lost-a1 running", lambda: _worker_running(kube, "lost-a1", namespace), timeout=60)
    kube.delete(Pod, "lost-a1", namespace=namespace)  # as `kubectl delete pod`: graceful, SIGTERM to the worker
    wait_for("pod lost-a1 to vanish", lambda: "lost-a1" not in pod_names(kube, "lost", namespace), timeout=60)

    # recorded once the pod-lost grace (measured from the attempt's launch) has passed, then retried
    lost = wait_for_task(
        kube,
        "lost",
        namespace,
        "attempt 1 recorded as PodLost",
        lambda t: [a.get("reason") for a in (t.get("status") or {}).get("attempts") or []][:1] == ["PodLost"],
        timeout=DEFAULT_POD_LOST_GRACE + 30,
    )
    first = lost["status"]["attempts"][0]
    waited = parse_time(first["finishedAt"]) - parse_time(first["createdAt"])
    assert waited.total_seconds() <= DEFAULT_POD_LOST_GRACE + 15, describe(lost)
    assert not secret_exists(kube, "lost-a1-urls", namespace), "attempt 1's URL secret outlived it"

    task = wait_for_phase(kube, "lost", namespace, "Succeeded", timeout=120)
    _assert_lost_then_succeeded(task, "lost", audio)
    assert pod_names(kube, "lost", namespace) == ["lost-a2"]
    assert _failed_events(kube, "lost", namespace, "PodLost"), task_events(kube, "lost", namespace)
    s3.head_object(Bucket=audio, Key="long.transcript/transcript.json")


def test_unschedulable_pod_is_ended_after_pending_seconds(
    kube: Client, namespace: str, operator: Operator, fox_task: CreateTask
) -> None:
    fox_task(
        "nowhere",
        worker={"nodeSelector": {"no-such-label": "x"}},
        timeouts={"pendingSeconds": 5},
        retryPolicy={"maxRetries": 1},  # Unschedulable is retryable: one retry, then RetriesExhausted
    )

    launched = wait_for_phase(kube, "nowhere", namespace, "Running", timeout=60)
    wait_for(
        "the scheduler to report nowhere-a1 Unschedulable",
        lambda: _unschedulable(kube, "nowhere-a1", namespace),
        timeout=30,
    )
    assert attempt_numbers(launched["status"]) == [1], describe(launched)

    task = wait_for_phase(kube, "nowhere", namespace, "Dead", timeout=90)
    shown = describe(task)
    for record in _assert_dead_after_two(task, "nowhere", "Unschedulable"):
        n = record["attempt"]
        assert not record.get("node") and not record.get("startedAt"), shown  # it never ran anywhere
        assert "did not start within 5s" in record["message"] and "node affinity/selector" in record["message"], shown
        waited = parse_time(record["finishedAt"]) - parse_time(record["createdAt"])
        assert 5 <= waited.total_seconds() <= 20, f"attempt {n} ended {waited} after its launch:\n{shown}"
    # the operator deleted the pods that could never start, and their URL secrets
    wait_for("the unschedulable pods to be deleted", lambda: pod_names(kube, "nowhere", namespace) == [], timeout=60)
    assert not any(secret_exists(kube, f"nowhere-a{n}-urls", namespace) for n in (1, 2))
    assert len(_failed_events(kube, "nowhere", namespace, "Unschedulable")) == 2


@pytest.mark.local_operator
def test_running_task_whose_pod_vanished_while_the_operator_was_down_is_repaired(
    kube: Client, namespace: str, start_operator: StartOperator, buckets: Buckets, long_wav: Path
) -> None:
    op = start_operator(SCRIBE_POD_LOST_GRACE_SECONDS=str(SHORT_POD_LOST_GRACE))
    audio = buckets.with_files(long_wav, "long.wav")  # several seconds of work: still running when deleted
    with log_on_failure(op):
        create_task(kube, task_manifest("repair", f"s3://{audio}/long.wav", language="en"), namespace)
        wait_for_phase(kube, "repair", namespace, "Running", timeout=60)
        wait_for("the worker of repair-a1 running", lambda: _worker_running(kube, "repair-a1", namespace), timeout=60)

        op.kill()
        kube.delete(Pod, "repair-a1", namespace=namespace)
        wait_for("pod repair-a1 to vanish", lambda: pod_names(kube, "repair", namespace) == [], timeout=60)
        # the stuck state: status says attempt 1 is running, no pod exists, nobody acts on it
        stuck = status_of(kube, "repair", namespace)
        assert stuck.get("phase") == "Running" and attempt_numbers(stuck) == [1], stuck
        assert not stuck["attempts"][0].get("finishedAt"), stuck

        op.start()
        task = wait_for_phase(kube, "repair", namespace, "Succeeded", timeout=120)
        _assert_lost_then_succeeded(task, "repair", audio)
        first = task["status"]["attempts"][0]
        waited = parse_time(first["finishedAt"]) - parse_time(first["createdAt"])
        assert waited.total_seconds() >= SHORT_POD_LOST_GRACE, f"PodLost before the grace:\n{describe(task)}"
        assert pod_names(kube, "repair", namespace) == ["repair-a2"]
        assert not secret_exists(kube, "repair-a1-urls", namespace), "attempt 1's URL secret outlived it"
        assert _failed_events(kube, "repair", namespace, "PodLost"), task_events(kube, "repair", namespace)


@pytest.mark.local_operator
def test_attempt_on_a_hung_node_is_ended_by_the_operator_at_its_deadline(
    kube: Client, namespace: str, start_operator: StartOperator, fox_task: CreateTask
) -> None:
    op = start_operator(SCRIBE_DEADLINE_GRACE_SECONDS=str(SHORT_DEADLINE_GRACE))
    with log_on_failure(op), hung_node(kube, f"hung-{namespace[-6:]}") as node:
        timeouts, retries = {"attemptSeconds": ATTEMPT_SECONDS}, {"maxRetries": 1, "backoff": {"initialSeconds": 1}}
        fox_task("frozen", worker=node.worker, timeouts=timeouts, retryPolicy=retries)
        task = wait_for_phase(kube, "frozen", namespace, "Dead", timeout=90)

        shown = describe(task)
        for record in _assert_dead_after_two(task, "frozen", "DeadlineExceeded"):
            n = record["attempt"]
            assert record.get("node") == node.name, shown
            assert record.get("exitCode") is None, shown  # the hung node never reported one
            assert f"ran longer than its {ATTEMPT_SECONDS}s deadline" in record["message"], shown
            ran = parse_time(record["finishedAt"]) - parse_time(record["startedAt"])
            limit = ATTEMPT_SECONDS + SHORT_DEADLINE_GRACE
            assert limit <= ran.total_seconds() <= limit + 15, f"attempt {n} ended {ran} after its start:\n{shown}"
        # the operator asked for each pod's deletion (the hung node never confirms it) and removed its URL secret
        for n in (1, 2):
            pod = kube.get(Pod, f"frozen-a{n}", namespace=namespace)
            assert pod.metadata is not None and pod.metadata.deletionTimestamp is not None, f"frozen-a{n} not deleted"
            assert not secret_exists(kube, f"frozen-a{n}-urls", namespace)
        assert len(_failed_events(kube, "frozen", namespace, "DeadlineExceeded")) == 2


@pytest.mark.local_operator
def test_attempt_on_a_node_that_is_gone_is_pod_lost(
    kube: Client, namespace: str, start_operator: StartOperator, fox_task: CreateTask
) -> None:
    """The Node object is deleted under a running attempt: the control plane's pod GC removes the orphaned pod and
    the operator records the attempt as PodLost, then follows the retry policy (here: none left)."""
    op = start_operator(SCRIBE_POD_LOST_GRACE_SECONDS=str(SHORT_POD_LOST_GRACE))
    with log_on_failure(op), hung_node(kube, f"gone-{namespace[-6:]}") as node:
        fox_task("orphan", worker=node.worker, retryPolicy={"maxRetries": 0})
        wait_for("the worker of orphan-a1 running", lambda: _worker_running(kube, "orphan-a1", namespace), timeout=60)

        node.vanish()
        task = wait_for_phase(kube, "orphan", namespace, "Dead", timeout=180)
        status, shown = task["status"], describe(task)
        assert status.get("reason") == "RetriesExhausted" and "PodLost" in (status.get("message") or ""), shown
        (record,) = status["attempts"]
        assert (record.get("reason"), record.get("retryable")) == ("PodLost", True), shown
        assert (record.get("pod"), record.get("node")) == ("orphan-a1", node.name), shown
        # marked by the pod GC on its way out (or, had its deletion come first, found missing by the operator)
        message = record["message"]
        assert "DeletionByPodGC: PodGC: node no longer exists" in message or "disappeared" in message, shown
        assert leftovers(kube, "orphan", namespace, attempts=1) == [], "the orphaned attempt left these behind"
        assert _failed_events(kube, "orphan", namespace, "PodLost"), task_events(kube, "orphan", namespace)
