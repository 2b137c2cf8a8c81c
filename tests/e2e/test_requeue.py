"""Requeueing dead-lettered tasks, end to end: the operator honours ``kubectl scribe retry`` (the
``scribe.dev/requeue`` annotation) once, and ignores (with a Warning) a request on a task that is not Dead."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lightkube import Client
from lightkube.types import PatchType

from tests.support.commands import scribe
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    TranscriptionTask,
    attempt_numbers,
    create_task,
    dead_lettered,
    describe,
    pod_names,
    task_events,
    task_manifest,
    wait_dead_lettered,
    wait_for_phase,
    wait_for_task,
)
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def test_fix_the_input_and_retry_runs_the_task_again(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    audio = buckets.create()
    create_task(kube, task_manifest("late", f"s3://{audio}/late.wav", language="en"), namespace)
    wait_for_phase(kube, "late", namespace, "Dead", timeout=60)
    wait_dead_lettered(kube, "late", namespace)
    listed = scribe("dead", "-n", namespace)
    assert listed.returncode == 0 and listed.stdout.splitlines()[1].split()[:3] == ["late", "InputNotFound", "1"]

    s3.upload_file(str(fox_wav), audio, "late.wav")  # the cause is fixed
    retried = scribe("retry", "late", "-n", namespace)
    assert retried.returncode == 0, retried.stderr

    wait_for_task(kube, "late", namespace, "requeued", lambda t: t["status"].get("requeues") == 1, timeout=30)
    task = wait_for_phase(kube, "late", namespace, "Succeeded", timeout=180)
    status, shown = task["status"], describe(task)
    assert not dead_lettered(task), shown
    assert (status["attempt"], status.get("attemptBase"), status.get("requeues")) == (2, 1, 1), shown
    assert attempt_numbers(status) == [1, 2], shown
    assert [a.get("reason") for a in status["attempts"]] == ["InputNotFound", "Completed"], shown
    assert status["requeue"]["outcome"] == "Requeued" and status["requeue"]["resetAttempts"] is False, shown
    assert status["failureCounts"] == {"InputNotFound": 1}, shown
    assert pod_names(kube, "late", namespace) == ["late-a2"]
    wait_for("a Requeued event", lambda: task_events(kube, "late", namespace, reason="Requeued"), timeout=30)

    # it is not Dead any more: the plugin refuses, and a plain annotation is ignored once, with a Warning
    again = scribe("retry", "late", "-n", namespace)
    assert again.returncode == 1 and "is Succeeded, not Dead" in again.stderr
    token = datetime.now(UTC).isoformat()
    patch = {"metadata": {"annotations": {"scribe.dev/requeue": token}}}
    kube.patch(TranscriptionTask, "late", patch, namespace=namespace, patch_type=PatchType.MERGE)
    task = wait_for_task(
        kube, "late", namespace, "the request recorded as ignored", lambda t: t["status"]["requeue"]["token"] == token
    )
    assert task["status"]["requeue"]["outcome"] == "Ignored" and task["status"]["phase"] == "Succeeded"
    assert task["status"]["requeues"] == 1
    wait_for(
        "a RequeueIgnored event", lambda: task_events(kube, "late", namespace, reason="RequeueIgnored"), timeout=30
    )


def test_retry_with_reset_clears_the_history_and_numbers_on(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets
) -> None:
    audio = buckets.create()
    create_task(kube, task_manifest("gone", f"s3://{audio}/gone.wav"), namespace)
    wait_for_task(kube, "gone", namespace, "Dead and dead-lettered", dead_lettered, timeout=60)

    retried = scribe("retry", "--all-dead", "-n", namespace, "--reset-attempts")
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout == "transcriptiontask.scribe.dev/gone requeued (attempt history reset)\n"

    # the input is still missing: Dead again after one more attempt, numbered 2, with only that one in the history
    task = wait_for_task(
        kube,
        "gone",
        namespace,
        "Dead again after the requeue",
        lambda t: (t.get("status") or {}).get("requeues") == 1 and dead_lettered(t) and t["status"]["phase"] == "Dead",
        timeout=60,
    )
    status, shown = task["status"], describe(task)
    assert (status["attempt"], status["attemptBase"]) == (2, 1), shown
    assert attempt_numbers(status) == [2], shown
    assert status["failureCounts"] == {"InputNotFound": 1}, shown
    assert status["requeue"]["resetAttempts"] is True, shown
    shown_by_plugin = scribe("describe", "gone", "-n", namespace)
    assert shown_by_plugin.returncode == 0
    assert "Attempts:     2 started (1 of 4 since the last requeue)" in shown_by_plugin.stdout
