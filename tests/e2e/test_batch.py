"""TranscriptionBatch end to end: a session of many inputs always reaches a terminal phase, whatever its children do.

Children fail (undecodable audio), hang (a worker image that cannot be pulled, with a long pendingSeconds: only the
batch deadline ends them), are deleted by someone, and the operator is killed mid-batch; a prefix is expanded; the
summary object in S3 holds the right counts. Small inputs, tiny deadlines, two or three children: it runs on two
cores.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client

from tests.support.batches import (
    CRD_NAME,
    LABEL_BATCH,
    LABEL_BATCH_INDEX,
    batch_events,
    batch_manifest,
    child_names,
    children,
    create_batch,
    describe_batch,
    get_batch,
    wait_for_batch,
    wait_for_batch_status,
)
from tests.support.commands import wait_established
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import TranscriptionTask, parse_time, pod_names
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


HANG = {"worker": {"image": "example.invalid/scribe-worker-never:1"}, "timeouts": {"pendingSeconds": 600}}
"""A child that never starts: its pod cannot pull its image, and its own watchdog waits 10 minutes."""
NOISE = random.Random(1234).randbytes(64 * 1024)


@pytest.fixture(scope="module", autouse=True)
def batch_crd(crd: str) -> str:
    """The TranscriptionBatch CRD (applied with the rest of crds/ by the ``crd`` fixture) is Established."""
    wait_established(f"crd/{CRD_NAME}")
    return CRD_NAME


def summary_of(s3: S3Client, uri: str) -> dict[str, Any]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))


def conditions(status: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status.get("conditions") or []}


def owners(task: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(o["kind"], o["name"], bool(o.get("controller"))) for o in task["metadata"].get("ownerReferences") or []]


def never_reappears(kube: Client, name: str, namespace: str, child: str, seconds: float = 6) -> None:
    """``child`` stays gone while the batch is reconciled again and again (its status keeps being written)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        assert child not in child_names(kube, name, namespace), f"{child} was created again"
        time.sleep(0.5)


