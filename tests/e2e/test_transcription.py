"""The happy path, as a user sees it: apply a task for spoken audio, get Succeeded and a transcript in S3."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from lightkube import Client

from tests.fixtures.speech import recognised
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    create_task,
    describe,
    parse_time,
    pod_names,
    secret_exists,
    task_events,
    task_manifest,
    task_pods,
    wait_for_phase,
)
from tests.support.wait import wait_for


def test_spoken_sample_is_transcribed(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets, fox_wav: Path
) -> None:
    audio, transcripts = buckets.with_files(fox_wav, "talks/fox.wav"), buckets.create()
    manifest = task_manifest(
        "fox", f"s3://{audio}/talks/fox.wav", output=f"s3://{transcripts}/fox/", language="en", formats=["txt", "srt"]
    )
    created = create_task(kube, manifest, namespace)

    task = wait_for_phase(kube, "fox", namespace, "Succeeded")
    status = task["status"]
    shown = describe(task)

    # outputs: every requested format, plus json (always written)
    assert status.get("outputs") == {
        fmt: f"s3://{transcripts}/fox/transcript.{fmt}" for fmt in ("json", "txt", "srt")
    }, shown
    result = json.loads(buckets.read(transcripts, "fox/transcript.json"))
    assert len(recognised(result["text"])) >= 5, f"transcript: {result['text']!r}"
    assert result["language"] == "en"
    assert result["segments"], result
    text = buckets.read(transcripts, "fox/transcript.txt").decode()
    assert len(recognised(text)) >= 5, f"txt: {text!r}"
    srt = buckets.read(transcripts, "fox/transcript.srt").decode()
    assert srt.startswith("1\n") and " --> " in srt, srt

    # one attempt, recorded in full
    assert status["attempt"] == 1, shown
    assert status.get("reason") == "Completed", shown
    assert len(status["attempts"]) == 1, shown
    first = status["attempts"][0]
    assert (first["attempt"], first.get("exitCode"), first.get("reason")) == (1, 0, "Completed"), shown
    assert first.get("pod") == "fox-a1", shown
    assert first.get("node") and first.get("createdAt") and first.get("startedAt") and first.get("finishedAt"), shown
    assert not status.get("failureCounts"), shown

    # what it cost: the worker container's CPU seconds and peak memory, read from its own cgroup, in status
    usage = status.get("usage") or {}
    assert usage.get("cpuSeconds", 0) > 0 and usage.get("peakMemoryBytes", 0) > 2**20, shown
    assert "gpuSeconds" not in usage, shown  # no GPU requested
    assert first.get("usage") == usage, shown  # one attempt: the task's total is its usage
    assert parse_time(status["updatedAt"]) >= parse_time(first["finishedAt"]), shown  # stamped by the last write
    ready = {c["type"]: c for c in status.get("conditions", [])}
    assert ready["Ready"]["status"] == "True", shown
    assert ready["Failed"]["status"] == "False", shown

    # exactly one pod, owned by the task, given its URLs only through the attempt's Secret
    pods = task_pods(kube, "fox", namespace)
    assert [p["metadata"]["name"] for p in pods] == ["fox-a1"]
    pod = pods[0]
    owners = pod["metadata"].get("ownerReferences") or []
    assert [(o["kind"], o["name"], o["uid"]) for o in owners] == [
        ("TranscriptionTask", "fox", created["metadata"]["uid"])
    ]
    assert pod["metadata"]["labels"].get("scribe.dev/attempt") == "1"
    env = [e for c in pod["spec"]["containers"] for e in c.get("env") or []]
    plain = json.dumps([e.get("value") for e in env])
    assert "X-Amz-" not in plain and "Signature" not in plain, "a presigned URL is in the pod spec as a plain value"
    refs = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}).get("name") for e in env}
    assert refs.get("SCRIBE_INPUT_URL") == "fox-a1-urls", env
    assert refs.get("SCRIBE_OUTPUT_URLS") == "fox-a1-urls", env

    # the attempt's Secret is gone once the attempt ended
    wait_for("secret fox-a1-urls to be deleted", lambda: not secret_exists(kube, "fox-a1-urls", namespace), 30)
    assert pod_names(kube, "fox", namespace) == ["fox-a1"]
    reasons = wait_for(
        "events AttemptLaunched and Succeeded",
        lambda: (
            {"AttemptLaunched", "Succeeded"} <= (r := {e.get("reason") for e in task_events(kube, "fox", namespace)})
            and r
        ),
        timeout=30,
    )
    assert not reasons & {"AttemptFailed", "DeadLettered"}, reasons

    # `kubectl logs` of the worker pod: its JSON log lines, and no presigned URL in them
    logs = subprocess.run(
        ["kubectl", "logs", "--namespace", namespace, "fox-a1"], check=True, capture_output=True, text=True
    ).stdout
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert lines, "kubectl logs shows nothing for the worker pod"
    assert all(isinstance(line, dict) for line in lines), logs
    assert {"starting", "finished"} <= {line.get("msg") for line in lines}, logs
    assert "X-Amz-" not in logs and "Signature=" not in logs, "a presigned URL is in the worker's log"
