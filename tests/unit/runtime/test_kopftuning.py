"""kopf's per-event machinery this operator turns off: the diff base, and the start-up wake-ups."""

from __future__ import annotations

import asyncio

import kopf
from kopf._cogs.aiokits import aiotoggles
from scribe_operator.runtime.kopftuning import NoDiffBase, linear_toggle_sets


def test_no_diff_base_builds_and_keeps_nothing() -> None:
    storage = NoDiffBase()
    body = kopf.Body({"metadata": {"name": "t", "labels": {"a": "b"}}, "spec": {"input": "s3://b/k"}})
    assert storage.build(body=body) == {}
    assert storage.fetch(body=body) is None


async def test_startup_barrier_wakes_waiters_once_not_per_object() -> None:
    """The listing's objects wait until all of them are indexed: dropping each one's toggle must not wake every
    waiter (kopf's own ToggleSet does: quadratic), yet all of them go on once the last one is dropped."""
    linear_toggle_sets()
    objects = 500
    indexed = aiotoggles.ToggleSet(all)
    blocker = await indexed.make_toggle(name="orchestration blocker")
    toggles = [await indexed.make_toggle(name=str(i)) for i in range(objects)]
    wakeups = 0
    notify_all = indexed._condition.notify_all

    def counting() -> None:
        nonlocal wakeups
        wakeups += len(indexed._condition._waiters)
        notify_all()

    indexed._condition.notify_all = counting  # type: ignore[method-assign]
    released = 0

    async def worker(toggle: aiotoggles.Toggle) -> None:
        nonlocal released
        await indexed.drop_toggle(toggle)
        await indexed.wait_for(True)
        released += 1

    workers = [asyncio.create_task(worker(t)) for t in toggles]
    await asyncio.sleep(0)
    for _ in range(10):
        await asyncio.sleep(0)
    assert released == 0 and indexed.is_off()  # the blocker still holds them all
    await indexed.drop_toggle(blocker)
    await asyncio.wait_for(asyncio.gather(*workers), 10)
    assert released == objects and indexed.is_on()
    assert wakeups <= objects  # one wake-up each (kopf's own: one per waiter per dropped toggle, ~objects**2 / 2)


async def test_member_toggles_still_wake_waiters() -> None:
    linear_toggle_sets()
    paused = aiotoggles.ToggleSet(any)
    toggle = await paused.make_toggle(name="peer")
    waiter = asyncio.create_task(paused.wait_for(True))
    await asyncio.sleep(0)
    await toggle.turn_to(True)
    await asyncio.wait_for(waiter, 5)
    await paused.drop_toggle(toggle)
    assert paused.is_off()
