"""What `kubectl` users meet: the API server rejects bad manifests naming the field; `kubectl get tt` shows status."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError

from tests.support.commands import kubectl, kubectl_apply
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import TranscriptionTask, get_task, task_manifest, wait_for_phase
from tests.support.wait import wait_for

VALID = task_manifest("valid", "s3://audio-bucket/talks/interview.wav", output="s3://transcripts/interview/")
COLUMNS = ["NAME", "PHASE", "ATTEMPTS", "REASON", "RETRY-AT", "PROGRESS", "AGE"]


def _without_input(spec: dict[str, Any]) -> None:
    del spec["input"]


def _setter(path: str, value: Any) -> Any:
    def mutate(spec: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node = spec
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value

    return mutate


INVALID = {
    "missing-input": (_without_input, ["spec.input", "Required value"]),
    "input-not-s3": (_setter("input", "https://example.com/a.wav"), ["spec.input"]),
    "input-without-key": (_setter("input", "s3://audio-bucket/"), ["spec.input"]),
    "input-bad-bucket": (_setter("input", "s3://Audio_Bucket/a.wav"), ["spec.input"]),
    "max-retries-negative": (_setter("retryPolicy.maxRetries", -1), ["spec.retryPolicy.maxRetries"]),
    "max-retries-absurd": (_setter("retryPolicy.maxRetries", 1000), ["spec.retryPolicy.maxRetries"]),
    "factor-below-one": (_setter("retryPolicy.backoff.factor", 0.5), ["spec.retryPolicy.backoff.factor"]),
    "max-below-initial": (
        _setter("retryPolicy.backoff", {"initialSeconds": 60, "maxSeconds": 10, "factor": 2.0, "jitter": 0}),
        ["spec.retryPolicy.backoff", "maxSeconds"],
    ),
    "unknown-format": (_setter("formats", ["json", "mp3"]), ["spec.formats", "mp3"]),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_manifest_is_rejected_naming_the_field(kube: Client, namespace: str, crd: str, case: str) -> None:
    mutate, expected = INVALID[case]
    manifest = copy.deepcopy(VALID)
    manifest["metadata"]["name"] = case
    mutate(manifest["spec"])

    result = kubectl_apply(manifest, namespace)

    assert result.returncode != 0, f"kubectl apply accepted an invalid manifest:\n{json.dumps(manifest)}"
    for text in expected:
        assert text in result.stderr, f"{text!r} not in kubectl's error:\n{result.stderr}"
    with pytest.raises(ApiError) as missing:
        kube.get(TranscriptionTask, case, namespace=namespace)
    assert missing.value.status.code == 404


def test_spec_is_immutable(kube: Client, namespace: str, crd: str) -> None:
    assert kubectl_apply(VALID, namespace).returncode == 0

    changed = copy.deepcopy(VALID)
    changed["spec"]["formats"] = ["json", "vtt"]
    result = kubectl_apply(changed, namespace)
    assert result.returncode != 0, "a spec change was accepted"
    assert "spec is immutable" in result.stderr, result.stderr

    relabelled = copy.deepcopy(VALID)
    relabelled["metadata"]["labels"] = {"team": "media"}
    accepted = kubectl_apply(relabelled, namespace)
    assert accepted.returncode == 0, f"metadata stays editable:\n{accepted.stderr}"

    task = get_task(kube, "valid", namespace)
    assert "formats" not in task["spec"] or task["spec"]["formats"] == ["json", "txt"], task["spec"]
    assert task["metadata"]["labels"]["team"] == "media"


def _table(output: str) -> tuple[list[str], list[dict[str, str]]]:
    """kubectl's table: header names and, per row, the cell under each header (cells may be empty)."""
    header, *rows = output.rstrip("\n").splitlines()
    names = header.split()
    starts = [header.index(name) for name in names]
    ends = [*starts[1:], None]
    cells = [{n: row[s:e].strip() for n, s, e in zip(names, starts, ends, strict=True)} for row in rows]
    return names, cells


def test_kubectl_get_shows_phase_attempts_reason_retry_at_age(
    kube: Client, namespace: str, operator: Operator, buckets: Buckets
) -> None:
    manifest = task_manifest("shown", f"s3://{buckets.create()}/absent.wav")
    assert kubectl_apply(manifest, namespace).returncode == 0
    wait_for_phase(kube, "shown", namespace, "Dead", timeout=60)

    for resource in ("tt", "transcriptiontasks", "transcriptiontasks.scribe.dev"):
        result = kubectl("get", resource, "-n", namespace)
        assert result.returncode == 0, result.stderr
        names, rows = _table(result.stdout)
        assert names == COLUMNS, result.stdout
        assert len(rows) == 1, result.stdout
        row = rows[0]
        assert (row["NAME"], row["PHASE"], row["ATTEMPTS"], row["REASON"]) == ("shown", "Dead", "1", "InputNotFound")
        assert row["RETRY-AT"] in ("", "<none>"), result.stdout
        assert row["AGE"], result.stdout

    by_category = kubectl("get", "scribe", "-n", namespace)
    assert by_category.returncode == 0, by_category.stderr
    assert by_category.stdout.split()[: len(COLUMNS)] == COLUMNS, by_category.stdout
    assert "shown" in by_category.stdout

    def dead_letter_queue() -> list[str]:
        return kubectl("get", "tt", "-n", namespace, "-l", "scribe.dev/dead-letter=true", "-o", "name").stdout.split()

    assert wait_for("the dead-letter queue to list the task", dead_letter_queue, timeout=30) == [
        "transcriptiontask.scribe.dev/shown"
    ]
