"""Attempts that can never get a pod, and outputs that are not there: both end at once, cost no transcription and
never loop. The API server refusing an attempt's Pod or Secret (422 invalid, 403 quota or admission) fails the
attempt on its first try; a missing output bucket fails it before any pod, retried with backoff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.classify import create_refused
from scribe_operator.kinds.task.core.observed import InputProbe, LaunchError
from scribe_operator.kinds.task.core.plan import DeleteSecret
from scribe_operator.runtime.kube.client import ApiFailure

from tests.unit.task.factories import Cluster, launches, make_task, phase
from tests.unit.task.test_controller import NS, FakeEffects, FakeStorage, Watch, make_controller

QUOTA = 'pods "talk-a1" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1'
INVALID = (
    'Pod "talk-a1" is invalid: spec.containers[0].resources.requests: Invalid value: "2": '
    "must be less than or equal to cpu limit of 1"
)


def refusal(code: int, message: str, attempt: int = 1, kind: str = "Pod") -> LaunchError:
    error = create_refused(attempt, kind, f"talk-a{attempt}", code, message)
    assert error is not None
    return error


@pytest.mark.parametrize(
    ("code", "reason", "retryable"),
    [(422, "PodInvalid", False), (400, "PodInvalid", False), (403, "PodForbidden", True)],
)
def test_refused_creates_become_a_reason_naming_the_object_and_the_api_servers_words(
    code: int, reason: str, retryable: bool
) -> None:
    error = refusal(code, "the words")
    assert (error.attempt, error.reason) == (1, reason)
    assert error.message == f"the API server refused Pod talk-a1 (HTTP {code}): the words"
    c = Cluster(make_task(retryPolicy={"maxRetries": 2}), refused={1: error})
    c.reconcile()
    assert c.status.attempts[0].retryable is retryable


def test_a_refusal_that_echoes_a_presigned_url_keeps_no_signature() -> None:
    echoed = 'admission webhook "audit" denied: env SCRIBE_INPUT_URL=https://s3/a.wav?X-Amz-Signature=abc123 is odd'
    error = refusal(403, echoed)
    assert "abc123" not in error.message and "https://s3/a.wav?REDACTED" in error.message


@pytest.mark.parametrize("code", [500, 503, 429, 409, 404, 0])
def test_other_api_errors_are_not_the_attempts_fault(code: int) -> None:
    assert create_refused(1, "Pod", "talk-a1", code, "etcd timeout") is None


def test_an_invalid_pod_ends_the_task_on_its_first_try() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 3}), refused={1: refusal(422, INVALID)})
    plan = c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "PodInvalid" and c.status.attempt == 1
    assert c.status.message == f"the API server refused Pod talk-a1 (HTTP 422): {INVALID}"
    (record,) = c.status.attempts
    assert (record.reason, record.pod, record.retryable) == ("PodInvalid", None, False)
    assert DeleteSecret("talk-a1-urls") in plan.actions  # the URL secret made before the pod goes too
    assert c.task.metadata.labels.get("scribe.dev/dead-letter") == "true"
    for _ in range(3):  # absorbing: nothing more is ever launched
        c.tick(3600)
        assert not launches(c.reconcile()) and c.status.attempt == 1


def test_a_quota_refusal_is_retried_with_backoff_then_succeeds_once_the_quota_allows() -> None:
    retry = {"maxRetries": 3, "backoff": {"initialSeconds": 10, "factor": 2.0, "maxSeconds": 600, "jitter": 0}}
    c = Cluster(make_task(retryPolicy=retry), refused={1: refusal(403, QUOTA), 2: refusal(403, QUOTA, 2)})
    c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.reason == "PodForbidden" and QUOTA in (c.status.message or "")
    assert c.status.retry_at == c.now + timedelta(seconds=10)
    assert not launches(c.reconcile())  # before retryAt: nothing
    c.tick(10)
    c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.attempt == 2 and c.status.retry_at == c.now + timedelta(seconds=20)
    c.tick(20)
    c.reconcile()  # the quota has room now
    assert phase(c) is Phase.RUNNING and c.status.attempt == 3 and 3 in c.pods
    assert c.status.failure_counts == {"PodForbidden": 2}


def test_a_refused_pod_on_the_last_attempt_goes_dead() -> None:
    c = Cluster(make_task(retryPolicy={"maxRetries": 0}), refused={1: refusal(403, QUOTA)})
    c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "RetriesExhausted"
    assert "PodForbidden" in (c.status.message or "") and QUOTA in (c.status.message or "")


def test_a_missing_output_bucket_fails_the_attempt_before_any_pod_and_a_bucket_that_appears_lets_it_succeed() -> None:
    retry = {"maxRetries": 2, "backoff": {"initialSeconds": 10, "factor": 2.0, "maxSeconds": 600, "jitter": 0}}
    missing = InputProbe("not_found", message="HEAD bucket transcripts: HTTP 404")
    c = Cluster(make_task(output="s3://transcripts/talk/", retryPolicy=retry), output_probe=missing)
    plan = c.reconcile()
    assert phase(c) is Phase.RETRYING and c.status.reason == "OutputUnavailable" and c.pods == {}
    assert not launches(plan) and not [a for a in plan.actions if isinstance(a, DeleteSecret)]
    expected = "checking output s3://transcripts/talk/: HEAD bucket transcripts: HTTP 404; no pod was started"
    assert c.status.message == expected
    (record,) = c.status.attempts
    assert (record.reason, record.pod, record.retryable) == ("OutputUnavailable", None, True)
    assert c.status.retry_at == c.now + timedelta(seconds=10)

    c.output_probe = InputProbe("ok")  # the bucket was created meanwhile
    c.tick(10)
    c.reconcile()
    assert phase(c) is Phase.RUNNING and c.status.attempt == 2 and 2 in c.pods
    c.start(2)
    c.finish(2, 0)
    c.reconcile()
    assert phase(c) is Phase.SUCCEEDED and c.status.failure_counts == {"OutputUnavailable": 1}


def test_an_output_bucket_the_credentials_cannot_reach_says_what_they_need() -> None:
    c = Cluster(make_task(), output_probe=InputProbe("forbidden", message="HEAD bucket audio: HTTP 403"))
    c.reconcile()
    assert c.status.reason == "OutputUnavailable" and "need s3:ListBucket on the output bucket" in (
        c.status.message or ""
    )


def test_a_missing_input_is_reported_before_a_missing_output() -> None:
    c = Cluster(
        make_task(), probe=InputProbe("not_found", message="HEAD: HTTP 404"), output_probe=InputProbe("not_found")
    )
    c.reconcile()
    assert phase(c) is Phase.DEAD and c.status.reason == "InputNotFound"


# --- the controller: a refused create is one status write, never a reconcile error ---------------------------------


class RefusingEffects(FakeEffects):
    """The API server refuses every Pod with ``code``; ``creates`` lists the attempt's objects it was sent (the
    namespace's worker identity, created once, is left out)."""

    def __init__(self, watch: Watch, code: int, message: str) -> None:
        super().__init__(watch)
        self.code, self.message = code, message
        self.creates: list[str] = []

    async def create(self, manifest: dict[str, Any]) -> bool:
        if manifest["kind"] in ("Secret", "Pod"):
            self.creates.append(f"{manifest['kind']}/{manifest['metadata']['name']}")
        if manifest["kind"] == "Pod":
            raise ApiFailure(self.code, "Invalid", self.message)
        return await super().create(manifest)


