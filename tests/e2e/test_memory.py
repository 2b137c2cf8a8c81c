"""Memory escalation, as a user sees it: after an ``OOMKilled`` attempt the next attempt's memory limit is the last
one times ``SCRIBE_OOM_MEMORY_FACTOR`` (default 2), capped at ``SCRIBE_MAX_MEMORY_LIMIT`` (default 16Gi); every
attempt records its limit in ``status.attempts[].memoryLimit`` and its pod really has it.

The OOM kills are real: the node's kubelet and runc put each container in a memory cgroup. Transcribing the 4 s
sample with faster-whisper tiny.en peaks between 200Mi and 240Mi on the local cluster, so from 40Mi the escalation is
40Mi -> 80Mi -> 160Mi (all OOMKilled) -> 320Mi (succeeds). The first test asserts the doubling and that the task
ends Succeeded on the first attempt whose limit was enough, without fixing which attempt that is (maxRetries 3
leaves room for exactly the four limits above; a model needing more than 320Mi ends Dead and fails the test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client

from tests.support.operators import Operator, StartOperator, log_on_failure, own_operators
from tests.support.s3 import Buckets
from tests.support.tasks import (
    CreateTask,
    attempt_numbers,
    create_task,
    describe,
    task_manifest,
    task_pods,
    wait_for_phase,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


QUICK_RETRIES: dict[str, Any] = {"initialSeconds": 1, "factor": 1.0, "maxSeconds": 1, "jitter": 0.0}


@pytest.fixture
def start_operator(namespace: str, crd: str, tmp_path: Path) -> Iterator[StartOperator]:
    with own_operators(namespace, tmp_path) as start:
        yield start


def _pod_memory_limits(kube: Client, name: str, namespace: str) -> dict[str, str | None]:
    """Each attempt pod's worker memory limit, by pod name."""
    return {
        p["metadata"]["name"]: ((p["spec"]["containers"][0].get("resources") or {}).get("limits") or {}).get("memory")
        for p in task_pods(kube, name, namespace)
    }


def _assert_pods_have_recorded_limits(kube: Client, task: dict[str, Any], namespace: str) -> None:
    name = task["metadata"]["name"]
    recorded = {a["pod"]: a.get("memoryLimit") for a in task["status"]["attempts"]}
    assert _pod_memory_limits(kube, name, namespace) == recorded, describe(task)


def test_oom_killed_attempts_get_twice_the_memory_until_one_succeeds(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    audio = buckets.with_files(fox_wav, "fox.wav")
    manifest = task_manifest(
        "grow",
        f"s3://{audio}/fox.wav",
        language="en",  # tiny.en: the model the memory figures above are for
        resources={"limits": {"memory": "40Mi"}},
        retryPolicy={"maxRetries": 3, "backoff": QUICK_RETRIES},
    )
    create_task(kube, manifest, namespace)

    task = wait_for_phase(kube, "grow", namespace, "Succeeded", timeout=150)
    status, shown = task["status"], describe(task)
    attempts = status["attempts"]
    n = len(attempts)
    assert n >= 3 and attempt_numbers(status) == list(range(1, n + 1)), f"expected >= 2 OOM kills first:\n{shown}"
    assert [a.get("memoryLimit") for a in attempts] == [f"{40 * 2**i}Mi" for i in range(n)], shown
    for failed in attempts[:-1]:
        outcome = (failed.get("reason"), failed.get("exitCode"), failed.get("retryable"))
        assert outcome == ("OOMKilled", 137, True), shown
    assert (attempts[-1].get("reason"), attempts[-1].get("exitCode")) == ("Completed", 0), shown
    assert status.get("failureCounts") == {"OOMKilled": n - 1}, shown
    _assert_pods_have_recorded_limits(kube, task, namespace)  # the limit is in the pod spec, not only in status
    s3.head_object(Bucket=audio, Key="fox.transcript/transcript.json")


@pytest.mark.local_operator
def test_escalation_follows_the_factor_and_stops_at_the_cap(
    kube: Client, namespace: str, start_operator: StartOperator, fox_task: CreateTask
) -> None:
    op = start_operator(SCRIBE_OOM_MEMORY_FACTOR="1.5", SCRIBE_MAX_MEMORY_LIMIT="100Mi")
    with log_on_failure(op):
        fox_task(
            "capped",
            language="en",
            resources={"limits": {"memory": "40Mi"}},
            retryPolicy={"maxRetries": 4, "backoff": QUICK_RETRIES},
        )
        task = wait_for_phase(kube, "capped", namespace, "Dead", timeout=150)
        status, shown = task["status"], describe(task)
        assert status.get("reason") == "RetriesExhausted" and "OOMKilled" in (status.get("message") or ""), shown
        assert attempt_numbers(status) == [1, 2, 3, 4, 5], shown
        # 40 x 1.5 = 60, x 1.5 = 90, x 1.5 = 135 > cap: 100, and it stays at the cap
        assert [a.get("memoryLimit") for a in status["attempts"]] == ["40Mi", "60Mi", "90Mi", "100Mi", "100Mi"], shown
        assert {(a.get("reason"), a.get("exitCode")) for a in status["attempts"]} == {("OOMKilled", 137)}, shown
        assert status.get("failureCounts") == {"OOMKilled": 5}, shown
        _assert_pods_have_recorded_limits(kube, task, namespace)
