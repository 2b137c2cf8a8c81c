"""Crash safety: the operator keeps no authoritative state in memory, so SIGKILL at any time loses nothing.

Needs the operator process the tests start (marker ``local_operator``); deselect with ``-m "not local_operator"``
when the operator runs in the cluster (SCRIBE_E2E_EXTERNAL_OPERATOR=1).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lightkube import Client

from tests.support.objects import wait_pod_phase
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    attempt_numbers,
    create_task,
    describe,
    parse_time,
    pod_names,
    status_of,
    task_manifest,
    wait_for_phase,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


pytestmark = pytest.mark.local_operator


def test_operator_killed_mid_attempt_neither_duplicates_nor_loses_it(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, long_wav: Path
) -> None:
    operator.require_local()
    audio = buckets.with_files(long_wav, "long.wav")  # several seconds of work: still running across the restart
    create_task(kube, task_manifest("crash", f"s3://{audio}/long.wav", language="en"), namespace)  # default output

    running = wait_for_phase(kube, "crash", namespace, "Running", timeout=60)
    assert pod_names(kube, "crash", namespace) == ["crash-a1"], describe(running)
    wait_pod_phase(kube, "crash-a1", namespace, ("Running",))  # the worker is at work when the operator dies

    operator.kill()
    before_restart = status_of(kube, "crash", namespace)
    operator.restart()

    task = wait_for_phase(kube, "crash", namespace, "Succeeded")
    status, shown = task["status"], describe(task)
    numbers = attempt_numbers(status)
    assert numbers == list(range(1, status["attempt"] + 1)), f"gaps in the attempt history:\n{shown}"
    pods = pod_names(kube, "crash", namespace)
    assert pods == [f"crash-a{n}" for n in numbers], f"pods {pods} for attempts {numbers}:\n{shown}"
    assert status["attempt"] == 1, f"the restart cost an attempt (status before it: {before_restart}):\n{shown}"
    assert (status["attempts"][0].get("exitCode"), status["attempts"][0].get("reason")) == (0, "Completed"), shown
    # no output given: the default is next to the input
    assert status["outputs"]["json"] == f"s3://{audio}/long.transcript/transcript.json", shown
    s3.head_object(Bucket=audio, Key="long.transcript/transcript.json")


def test_operator_killed_while_retrying_keeps_the_pending_retry(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets, fox_wav: Path
) -> None:
    operator.require_local()
    audio, never = buckets.with_files(fox_wav, "fox.wav"), buckets.reserve()
    policy = {"maxRetries": 1, "backoff": {"initialSeconds": 4, "factor": 2.0, "maxSeconds": 60, "jitter": 0}}
    manifest = task_manifest("pending", f"s3://{audio}/fox.wav", output=f"s3://{never}/", retryPolicy=policy)
    create_task(kube, manifest, namespace)

    retrying = wait_for_phase(kube, "pending", namespace, "Retrying")
    retry_at = parse_time(retrying["status"]["retryAt"])
    operator.kill()
    operator.restart()

    task = wait_for_phase(kube, "pending", namespace, "Dead", timeout=120)
    status, shown = task["status"], describe(task)
    assert status.get("reason") == "RetriesExhausted", shown
    assert attempt_numbers(status) == [1, 2], f"the pending retry was lost or doubled:\n{shown}"
    second = status["attempts"][1]
    assert parse_time(second["createdAt"]) >= retry_at, f"attempt 2 started before retryAt {retry_at}:\n{shown}"
    assert pod_names(kube, "pending", namespace) == []  # the missing output bucket is found before any pod starts
