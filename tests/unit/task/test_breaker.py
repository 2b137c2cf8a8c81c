"""The circuit breaker: its pure state machine (core.breaker), checked against tables and a reference model
(hypothesis), and how the decision core holds a task while it is open."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scribe_operator.kinds.task.api.status import AttemptRecord, Phase, TaskStatus
from scribe_operator.kinds.task.core.breaker import (
    TRIPPING_REASONS,
    Breaker,
    BreakerSettings,
    BreakerState,
    failures_between,
)
from scribe_operator.kinds.task.core.observed import CircuitHold, Observed
from scribe_operator.kinds.task.core.reconcile import reconcile

from tests.unit.plans import events
from tests.unit.task.factories import T0, Cluster, launches, make_task, phase

SETTINGS = BreakerSettings(threshold=3, window_seconds=60, cooldown_seconds=30)
OPEN, HALF_OPEN, CLOSED = BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(b: Breaker, *failures: tuple[float, str, str]) -> Breaker:
    for seconds, task, reason in failures:
        b = b.failed(at(seconds), task, reason)
    return b


# --- the state machine --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "state"),
    [
        ([(0, "a", "DownloadFailed"), (1, "b", "DownloadFailed")], CLOSED),
        ([(0, "a", "DownloadFailed"), (1, "b", "DownloadFailed"), (2, "c", "DownloadFailed")], OPEN),
        # the same task failing again is one task
        ([(0, "a", "DownloadFailed"), (1, "a", "DownloadFailed"), (2, "b", "DownloadFailed")], CLOSED),
        # outside the window
        ([(0, "a", "UploadFailed"), (1, "b", "UploadFailed"), (61, "c", "UploadFailed")], CLOSED),
        ([(0, "a", "UploadFailed"), (30, "b", "UploadFailed"), (59, "c", "UploadFailed")], OPEN),
        # one reason at a time
        ([(0, "a", "DownloadFailed"), (1, "b", "UploadFailed"), (2, "c", "PresignFailed")], CLOSED),
        ([(0, "a", "PresignFailed"), (1, "b", "PresignFailed"), (2, "c", "PresignFailed")], OPEN),
        # failures of the task itself do not count
        ([(0, "a", "InputNotFound"), (1, "b", "InputForbidden"), (2, "c", "InvalidAudio")], CLOSED),
        ([(0, "a", "OOMKilled"), (1, "b", "DeadlineExceeded"), (2, "c", "TranscriptionFailed")], CLOSED),
    ],
)
def test_opens_at_the_threshold_of_distinct_tasks_within_the_window(
    failures: list[tuple[float, str, str]], state: BreakerState
) -> None:
    assert feed(Breaker(SETTINGS), *failures).state is state


def test_lifecycle_open_half_open_probe_close_or_reopen() -> None:
    b = feed(Breaker(SETTINGS), (0, "a", "DownloadFailed"), (5, "b", "DownloadFailed"), (10, "c", "DownloadFailed"))
    assert (b.state, b.reason, b.tasks, b.since, b.probe_at) == (OPEN, "DownloadFailed", 3, at(10), at(40))
    assert not b.probe_due(at(39)) and b.at(at(39)).state is OPEN
    assert b.probe_due(at(40)) and b.at(at(40)).state is HALF_OPEN
    # more failures while open change nothing
    assert b.failed(at(20), "d", "DownloadFailed") == b

    probing = b.probe_started(at(41))
    assert probing.state is HALF_OPEN and probing.probing and not probing.probe_due(at(41))

    reopened = probing.probe_finished(at(42), ok=False)
    assert (reopened.state, reopened.since, reopened.probe_at) == (OPEN, at(42), at(72))
    assert not reopened.probe_due(at(71)) and reopened.probe_due(at(72))

    closed = reopened.probe_started(at(72)).probe_finished(at(73), ok=True)
    assert closed == Breaker(SETTINGS)  # closed, the old failures forgotten
    assert closed.failed(at(74), "a", "DownloadFailed").state is CLOSED


def test_a_zero_threshold_disables_it() -> None:
    b = Breaker(BreakerSettings(threshold=0))
    assert feed(b, *[(i, f"t{i}", "DownloadFailed") for i in range(20)]).state is CLOSED


def test_hold_says_why_and_when_to_look_again() -> None:
    b = feed(Breaker(SETTINGS), *[(i, f"t{i}", "UploadFailed") for i in range(3)])
    assert Breaker(SETTINGS).hold(at(0)) is None
    hold = b.hold(at(10))
    assert hold is not None and hold.reason == "UploadFailed" and hold.retry_at == at(32)
    assert hold.message == (
        "circuit breaker open: UploadFailed hit 3 tasks within 60s; new attempts wait until a probe of the storage "
        "succeeds"
    )
    # half-open, probing: look again after another cooldown at the latest (a success wakes the tasks sooner)
    half = b.probe_started(at(32)).hold(at(33))
    assert half is not None and half.retry_at == at(63) and half.message == hold.message


def test_tripping_reasons_are_infrastructure_failures_only() -> None:
    assert {"DownloadFailed", "UploadFailed", "PresignFailed"} == TRIPPING_REASONS


def test_failures_between_two_statuses() -> None:
    old = TaskStatus(attempts=[AttemptRecord(attempt=1, finished_at=T0, reason="DownloadFailed")])
    new = TaskStatus(
        attempts=[
            AttemptRecord(attempt=1, finished_at=T0, reason="DownloadFailed"),  # recorded before: not again
            AttemptRecord(attempt=2, finished_at=at(5), reason="UploadFailed"),
            AttemptRecord(attempt=3, created_at=at(6)),  # still running
        ]
    )
    assert failures_between(old, new) == ["UploadFailed"]
    done = TaskStatus(attempts=[AttemptRecord(attempt=1, finished_at=T0, reason="Completed", exit_code=0)])
    assert failures_between(TaskStatus(), done) == []


# --- the state machine against a reference model ---------------------------------------------------------------

events_ = st.lists(
    st.one_of(
        st.tuples(st.just("fail"), st.integers(0, 20), st.sampled_from(["a", "b", "c", "d", "e"]),
                  st.sampled_from(["DownloadFailed", "UploadFailed", "PresignFailed", "InputNotFound"])),
        st.tuples(st.just("probe"), st.integers(0, 40), st.booleans()),
    ),
    max_size=40,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(events_, st.integers(1, 4), st.integers(1, 30), st.integers(1, 30))
def test_breaker_matches_a_reference_model(events: list[Any], threshold: int, window: int, cooldown: int) -> None:
    s = BreakerSettings(threshold=threshold, window_seconds=window, cooldown_seconds=cooldown)
    b, now = Breaker(s), T0
    strikes: list[tuple[datetime, str, str]] = []  # since the breaker last closed
    opened_at: datetime | None = None
    for event in events:
        if event[0] == "fail":
            _, gap, task, reason = event
            now += timedelta(seconds=gap)
            before = b.state
            b = b.failed(now, task, reason)
            if before is CLOSED and reason in TRIPPING_REASONS:
                strikes.append((now, task, reason))
                recent = {t for when, t, r in strikes if r == reason and when > now - timedelta(seconds=window)}
                expected_open = len(recent) >= threshold
                assert (b.state is OPEN) is expected_open, (strikes, b)
                if expected_open:
                    opened_at, strikes = now, []
                    assert b.probe_at == now + timedelta(seconds=cooldown)
            else:
                assert b.state is before  # open: more failures change nothing; other reasons never count
        else:
            _, gap, ok = event
            now += timedelta(seconds=gap)
            if b.state is CLOSED:
                assert b.hold(now) is None and not b.probe_due(now)
                assert b.probe_finished(now, ok) == b
                continue
            assert opened_at is not None
            due = now >= opened_at + timedelta(seconds=cooldown)
            assert b.probe_due(now) is due  # half-open exactly once the cooldown is over
            assert b.hold(now) is not None  # attempts are held while open or half-open
            if not due:
                continue
            b = b.probe_started(now).probe_finished(now, ok)
            if ok:
                assert b == Breaker(s) and b.hold(now) is None
                strikes = []
            else:
                assert b.state is OPEN and b.since == now
                opened_at = now


# --- the decision core holds tasks -----------------------------------------------------------------------------

HOLD = CircuitHold("DownloadFailed", "circuit breaker open: DownloadFailed hit 5 tasks within 60s", at(30))


def test_a_retry_due_while_open_is_held_where_it_is_and_keeps_its_attempts() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 1, "backoff": {"initialSeconds": 5, "jitter": 0}}))
    c.reconcile()
    c.finish(1, 12)  # DownloadFailed
    c.reconcile()
    retry_at = c.status.retry_at
    assert phase(c) is Phase.RETRYING and retry_at == at(5)

    c.circuit = HOLD
    c.tick(10)
    plan = c.reconcile()
    assert not launches(plan) and phase(c) is Phase.RETRYING and c.status.attempt == 1
    assert c.status.retry_at == retry_at  # stays where it is
    assert plan.requeue_after == 20  # the next probe
    assert events(plan) == [("Warning", "CircuitOpen")]
    held = {cond.type: cond for cond in c.status.conditions}["CircuitOpen"]
    assert (held.status, held.reason, held.message) == ("True", "DownloadFailed", HOLD.message)

    # still held: no write, no second event; the last attempt is not spent
    c.tick(20)
    c.circuit = CircuitHold("DownloadFailed", "another message", at(60))
    plan = c.reconcile()
    assert plan.status is None and not events(plan) and plan.requeue_after == 30

    c.circuit = None  # closed
    plan = c.reconcile()
    assert [a.attempt for a in launches(plan)] == [2]
    held = {cond.type: cond for cond in c.status.conditions}["CircuitOpen"]
    assert (held.status, held.reason, held.last_transition_time) == ("False", "CircuitClosed", c.now)
    c.finish(2, 0)
    c.reconcile()
    assert phase(c) is Phase.SUCCEEDED and c.status.attempt == 2


def test_a_new_task_held_is_pending_and_not_probed() -> None:
    plan = reconcile(make_task(), Observed(circuit=HOLD), T0)
    assert plan.status is not None and plan.status.phase is Phase.PENDING and plan.status.attempt == 0
    assert plan.actions[-1].reason == "CircuitOpen" and len(plan.actions) == 1  # type: ignore[union-attr]
    assert plan.requeue_after == 30


def test_attempts_in_flight_are_not_held_and_their_failures_are_recorded() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 0}))
    c.reconcile()
    c.start(1)
    c.circuit = HOLD
    c.finish(1, 12)
    plan = c.reconcile()
    # the failure is recorded as usual (the last attempt: Dead); the breaker only holds attempts not yet started
    assert phase(c) is Phase.DEAD and c.status.failure_counts == {"DownloadFailed": 1}
    assert ("Warning", "CircuitOpen") not in events(plan)
    assert "CircuitOpen" not in {cond.type for cond in c.status.conditions}


def test_terminal_tasks_are_not_held() -> None:
    done = make_task(status=TaskStatus(phase=Phase.SUCCEEDED, attempt=1))
    assert reconcile(done, Observed(circuit=HOLD), T0).empty
