"""Requeueing dead-lettered tasks through the ``scribe.dev/requeue`` annotation, in the decision core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scribe_operator.api.constants import ANNOTATION_REQUEUE, DEAD_LETTER_VALUE, LABEL_DEAD_LETTER
from scribe_operator.api.meta import to_json
from scribe_operator.kinds.task.api.parse import parse_status
from scribe_operator.kinds.task.api.status import Phase, RequeueOutcome
from scribe_operator.kinds.task.core.observed import InputProbe, Observed
from scribe_operator.kinds.task.core.plan import DeletePod, ProbeInput
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.requeue import MAX_TOKEN_LENGTH, token_key
from scribe_operator.kinds.task.core.settings import CoreSettings

from tests.unit.plans import events
from tests.unit.task.factories import MIB, Cluster, launches, make_pod, make_task, ok_probe, phase

TOKEN = "2026-11-23T18:40:12Z"


def exhausted(max_retries: int = 1, code: int = 12, **spec: object) -> Cluster:
    """A task that failed every attempt with a retryable reason: Dead with RetriesExhausted."""
    c = Cluster(make_task(retryPolicy={"maxRetries": max_retries, "backoff": {"jitter": 0}}, **spec))
    for attempt in range(1, max_retries + 2):
        c.reconcile()
        c.finish(attempt, code)
        c.tick(c.reconcile().requeue_after or 0)
    assert phase(c) is Phase.DEAD and c.status.reason == "RetriesExhausted"
    return c


def all_events(c: Cluster, since: int) -> list[tuple[str, str]]:
    return [e for plan in c.plans[since:] for e in events(plan)]


def test_requeue_of_a_dead_task_starts_the_next_attempt_with_a_fresh_budget() -> None:
    c = exhausted(max_retries=1)
    assert c.task.metadata.labels[LABEL_DEAD_LETTER] == DEAD_LETTER_VALUE
    since = len(c.plans)
    c.tick(600)
    c.annotate(TOKEN)
    c.reconcile()
    first = c.plans[since]
    assert first.dead_letter_label is False and ProbeInput() in first.actions
    assert ("Normal", "Requeued") in events(first)
    assert first.status is not None and first.status.phase is Phase.PENDING
    # the follow-up pass (with the probe) launches attempt 3: numbering goes on, pod names are never reused
    (launch,) = [a for p in c.plans[since:] for a in launches(p)]
    assert (launch.attempt, launch.pod_name) == (3, "talk-a3")
    assert phase(c) is Phase.RUNNING and LABEL_DEAD_LETTER not in c.task.metadata.labels
    s = c.status
    assert (s.attempt, s.attempt_base, s.requeues) == (3, 2, 1)
    assert s.requeue is not None and (s.requeue.token, s.requeue.outcome, s.requeue.reset_attempts) == (
        TOKEN,
        RequeueOutcome.REQUEUED,
        False,
    )
    assert s.requeue.at == c.now and s.finished_at is None and s.retry_at is None
    assert s.reason == "Requeued" and s.message == f"requeued ({ANNOTATION_REQUEUE}={TOKEN}): attempts 3 to 4 allowed"
    # history continuous, counts kept
    assert [r.attempt for r in s.attempts] == [1, 2, 3]
    assert s.failure_counts == {"DownloadFailed": 2}
    failed = {cond.type: cond for cond in s.conditions}["Failed"]
    assert (failed.status, failed.last_transition_time) == ("False", c.now)
    # the budget: attempts 3 and 4, then Dead again
    c.finish(3, 12)
    plan = c.reconcile()
    assert phase(c) is Phase.RETRYING
    assert ("Normal", "RetryScheduled") in events(plan)
    assert plan.requeue_after == pytest.approx(10)  # backoff starts over: the first retry's delay
    c.tick(10)
    (launch,) = launches(c.reconcile())
    assert launch.attempt == 4
    c.finish(4, 12)
    plan = c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "RetriesExhausted" and plan.dead_letter_label is True
    assert c.status.message is not None
    assert c.status.message.startswith("last attempt (4, 2 of 2 since the requeue) failed: DownloadFailed")
    assert c.status.failure_counts == {"DownloadFailed": 4} and c.status.requeues == 1


def test_a_token_is_honoured_once() -> None:
    c = exhausted(max_retries=0)
    c.annotate(TOKEN)
    c.reconcile()
    c.finish(2, 20)  # InvalidAudio: Dead again at once
    c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.attempt == 2
    # the annotation is still there, unchanged: nothing happens, however often the task is reconciled
    for _ in range(3):
        c.tick(60)
        plan = reconcile(c.task, Observed(input_probe=ok_probe()), c.now)
        assert plan.status is None and plan.dead_letter_label is None and not plan.actions
    # a new token is a new request
    c.annotate("again")
    c.reconcile()
    assert c.status.requeues == 2 and c.status.attempt == 3 and c.status.attempt_base == 2


def test_reset_attempts_clears_history_and_counts_but_never_reuses_a_pod_name() -> None:
    c = exhausted(max_retries=2, code=137, resources={"limits": {"memory": "1Gi"}})
    assert c.status.attempts[-1].memory_limit == "4096Mi"
    # the old attempts' pods are still there (finished)
    assert sorted(c.pods) == [1, 2, 3]
    c.annotate(TOKEN, reset=True)
    since = len(c.plans)
    c.reconcile()
    (launch,) = [a for p in c.plans[since:] for a in launches(p)]
    assert launch.attempt == 4 and launch.pod_name == "talk-a4"
    assert launch.memory_limit == "1Gi"  # the OOM escalation starts over with the history
    assert not [a for p in c.plans[since:] for a in p.actions if isinstance(a, DeletePod)]
    s = c.status
    assert (s.attempt, s.attempt_base, s.requeues) == (4, 3, 1)
    assert [r.attempt for r in s.attempts] == [4] and s.failure_counts == {}
    assert s.started_at == c.now
    assert s.requeue is not None and s.requeue.reset_attempts
    assert s.message is not None and s.message.endswith("attempt history and failure counts cleared")


def test_reset_without_a_new_token_does_nothing() -> None:
    c = exhausted()
    c.annotate(TOKEN)
    c.reconcile()
    c.finish(3, 20)
    c.reconcile()
    assert phase(c) is Phase.DEAD
    c.annotate(TOKEN, reset=True)
    assert reconcile(c.task, Observed(), c.now).status is None


def test_requeue_after_input_not_found() -> None:
    c = Cluster(make_task(), probe=InputProbe("not_found", None, "HEAD 404"))
    c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "InputNotFound" and not c.pods
    c.probe = ok_probe(3 * MIB)  # the upload arrived
    c.annotate(TOKEN)
    c.reconcile()
    assert phase(c) is Phase.RUNNING and c.status.attempt == 2 and 2 in c.pods
    c.finish(2, 0)
    c.reconcile()
    assert phase(c) is Phase.SUCCEEDED and c.status.requeues == 1
    assert [(r.attempt, r.reason) for r in c.status.attempts] == [(1, "InputNotFound"), (2, "Completed")]


def test_requeue_deletes_a_stray_pod_still_running() -> None:
    c = exhausted()
    c.pods[9] = make_pod(9, "Running", created=c.now - timedelta(seconds=5))
    c.annotate(TOKEN)
    since = len(c.plans)
    c.reconcile()
    assert DeletePod("talk-a9") in c.plans[since].actions


@pytest.mark.parametrize("target", [Phase.RUNNING, Phase.RETRYING, Phase.SUCCEEDED])
def test_a_request_on_a_task_that_is_not_dead_is_ignored_once(target: Phase) -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 1}))
    c.reconcile()
    if target is Phase.RUNNING:
        c.start(1)
    elif target is Phase.RETRYING:
        c.finish(1, 12)
    else:
        c.finish(1, 0)
    c.reconcile()
    assert phase(c) is target
    before = c.status
    c.annotate(TOKEN)
    since = len(c.plans)
    c.reconcile()
    assert all_events(c, since) == [("Warning", "RequeueIgnored")]
    s = c.status
    assert s.phase is target and s.requeues == 0 and s.attempt_base == 0 and s.attempt == before.attempt
    assert s.requeue is not None and s.requeue.outcome is RequeueOutcome.IGNORED and s.requeue.token == TOKEN
    why = f"{ANNOTATION_REQUEUE}={TOKEN} ignored: the task is {target.value}; only Dead tasks are requeued"
    assert s.requeue.message == why
    assert s.model_copy(update={"requeue": None, "conditions": before.conditions}) == before
    # reported once: the next passes say nothing more
    c.tick(1)
    since = len(c.plans)
    c.reconcile()
    assert all_events(c, since) == []


def test_an_ignored_token_is_not_honoured_when_the_task_dies_later() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 0}))
    c.reconcile()
    c.start(1)
    c.annotate(TOKEN)
    c.reconcile()
    c.finish(1, 20)
    c.reconcile()
    assert phase(c) is Phase.DEAD
    assert reconcile(c.task, Observed(), c.now).status is None
    c.annotate("2026-11-23T18:45:00Z")
    c.reconcile()
    assert phase(c) is Phase.RUNNING and c.status.requeues == 1


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_token_is_no_request(value: str) -> None:
    c = exhausted()
    c.annotate(value)
    assert reconcile(c.task, Observed(), c.now).status is None


def test_long_tokens_are_recorded_as_a_hash_and_honoured_once() -> None:
    token = "x" * (MAX_TOKEN_LENGTH + 1)
    assert token_key(token).startswith("sha256:") and token_key("short") == "short"
    c = exhausted()
    c.annotate(token)
    c.reconcile()
    s = c.status
    assert s.requeue is not None and s.requeue.token == token_key(token) and s.requeues == 1
    assert s.message is not None and len(s.message) < 200
    c.finish(3, 20)
    c.reconcile()
    assert reconcile(c.task, Observed(), c.now).status is None


def test_a_requeue_survives_a_crash_between_status_and_label() -> None:
    """The status was written but the label removal was lost: the next pass removes the label."""
    c = exhausted()
    c.annotate(TOKEN)
    c.reconcile()
    labels = {**c.task.metadata.labels, LABEL_DEAD_LETTER: DEAD_LETTER_VALUE}
    stale = c.task.model_copy(update={"metadata": c.task.metadata.model_copy(update={"labels": labels})})
    plan = reconcile(stale, c.observed(), c.now)
    assert plan.dead_letter_label is False and not launches(plan) and not events(plan)


def test_requeue_status_round_trips_through_json() -> None:
    c = exhausted()
    c.annotate(TOKEN, reset=True)
    c.reconcile()
    raw = to_json(c.status)
    assert raw["requeue"]["outcome"] == "Requeued" and raw["requeue"]["resetAttempts"] is True
    assert raw["attemptBase"] == 2 and raw["requeues"] == 1
    assert parse_status(raw) == c.status


def test_history_stays_bounded_across_requeues() -> None:
    settings = CoreSettings(max_history=5)
    c = Cluster(make_task(retryPolicy={"maxRetries": 3, "backoff": {"initialSeconds": 1, "maxSeconds": 1}}))
    c.settings = settings
    for round_ in range(3):
        for _ in range(4):
            c.reconcile()
            c.finish(c.status.attempt, 21)
            c.reconcile()
            c.tick(2)
        assert phase(c) is Phase.DEAD and c.status.attempt == 4 * (round_ + 1)
        c.annotate(f"t{round_}")
    assert len(c.status.attempts) == 5 and c.status.attempts[-1].attempt == 12
    assert c.status.failure_counts == {"TranscriptionFailed": 12} and c.status.requeues == 2