def test_children_that_fail_complete_the_batch_with_failures_and_a_summary(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    audio, out = buckets.with_files(fox_wav, "in/fox.wav"), buckets.create()
    s3.put_object(Bucket=audio, Key="in/noise.wav", Body=NOISE)
    inputs = [f"s3://{audio}/in/fox.wav", f"s3://{audio}/in/noise.wav"]
    manifest = batch_manifest(
        "mixed",
        inputs=inputs,
        outputPrefix=f"s3://{out}/run/",
        template={"language": "en"},
        deadline={"perItemSeconds": 120, "bufferSeconds": 60},
    )
    created = create_batch(kube, manifest, namespace)

    batch = wait_for_batch(kube, "mixed", namespace, "CompletedWithFailures", timeout=240)
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    assert status["counts"] == {
        "total": 2, "pending": 0, "running": 0, "retrying": 0, "succeeded": 1, "dead": 1
    }, shown  # fmt: skip
    assert status.get("reason") == "ChildrenFailed", shown
    assert (status.get("succeededIndexes"), status.get("failedIndexes")) == ("0", "1"), shown
    [failed] = status["failed"]
    assert (failed["index"], failed["input"], failed["task"], failed["reason"]) == (
        1, inputs[1], "mixed-1", "InvalidAudio"
    ), shown  # fmt: skip
    assert inputs[1] in failed.get("message", ""), shown
    assert conditions(status) == {"Complete": "True", "Ready": "False", "SummaryWritten": "True"}, shown
    started, deadline, finished = (parse_time(status[k]) for k in ("startedAt", "deadlineAt", "finishedAt"))
    assert (deadline - started).total_seconds() == 2 * 120 + 60, shown
    assert started <= finished < deadline, shown

    # one child per input: owned by the batch, labelled, with the template and an output under the prefix
    kids = children(kube, "mixed", namespace)
    assert [t["metadata"]["name"] for t in kids] == ["mixed-0", "mixed-1"]
    for index, task in enumerate(kids):
        assert owners(task) == [("TranscriptionBatch", "mixed", True)], task["metadata"]
        assert task["metadata"]["ownerReferences"][0]["uid"] == created["metadata"]["uid"]
        labels = task["metadata"]["labels"]
        assert (labels[LABEL_BATCH], labels[LABEL_BATCH_INDEX]) == ("mixed", str(index))
        assert task["spec"]["input"] == inputs[index] and task["spec"]["language"] == "en"
        assert task["spec"]["retryPolicy"]["maxRetries"] == 0
    assert [t["status"]["phase"] for t in kids] == ["Succeeded", "Dead"]
    assert kids[0]["spec"]["output"] == f"s3://{out}/run/0-fox/"
    s3.head_object(Bucket=out, Key="run/0-fox/transcript.json")

    # the summary: counts and every input's result
    assert status.get("summary") == f"s3://{out}/run/summary.json", shown
    doc = summary_of(s3, status["summary"])
    assert doc["kind"] == "TranscriptionBatchSummary" and doc["phase"] == "CompletedWithFailures"
    assert doc["counts"] == status["counts"]
    assert doc["batch"]["uid"] == created["metadata"]["uid"]
    assert [(i["index"], i["task"], i["result"], i["reason"]) for i in doc["items"]] == [
        (0, "mixed-0", "Succeeded", "Completed"), (1, "mixed-1", "Failed", "InvalidAudio")
    ]  # fmt: skip
    assert doc["items"][0]["outputs"]["json"] == f"s3://{out}/run/0-fox/transcript.json"
    assert doc["finishedAt"] == status["finishedAt"]

    # what kubectl shows
    table = subprocess.run(
        ["kubectl", "get", "tb", "mixed", "-n", namespace], capture_output=True, text=True, check=True, timeout=30
    ).stdout.split("\n")
    assert table[0].split() == ["NAME", "PHASE", "TOTAL", "SUCCEEDED", "DEAD", "DEADLINE", "AGE"], table
    assert table[1].split()[:5] == ["mixed", "CompletedWithFailures", "2", "1", "1"], table
    reasons = {e["reason"] for e in batch_events(kube, "mixed", namespace)}
    assert {"Started", "ChildrenCreated", "CompletedWithFailures", "SummaryWritten"} <= reasons, reasons


def test_children_that_hang_are_ended_at_the_batch_deadline(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    audio, out = buckets.with_files(fox_wav, "in/a.wav", "in/b.wav"), buckets.create()
    manifest = batch_manifest(
        "stuck",
        inputs=[f"s3://{audio}/in/a.wav", f"s3://{audio}/in/b.wav"],
        outputPrefix=f"s3://{out}/",
        template=HANG,
        deadline={"perItemSeconds": 5, "bufferSeconds": 5},  # 15 s
    )
    create_batch(kube, manifest, namespace)

    # both children exist, their pods stuck on the image, while the batch waits for its deadline
    running = wait_for_batch_status(
        kube, "stuck", namespace, "both children observed", lambda s: s.get("created") == 2, timeout=60
    )
    assert running["status"]["phase"] == "Running"
    wait_for("the children's pods", lambda: pod_names(kube, "stuck-0", namespace) == ["stuck-0-a1"], timeout=60)

    batch = wait_for_batch(kube, "stuck", namespace, "CompletedWithFailures", timeout=90)
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    assert status.get("reason") == "BatchDeadlineExceeded", shown
    assert status["counts"]["dead"] == 2 and status["counts"]["total"] == 2, shown
    assert [(f["index"], f["task"], f["reason"]) for f in status["failed"]] == [
        (0, "stuck-0", "BatchDeadlineExceeded"), (1, "stuck-1", "BatchDeadlineExceeded")
    ], shown  # fmt: skip
    assert "ended at the batch deadline" in status["failed"][0]["message"], shown
    deadline, finished = parse_time(status["deadlineAt"]), parse_time(status["finishedAt"])
    assert 0 <= (finished - deadline).total_seconds() <= 10, f"the monitor fired late:\n{shown}"
    assert (deadline - parse_time(status["startedAt"])).total_seconds() == 15, shown

    # the unfinished children were deleted, and their pods with them
    wait_for("the children to be deleted", lambda: child_names(kube, "stuck", namespace) == [], timeout=60)
    wait_for("their pods to be deleted", lambda: pod_names(kube, "stuck-0", namespace) == [], timeout=60)
    doc = summary_of(s3, status["summary"])
    assert doc["reason"] == "BatchDeadlineExceeded" and doc["counts"]["dead"] == 2
    assert [i["reason"] for i in doc["items"]] == ["BatchDeadlineExceeded"] * 2
    warnings = {e["reason"] for e in batch_events(kube, "stuck", namespace) if e["type"] == "Warning"}
    assert "BatchDeadlineExceeded" in warnings, warnings


def test_a_child_deleted_mid_batch_fails_its_input_and_is_not_recreated(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    audio = buckets.with_files(fox_wav, "in/a.wav", "in/b.wav")
    manifest = batch_manifest(
        "del",
        inputs=[f"s3://{audio}/in/a.wav", f"s3://{audio}/in/b.wav"],
        template=HANG,
        deadline={"seconds": 600},
    )
    create_batch(kube, manifest, namespace)
    wait_for_batch_status(kube, "del", namespace, "both children observed", lambda s: s.get("created") == 2)

    kube.delete(TranscriptionTask, "del-0", namespace=namespace)
    batch = wait_for_batch_status(
        kube, "del", namespace, "input 0 failed as ChildDeleted",
        lambda s: [f.get("reason") for f in s.get("failed") or []] == ["ChildDeleted"],
    )  # fmt: skip
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    assert status["phase"] == "Running" and status["counts"]["dead"] == 1, shown
    assert status["failed"][0]["task"] == "del-0", shown
    never_reappears(kube, "del", namespace, "del-0")
    warnings = {e["reason"] for e in batch_events(kube, "del", namespace) if e["type"] == "Warning"}
    assert "ChildDeleted" in warnings

    kube.delete(TranscriptionTask, "del-1", namespace=namespace)
    batch = wait_for_batch(kube, "del", namespace, "CompletedWithFailures", timeout=60)
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    assert status.get("reason") == "ChildrenFailed", shown  # not the deadline: every input had ended
    assert [f["reason"] for f in status["failed"]] == ["ChildDeleted", "ChildDeleted"], shown
    assert child_names(kube, "del", namespace) == []
    assert parse_time(status["finishedAt"]) < parse_time(status["deadlineAt"]), shown
    # no outputPrefix: the summary is next to the first input
    assert status.get("summary") == f"s3://{audio}/in/del.summary.json", shown
    assert summary_of(s3, status["summary"])["counts"]["dead"] == 2


@pytest.mark.local_operator
def test_operator_killed_mid_batch_finishes_it_without_duplicate_children(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    names = ("a", "b", "c")
    audio, out = buckets.with_files(fox_wav, *(f"in/{name}.wav" for name in names)), buckets.create()
    manifest = batch_manifest(
        "crash",
        inputs=[f"s3://{audio}/in/{n}.wav" for n in names],
        outputPrefix=f"s3://{out}/",
        parallelism=1,  # one child at a time: the kill lands with children done, running and not yet created
        template={"language": "en"},
        deadline={"perItemSeconds": 120, "bufferSeconds": 60},
    )
    create_batch(kube, manifest, namespace)
    wait_for_batch_status(kube, "crash", namespace, "the first child observed", lambda s: s.get("created", 0) >= 1)

    operator.kill()
    before = {t["metadata"]["name"]: t["metadata"]["uid"] for t in children(kube, "crash", namespace)}
    operator.restart()

    batch = wait_for_batch(kube, "crash", namespace, "Succeeded", timeout=300)
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    kids = children(kube, "crash", namespace)
    assert [t["metadata"]["name"] for t in kids] == ["crash-0", "crash-1", "crash-2"], shown
    for task in kids:  # the children that existed at the kill are the same objects: adopted, not recreated
        if task["metadata"]["name"] in before:
            assert task["metadata"]["uid"] == before[task["metadata"]["name"]], shown
        assert task["status"]["attempt"] == 1, f"{task['metadata']['name']}: the restart cost an attempt\n{shown}"
    assert status["counts"]["succeeded"] == 3 and status.get("succeededIndexes") == "0-2", shown
    assert status["created"] == 3, shown
    doc = summary_of(s3, status["summary"])
    assert doc["counts"]["succeeded"] == 3 and [i["result"] for i in doc["items"]] == ["Succeeded"] * 3
    for index, name in enumerate(names):
        s3.head_object(Bucket=out, Key=f"{index}-{name}/transcript.json")


@pytest.mark.local_operator
def test_a_deadline_that_passes_while_the_operator_is_down_fires_after_the_restart(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets, fox_wav: Path
) -> None:
    uri = buckets.with_file(fox_wav, "in/a.wav")
    manifest = batch_manifest("down", inputs=[uri], template=HANG, deadline={"seconds": 6})
    create_batch(kube, manifest, namespace)
    running = wait_for_batch_status(kube, "down", namespace, "the child observed", lambda s: s.get("created") == 1)
    deadline = parse_time(running["status"]["deadlineAt"])

    operator.kill()
    try:
        wait_for("the deadline to pass", lambda: datetime.now(UTC) > deadline, timeout=30)
        assert get_batch(kube, "down", namespace)["status"]["phase"] == "Running"  # nobody ended it meanwhile
    finally:
        operator.restart()

    batch = wait_for_batch(kube, "down", namespace, "CompletedWithFailures", timeout=60)
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    assert status.get("reason") == "BatchDeadlineExceeded", shown
    assert [f["reason"] for f in status["failed"]] == ["BatchDeadlineExceeded"], shown
    wait_for("the child to be deleted", lambda: child_names(kube, "down", namespace) == [], timeout=60)


def test_a_prefix_is_expanded_once_into_the_batchs_inputs(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, fox_wav: Path
) -> None:
    audio = buckets.with_files(fox_wav, "calls/a.wav", "calls/b.wav")
    s3.put_object(Bucket=audio, Key="calls/", Body=b"")  # a folder marker
    s3.put_object(Bucket=audio, Key="calls/old.transcript/transcript.json", Body=b"{}")  # an earlier output
    s3.put_object(Bucket=audio, Key="other/c.wav", Body=b"not under the prefix")
    manifest = batch_manifest(
        "pfx", inputPrefix=f"s3://{audio}/calls/", template={"language": "en"}, deadline={"perItemSeconds": 120}
    )
    create_batch(kube, manifest, namespace)

    batch = wait_for_batch(kube, "pfx", namespace, "Succeeded", timeout=240)
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    assert status["inputs"] == [f"s3://{audio}/calls/a.wav", f"s3://{audio}/calls/b.wav"], shown
    assert status["counts"]["total"] == 2 and status["counts"]["succeeded"] == 2, shown
    assert status.get("reason") == "AllSucceeded" and conditions(status)["Ready"] == "True", shown
    assert child_names(kube, "pfx", namespace) == ["pfx-0", "pfx-1"]
    # no outputPrefix: each transcript next to its input, the summary next to the first input
    s3.head_object(Bucket=audio, Key="calls/a.transcript/transcript.json")
    s3.head_object(Bucket=audio, Key="calls/b.transcript/transcript.json")
    assert status.get("summary") == f"s3://{audio}/calls/pfx.summary.json", shown
    doc = summary_of(s3, status["summary"])
    assert doc["inputPrefix"] == f"s3://{audio}/calls/" and doc["counts"]["succeeded"] == 2
    assert [i["outputs"]["json"] for i in doc["items"]] == [
        f"s3://{audio}/calls/a.transcript/transcript.json", f"s3://{audio}/calls/b.transcript/transcript.json"
    ]  # fmt: skip
    assert "InputsExpanded" in {e["reason"] for e in batch_events(kube, "pfx", namespace)}


def test_a_prefix_with_nothing_under_it_fails_the_batch(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets
) -> None:
    audio, out = buckets.create(), buckets.create()
    create_batch(
        kube, batch_manifest("none", inputPrefix=f"s3://{audio}/empty/", outputPrefix=f"s3://{out}/"), namespace
    )
    batch = wait_for_batch(kube, "none", namespace, "Failed", timeout=60)
    status, shown = batch["status"], describe_batch(kube, batch, namespace)
    assert status.get("reason") == "InputPrefixEmpty" and f"s3://{audio}/empty/" in status.get("message", ""), shown
    assert conditions(status)["Complete"] == "True", shown
    assert child_names(kube, "none", namespace) == []
    assert status.get("summary") == f"s3://{out}/summary.json", shown
