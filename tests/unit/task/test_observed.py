"""Observing raw Pod objects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from scribe_operator.kinds.task.core.observed import ObservedPod

from tests.unit.task.factories import T0


def raw_pod(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "talk-a2",
            "labels": {"scribe.dev/task": "talk", "scribe.dev/attempt": "2"},
            "creationTimestamp": "2025-01-01T12:00:00Z",
        },
        "spec": {"nodeName": "node-7"},
        "status": status,
    }


def test_terminated_pod() -> None:
    pod = ObservedPod.from_pod(
        raw_pod(
            phase="Failed",
            reason="DeadlineExceeded",
            message="Pod was active on the node longer than the specified deadline",
            containerStatuses=[
                {"name": "sidecar", "state": {"running": {"startedAt": "2025-01-01T11:00:00Z"}}},
                {
                    "name": "worker",
                    "state": {
                        "terminated": {
                            "exitCode": 30,
                            "reason": "Error",
                            "message": '{"reason": "UploadFailed"}',
                            "startedAt": "2025-01-01T12:00:05Z",
                            "finishedAt": "2025-01-01T12:01:00Z",
                        }
                    },
                },
            ],
        ),
        container="worker",
    )
    assert pod is not None
    assert (pod.name, pod.attempt, pod.phase, pod.node) == ("talk-a2", 2, "Failed", "node-7")
    assert pod.created_at == T0 and pod.started_at == T0 + timedelta(seconds=5)
    assert pod.finished_at == T0 + timedelta(minutes=1) and pod.exit_code == 30
    assert (pod.terminated_reason, pod.termination_message) == ("Error", '{"reason": "UploadFailed"}')
    assert pod.pod_reason == "DeadlineExceeded" and pod.terminated and pod.started


def test_disruption_target_condition() -> None:
    gc = {
        "type": "DisruptionTarget",
        "status": "True",
        "reason": "DeletionByPodGC",
        "message": "PodGC: node no longer exists",
    }
    pod = ObservedPod.from_pod(raw_pod(phase="Failed", conditions=[{"type": "Ready", "status": "False"}, gc]))
    assert pod is not None and pod.terminated
    assert pod.disruption == "DeletionByPodGC: PodGC: node no longer exists"
    over = ObservedPod.from_pod(raw_pod(phase="Running", conditions=[{**gc, "status": "False"}]))
    assert over is not None and over.disruption is None


def test_pending_pod() -> None:
    body = raw_pod(
        phase="Pending",
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes"}],
        containerStatuses=[{"name": "worker", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "nope"}}}],
    )
    body["metadata"]["deletionTimestamp"] = "2025-01-01T12:05:00Z"
    pod = ObservedPod.from_pod(body)
    assert pod is not None and not pod.started and not pod.terminated and pod.deleting
    assert pod.delete_by is not None and pod.delete_by.isoformat() == "2025-01-01T12:05:00+00:00"
    assert (pod.waiting_reason, pod.waiting_message, pod.unschedulable_message) == (
        "ImagePullBackOff",
        "nope",
        "0/3 nodes",
    )


def test_minimal_and_odd_pods() -> None:
    pod = ObservedPod.from_pod(raw_pod())
    assert pod is not None and pod.phase == "Pending" and pod.exit_code is None
    odd = raw_pod(phase="Weird", containerStatuses="nope")
    assert ObservedPod.from_pod(odd) is not None


@pytest.mark.parametrize("attempt", [None, "x", "0", "-1", "1.5"])
def test_pods_without_a_valid_attempt_label_are_ignored(attempt: str | None) -> None:
    body = raw_pod()
    body["metadata"]["labels"] = {} if attempt is None else {"scribe.dev/attempt": attempt}
    assert ObservedPod.from_pod(body) is None


def test_pods_without_a_creation_time_are_ignored() -> None:
    body = raw_pod()
    del body["metadata"]["creationTimestamp"]
    assert ObservedPod.from_pod(body) is None
