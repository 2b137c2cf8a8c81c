"""kubectl-scribe's commands on a fake cluster: scopes, selection, the requeue patch, errors and exit codes."""

from __future__ import annotations

import copy
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from lightkube.core.client import LabelSelector
from scribe_operator.cli import commands
from scribe_operator.cli.args import parse_args
from scribe_operator.cli.cluster import CliConflict, CliError, NotFound

from tests.unit.cli.test_render import NOW, raw_task

REQUEUE = "scribe.dev/requeue"
RESET = "scribe.dev/requeue-reset-attempts"


class FakeApi:
    """An in-memory TaskApi: tasks by (namespace, name); label selectors of the form {key: value} only."""

    namespace = "media"

    def __init__(self, *tasks: dict[str, Any]) -> None:
        self.tasks = {(t["metadata"]["namespace"], t["metadata"]["name"]): copy.deepcopy(t) for t in tasks}
        self.patches: list[tuple[str, str, dict[str, str | None]]] = []
        self.deleted: list[tuple[str, str]] = []
        self.conflicts = 0
        self.listed: list[tuple[str | None, LabelSelector]] = []

    def list_tasks(self, namespace: str | None, labels: LabelSelector) -> list[dict[str, Any]]:
        self.listed.append((namespace, labels))
        found = []
        for (ns, _), task in sorted(self.tasks.items()):
            mine = task["metadata"].get("labels") or {}
            if (namespace is None or ns == namespace) and all(mine.get(k) == v for k, v in labels.items()):
                found.append(copy.deepcopy(task))
        return found

    def get_task(self, name: str, namespace: str) -> dict[str, Any] | None:
        task = self.tasks.get((namespace, name))
        return copy.deepcopy(task) if task else None

    def annotate_task(
        self, name: str, namespace: str, annotations: dict[str, str | None], resource_version: str | None
    ) -> dict[str, Any]:
        task = self.tasks.get((namespace, name))
        if task is None:
            raise NotFound("gone")
        if self.conflicts:
            self.conflicts -= 1
            raise CliConflict("changed")
        assert resource_version == task["metadata"]["resourceVersion"]
        self.patches.append((namespace, name, annotations))
        merged = {**(task["metadata"].get("annotations") or {}), **annotations}
        task["metadata"]["annotations"] = {k: v for k, v in merged.items() if v is not None}
        return copy.deepcopy(task)

    def delete_task(self, name: str, namespace: str) -> bool:
        self.deleted.append((namespace, name))
        return self.tasks.pop((namespace, name), None) is not None

    def task_events(self, name: str, namespace: str) -> list[dict[str, Any]]:
        return []


def run(api: FakeApi, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = commands.run(parse_args(list(argv)), api, NOW, out, err)
    return code, out.getvalue(), err.getvalue()


def running(name: str, namespace: str = "media") -> dict[str, Any]:
    raw = raw_task(name, namespace, phase="Running", dead_ago=None, attempts=1)
    raw["metadata"]["labels"] = {}
    return raw


def labelled(raw: dict[str, Any], **labels: str) -> dict[str, Any]:
    raw["metadata"]["labels"].update(labels)
    return raw


def test_dead_lists_the_whole_queue_across_namespaces_by_default() -> None:
    api = FakeApi(raw_task("b"), raw_task("a"), raw_task("c", "other"), running("live"))
    code, out, _ = run(api, "dead")
    assert code == 0 and api.listed == [(None, {"scribe.dev/dead-letter": "true"})]
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["media", "a"], ["media", "b"], ["other", "c"]]
    code, out, _ = run(api, "dead", "-n", "media")
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "a", "b"]
    code, out, _ = run(api, "dead", "-A")
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["media", "a"], ["media", "b"], ["other", "c"]]
    code, out, _ = run(api, "dead", "-n", "other", "-o", "json")
    assert [t["metadata"]["name"] for t in json.loads(out)["items"]] == ["c"]


def test_dead_skips_labelled_tasks_that_are_no_longer_dead() -> None:
    requeued = labelled(running("requeued"), **{"scribe.dev/dead-letter": "true"})
    code, out, err = run(FakeApi(requeued), "dead", "-n", "media")
    assert (code, out) == (0, "") and err == "No dead TranscriptionTasks found in namespace media.\n"
    code, out, _ = run(FakeApi(requeued), "dead", "-o", "yaml")
    assert "items: []" in out


def test_dead_passes_the_selector() -> None:
    api = FakeApi(labelled(raw_task("a"), team="x"), raw_task("b"))
    code, out, _ = run(api, "dead", "-l", "team=x")
    assert code == 0
    assert api.listed[-1] == (None, {"scribe.dev/dead-letter": "true", "team": "x"})
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["media", "a"]]


def test_describe_missing_task() -> None:
    with pytest.raises(CliError, match='transcriptiontask "nope" not found in namespace "media"'):
        run(FakeApi(), "describe", "nope")


