"""Bounded attempt history and the metrics derived from status transitions, without a cluster.

A task retried many times keeps a small status (the most recent attempts, the total and the counts per reason),
and the counters the operator exports move exactly once per attempt, also when the history drops old entries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY
from scribe_operator.api.constants import MAX_HISTORY
from scribe_operator.api.meta import to_json
from scribe_operator.kinds.task.api.status import Phase, TaskStatus
from scribe_operator.runtime.metrics import observe_transition, track_namespace

from tests.unit.task.factories import Cluster, make_task, phase

ROOT = Path(__file__).resolve().parents[3]
UPLOAD_FAILED = '{"reason": "UploadFailed", "retryable": true, "message": "PUT s3://out/t.json: 503 SlowDown"}'
NAMESPACE = "media"  # make_task's


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def counters() -> dict[str, float]:
    return {
        "started": sample("scribe_attempts_started_total", namespace=NAMESPACE),
        "failed": sample("scribe_attempt_failures_total", namespace=NAMESPACE, reason="UploadFailed"),
        "retries": sample("scribe_retries_scheduled_total", namespace=NAMESPACE),
        "dead": sample("scribe_dead_lettered_total", namespace=NAMESPACE, reason="RetriesExhausted"),
        "durations": sample("scribe_attempt_duration_seconds_count", outcome="failed"),
    }


def status_size(status: TaskStatus) -> int:
    return len(json.dumps(to_json(status)))


def run_failing_attempts(c: Cluster, attempts: int) -> list[int]:
    """Drive `attempts` attempts that each fail with UploadFailed, counting transitions as the controller does
    (after each handler invocation, old status against new). Returns the status size after each attempt."""
    sizes: list[int] = []
    for attempt in range(1, attempts + 1):
        for step in ("launch", "fail"):
            before = c.task
            if step == "launch":
                c.reconcile()  # probe, then launch attempt N
                c.start(attempt)
                c.tick(7)
            else:
                c.finish(attempt, 30, UPLOAD_FAILED)
                c.reconcile()  # record it, schedule the retry
            observe_transition(before, before.status, c.task.status)
        sizes.append(status_size(c.status))
        c.tick(2)  # past the 1 s backoff
    return sizes


def test_thirty_failed_attempts_keep_a_bounded_history_and_count_every_one() -> None:
    policy: dict[str, Any] = {"maxRetries": 40, "backoff": {"initialSeconds": 1, "maxSeconds": 1, "jitter": 0}}
    c = Cluster(make_task(name="flaky", retryPolicy=policy))
    start = counters()

    sizes = run_failing_attempts(c, 30)

    status = c.status
    assert phase(c) is Phase.RETRYING and status.attempt == 30
    assert len(status.attempts) <= 20 and len(status.attempts) == MAX_HISTORY
    assert [r.attempt for r in status.attempts] == list(range(11, 31))  # the most recent, oldest first
    assert sum(status.failure_counts.values()) == 30 and status.failure_counts == {"UploadFailed": 30}
    assert all(r.reason == "UploadFailed" and r.exit_code == 30 for r in status.attempts)
    # the status stops growing once the history is full
    assert max(sizes[MAX_HISTORY:]) <= sizes[MAX_HISTORY - 1] + 64, sizes

    delta = {k: v - start[k] for k, v in counters().items()}
    assert delta == {"started": 30, "failed": 30, "retries": 30, "dead": 0, "durations": 30}


def test_replaying_a_transition_does_not_count_twice() -> None:
    c = Cluster(make_task(name="replayed", retryPolicy={"maxRetries": 0}))
    run_failing_attempts(c, 1)
    assert phase(c) is Phase.DEAD
    start = counters()
    # the same new status observed again (a replayed reconcile), or a stale old status: nothing moves
    observe_transition(c.task, c.status, c.status)
    assert counters() == start


def test_the_crd_describes_the_history_bound() -> None:
    crd = yaml.safe_load((ROOT / "crds" / "scribe.dev_transcriptiontasks.yaml").read_text())
    (version,) = crd["spec"]["versions"]
    attempts = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["attempts"]
    assert f"at most {MAX_HISTORY}" in attempts["description"]
    # a schema limit, where the models set one, must leave room for the whole history
    assert attempts.get("maxItems", MAX_HISTORY) >= MAX_HISTORY


def test_a_namespace_s_counters_start_at_zero_before_its_first_failure() -> None:
    """So increase() sees the first dead-lettered task after an operator start (a series born at 1 shows none)."""
    ns = "fresh-namespace"
    assert REGISTRY.get_sample_value("scribe_dead_lettered_total", {"namespace": ns, "reason": "InputNotFound"}) is None
    track_namespace(ns)
    track_namespace(ns)  # idempotent
    for reason in ("InputNotFound", "RetriesExhausted", "OOMKilled"):
        assert REGISTRY.get_sample_value("scribe_dead_lettered_total", {"namespace": ns, "reason": reason}) == 0.0
    assert REGISTRY.get_sample_value("scribe_attempt_failures_total", {"namespace": ns, "reason": "PodLost"}) == 0.0
    assert REGISTRY.get_sample_value("scribe_attempt_failures_total", {"namespace": ns, "reason": "Completed"}) is None
    for name in ("scribe_attempts_started_total", "scribe_retries_scheduled_total", "scribe_tasks_succeeded_total"):
        assert REGISTRY.get_sample_value(name, {"namespace": ns}) == 0.0
