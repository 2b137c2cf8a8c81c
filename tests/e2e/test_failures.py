"""Failures, as a user sees them: every attempt's reason in status, retries with backoff, Dead when hopeless.

Each test provokes one failure class for real (a missing object, undecodable bytes, a missing bucket, the kernel's
OOM killer, activeDeadlineSeconds, an image that cannot be pulled) and checks status.attempts[], the task's phase
and reason, its pods, labels and events.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lightkube import Client

from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    LABEL_DEAD_LETTER,
    CreateTask,
    attempt_numbers,
    create_task,
    describe,
    list_tasks,
    parse_time,
    pod_names,
    task_events,
    task_manifest,
    wait_dead_lettered,
    wait_for_phase,
)
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


NO_RETRIES = {"maxRetries": 0}


def _conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status.get("conditions") or []}


def test_missing_input_is_dead_at_once_without_a_pod(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets
) -> None:
    audio = buckets.create()
    create_task(kube, task_manifest("missing", f"s3://{audio}/not-uploaded.wav"), namespace)  # maxRetries 3

    task = wait_for_phase(kube, "missing", namespace, "Dead", timeout=60)
    status, shown = task["status"], describe(task)
    assert status.get("reason") == "InputNotFound", shown
    assert f"s3://{audio}/not-uploaded.wav" in (status.get("message") or ""), shown
    assert status["attempt"] == 1, shown  # permanent: no retry despite maxRetries 3
    assert len(status["attempts"]) == 1, shown
    first = status["attempts"][0]
    assert first.get("reason") == "InputNotFound" and first.get("retryable") is False, shown
    assert not first.get("pod"), shown
    assert status.get("failureCounts") == {"InputNotFound": 1}, shown
    failed = _conditions(status)["Failed"]
    assert (failed["status"], failed.get("reason")) == ("True", "InputNotFound"), shown

    # no pod was ever made for it
    assert pod_names(kube, "missing", namespace) == []
    assert not task_events(kube, "missing", namespace, reason="AttemptLaunched")

    # it is in the dead-letter queue, with a Warning event saying why
    wait_dead_lettered(kube, "missing", namespace)
    queue = list_tasks(kube, namespace, labels={LABEL_DEAD_LETTER: "true"})
    assert [t["metadata"]["name"] for t in queue] == ["missing"]
    wait_for(
        "a Warning event DeadLettered naming InputNotFound",
        lambda: [
            e
            for e in task_events(kube, "missing", namespace, reason="DeadLettered")
            if e["type"] == "Warning" and "InputNotFound" in (e.get("message") or "")
        ],
        timeout=30,
    )


def test_corrupt_audio_is_dead_after_one_attempt(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets
) -> None:
    audio = buckets.create()
    s3.put_object(Bucket=audio, Key="noise.wav", Body=random.Random(1234).randbytes(64 * 1024))
    create_task(kube, task_manifest("noise", f"s3://{audio}/noise.wav"), namespace)  # maxRetries 3

    task = wait_for_phase(kube, "noise", namespace, "Dead")
    status, shown = task["status"], describe(task)
    assert status.get("reason") == "InvalidAudio", shown
    assert status["attempt"] == 1 and len(status["attempts"]) == 1, shown
    first = status["attempts"][0]
    assert (first.get("exitCode"), first.get("reason"), first.get("retryable")) == (20, "InvalidAudio", False), shown
    assert first.get("pod") == "noise-a1" and first.get("finishedAt"), shown
    assert f"s3://{audio}/noise.wav" in (first.get("message") or ""), shown
    assert status.get("failureCounts") == {"InvalidAudio": 1}, shown
    assert pod_names(kube, "noise", namespace) == ["noise-a1"]
    wait_dead_lettered(kube, "noise", namespace)


def test_output_bucket_that_appears_after_the_first_attempt(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    """The operator checks the output bucket before it starts a pod: the missing bucket costs attempt 1 but no
    transcription, and once the bucket exists the next attempt succeeds."""
    audio, late = buckets.with_files(fox_wav, "fox.wav"), buckets.reserve()
    backoff = {"initialSeconds": 4, "factor": 2.0, "maxSeconds": 10, "jitter": 0.0}
    manifest = task_manifest(
        "late", f"s3://{audio}/fox.wav", output=f"s3://{late}/out/", language="en", retryPolicy={"backoff": backoff}
    )
    create_task(kube, manifest, namespace)

    retrying = wait_for_phase(kube, "late", namespace, "Retrying", timeout=60)
    status, shown = retrying["status"], describe(retrying)
    assert status.get("reason") == "OutputUnavailable" and status["attempt"] == 1, shown
    assert f"s3://{late}/out/" in status["message"] and status["message"].endswith("no pod was started"), shown
    assert pod_names(kube, "late", namespace) == [], shown
    s3.create_bucket(Bucket=late)

    task = wait_for_phase(kube, "late", namespace, "Succeeded")
    status, shown = task["status"], describe(task)
    assert status["attempt"] == 2 and attempt_numbers(status) == [1, 2], shown
    first, second = status["attempts"]
    assert (first.get("reason"), first.get("retryable"), first.get("pod")) == ("OutputUnavailable", True, None), shown
    assert (second.get("exitCode"), second.get("reason")) == (0, "Completed"), shown
    assert status.get("failureCounts") == {"OutputUnavailable": 1}, shown
    assert status.get("reason") == "Completed", shown
    assert status["outputs"]["json"] == f"s3://{late}/out/transcript.json", shown
    s3.head_object(Bucket=late, Key="out/transcript.json")
    assert pod_names(kube, "late", namespace) == ["late-a2"]  # one pod: the transcription ran once


def test_bucket_that_never_appears_exhausts_retries_with_backoff(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets, fox_wav: Path
) -> None:
    audio, never = buckets.with_files(fox_wav, "fox.wav"), buckets.reserve()
    initial, factor = 2, 2.0
    policy = {"maxRetries": 2, "backoff": {"initialSeconds": initial, "factor": factor, "maxSeconds": 60, "jitter": 0}}
    manifest = task_manifest(
        "never", f"s3://{audio}/fox.wav", output=f"s3://{never}/", language="en", retryPolicy=policy
    )
    create_task(kube, manifest, namespace)

    # while it waits, the task says when it will try again
    retrying = wait_for_phase(kube, "never", namespace, "Retrying")
    ended = parse_time(retrying["status"]["attempts"][-1]["finishedAt"])
    wait_delay = parse_time(retrying["status"]["retryAt"]) - ended
    n = retrying["status"]["attempt"]
    expected = timedelta(seconds=initial * factor ** (n - 1))
    assert expected <= wait_delay <= expected + timedelta(seconds=1), describe(retrying)
    assert retrying["status"].get("reason") == "OutputUnavailable", describe(retrying)

    task = wait_for_phase(kube, "never", namespace, "Dead", timeout=180)
    status, shown = task["status"], describe(task)
    assert status.get("reason") == "RetriesExhausted", shown
    assert "OutputUnavailable" in (status.get("message") or ""), shown
    assert status["attempt"] == 3 and attempt_numbers(status) == [1, 2, 3], shown
    for record in status["attempts"]:
        assert (record.get("reason"), record.get("retryable"), record.get("pod")) == ("OutputUnavailable", True, None)
    assert status.get("failureCounts") == {"OutputUnavailable": 3}, shown
    assert not status.get("retryAt"), shown
    for before, after in zip(status["attempts"], status["attempts"][1:], strict=False):
        gap = parse_time(after["createdAt"]) - parse_time(before["finishedAt"])
        delay = timedelta(seconds=initial * factor ** (before["attempt"] - 1))
        assert gap >= delay, f"attempt {after['attempt']} started {gap} after attempt {before['attempt']}:\n{shown}"
    assert pod_names(kube, "never", namespace) == []  # no transcription was spent on results that had nowhere to go
    failed = _conditions(status)["Failed"]
    assert (failed["status"], failed.get("reason")) == ("True", "RetriesExhausted"), shown
    wait_dead_lettered(kube, "never", namespace)


def test_out_of_memory_is_recorded_as_oom_killed(
    kube: Client, namespace: str, operator: Operator, fox_task: CreateTask
) -> None:
    fox_task("oom", resources={"limits": {"memory": "40Mi"}}, retryPolicy=NO_RETRIES)

    task = wait_for_phase(kube, "oom", namespace, "Dead")
    status, shown = task["status"], describe(task)
    first = status["attempts"][0]
    assert (first.get("reason"), first.get("exitCode")) == ("OOMKilled", 137), shown
    assert first.get("retryable") is True and first.get("memoryLimit") == "40Mi", shown
    assert status.get("reason") == "RetriesExhausted" and status["attempt"] == 1, shown
    assert status.get("failureCounts") == {"OOMKilled": 1}, shown


def test_attempt_past_its_deadline_is_deadline_exceeded(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets, long_wav: Path
) -> None:
    uri = buckets.with_file(long_wav, "long.wav")  # far more than 2 s of work
    manifest = task_manifest("slow", uri, language="en", timeouts={"attemptSeconds": 2}, retryPolicy=NO_RETRIES)
    create_task(kube, manifest, namespace)

    task = wait_for_phase(kube, "slow", namespace, "Dead")
    status, shown = task["status"], describe(task)
    first = status["attempts"][0]
    assert first.get("reason") == "DeadlineExceeded" and first.get("retryable") is True, shown
    assert first.get("deadlineSeconds") == 2, shown
    assert status.get("reason") == "RetriesExhausted" and status["attempt"] == 1, shown
    assert status.get("failureCounts") == {"DeadlineExceeded": 1}, shown
    assert not status.get("outputs"), shown


def test_unpullable_worker_image_is_image_pull_back_off(
    kube: Client, namespace: str, operator: Operator, fox_task: CreateTask
) -> None:
    fox_task(
        "nopull", worker={"image": "example.invalid/nope:1"}, timeouts={"pendingSeconds": 5}, retryPolicy=NO_RETRIES
    )

    launched = wait_for_phase(kube, "nopull", namespace, "Running", timeout=60)  # launched; its pod cannot start
    assert pod_names(kube, "nopull", namespace) == ["nopull-a1"], describe(launched)

    task = wait_for_phase(kube, "nopull", namespace, "Dead", timeout=90)
    status, shown = task["status"], describe(task)
    first = status["attempts"][0]
    assert (first.get("reason"), first.get("retryable")) == ("ImagePullBackOff", True), shown
    assert first.get("pod") == "nopull-a1" and not first.get("startedAt"), shown
    assert status.get("reason") == "RetriesExhausted" and status["attempt"] == 1, shown
    # the operator deleted the pod that could never start
    wait_for("pod nopull-a1 to be deleted", lambda: pod_names(kube, "nopull", namespace) == [], timeout=60)
