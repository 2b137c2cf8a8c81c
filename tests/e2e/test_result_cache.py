"""The result cache end to end: a task re-applied under a new name over the same input version with the same options
succeeds as CacheHit without a Secret or a pod; a changed option, a changed input (new ETag) or spec.cache: false
transcribes again; a batch re-run over the same prefix starts pods only for the inputs that are new or changed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client

from tests.fixtures.speech import speech_wav
from tests.support.batches import CRD_NAME, batch_manifest, children, create_batch, describe_batch, wait_for_batch
from tests.support.commands import wait_established
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    create_task,
    describe,
    pod_names,
    secret_exists,
    task_events,
    task_manifest,
    wait_for_phase,
)
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


OTHER = "Pack my box with five dozen liquor jugs"


@pytest.fixture(scope="module")
def other_wav() -> Path:
    """Other speech: the same key uploaded with it is a new version of the input (a new ETag)."""
    return speech_wav(OTHER)


def _transcribed(kube: Client, name: str, namespace: str) -> dict[str, Any]:
    """The task succeeded by running exactly one attempt of its own."""
    task = wait_for_phase(kube, name, namespace, "Succeeded", timeout=180)
    status = task["status"]
    assert (status.get("reason"), status.get("attempt")) == ("Completed", 1), describe(task)
    assert pod_names(kube, name, namespace) == [f"{name}-a1"], describe(task)
    return task


def _hit(kube: Client, name: str, namespace: str) -> dict[str, Any]:
    """The task succeeded from the cache: no attempt, no Secret, no pod, a CacheHit event."""
    task = wait_for_phase(kube, name, namespace, "Succeeded", timeout=60)
    status = task["status"]
    assert (status.get("reason"), status.get("attempt", 0)) == ("CacheHit", 0), describe(task)
    assert not status.get("attempts"), describe(task)
    assert pod_names(kube, name, namespace) == [], describe(task)
    assert not secret_exists(kube, f"{name}-a1-urls", namespace)
    wait_for(
        f"the CacheHit event of {name}",
        lambda: "CacheHit" in {e.get("reason") for e in task_events(kube, name, namespace)},
        timeout=30,
    )
    return task


def test_a_reapplied_task_is_a_cache_hit_and_a_change_misses(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path, other_wav: Path
) -> None:
    audio, out = buckets.with_files(fox_wav, "talks/fox.wav"), buckets.create()
    uri = f"s3://{audio}/talks/fox.wav"
    same = {"output": f"s3://{out}/fox/", "language": "en", "formats": ["txt"]}

    create_task(kube, task_manifest("first", uri, **same), namespace)
    first = _transcribed(kube, "first", namespace)
    record = json.loads(buckets.read(out, "fox/.scribe-result.json"))
    assert record["input"] == {
        "uri": uri,
        "etag": s3.head_object(Bucket=audio, Key="talks/fox.wav")["ETag"],
        "size": fox_wav.stat().st_size,
    }
    assert {fmt: o["uri"] for fmt, o in record["outputs"].items()} == first["status"]["outputs"]
    assert all(s3.head_object(Bucket=out, Key=f"fox/transcript.{fmt}")["ETag"] == o["etag"]
               for fmt, o in record["outputs"].items())  # fmt: skip
    assert "X-Amz-" not in json.dumps(record)

    # the same manifest under a new name: the result is reused, nothing runs
    create_task(kube, task_manifest("again", uri, **same), namespace)
    again = _hit(kube, "again", namespace)
    assert again["status"]["outputs"] == first["status"]["outputs"]
    shown = subprocess.run(["kubectl", "get", "tt", "again", "--namespace", namespace, "--no-headers"],
                           capture_output=True, text=True, check=True, timeout=30).stdout  # fmt: skip
    assert "CacheHit" in shown and "Succeeded" in shown, shown

    # a changed option at the same output location misses, and its result replaces the record
    create_task(kube, task_manifest("words", uri, **same, wordTimestamps=True), namespace)
    _transcribed(kube, "words", namespace)
    create_task(kube, task_manifest("words-again", uri, **same, wordTimestamps=True), namespace)
    _hit(kube, "words-again", namespace)

    # a new version of the input (new ETag) misses
    s3.upload_file(str(other_wav), audio, "talks/fox.wav")
    create_task(kube, task_manifest("changed", uri, **same, wordTimestamps=True), namespace)
    _transcribed(kube, "changed", namespace)

    # opting out always transcribes
    create_task(kube, task_manifest("forced", uri, **same, wordTimestamps=True, cache=False), namespace)
    _transcribed(kube, "forced", namespace)


def test_a_batch_rerun_over_the_same_prefix_pays_only_for_new_and_changed_inputs(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path, other_wav: Path
) -> None:
    wait_established(f"crd/{CRD_NAME}")
    audio = buckets.with_files(fox_wav, "calls/a.wav", "calls/b.wav")
    spec = {"inputPrefix": f"s3://{audio}/calls/", "template": {"language": "en"}, "deadline": {"perItemSeconds": 120}}
    create_batch(kube, batch_manifest("run1", **spec), namespace)
    first = wait_for_batch(kube, "run1", namespace, "Succeeded", timeout=240)
    assert first["status"]["counts"]["succeeded"] == 2, describe_batch(kube, first, namespace)

    s3.upload_file(str(other_wav), audio, "calls/b.wav")  # changed
    s3.upload_file(str(fox_wav), audio, "calls/c.wav")  # new
    create_batch(kube, batch_manifest("run2", **spec), namespace)
    second = wait_for_batch(kube, "run2", namespace, "Succeeded", timeout=240)
    shown = describe_batch(kube, second, namespace)
    assert second["status"]["counts"]["succeeded"] == 3, shown
    reasons = {t["metadata"]["name"]: t["status"].get("reason") for t in children(kube, "run2", namespace)}
    assert reasons == {"run2-0": "CacheHit", "run2-1": "Completed", "run2-2": "Completed"}, shown
    pods = {name: pod_names(kube, name, namespace) for name in reasons}
    assert pods == {"run2-0": [], "run2-1": ["run2-1-a1"], "run2-2": ["run2-2-a1"]}, shown
