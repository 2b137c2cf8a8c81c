"""New tasks are started a few at a time (``SCRIBE_CONCURRENT_STARTS``), in the order they came; a task already
started is never held behind them, so its finished attempt is recorded at once during a burst of new tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from scribe_operator.kinds.task.core.observed import InputProbe
from scribe_operator.runtime.settings.model import SettingsError

from tests.unit.task.factories import operator_settings
from tests.unit.task.test_controller import NS, FakeStorage, Watch, make_controller


class SlowStorage(FakeStorage):
    """An input check that waits until the test lets it go: the starts it holds stay in their slots."""

    def __init__(self) -> None:
        super().__init__()
        self.held = False
        self.go = asyncio.Event()
        self.checking: list[str] = []

    async def probe(self, uri: str) -> InputProbe:
        if self.held:
            self.checking.append(uri.rsplit("/", 1)[-1].removesuffix(".wav"))
            await self.go.wait()
        return await super().probe(uri)


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not reached in 2 s: {what}")


async def test_a_burst_of_new_tasks_starts_two_at_a_time_while_a_running_task_finishes_at_once() -> None:
    watch, storage = Watch(), SlowStorage()
    watch.add_task("running", 60)
    controller, effects, _ = make_controller(watch, storage, concurrent_starts=2)
    await controller.reconcile_key((NS, "running"))
    assert watch.phase("running") == "Running"

    storage.held = True
    burst = [f"new-{i}" for i in range(5)]
    for i, name in enumerate(burst):
        watch.add_task(name, 10 - i)
    starting = [asyncio.create_task(controller.reconcile_key((NS, name))) for name in burst]
    await until(lambda: len(storage.checking) == 2, "two starts checking their input")
    await asyncio.sleep(0.05)
    assert storage.checking == ["new-0", "new-1"]  # the other three wait for a slot; nothing of theirs was done
    assert [watch.phase(name) for name in burst] == [None] * 5

    watch.set_pod("running", 1, "Succeeded")  # both slots are taken: the started task's reconcile does not wait
    await asyncio.wait_for(controller.reconcile_key((NS, "running")), timeout=2)
    assert watch.phase("running") == "Succeeded"

    storage.go.set()
    await asyncio.wait_for(asyncio.gather(*starting), timeout=5)
    assert storage.checking == burst  # in the order they came
    assert [watch.phase(name) for name in burst] == ["Running"] * 5
    assert effects.pods == ["running-a1"] + [f"{name}-a1" for name in burst]


def test_the_setting_is_validated_by_name() -> None:
    assert operator_settings().capacity.concurrent_starts == 8
    with pytest.raises(SettingsError, match="SCRIBE_CONCURRENT_STARTS"):
        operator_settings(concurrent_starts=0)
