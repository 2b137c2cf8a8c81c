"""The task controller parses a task body once per resourceVersion: a reconcile of the same version (a pod event, a
requeue) reuses the parse; a new version, a finished task and a forgotten one are parsed again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from scribe_operator.api.parse import ValidationProblem
from scribe_operator.kinds.task import controller as controller_module
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.parse import parse_task

from tests.unit.task.test_controller import Watch, make_controller


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The resourceVersion of every body the task controller parses (patched before a controller is made)."""
    seen: list[str] = []

    def counting(body: Mapping[str, Any]) -> TranscriptionTask | ValidationProblem:
        seen.append(str(body["metadata"]["resourceVersion"]))
        return parse_task(body)

    monkeypatch.setattr(controller_module, "parse_task", counting)
    return seen


async def test_a_second_reconcile_of_the_same_resource_version_does_not_parse_again(parses: list[str]) -> None:
    watch = Watch()
    key = watch.add_task("a", 10)
    controller, effects, _ = make_controller(watch)
    await controller.reconcile_key(key)  # launches attempt 1 and writes the status: version 2
    await controller.reconcile_key(key)  # version 2, its own write, seen once
    assert parses == ["1", "2"] and effects.writes == {"a": 1} and watch.phase("a") == "Running"

    await controller.reconcile_key(key)  # a requeue of the same version
    watch.set_pod("a", 1, "Running")
    await controller.reconcile_key(key)  # pod events: the task's body is the same
    await controller.reconcile_key(key)
    assert parses == ["1", "2"] and effects.writes == {"a": 1} and watch.phase("a") == "Running"

    watch.tasks[key]["metadata"]["resourceVersion"] = "100"  # an update by someone else: parsed again, once
    await controller.reconcile_key(key)
    await controller.reconcile_key(key)
    assert parses == ["1", "2", "100"]


async def test_a_finished_or_forgotten_task_is_not_kept(parses: list[str]) -> None:
    watch = Watch()
    key = watch.add_task("a", 10)
    controller, _, _ = make_controller(watch)
    await controller.reconcile_key(key)
    assert len(controller.parsed) == 1
    controller.forget(key)
    assert len(controller.parsed) == 0

    watch.set_pod("a", 1, "Succeeded")
    await controller.reconcile_key(key)
    await controller.reconcile_key(key)
    assert watch.phase("a") == "Succeeded"
    assert len(controller.parsed) == 0  # a finished task is rarely reconciled again: not held
