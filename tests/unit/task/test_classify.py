"""Failure classification: every taxonomy reason, the precedence between sources, and rule overrides."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from scribe_contract.taxonomy import BY_EXIT_CODE, BY_REASON, TAXONOMY, Reason, Source
from scribe_contract.termination import parse_termination_message
from scribe_operator.kinds.task.api.retry import RetryRule
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.classify import (
    AttemptOutcome,
    apply_rules,
    classify_pending,
    classify_terminated,
    create_refused,
    deadline_exceeded,
    default_retryable,
    launch_failed,
    output_probe_failed,
    pod_lost,
    probe_failed,
    stalled,
)
from scribe_operator.kinds.task.core.observed import InputProbe, LaunchError

from tests.unit.task.factories import T0, Cluster, make_pod, make_task, phase

failed = make_pod(1, "Failed", node="n1", started_at=T0, finished_at=T0)


def message(reason: str, retryable: bool | None = None, text: str = "detail") -> str:
    body: dict[str, object] = {"reason": reason, "message": text}
    if retryable is not None:
        body["retryable"] = retryable
    return json.dumps(body)


def refused(code: int, message: str) -> AttemptOutcome:
    error = create_refused(1, "Pod", "t-a1", code, message)
    assert error is not None
    return launch_failed(error)


# One way to reach each reason; the table must cover the whole taxonomy.
SCENARIOS: dict[Reason, Callable[[], AttemptOutcome]] = {
    Reason.INPUT_NOT_FOUND: lambda: classify_terminated(replace(failed, exit_code=10)),
    Reason.INPUT_FORBIDDEN: lambda: classify_terminated(replace(failed, exit_code=11)),
    Reason.DOWNLOAD_FAILED: lambda: classify_terminated(replace(failed, exit_code=12)),
    Reason.INVALID_AUDIO: lambda: classify_terminated(replace(failed, exit_code=20)),
    Reason.TRANSCRIPTION_FAILED: lambda: classify_terminated(replace(failed, exit_code=21)),
    Reason.UPLOAD_FAILED: lambda: classify_terminated(replace(failed, exit_code=30)),
    Reason.INVALID_CONFIGURATION: lambda: classify_terminated(replace(failed, exit_code=40)),
    Reason.WORKER_CRASHED: lambda: classify_terminated(replace(failed, exit_code=1)),
    Reason.OOM_KILLED: lambda: classify_terminated(replace(failed, exit_code=137, terminated_reason="OOMKilled")),
    Reason.DEADLINE_EXCEEDED: lambda: classify_terminated(
        replace(failed, exit_code=137, pod_reason="DeadlineExceeded")
    ),
    Reason.IMAGE_PULL_BACK_OFF: lambda: classify_pending(make_pod(1, node="n", waiting_reason="ImagePullBackOff"), 9),
    Reason.UNSCHEDULABLE: lambda: classify_pending(make_pod(1, unschedulable_message="0/1 nodes"), 9),
    Reason.CREATE_CONTAINER_CONFIG_ERROR: lambda: classify_pending(
        make_pod(1, node="n", waiting_reason="CreateContainerConfigError", waiting_message='secret "x" not found'), 9
    ),
    Reason.POD_LOST: lambda: pod_lost("t-a1"),
    Reason.STALLED: lambda: stalled(make_pod(1, "Running", node="n", started_at=T0), 60, 12.0, 30.0),
    Reason.PRESIGN_FAILED: lambda: launch_failed(LaunchError(1, "PresignFailed", "no credentials")),
    Reason.OUTPUT_UNAVAILABLE: lambda: output_probe_failed(InputProbe("not_found", message="HTTP 404"), "s3://o/p/"),
    Reason.POD_INVALID: lambda: refused(422, 'Pod "t-a1" is invalid: spec.containers[0].resources.requests'),
    Reason.POD_FORBIDDEN: lambda: refused(403, 'pods "t-a1" is forbidden: exceeded quota: q'),
}
NOT_FAILURES = {Reason.COMPLETED, Reason.CACHE_HIT, Reason.RETRIES_EXHAUSTED}  # covered by the lifecycle tests


def test_scenarios_cover_the_whole_taxonomy() -> None:
    assert set(SCENARIOS) | NOT_FAILURES == {e.reason for e in TAXONOMY}


@pytest.mark.parametrize("reason", list(SCENARIOS), ids=str)
def test_each_reason_with_its_default(reason: Reason) -> None:
    outcome = SCENARIOS[reason]()
    assert outcome.reason == reason.value and type(outcome.reason) is str
    assert outcome.retryable is BY_REASON[reason].retryable
    assert outcome.message


WORKER_CODES = sorted(code for code in BY_EXIT_CODE if code != 0)


@pytest.mark.parametrize("code", WORKER_CODES)
def test_every_worker_exit_code_end_to_end(code: int) -> None:
    entry = BY_EXIT_CODE[code]
    c = Cluster(make_task())
    c.reconcile()
    c.start(1)
    c.finish(1, code)
    plan = c.reconcile()
    record = c.status.attempts[0]
    assert (record.exit_code, record.reason, record.retryable) == (code, entry.reason.value, entry.retryable)
    if entry.retryable:
        assert phase(c) is Phase.RETRYING and plan.dead_letter_label is None
    else:
        assert phase(c) is Phase.DEAD and c.status.reason == entry.reason.value
        assert plan.dead_letter_label is True


@pytest.mark.parametrize("code", WORKER_CODES)
def test_termination_message_is_trusted_over_the_exit_code(code: int) -> None:
    other = next(e for e in TAXONOMY if e.source is Source.WORKER and e.exit_code not in (0, code))
    outcome = classify_terminated(replace(failed, exit_code=code, termination_message=message(other.reason)))
    assert (outcome.reason, outcome.retryable, outcome.exit_code) == (other.reason.value, other.retryable, code)


@pytest.mark.parametrize("retryable", [True, False])
def test_termination_message_retryable_flag_is_trusted(retryable: bool) -> None:
    outcome = classify_terminated(replace(failed, exit_code=30, termination_message=message("UploadFailed", retryable)))
    assert outcome.retryable is retryable and outcome.message == "detail"


def test_unknown_reason_in_the_message_is_kept_and_retried_by_default() -> None:
    outcome = classify_terminated(replace(failed, exit_code=50, termination_message=message("DiskFull")))
    assert (outcome.reason, outcome.retryable) == ("DiskFull", True)
    assert default_retryable("DiskFull")


@pytest.mark.parametrize(
    ("pod_changes", "reason"),
    [
        # the worker's exit code beats what the pod says
        ({"exit_code": 30, "pod_reason": "DeadlineExceeded"}, "UploadFailed"),
        ({"exit_code": 12, "terminated_reason": "OOMKilled"}, "DownloadFailed"),
        # pod-level facts, most specific first
        ({"exit_code": 137, "pod_reason": "DeadlineExceeded", "terminated_reason": "OOMKilled"}, "DeadlineExceeded"),
        ({"exit_code": 137, "terminated_reason": "OOMKilled", "deleting": True}, "OOMKilled"),
        ({"exit_code": 143, "deleting": True}, "PodLost"),
        ({"exit_code": None, "pod_reason": "Evicted"}, "PodLost"),
        ({"exit_code": None, "disruption": "DeletionByPodGC: PodGC: node no longer exists"}, "PodLost"),
        ({"exit_code": 143, "disruption": "EvictionByEvictionAPI: Eviction API: evicting"}, "PodLost"),
        ({"exit_code": 30, "disruption": "DeletionByTaintManager: Taint manager: deleting"}, "UploadFailed"),
        ({"exit_code": 137}, "OOMKilled"),
        # nothing usable
        ({"exit_code": 1}, "WorkerCrashed"),
        ({"exit_code": None}, "WorkerCrashed"),
        ({"exit_code": 2, "termination_message": "Traceback: boom"}, "WorkerCrashed"),
        ({"exit_code": 2, "termination_message": "[1, 2]"}, "WorkerCrashed"),
        ({"exit_code": 2, "termination_message": '{"reason": "not camel case"}'}, "WorkerCrashed"),
        # a failed pod claiming success is not believed
        ({"exit_code": 21, "termination_message": message("Completed")}, "TranscriptionFailed"),
    ],
)
def test_precedence(pod_changes: dict[str, Any], reason: str) -> None:
    assert classify_terminated(replace(failed, **pod_changes)).reason == reason


def test_crash_keeps_the_raw_termination_text() -> None:
    outcome = classify_terminated(replace(failed, exit_code=2, termination_message="Traceback: boom"))
    assert outcome.message.endswith("Traceback: boom") and "code 2" in outcome.message


def test_exit_code_with_plain_text_message_keeps_the_text() -> None:
    outcome = classify_terminated(replace(failed, exit_code=30, termination_message="PUT 500"))
    assert (outcome.reason, outcome.message) == ("UploadFailed", "PUT 500")


def test_termination_message_parsing() -> None:
    tm = parse_termination_message(
        json.dumps({"reason": "Completed", "outputs": {"json": "s3://a/b.json", "txt": 3, "srt": "http://x"}})
    )
    assert tm is not None and tm.reason == "Completed" and tm.outputs == {"json": "s3://a/b.json"}
    assert parse_termination_message(None) is None and parse_termination_message("{") is None
    assert parse_termination_message('"just a string"') is None


@pytest.mark.parametrize(
    ("result", "reason"), [("not_found", "InputNotFound"), ("forbidden", "InputForbidden"), ("error", "DownloadFailed")]
)
def test_probe_outcomes(result: str, reason: str) -> None:
    outcome = probe_failed(InputProbe(result, None, "HTTP says no"), "s3://a12/k")  # type: ignore[arg-type]
    assert outcome is not None and outcome.reason == reason and "s3://a12/k" in outcome.message
    assert outcome.message.endswith("HTTP says no")
    assert probe_failed(InputProbe("ok", 1), "s3://a12/k") is None


def test_deadline_outcome() -> None:
    outcome = deadline_exceeded(make_pod(1, "Running"), 300)
    assert outcome.reason == "DeadlineExceeded" and "300s" in outcome.message


RULES = [
    RetryRule.model_validate({"exitCodes": [30], "action": "Fail"}),
    RetryRule.model_validate({"reasons": ["InvalidAudio", "UploadFailed"], "action": "Retry"}),
    RetryRule.model_validate({"reasons": ["PodLost"], "action": "Fail"}),
]


@pytest.mark.parametrize(
    ("outcome", "retryable"),
    [
        (AttemptOutcome("UploadFailed", True, "m", 30), False),  # first rule (exit code) wins over the second
        (AttemptOutcome("UploadFailed", True, "m", None), True),
        (AttemptOutcome("InvalidAudio", False, "m", 20), True),
        (AttemptOutcome("PodLost", True, "m", None), False),  # no exit code: reasons only
        (AttemptOutcome("DownloadFailed", True, "m", 12), True),  # no match: default kept
        (AttemptOutcome("InvalidConfiguration", False, "m", 40), False),
    ],
)
def test_rules_override(outcome: AttemptOutcome, retryable: bool) -> None:
    result = apply_rules(outcome, RULES)
    assert result.retryable is retryable and result.reason == outcome.reason


def test_rule_fail_dead_letters_a_retryable_failure_at_once() -> None:
    c = Cluster(make_task(retryPolicy={"rules": [{"exitCodes": [30], "action": "Fail"}]}))
    c.reconcile()
    c.finish(1, 30)
    c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "UploadFailed"
    assert c.status.attempts[0].retryable is False


def test_rule_retry_retries_a_permanent_failure() -> None:
    c = Cluster(make_task(retryPolicy={"rules": [{"reasons": ["InvalidAudio"], "action": "Retry"}]}))
    c.reconcile()
    c.finish(1, 20)
    c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.reason == "InvalidAudio"


def test_a_pod_removed_by_the_pod_gc_says_why() -> None:
    """Its node is gone: the pod GC marks it Failed (condition DisruptionTarget) before deleting it."""
    gone = replace(failed, exit_code=None, finished_at=None, disruption="DeletionByPodGC: PodGC: node no longer exists")
    outcome = classify_terminated(gone)
    assert (outcome.reason, outcome.retryable) == ("PodLost", True)
    assert outcome.message == "pod talk-a1: DeletionByPodGC: PodGC: node no longer exists"