def test_retry_named_tasks_sets_a_fresh_token_and_clears_a_stale_reset() -> None:
    api = FakeApi(raw_task("a"), raw_task("b"))
    code, out, err = run(api, "retry", "a", "b")
    assert (code, err) == (0, "")
    assert out.splitlines() == ["transcriptiontask.scribe.dev/a requeued", "transcriptiontask.scribe.dev/b requeued"]
    token = commands.requeue_token(NOW)
    assert token == "2026-11-23T18:00:00.000000Z"
    assert api.patches == [
        ("media", "a", {REQUEUE: token, RESET: None}),
        ("media", "b", {REQUEUE: token, RESET: None}),
    ]


def test_retry_with_reset() -> None:
    api = FakeApi(raw_task("a"))
    code, out, _ = run(api, "retry", "a", "--reset-attempts", "-o", "json")
    assert code == 0 and api.patches == [("media", "a", {REQUEUE: commands.requeue_token(NOW), RESET: "true"})]
    doc = json.loads(out)
    assert doc["dryRun"] is False and doc["items"][0]["resetAttempts"] is True


def test_retry_dry_run_changes_nothing() -> None:
    api = FakeApi(raw_task("a"))
    code, out, _ = run(api, "retry", "a", "--dry-run")
    assert code == 0 and api.patches == [] and out == "transcriptiontask.scribe.dev/a requeued (dry run)\n"


def test_retry_refuses_missing_and_live_tasks_and_changes_nothing() -> None:
    api = FakeApi(raw_task("dead"), running("live"))
    with pytest.raises(CliError) as error:
        run(api, "retry", "dead", "nope", "live")
    assert str(error.value).splitlines() == [
        'transcriptiontask "nope" not found in namespace "media"',
        'transcriptiontask "live" in namespace "media" is Running, not Dead: only dead-lettered tasks can be retried',
    ]
    assert api.patches == []


def test_retry_all_dead_in_scope() -> None:
    api = FakeApi(labelled(raw_task("a"), team="x"), raw_task("b"), raw_task("c", "other"), running("live"))
    code, out, _ = run(api, "retry", "--all-dead", "-A", "-l", "team=x")
    assert code == 0 and [p[:2] for p in api.patches] == [("media", "a")]
    assert out == "transcriptiontask.scribe.dev/a in namespace media requeued\n"
    code, out, _ = run(api, "retry", "--all-dead", "-A")
    assert [p[:2] for p in api.patches[1:]] == [("media", "a"), ("media", "b"), ("other", "c")]


def test_retry_all_dead_with_nothing_dead() -> None:
    code, out, err = run(FakeApi(running("live")), "retry", "--all-dead")
    assert (code, out) == (0, "") and "No dead TranscriptionTasks found" in err


def test_retry_rereads_after_a_conflict() -> None:
    api = FakeApi(raw_task("a"))
    api.conflicts = 1
    code, _, _ = run(api, "retry", "a")
    assert code == 0 and len(api.patches) == 1


def test_retry_reports_a_task_that_left_dead_meanwhile_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeApi(raw_task("a"), raw_task("b"))
    listed = commands.dead_tasks(api, commands.Scope("media", {}))
    # between the listing and the patch, someone else requeued "a": the patch conflicts, the re-read shows it
    api.tasks[("media", "a")]["status"]["phase"] = "Queued"
    api.conflicts = 1
    monkeypatch.setattr(commands, "dead_tasks", lambda _api, _scope: listed)
    code, out, err = run(api, "retry", "--all-dead")
    assert code == 1 and out == "transcriptiontask.scribe.dev/b requeued\n"
    assert err == (
        'error: transcriptiontask "a" in namespace "media" is Queued, not Dead: '
        "only dead-lettered tasks can be retried\n"
    )


def test_purge_deletes_only_tasks_dead_long_enough() -> None:
    unknown = raw_task("unknown", dead_ago=None, conditions=[])
    api = FakeApi(
        raw_task("old", dead_ago=timedelta(days=10)),
        raw_task("new", dead_ago=timedelta(hours=1)),
        unknown,
        running("live"),
    )
    code, out, err = run(api, "purge", "--older-than", "7d", "--dry-run")
    assert code == 0 and api.deleted == []
    assert out == "transcriptiontask.scribe.dev/old deleted (dry run): Dead for 10d, RetriesExhausted\n"
    assert "skipping transcriptiontask.scribe.dev/unknown in namespace media: the time it went Dead" in err
    code, out, _ = run(api, "purge", "--older-than", "30m", "-o", "json")
    doc = json.loads(out)
    assert code == 0 and doc["olderThan"] == "30m" and [i["name"] for i in doc["items"]] == ["new", "old"]
    assert api.deleted == [("media", "new"), ("media", "old")]
    assert sorted(api.tasks) == [("media", "live"), ("media", "unknown")]


def test_purge_with_nothing_to_delete() -> None:
    api = FakeApi(raw_task("new", dead_ago=timedelta(hours=1)))
    code, out, err = run(api, "purge", "--older-than", "1d")
    assert (code, out, api.deleted) == (0, "", [])
    assert err == "No TranscriptionTasks dead for longer than 1d found in namespace media.\n"
