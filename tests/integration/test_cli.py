"""kubectl-scribe against the live cluster: list, describe, retry (with and without reset), purge, and its errors.

No operator is needed: each test makes its Dead tasks itself, by creating a TranscriptionTask and writing a Dead
status through the status subresource plus the dead-letter label, exactly as the operator would. (That the operator
honours the requeue annotation is tests/e2e/test_requeue.py.) The plugin runs as a user runs it: a subprocess,
``python -m scribe_operator.cli`` and once through ``kubectl scribe``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.core_v1 import ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event
from lightkube.types import PatchType
from scribe_operator.cli.cluster import CliError, connect

from tests.support.commands import apply_crds, kubectl, scribe, wait_established
from tests.support.tasks import (
    LABEL_DEAD_LETTER,
    TranscriptionTask,
    create_task,
    failed_attempts,
    get_task,
    stamp,
    task_manifest,
)

REPO = Path(__file__).resolve().parents[2]
CRD_FILE = REPO / "crds" / "scribe.dev_transcriptiontasks.yaml"
CRD_NAME = "transcriptiontasks.scribe.dev"
REQUEUE = "scribe.dev/requeue"
RESET = "scribe.dev/requeue-reset-attempts"


@pytest.fixture(scope="module", autouse=True)
def crd(kube: Client) -> None:
    """The CRD as generated from the models now (it carries the requeue status fields)."""
    apply_crds(CRD_FILE)
    wait_established(f"crd/{CRD_NAME}")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def make_dead(
    kube: Client,
    namespace: str,
    name: str,
    attempts: int = 2,
    dead_ago: timedelta = timedelta(hours=3),
    finished_at: bool = True,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A task that failed ``attempts`` times with DownloadFailed and went Dead ``dead_ago`` ago (status written
    the way the operator writes it). ``finished_at=False``: only the Failed condition tells when."""
    manifest = task_manifest(name, f"s3://audio/{name}.wav", retryPolicy={"maxRetries": attempts - 1})
    manifest["metadata"]["labels"] = dict(labels or {})
    create_task(kube, manifest, namespace)
    dead = datetime.now(UTC) - dead_ago
    history = failed_attempts(
        name,
        attempts,
        dead - timedelta(minutes=attempts),
        node="scribe-local-node",
        message=lambda n: f"GET s3://audio/{name}.wav: connection reset (attempt {n})",
        queued=timedelta(seconds=3),
        ran=timedelta(seconds=17),
        deadlineSeconds=300,
    )
    message = f"last attempt ({attempts} of {attempts}) failed: DownloadFailed: connection reset"
    status: dict[str, Any] = {
        "phase": "Dead",
        "attempt": attempts,
        "reason": "RetriesExhausted",
        "message": message,
        "attempts": history,
        "failureCounts": {"DownloadFailed": attempts},
        "startedAt": history[0]["createdAt"],
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "Dead", "lastTransitionTime": stamp(dead)},
            {
                "type": "Failed",
                "status": "True",
                "reason": "RetriesExhausted",
                "message": message,
                "lastTransitionTime": stamp(dead),
            },
        ],
    }
    if finished_at:
        status["finishedAt"] = stamp(dead)
    kube.patch(TranscriptionTask.Status, name, {"status": status}, namespace=namespace, patch_type=PatchType.MERGE)
    label = {"metadata": {"labels": {LABEL_DEAD_LETTER: "true"}}}
    kube.patch(TranscriptionTask, name, label, namespace=namespace, patch_type=PatchType.MERGE)
    return get_task(kube, name, namespace)


