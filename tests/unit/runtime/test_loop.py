"""The shared reconcile loop: per-key exponential backoff of failed reconciles (reset by a success), wake-ups that are
kept until they end and cancelled when their object is forgotten, and watch events that bring nothing new not
reconciled again."""

from __future__ import annotations

import asyncio
import gc
import itertools
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter
from scribe_operator.api.meta import ObjectKey
from scribe_operator.runtime.backoff import ItemBackoff
from scribe_operator.runtime.kube.effects import Conflict
from scribe_operator.runtime.loop import CONFLICT_BACKOFF, ERROR_BACKOFF, ReconcileLoop

KEY: ObjectKey = ("media", "a")
OTHER: ObjectKey = ("media", "b")
BODY = {"metadata": {"name": "a", "namespace": "media", "resourceVersion": "1"}}


# --- ItemBackoff ----------------------------------------------------------------------------------------------------


def test_backoff_doubles_per_failure_up_to_the_cap_and_a_success_resets_it() -> None:
    backoff: ItemBackoff[str] = ItemBackoff(base=5.0, cap=60.0)
    assert [backoff.when("a") for _ in range(6)] == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    assert backoff.retries("a") == 6
    backoff.forget("a")
    assert backoff.retries("a") == 0 and backoff.when("a") == 5.0


def test_backoff_keys_are_independent() -> None:
    backoff: ItemBackoff[str] = ItemBackoff(base=1.0, cap=100.0)
    for _ in range(4):
        backoff.when("a")
    assert backoff.when("b") == 1.0
    assert backoff.when("a") == 16.0


def test_backoff_stays_finite_however_long_a_key_fails() -> None:
    backoff: ItemBackoff[str] = ItemBackoff(base=0.005, cap=1000.0)
    backoff.failures["a"] = 10_000
    assert backoff.when("a") == 1000.0


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_backoff_refuses_a_base_outside_zero_to_cap(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="base"):
        ItemBackoff(base=base, cap=cap)


@given(st.floats(0.001, 100), st.floats(1, 10_000), st.integers(1, 80))
def test_backoff_is_monotone_and_capped(base: float, extra: float, failures: int) -> None:
    backoff: ItemBackoff[str] = ItemBackoff(base=base, cap=base + extra)
    delays = [backoff.when("k") for _ in range(failures)]
    assert delays[0] == base
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert all(d <= base + extra for d in delays)


# --- the loop -------------------------------------------------------------------------------------------------------


class Scripted(ReconcileLoop[None]):
    """A loop whose reconciles raise or return what the test scripted, in order."""

    kind = "thing"

    def __init__(self, *outcomes: float | Exception | None) -> None:
        super().__init__()
        self.errors = Counter("loop_test_errors", "errors", ["kind"], registry=CollectorRegistry())
        self.outcomes = list(outcomes)
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def _reconcile(self, body: Mapping[str, Any], seen: tuple[None, ...]) -> float | None:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def delay_of(loop: ReconcileLoop[Any], key: ObjectKey) -> float:
    timer = loop.timers[key]
    return timer.when() - asyncio.get_running_loop().time()


async def test_errors_requeue_with_growing_delays_and_a_success_resets_them() -> None:
    loop = Scripted(RuntimeError("boom"), RuntimeError("boom"), RuntimeError("boom"), None, RuntimeError("boom"))
    base, cap = ERROR_BACKOFF
    expected = [base, 2 * base, 4 * base]
    for want in expected:
        await loop.reconcile(KEY, BODY, ())
        assert delay_of(loop, KEY) == pytest.approx(want, abs=0.5)
    assert loop.failures.retries(KEY) == 3
    await loop.reconcile(KEY, BODY, ())  # succeeds: no requeue asked, the backoff forgotten
    assert KEY not in loop.timers and loop.failures.retries(KEY) == 0
    await loop.reconcile(KEY, BODY, ())
    assert delay_of(loop, KEY) == pytest.approx(base, abs=0.5)
    assert cap >= 4 * base
    loop.forget(KEY)


async def test_conflicts_back_off_on_their_own_scale_per_key() -> None:
    loop = Scripted(Conflict("stale"), Conflict("stale"), Conflict("stale"))
    base, _ = CONFLICT_BACKOFF
    await loop.reconcile(KEY, BODY, ())
    await loop.reconcile(KEY, BODY, ())
    assert delay_of(loop, KEY) == pytest.approx(2 * base, abs=0.2)
    await loop.reconcile(OTHER, BODY, ())  # another object's first conflict: the base delay
    assert delay_of(loop, OTHER) == pytest.approx(base, abs=0.2)
    assert loop.failures.retries(KEY) == 0  # conflicts are not errors
    loop.forget(KEY)
    loop.forget(OTHER)


async def test_the_requested_requeue_wins_after_a_success() -> None:
    loop = Scripted(RuntimeError("boom"), 42.0)
    await loop.reconcile(KEY, BODY, ())
    await loop.reconcile(KEY, BODY, ())
    assert delay_of(loop, KEY) == pytest.approx(42.0, abs=0.5)
    loop.forget(KEY)


def _lookup(key: ObjectKey) -> tuple[Mapping[str, Any] | None, Iterable[None]]:
    return BODY, ()


