"""Whole task lifecycles through the decision core, with a simulated cluster carrying out the plans."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scribe_operator.api.constants import DEAD_LETTER_VALUE, LABEL_DEAD_LETTER
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.observed import InputProbe, Observed
from scribe_operator.kinds.task.core.plan import (
    DeletePod,
    DeleteSecret,
    LaunchAttempt,
    ProbeInput,
    ProbeOutput,
)
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.settings import CoreSettings

from tests.unit.plans import events
from tests.unit.task.factories import MIB, T0, Cluster, launches, make_pod, make_task, ok_probe, phase

UPLOAD_FAILED = '{"reason": "UploadFailed", "retryable": true, "message": "PUT 503 SlowDown"}'
SETTINGS_GRACE = CoreSettings().pod_lost_grace_seconds


def test_new_task_asks_for_the_storage_probes_and_shows_pending() -> None:
    plan = reconcile(make_task(), Observed(), T0)
    assert plan.actions == (ProbeInput(), ProbeOutput(lookup=True))
    assert plan.status is not None and plan.status.phase is Phase.PENDING and plan.status.attempt == 0
    assert plan.requeue_after is None
    # replaying the same observation writes nothing and still asks for the probe
    again = reconcile(plan.apply(make_task()), Observed(), T0 + timedelta(seconds=3))
    assert again.status is None and again.actions == (ProbeInput(), ProbeOutput(lookup=True))


def test_updated_at_is_when_the_status_last_changed() -> None:
    """status.updatedAt: stamped by every status change, untouched by reconciles that change nothing."""
    c = Cluster(make_task())
    c.reconcile()  # launch
    assert c.status.updated_at == T0
    c.tick(20)
    c.start(1)
    assert c.reconcile().status is None and c.status.updated_at == T0  # nothing written, nothing stamped
    c.tick(30)
    c.finish(1, 30, UPLOAD_FAILED)
    c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.updated_at == c.now == T0 + timedelta(seconds=50)


def test_success_in_one_attempt() -> None:
    c = Cluster(make_task())
    plan = c.reconcile()
    (launch,) = launches(plan)
    assert launch == LaunchAttempt(1, "talk-a1", "talk-a1-urls", 420, 300 + 420 + 60 + 300, "2Gi")
    assert phase(c) is Phase.RUNNING and c.status.attempt == 1 and c.status.input_size == 10 * MIB
    assert c.status.attempts[0].created_at == T0 and c.status.started_at == T0
    assert plan.requeue_after == SETTINGS_GRACE

    c.tick(20)
    c.start(1)
    plan = c.reconcile()
    assert plan.status is None  # the pod starting costs no status write; node and start are recorded at the end
    assert phase(c) is Phase.RUNNING
    assert plan.requeue_after == 420 + 60  # the deadline watchdog

    c.tick(100)
    c.finish(1, 0, '{"reason": "Completed", "outputs": {"json": "s3://o/p/t.json", "txt": "s3://o/p/t.txt"}}')
    plan = c.reconcile()
    assert phase(c) is Phase.SUCCEEDED and c.status.reason == "Completed"
    assert c.status.outputs == {"json": "s3://o/p/t.json", "txt": "s3://o/p/t.txt"}
    assert c.status.finished_at == c.now
    assert DeleteSecret("talk-a1-urls") in plan.actions
    assert events(plan) == [("Normal", "Succeeded")]
    assert plan.dead_letter_label is None and plan.requeue_after is None
    ready = {cond.type: cond for cond in c.status.conditions}
    assert ready["Ready"].status == "True" and ready["Failed"].status == "False"


def test_success_without_outputs_in_the_message_falls_back_to_computed_uris() -> None:
    c = Cluster(make_task(formats=["srt"]))
    c.reconcile()
    c.finish(1, 0, "not json")
    c.reconcile()
    prefix = "s3://audio/talks/talk.transcript/"
    assert c.status.outputs == {"json": f"{prefix}transcript.json", "srt": f"{prefix}transcript.srt"}


def test_fail_retry_succeed() -> None:
    c = Cluster(make_task(retryPolicy={"backoff": {"initialSeconds": 30, "jitter": 0}}))
    c.reconcile()
    c.start(1)
    c.tick(10)
    c.finish(1, 30, UPLOAD_FAILED)
    plan = c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.reason == "UploadFailed"
    assert c.status.message == "PUT 503 SlowDown"
    assert c.status.retry_at == c.now + timedelta(seconds=30)
    assert plan.requeue_after == 30
    assert events(plan) == [("Warning", "AttemptFailed"), ("Normal", "RetryScheduled")]
    record = c.status.attempts[0]
    assert (record.exit_code, record.reason, record.retryable) == (30, "UploadFailed", True)
    assert record.finished_at == c.now and c.status.failure_counts == {"UploadFailed": 1}

    c.tick(29)
    plan = c.reconcile()
    assert plan.status is None and not launches(plan) and plan.requeue_after == 1

    c.tick(1)
    plan = c.reconcile()  # probes first, then launches attempt 2
    assert [a.attempt for a in launches(plan)] == [2]
    assert phase(c) is Phase.RUNNING and c.status.retry_at is None
    assert c.status.reason == "UploadFailed"  # the last failure stays visible while retrying

    c.start(2)
    c.finish(2, 0)
    c.reconcile()
    assert phase(c) is Phase.SUCCEEDED and c.status.attempt == 2
    assert [r.attempt for r in c.status.attempts] == [1, 2]


def test_retries_exhausted_goes_dead_with_the_last_message() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 1}))
    c.reconcile()
    c.finish(1, 12)  # DownloadFailed, retryable
    c.reconcile()
    c.tick(c.reconcile().requeue_after or 0)
    c.reconcile()
    c.finish(2, 12, '{"reason": "DownloadFailed", "message": "GET reset by peer"}')
    plan = c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "RetriesExhausted"
    assert c.status.message == "last attempt (2 of 2) failed: DownloadFailed: GET reset by peer"
    assert plan.dead_letter_label is True
    assert ("Warning", "DeadLettered") in events(plan)
    assert c.task.metadata.labels[LABEL_DEAD_LETTER] == DEAD_LETTER_VALUE
    failed = {cond.type: cond for cond in c.status.conditions}["Failed"]
    assert (failed.status, failed.reason) == ("True", "RetriesExhausted")


def test_permanent_failure_goes_dead_immediately() -> None:
    c = Cluster(make_task())
    c.reconcile()
    c.finish(1, 20)  # InvalidAudio
    plan = c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "InvalidAudio" and c.status.attempt == 1
    assert plan.dead_letter_label is True and c.status.retry_at is None


def test_input_not_found_on_probe_goes_dead_without_a_pod() -> None:
    c = Cluster(make_task(), probe=InputProbe("not_found", None, "HEAD 404"))
    plan = c.reconcile()
    assert not launches(plan) and not c.pods
    assert phase(c) is Phase.DEAD and c.status.reason == "InputNotFound"
    assert c.status.attempts[0].pod is None and c.status.attempt == 1
    assert "HEAD 404" in (c.status.message or "")
    assert plan.dead_letter_label is True and ("Warning", "DeadLettered") in events(plan)
    assert not [a for a in plan.actions if isinstance(a, DeleteSecret)]


@pytest.mark.parametrize(("result", "reason"), [("forbidden", "InputForbidden"), ("error", "DownloadFailed")])
def test_probe_errors_spend_an_attempt_and_retry(result: str, reason: str) -> None:
    c = Cluster(make_task(), probe=InputProbe(result, None, "boom"))  # type: ignore[arg-type]
    plan = c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.reason == reason and not launches(plan)
    c.probe = ok_probe()
    c.tick(plan.requeue_after or 0)
    plan = c.reconcile()
    assert [a.attempt for a in launches(plan)] == [2]


def test_rule_can_make_input_not_found_retryable() -> None:
    task = make_task(retryPolicy={"rules": [{"reasons": ["InputNotFound"], "action": "Retry"}]})
    c = Cluster(task, probe=InputProbe("not_found", None, ""))
    c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.attempts[0].retryable is True


def test_presign_failure_records_the_attempt_and_retries() -> None:
    c = Cluster(make_task(), presign_fails={1})
    plan = c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.attempt == 1
    record = c.status.attempts[0]
    assert (record.reason, record.pod, record.retryable) == ("PresignFailed", None, True)
    assert DeleteSecret("talk-a1-urls") in plan.actions
    c.presign_fails.clear()
    c.tick(plan.requeue_after or 0)
    assert [a.attempt for a in launches(c.reconcile())] == [2]


def test_presign_failure_after_status_was_written_first() -> None:
    c = Cluster(make_task())
    c.presign_fails = {1}
    c.reconcile()
    # whichever order the effects layer used, attempt 1 ends as PresignFailed exactly once
    assert c.status.failure_counts == {"PresignFailed": 1}


def test_history_is_bounded_but_counts_are_kept() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 30, "backoff": {"initialSeconds": 1, "maxSeconds": 1}}))
    for attempt in range(1, 32):
        c.reconcile()
        c.finish(attempt, 21)
        c.reconcile()
        c.tick(2)
    assert phase(c) is Phase.DEAD and c.status.reason == "RetriesExhausted" and c.status.attempt == 31
    assert len(c.status.attempts) == 20 and c.status.attempts[0].attempt == 12
    assert c.status.failure_counts == {"TranscriptionFailed": 31}
    assert max(len(launches(p)) for p in c.plans) == 1
    assert sum(len(launches(p)) for p in c.plans) == 31


def test_terminal_is_absorbing_and_repairs_a_missing_label() -> None:
    c = Cluster(make_task())
    c.reconcile()
    c.finish(1, 20)
    c.reconcile()
    dead = c.task
    assert dead.status.phase is Phase.DEAD
    # a stray running pod gets deleted, nothing else happens
    stray = make_pod(2, "Running")
    plan = reconcile(dead, Observed(pods=(stray,), input_probe=ok_probe()), c.now + timedelta(days=1))
    assert plan.status is None and plan.requeue_after is None and plan.actions == (DeletePod("talk-a2"),)
    unlabelled = dead.model_copy(update={"metadata": dead.metadata.model_copy(update={"labels": {}})})
    assert reconcile(unlabelled, Observed(), c.now).dead_letter_label is True


def test_a_task_being_deleted_gets_an_empty_plan() -> None:
    task = make_task()
    task = task.model_copy(update={"metadata": task.metadata.model_copy(update={"deletion_timestamp": T0})})
    assert reconcile(task, Observed(input_probe=ok_probe()), T0).empty


def test_conditions_transition_times_only_move_on_status_change() -> None:
    c = Cluster(make_task())
    c.reconcile()
    first = {cond.type: cond.last_transition_time for cond in c.status.conditions}
    c.tick(30)
    c.start(1)
    c.reconcile()
    assert {cond.type: cond.last_transition_time for cond in c.status.conditions} == first
    c.tick(30)
    c.finish(1, 0)
    c.reconcile()
    after = {cond.type: cond.last_transition_time for cond in c.status.conditions}
    assert after == {"Ready": c.now, "Failed": first["Failed"]}


def test_long_task_names_give_short_valid_names() -> None:
    name = "x" * 250
    c = Cluster(make_task(name=name))
    (launch,) = launches(c.reconcile())
    assert len(launch.pod_name) <= 63 and len(launch.secret_name) <= 63
    assert launch.secret_name == f"{launch.pod_name}-urls"