def controller_with(watch: Watch, effects: FakeEffects, storage: FakeStorage | None = None) -> Any:
    controller, _, _ = make_controller(watch, storage)
    controller.effects = effects
    return controller


async def test_the_controller_records_a_refused_pod_in_one_reconcile_and_never_creates_it_again() -> None:
    watch = Watch()
    watch.add_task("talk", 10, retryPolicy={"maxRetries": 3})
    effects = RefusingEffects(watch, 422, INVALID)
    controller = controller_with(watch, effects)

    await controller.reconcile_key((NS, "talk"))
    status = watch.status("talk")
    assert (status["phase"], status["reason"], status["attempt"]) == ("Dead", "PodInvalid", 1)
    assert INVALID in status["message"] and "Pod talk-a1 (HTTP 422)" in status["message"]
    assert effects.creates == ["Secret/talk-a1-urls", "Pod/talk-a1"] and effects.writes == {"talk": 1}
    assert ("talk", "Warning", "DeadLettered") in effects.events
    for _ in range(3):
        await controller.reconcile_key((NS, "talk"))
    assert effects.creates == ["Secret/talk-a1-urls", "Pod/talk-a1"] and effects.writes == {"talk": 1}


async def test_a_server_error_on_create_is_a_reconcile_error_not_an_attempt_failure() -> None:
    watch = Watch()
    watch.add_task("talk", 10)
    controller = controller_with(watch, RefusingEffects(watch, 500, "etcdserver: request timed out"))
    await controller.reconcile_key((NS, "talk"))
    assert watch.status("talk") == {}  # nothing written: the reconcile is retried, the attempt is not spent
    controller.forget((NS, "talk"))


async def test_the_controller_checks_the_output_bucket_before_the_pod() -> None:
    watch = Watch()
    watch.add_task("talk", 10, output="s3://transcripts/talk/")
    storage = FakeStorage(bucket=False)
    controller, effects, _ = make_controller(watch, storage)
    await controller.reconcile_key((NS, "talk"))
    status = watch.status("talk")
    assert (status["phase"], status["reason"]) == ("Retrying", "OutputUnavailable")
    assert storage.buckets == ["s3://transcripts/talk/"] and effects.pods == []
    controller.forget((NS, "talk"))
