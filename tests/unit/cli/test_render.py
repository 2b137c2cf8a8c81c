"""kubectl-scribe's output: ages, tables, describe text and documents (pure functions, fixed clock)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from scribe_operator.cli import render
from scribe_operator.cli.tasks import TaskView

from tests.support.tasks import failed_attempts, stamp

NOW = datetime(2026, 11, 23, 18, 0, 0, tzinfo=UTC)


def raw_task(
    name: str = "talk",
    namespace: str = "media",
    phase: str = "Dead",
    dead_ago: timedelta | None = timedelta(hours=3),
    attempts: int = 2,
    **status: Any,
) -> dict[str, Any]:
    """A task as the API server returns it, Dead after ``attempts`` failed attempts."""
    created = NOW - timedelta(days=1)
    history = failed_attempts(
        name,
        attempts,
        created + timedelta(minutes=1),
        node="node-1",
        message=lambda n: f"GET reset by peer (try {n})",
        queued=timedelta(seconds=5),
        ran=timedelta(seconds=42),
    )
    body: dict[str, Any] = {
        "phase": phase,
        "attempt": attempts,
        "reason": "RetriesExhausted",
        "message": f"last attempt ({attempts} of {attempts}) failed: DownloadFailed: GET reset by peer",
        "attempts": history,
        "failureCounts": {"DownloadFailed": attempts},
        "conditions": [{"type": "Failed", "status": "True", "reason": "RetriesExhausted"}],
    }
    if dead_ago is not None:
        body["finishedAt"] = body["updatedAt"] = stamp(NOW - dead_ago)
    body.update(status)
    return {
        "apiVersion": "scribe.dev/v1alpha1",
        "kind": "TranscriptionTask",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "creationTimestamp": stamp(created),
            "labels": {"scribe.dev/dead-letter": "true"},
            "managedFields": [{"manager": "kubectl"}],
        },
        "spec": {"input": "s3://audio/talk.wav", "retryPolicy": {"maxRetries": attempts - 1}},
        "status": body,
    }


def event(reason: str, message: str, ago: timedelta, uid: str = "uid-talk", kind: str = "Warning") -> dict[str, Any]:
    return {
        "type": kind,
        "reason": reason,
        "message": message,
        "count": 1,
        "lastTimestamp": stamp(NOW - ago),
        "involvedObject": {"kind": "TranscriptionTask", "name": "talk", "uid": uid},
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (59, "59s"),
        (119, "119s"),
        (120, "2m"),
        (150, "2m30s"),
        (9 * 60 + 59, "9m59s"),
        (10 * 60 + 30, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 20 * 60, "3h20m"),
        (8 * 3600 + 59 * 60, "8h"),
        (47 * 3600, "47h"),
        (2 * 86400, "2d"),
        (2 * 86400 + 5 * 3600, "2d5h"),
        (8 * 86400 + 5 * 3600, "8d"),
        (400 * 86400, "400d"),
        (3 * 365 * 86400 + 10 * 86400, "3y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_read_like_kubectl(seconds: int, text: str) -> None:
    assert render.human_age(timedelta(seconds=seconds)) == text


def test_table_aligns_columns_three_spaces_apart() -> None:
    text = render.table(["name", "reason"], [["a", "X"], ["longer-name", "Y"]])
    assert text == "NAME          REASON\na             X\nlonger-name   Y\n"


def test_clip() -> None:
    assert render.clip("a\n  b", 10) == "a b"
    assert render.clip("x" * 20, 10) == "x" * 9 + "…"


def test_dead_table() -> None:
    views = [
        TaskView.from_raw(raw_task("talk")),
        TaskView.from_raw(raw_task("podcast", attempts=1, dead_ago=timedelta(days=9))),
    ]
    lines = render.dead_table(views, NOW, all_namespaces=False).splitlines()
    assert lines[0].split() == ["NAME", "REASON", "ATTEMPTS", "LAST", "FAILURE", "AGE"]
    assert lines[1].split()[:3] == ["talk", "RetriesExhausted", "2"] and lines[1].endswith("   3h")
    assert "DownloadFailed: GET reset by peer (try 2)" in lines[1]
    assert lines[2].endswith("   9d")
    wide = render.dead_table(views, NOW, all_namespaces=True).splitlines()
    assert wide[0].startswith("NAMESPACE   NAME") and wide[1].startswith("media       talk")


def test_dead_table_without_history_shows_the_status_message_and_unknown_age() -> None:
    raw = raw_task(attempts=0, dead_ago=None, conditions=[], message="x" * 100)
    line = render.dead_table([TaskView.from_raw(raw)], NOW, False).splitlines()[1]
    assert ("x" * 59 + "…") in line and line.endswith("<unknown>")


def test_dead_since_falls_back_to_the_failed_condition() -> None:
    since = NOW - timedelta(days=8)
    condition = {"type": "Failed", "status": "True", "reason": "X", "lastTransitionTime": stamp(since)}
    view = TaskView.from_raw(raw_task(dead_ago=None, conditions=[condition]))
    assert view.dead_since == since
    assert TaskView.from_raw(raw_task(phase="Running")).dead_since is None


def test_task_list_is_a_kubernetes_list_without_managed_fields() -> None:
    doc = render.task_list([TaskView.from_raw(raw_task())])
    assert (doc["apiVersion"], doc["kind"]) == ("v1", "List")
    (item,) = doc["items"]
    assert item["metadata"]["name"] == "talk" and "managedFields" not in item["metadata"]
    assert json.loads(render.dump(doc, "json")) == doc
    assert yaml.safe_load(render.dump(doc, "yaml")) == doc


def test_describe_text_shows_every_attempt_counts_and_events() -> None:
    view = TaskView.from_raw(raw_task(attempts=3))
    events = [
        event("DeadLettered", "RetriesExhausted: last attempt ...", timedelta(hours=3)),
        event("AttemptFailed", "attempt 1 of 3 failed", timedelta(hours=20)),
        event("Other", "of an earlier task with the same name", timedelta(hours=1), uid="old"),
    ]
    text = render.describe_text(view, events, NOW)
    assert "Name:" in text and "Phase:        Dead" in text and "Reason:       RetriesExhausted" in text
    assert "Attempts:     3 started (of 3 allowed)" in text
    assert "Dead Since:   2026-11-23T15:00:00Z (3h ago)" in text
    assert "Updated:      2026-11-23T15:00:00Z (3h ago)" in text
    assert "Input:        s3://audio/talk.wav" in text
    counts = text.split("Failure Counts:")[1].split("Outputs:")[0]
    assert counts.split() == ["REASON", "COUNT", "DownloadFailed", "3"]
    history = text.split("Attempt History (3 most recent, oldest first):")[1].split("Events:")[0].splitlines()
    assert history[1].split() == [
        "ATTEMPT", "POD", "NODE", "EXIT", "REASON", "RETRYABLE", "STARTED", "FINISHED", "DURATION", "MESSAGE",
    ]  # fmt: skip
    first = history[2].split()
    assert first[:6] == ["1", "talk-a1", "node-1", "12", "DownloadFailed", "true"]
    assert first[6:9] == ["2026-11-22T18:01:00Z", "2026-11-22T18:01:42Z", "42s"]
    assert " ".join(first[9:]) == "GET reset by peer (try 1)"
    assert len(history) == 5
    events_part = text.split("Events:")[1].splitlines()
    assert [line.split()[1] for line in events_part[2:]] == ["AttemptFailed", "DeadLettered"]
    assert "earlier task" not in text


def test_describe_text_of_a_fresh_task() -> None:
    raw = raw_task(phase="Pending", attempts=0, dead_ago=None, conditions=[], failureCounts={}, reason=None)
    raw["status"].pop("reason")
    raw["status"].pop("message")
    text = render.describe_text(TaskView.from_raw(raw), [], NOW)
    assert "Failure Counts:  <none>" in text and "Outputs:  <none>" in text
    assert "Attempt History:  <none>" in text and "Events:  <none>" in text
    assert "Dead Since" not in text and "Requeues" not in text and "Updated" not in text


def test_describe_text_shows_requeues_and_outputs() -> None:
    raw = raw_task(
        phase="Succeeded",
        attempts=3,
        attemptBase=2,
        requeues=1,
        requeue={"token": "t1", "at": stamp(NOW - timedelta(minutes=5)), "outcome": "Requeued"},
        outputs={"json": "s3://o/t.json", "txt": "s3://o/t.txt"},
        reason="Completed",
    )
    text = render.describe_text(TaskView.from_raw(raw), [], NOW)
    assert "Attempts:     3 started (1 of 3 since the last requeue)" in text
    assert "Requeues:     1 (last request 't1' at 2026-11-23T17:55:00Z (5m ago): Requeued)" in text
    assert "  json:\ts3://o/t.json" in text and "Dead Since" not in text


def test_describe_doc() -> None:
    view = TaskView.from_raw(raw_task())
    doc = render.describe_doc(view, [event("DeadLettered", "dead", timedelta(hours=3))], NOW)
    assert (doc["name"], doc["namespace"], doc["phase"], doc["attempt"], doc["maxAttempts"]) == (
        "talk",
        "media",
        "Dead",
        2,
        2,
    )
    assert doc["deadSince"] == "2026-11-23T15:00:00Z" and doc["failureCounts"] == {"DownloadFailed": 2}
    assert doc["updatedAt"] == "2026-11-23T15:00:00Z"
    assert [a["attempt"] for a in doc["attempts"]] == [1, 2]
    assert doc["attempts"][0]["durationSeconds"] == 42 and doc["attempts"][0]["exitCode"] == 12
    assert doc["events"] == [
        {
            "type": "Warning",
            "reason": "DeadLettered",
            "message": "dead",
            "count": 1,
            "lastTimestamp": "2026-11-23T15:00:00Z",
        }
    ]
    assert yaml.safe_load(render.dump(doc, "yaml")) == json.loads(render.dump(doc, "json"))


def test_retry_and_purge_output() -> None:
    views = [TaskView.from_raw(raw_task("a")), TaskView.from_raw(raw_task("b", namespace="other"))]
    assert render.retry_lines(views[:1], reset=False, dry_run=False, all_namespaces=False) == (
        "transcriptiontask.scribe.dev/a requeued\n"
    )
    assert render.retry_lines(views, reset=True, dry_run=True, all_namespaces=True).splitlines() == [
        "transcriptiontask.scribe.dev/a in namespace media requeued (attempt history reset, dry run)",
        "transcriptiontask.scribe.dev/b in namespace other requeued (attempt history reset, dry run)",
    ]
    doc = render.retry_doc(views, ["t1", "t2"], reset=False, dry_run=False)
    assert doc["items"][1] == {"namespace": "other", "name": "b", "token": "t2", "resetAttempts": False}
    assert render.purge_lines(views[:1], NOW, dry_run=True, all_namespaces=False) == (
        "transcriptiontask.scribe.dev/a deleted (dry run): Dead for 3h, RetriesExhausted\n"
    )
    purge = render.purge_doc(views[:1], "7d", dry_run=False)
    assert purge["olderThan"] == "7d" and purge["items"] == [
        {"namespace": "media", "name": "a", "reason": "RetriesExhausted", "deadSince": "2026-11-23T15:00:00Z"}
    ]