def make_running(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    create_task(kube, task_manifest(name, f"s3://audio/{name}.wav"), namespace)
    status = {"phase": "Running", "attempt": 1, "attempts": [{"attempt": 1, "pod": f"{name}-a1"}]}
    kube.patch(TranscriptionTask.Status, name, {"status": status}, namespace=namespace, patch_type=PatchType.MERGE)
    return get_task(kube, name, namespace)


def annotations(kube: Client, name: str, namespace: str) -> dict[str, str]:
    return dict(get_task(kube, name, namespace)["metadata"].get("annotations") or {})


def rows(table: str) -> list[list[str]]:
    return [line.split() for line in table.splitlines()]


@pytest.fixture
def dead_queue(kube: Client, namespace: str) -> Iterator[str]:
    """Two Dead tasks (one labelled team=audio), one Running task."""
    make_dead(kube, namespace, "broken", attempts=2, labels={"team": "audio"})
    make_dead(kube, namespace, "lost", attempts=1, dead_ago=timedelta(days=9))
    make_running(kube, namespace, "busy")
    yield namespace


# --- dead -----------------------------------------------------------------------------------------------------


def test_dead_lists_the_queue(dead_queue: str) -> None:
    ns = dead_queue
    table = rows(ok(scribe("dead", "-n", ns)))
    assert table[0] == ["NAME", "REASON", "ATTEMPTS", "LAST", "FAILURE", "AGE"]
    assert [r[:3] for r in table[1:]] == [["broken", "RetriesExhausted", "2"], ["lost", "RetriesExhausted", "1"]]
    assert table[1][3:5] == ["DownloadFailed:", "GET"] and table[1][-1] in ("3h", "2h59m")
    assert table[2][-1] == "9d"

    listed = json.loads(ok(scribe("dead", "-n", ns, "-o", "json")))
    assert listed["kind"] == "List" and [t["metadata"]["name"] for t in listed["items"]] == ["broken", "lost"]
    assert listed["items"][0]["status"]["phase"] == "Dead"
    assert "managedFields" not in listed["items"][0]["metadata"]
    as_yaml = yaml.safe_load(ok(scribe("dead", "-n", ns, "-o", "yaml")))
    assert [t["metadata"]["name"] for t in as_yaml["items"]] == ["broken", "lost"]

    selected = rows(ok(scribe("dead", "-n", ns, "--selector", "team=audio")))
    assert [r[0] for r in selected[1:]] == ["broken"]

    everywhere = rows(ok(scribe("dead", "-A")))
    assert everywhere[0][0] == "NAMESPACE"
    assert [r[1] for r in everywhere if r[0] == ns] == ["broken", "lost"]


def test_dead_as_a_kubectl_plugin(dead_queue: str) -> None:
    """kubectl finds the console script kubectl-scribe on PATH."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    result = kubectl("scribe", "dead", "-n", dead_queue, env=env)
    assert result.returncode == 0, result.stderr
    assert [r[0] for r in rows(result.stdout)] == ["NAME", "broken", "lost"]


def test_dead_in_an_empty_namespace(namespace: str) -> None:
    result = scribe("dead", "-n", namespace)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"No dead TranscriptionTasks found in namespace {namespace}.\n"


# --- describe -------------------------------------------------------------------------------------------------


def test_describe_shows_every_attempt_counts_and_events(kube: Client, namespace: str) -> None:
    task = make_dead(kube, namespace, "broken", attempts=3)
    now = datetime.now(UTC)
    kube.create(
        Event(
            metadata=ObjectMeta(generateName="broken.", namespace=namespace),
            involvedObject=ObjectReference(
                apiVersion="scribe.dev/v1alpha1", kind="TranscriptionTask", name="broken", namespace=namespace,
                uid=task["metadata"]["uid"],
            ),
            reason="DeadLettered", message="RetriesExhausted: last attempt (3 of 3) failed", type="Warning",
            firstTimestamp=now, lastTimestamp=now, count=1,
        )
    )  # fmt: skip
    text = ok(scribe("describe", "broken", "-n", namespace))
    assert "Phase:        Dead" in text and "Reason:       RetriesExhausted" in text
    assert "Attempts:     3 started (of 3 allowed)" in text and "Dead Since:" in text
    history = text.split("Attempt History (3 most recent, oldest first):\n")[1].split("Events:")[0]
    lines = rows(history)
    assert lines[0][:9] == ["ATTEMPT", "POD", "NODE", "EXIT", "REASON", "RETRYABLE", "STARTED", "FINISHED", "DURATION"]
    assert [r[:6] for r in lines[1:]] == [
        [str(n), f"broken-a{n}", "scribe-local-node", "12", "DownloadFailed", "true"] for n in (1, 2, 3)
    ]
    assert all(r[8] == "17s" for r in lines[1:])
    assert "GET s3://audio/broken.wav: connection reset (attempt 2)" in history
    assert "DownloadFailed   3" in text.split("Failure Counts:")[1]
    assert "DeadLettered" in text.split("Events:")[1]

    doc = json.loads(ok(scribe("describe", "broken", "-n", namespace, "-o", "json")))
    assert (doc["phase"], doc["attempt"], doc["maxAttempts"]) == ("Dead", 3, 3)
    assert [(a["attempt"], a["exitCode"], a["durationSeconds"]) for a in doc["attempts"]] == [
        (1, 12, 17),
        (2, 12, 17),
        (3, 12, 17),
    ]
    assert doc["failureCounts"] == {"DownloadFailed": 3}
    assert [e["reason"] for e in doc["events"]] == ["DeadLettered"]
    assert yaml.safe_load(ok(scribe("describe", "broken", "-n", namespace, "-o", "yaml")))["name"] == "broken"


def test_describe_a_missing_task(namespace: str) -> None:
    result = scribe("describe", "nope", "-n", namespace)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f'error: transcriptiontask "nope" not found in namespace "{namespace}"\n'


# --- retry ----------------------------------------------------------------------------------------------------


def test_retry_sets_the_requeue_annotation(kube: Client, dead_queue: str) -> None:
    ns = dead_queue
    dry = ok(scribe("retry", "broken", "-n", ns, "--dry-run"))
    assert dry == "transcriptiontask.scribe.dev/broken requeued (dry run)\n"
    assert REQUEUE not in annotations(kube, "broken", ns)

    assert ok(scribe("retry", "broken", "-n", ns)) == "transcriptiontask.scribe.dev/broken requeued\n"
    first = annotations(kube, "broken", ns)
    token = first[REQUEUE]
    assert datetime.fromisoformat(token.replace("Z", "+00:00")) > datetime.now(UTC) - timedelta(minutes=5)
    assert RESET not in first

    # with --reset-attempts: a new token and the reset flag
    doc = json.loads(ok(scribe("retry", "broken", "-n", ns, "--reset-attempts", "-o", "json")))
    assert doc["items"][0]["name"] == "broken" and doc["items"][0]["resetAttempts"] is True
    second = annotations(kube, "broken", ns)
    assert second[RESET] == "true" and second[REQUEUE] != token and second[REQUEUE] == doc["items"][0]["token"]

    # without it again: the reset flag of the earlier request is removed
    ok(scribe("retry", "broken", "-n", ns))
    third = annotations(kube, "broken", ns)
    assert RESET not in third and third[REQUEUE] not in (token, second[REQUEUE])


def test_retry_all_dead_with_a_selector(kube: Client, dead_queue: str) -> None:
    ns = dead_queue
    out = ok(scribe("retry", "--all-dead", "-n", ns, "-l", "team=audio"))
    assert out == "transcriptiontask.scribe.dev/broken requeued\n"
    assert REQUEUE in annotations(kube, "broken", ns) and REQUEUE not in annotations(kube, "lost", ns)
    out = ok(scribe("retry", "--all-dead", "-n", ns, "--reset-attempts"))
    assert out.splitlines() == [
        "transcriptiontask.scribe.dev/broken requeued (attempt history reset)",
        "transcriptiontask.scribe.dev/lost requeued (attempt history reset)",
    ]
    assert annotations(kube, "lost", ns)[RESET] == "true"
    assert REQUEUE not in annotations(kube, "busy", ns)


def test_retry_errors(kube: Client, dead_queue: str) -> None:
    ns = dead_queue
    missing = scribe("retry", "nope", "-n", ns)
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == f'error: transcriptiontask "nope" not found in namespace "{ns}"\n'

    live = scribe("retry", "busy", "-n", ns)
    assert live.returncode == 1
    assert live.stderr == (
        f'error: transcriptiontask "busy" in namespace "{ns}" is Running, not Dead: '
        "only dead-lettered tasks can be retried\n"
    )

    # a bad name among good ones: nothing is changed
    mixed = scribe("retry", "broken", "nope", "-n", ns)
    assert mixed.returncode == 1 and "nope" in mixed.stderr
    assert REQUEUE not in annotations(kube, "broken", ns)

    usage = scribe("retry", "-n", ns)
    assert usage.returncode == 2 and "give one or more task names, or --all-dead" in usage.stderr


# --- purge ----------------------------------------------------------------------------------------------------


def test_purge_deletes_dead_tasks_older_than_the_age(kube: Client, namespace: str) -> None:
    make_dead(kube, namespace, "ancient", dead_ago=timedelta(days=10))
    make_dead(kube, namespace, "by-condition", dead_ago=timedelta(days=8), finished_at=False)
    make_dead(kube, namespace, "recent", dead_ago=timedelta(hours=1))
    make_running(kube, namespace, "busy")
    names = lambda: sorted(t["metadata"]["name"] for t in kube.list(TranscriptionTask, namespace=namespace))  # noqa: E731

    dry = ok(scribe("purge", "--older-than", "7d", "-n", namespace, "--dry-run"))
    assert dry.splitlines() == [
        "transcriptiontask.scribe.dev/ancient deleted (dry run): Dead for 10d, RetriesExhausted",
        "transcriptiontask.scribe.dev/by-condition deleted (dry run): Dead for 8d, RetriesExhausted",
    ]
    assert names() == ["ancient", "busy", "by-condition", "recent"]

    doc = json.loads(ok(scribe("purge", "--older-than", "7d", "-n", namespace, "-o", "json")))
    assert [i["name"] for i in doc["items"]] == ["ancient", "by-condition"] and doc["olderThan"] == "7d"
    assert names() == ["busy", "recent"]

    again = scribe("purge", "--older-than", "1d12h", "-n", namespace)
    assert (again.returncode, again.stdout) == (0, "")
    assert again.stderr == f"No TranscriptionTasks dead for longer than 1d12h found in namespace {namespace}.\n"
    assert ok(scribe("purge", "--older-than", "30m", "-n", namespace)).startswith(
        "transcriptiontask.scribe.dev/recent deleted: Dead for "
    )
    assert names() == ["busy"]


def test_a_cluster_without_the_crd_says_so_and_how_to_install_it(kube: Client) -> None:
    """The API server answers a group it does not serve with a plain-text 404: the plugin names the missing CRD."""
    cluster = connect()
    absent = create_namespaced_resource("absent.scribe.dev", "v1alpha1", "TranscriptionTask", "transcriptiontasks")
    with pytest.raises(CliError) as error, cluster._call("listing tasks"):
        list(cluster.client.list(absent, namespace="*"))
    message = str(error.value)
    served = f"the cluster at {cluster.server} does not serve transcriptiontasks.scribe.dev: "
    assert message.startswith(served), message
    assert f"the CRD {CRD_NAME} is not installed" in message and "kubectl apply --server-side -f crds/" in message
    assert "http" not in message.removeprefix(f"the cluster at {cluster.server}"), message  # no HTTP library noise


# --- no cluster -----------------------------------------------------------------------------------------------


def test_no_cluster(tmp_path: Path) -> None:
    env = dict(os.environ, KUBECONFIG=str(tmp_path / "nonexistent"))
    for args in (["dead"], ["describe", "x"], ["retry", "x"], ["purge", "--older-than", "1d"]):
        result = scribe(*args, env=env)
        assert result.returncode == 1, (args, result)
        assert result.stderr.startswith("error: no cluster to talk to: Configuration file"), result.stderr
        assert "KUBECONFIG" in result.stderr

    unreachable = tmp_path / "unreachable"
    unreachable.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    result = scribe("dead", "--kubeconfig", str(unreachable))
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the cluster at https://127.0.0.1:9:"), result.stderr