async def test_a_timer_reconciles_in_a_task_the_loop_keeps_until_it_ends() -> None:
    loop = Scripted(None)
    loop.lookup = _lookup
    loop.release.clear()
    loop.requeue(KEY, 0)
    await asyncio.wait_for(loop.started.wait(), 5)
    assert KEY not in loop.timers
    (task,) = loop.wakeups[KEY]
    gc.collect()  # the loop's reference keeps it alive while it waits
    assert not task.done()
    loop.release.set()
    await asyncio.wait_for(task, 5)
    assert KEY not in loop.wakeups and loop.calls == 1


async def test_forget_cancels_the_timer_and_the_running_wake_up() -> None:
    loop = Scripted(None)
    loop.lookup = _lookup
    loop.requeue(OTHER, 3600)
    timer = loop.timers[OTHER]
    loop.forget(OTHER)
    assert timer.cancelled() and OTHER not in loop.timers

    loop.release.clear()
    loop.requeue(KEY, 0)
    await asyncio.wait_for(loop.started.wait(), 5)
    (task,) = loop.wakeups[KEY]
    loop.forget(KEY)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert KEY not in loop.wakeups and KEY not in loop.timers


async def test_a_wake_up_that_finds_its_object_gone_forgets_it_and_ends() -> None:
    loop = Scripted()
    loop.lookup = lambda key: (None, ())
    loop.failures.when(KEY)
    loop.requeue(KEY, 0)
    loop.timers[KEY].cancel()
    loop._wake(KEY)  # the timer fires
    (task,) = loop.wakeups[KEY]
    await asyncio.wait_for(task, 5)
    assert not task.cancelled() and loop.calls == 0
    assert KEY not in loop.wakeups and loop.failures.retries(KEY) == 0


# --- watch events that bring nothing new ----------------------------------------------------------------------------


def body_at(version: int) -> dict[str, Any]:
    return {"metadata": {"name": "a", "namespace": "media", "resourceVersion": str(version)}}


class Writing(ReconcileLoop[str]):
    """A loop whose every reconcile writes the object's status (a new resourceVersion) until told to stop, and
    asks to be woken in an hour: like a task waiting for its pod."""

    kind = "thing"

    def __init__(self) -> None:
        super().__init__()
        self.errors = Counter("loop_test_errors", "errors", ["kind"], registry=CollectorRegistry())
        self.seen: list[tuple[int, tuple[str, ...]]] = []
        self.writes = True
        self.fail: Exception | None = None
        self.held: tuple[Mapping[str, Any], tuple[str, ...]] = (body_at(1), ())
        self.lookup = lambda key: self.held

    async def _reconcile(self, body: Mapping[str, Any], seen: tuple[str, ...]) -> float | None:
        version = int(body["metadata"]["resourceVersion"])
        self.seen.append((version, seen))
        if self.fail is not None:
            raise self.fail
        if self.writes:
            self.written[KEY] = body_at(version + 1)
            self.writes = False
        return 3600.0


async def test_the_echo_of_its_own_write_is_not_reconciled_again() -> None:
    loop = Writing()
    await loop.on_event(KEY, "ADDED")
    timer = loop.timers[KEY]
    loop.held = (body_at(2), ())  # the watch brings the version the reconcile wrote
    await loop.on_event(KEY, "MODIFIED")
    assert loop.seen == [(1, ())]
    assert loop.timers[KEY] is timer and not timer.cancelled(), "the last reconcile's timer stands"
    loop.forget(KEY)


async def test_a_child_event_that_changes_what_the_watches_hold_is_reconciled() -> None:
    loop = Writing()
    await loop.on_event(KEY, "ADDED")
    loop.held = (body_at(1), ("pod a1 Pending",))  # the index still has the old body: our write is newer
    await loop.reconcile_key(KEY, event=True)
    loop.held = (body_at(2), ("pod a1 Pending",))
    await loop.on_event(KEY, "MODIFIED")  # the echo, with the same pod: nothing new
    await loop.reconcile_key(KEY, event=True)  # a pod event that changes nothing the loop holds
    loop.held = (body_at(2), ("pod a1 Running",))
    await loop.reconcile_key(KEY, event=True)
    assert loop.seen == [(1, ()), (2, ("pod a1 Pending",)), (2, ("pod a1 Running",))]
    loop.forget(KEY)


async def test_timers_and_wake_ups_always_reconcile() -> None:
    loop = Writing()
    await loop.on_event(KEY, "ADDED")
    loop.held = (body_at(2), ())
    await loop.reconcile_key(KEY)  # a timer or a wake-up (capacity, the circuit breaker): time may have moved
    assert loop.seen == [(1, ()), (2, ())]
    loop.forget(KEY)


async def test_a_failed_reconcile_or_a_forgotten_object_settles_nothing() -> None:
    loop = Writing()
    loop.writes, loop.fail = False, RuntimeError("boom")
    await loop.on_event(KEY, "ADDED")
    loop.fail = None
    await loop.on_event(KEY, "MODIFIED")  # the same version again: the failed reconcile did not count
    await loop.on_event(KEY, "MODIFIED")  # now it did
    loop.forget(KEY)
    await loop.on_event(KEY, "ADDED")  # seen again after being forgotten (deleted and re-created)
    assert loop.seen == [(1, ()), (1, ()), (1, ())]
    loop.forget(KEY)


async def test_an_object_without_a_resource_version_is_always_reconciled() -> None:
    loop = Writing()
    loop.writes = False
    loop.held = ({"metadata": {"name": "a", "namespace": "media", "resourceVersion": "0"}}, ())
    await loop.on_event(KEY, "ADDED")
    await loop.on_event(KEY, "MODIFIED")
    assert loop.seen == [(0, ()), (0, ())]
    loop.forget(KEY)
