"""Capacity limits on the local cluster: with SCRIBE_MAX_RUNNING_ATTEMPTS=1 and three tasks, at most one attempt pod
runs at any moment (a poller watches the pods the whole time), the others wait in phase Queued and start in creation
order, all finish, none spends an extra attempt, and a restart of the operator while tasks are queued keeps the limit.

The test starts its own operator (marker ``local_operator``) watching only its namespace.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Pod

from tests.support.hungnode import hung_node
from tests.support.operators import StartOperator, log_on_failure, own_operators
from tests.support.s3 import Buckets
from tests.support.tasks import (
    LABEL_TASK,
    CreateTask,
    create_task,
    describe,
    list_tasks,
    parse_time,
    task_events,
    task_manifest,
    wait_for_phase,
)

pytestmark = pytest.mark.local_operator

NAMES = ["cap-c", "cap-b", "cap-a"]
"""Created in this order, one second apart: creation order is not name order."""


@pytest.fixture
def start_operator(namespace: str, crd: str, tmp_path: Path) -> Iterator[StartOperator]:
    with own_operators(namespace, tmp_path) as start:
        yield start


class Poller(threading.Thread):
    """Lists the namespace's attempt pods and tasks every 0.2 s: the most pods running at once, and every phase each
    task was seen in."""

    def __init__(self, namespace: str) -> None:
        super().__init__(daemon=True)
        self.namespace = namespace
        self.kube = Client(field_manager="scribe-tests-poller")  # its own connection, off the test's thread
        self.most_running = 0
        self.running_seen: list[list[str]] = []
        self.phases: dict[str, list[str]] = {}
        self.errors = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.poll()
            except Exception:  # a transient API error must not end the watch
                self.errors += 1
            self._halt.wait(0.2)

    def poll(self) -> None:
        pods = self.kube.list(Pod, namespace=self.namespace, labels={LABEL_TASK: None})
        running = sorted(
            p.metadata.name for p in pods if p.metadata and p.status and p.status.phase in ("Pending", "Running")
        )
        if running and running not in self.running_seen:
            self.running_seen.append(running)
        self.most_running = max(self.most_running, len(running))
        for task in list_tasks(self.kube, self.namespace):
            phase = (task.get("status") or {}).get("phase") or "New"
            seen = self.phases.setdefault(task["metadata"]["name"], [])
            if not seen or seen[-1] != phase:
                seen.append(phase)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


def _conditions(task: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (task.get("status") or {}).get("conditions") or []}


def test_limit_of_one_runs_one_attempt_at_a_time_in_creation_order_across_a_restart(
    kube: Client, namespace: str, start_operator: StartOperator, buckets: Buckets, long_wav: Path
) -> None:
    op = start_operator(SCRIBE_MAX_RUNNING_ATTEMPTS="1")
    uri = buckets.with_file(long_wav, "long.wav")  # several seconds of work each: the queue is visible
    poller = Poller(namespace)
    poller.start()
    try:
        with log_on_failure(op):
            for i, name in enumerate(NAMES):
                if i:
                    time.sleep(1.1)  # creationTimestamp has whole seconds
                # identical tasks, each to run (cache: false, else the later ones reuse the first one's result)
                manifest = task_manifest(name, uri, language="en", cache=False)
                create_task(kube, manifest, namespace)

            first = wait_for_phase(kube, NAMES[0], namespace, "Running", timeout=60)
            for name in NAMES[1:]:
                queued = wait_for_phase(kube, name, namespace, "Queued", timeout=30)
                cond = _conditions(queued)["Queued"]
                assert (cond["status"], cond["reason"]) == ("True", "OperatorCapacity"), describe(queued)
                assert "of 1 attempts running operator-wide" in cond["message"], describe(queued)
                assert queued["status"].get("attempt", 0) == 0, describe(queued)

            # a restart while two tasks wait: the new process counts the running pod, the others stay queued
            op.restart()

            done = [wait_for_phase(kube, name, namespace, "Succeeded", timeout=240) for name in NAMES]
    finally:
        poller.stop()

    shown = "\n".join(describe(t) for t in done)
    assert poller.most_running == 1, f"attempt pods running together: {poller.running_seen}\n{shown}"
    assert poller.running_seen == [[f"{name}-a1"] for name in NAMES], poller.running_seen  # one by one, in order
    for task in done:
        status = task["status"]
        assert status["attempt"] == 1 and len(status["attempts"]) == 1, describe(task)  # no attempt spent waiting
        assert "failureCounts" not in status or not status["failureCounts"], describe(task)
    starts = [parse_time(t["status"]["attempts"][0]["createdAt"]) for t in done]
    assert starts == sorted(starts), f"attempts did not start in creation order: {starts}\n{shown}"
    assert first["status"]["phase"] == "Running"
    for name, task in zip(NAMES[1:], done[1:], strict=True):
        assert "Queued" in poller.phases[name], poller.phases
        admitted = _conditions(task)["Queued"]
        assert (admitted["status"], admitted["reason"]) == ("False", "Admitted"), describe(task)
        queued_events = task_events(kube, name, namespace, reason="Queued")
        assert len(queued_events) == 1 and queued_events[0]["type"] == "Normal", queued_events
    assert "Queued" not in poller.phases[NAMES[0]], poller.phases


def test_a_pod_left_terminating_on_a_hung_node_gives_its_slot_back_after_its_grace_period(
    kube: Client, namespace: str, start_operator: StartOperator, fox_task: CreateTask
) -> None:
    """The watchdog ends an attempt whose node hung and deletes its pod; the pod stays Terminating (no kubelet
    confirms it) but stops counting once its grace period is over, so the queue behind it moves on."""
    op = start_operator(SCRIBE_MAX_RUNNING_ATTEMPTS="1", SCRIBE_DEADLINE_GRACE_SECONDS="1")
    with log_on_failure(op), hung_node(kube, f"cap-{namespace[-6:]}") as node:
        fox_task("stuck", worker=node.worker, timeouts={"attemptSeconds": 3}, retryPolicy={"maxRetries": 0})
        wait_for_phase(kube, "stuck", namespace, "Running", timeout=60)
        fox_task("behind", language="en")
        wait_for_phase(kube, "behind", namespace, "Queued", timeout=30)

        dead = wait_for_phase(kube, "stuck", namespace, "Dead", timeout=60)
        assert dead["status"]["attempts"][0]["reason"] == "DeadlineExceeded", describe(dead)
        pod = kube.get(Pod, "stuck-a1", namespace=namespace)
        assert pod.metadata is not None and pod.metadata.deletionTimestamp is not None, "stuck-a1 not deleted"

        task = wait_for_phase(kube, "behind", namespace, "Succeeded", timeout=120)
        launched = parse_time(task["status"]["attempts"][0]["createdAt"])
        assert launched >= pod.metadata.deletionTimestamp, f"started while stuck-a1 held the slot:\n{describe(task)}"
        still = kube.get(Pod, "stuck-a1", namespace=namespace)  # the hung node never let it go
        assert still.metadata is not None and still.metadata.deletionTimestamp is not None
