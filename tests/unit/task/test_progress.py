"""Progress and the stall watchdog in the decision core: the worker's pod annotation becomes status.progress (and
the PROGRESS column); an attempt whose progress stops moving is ended as Stalled and retried."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from scribe_contract.progress import PROGRESS_ANNOTATION
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.observed import ObservedPod, PodProgress
from scribe_operator.kinds.task.core.plan import DeletePod
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_worker.podprogress import annotation_value
from scribe_worker.progress import Progress

from tests.unit.task.factories import T0, Cluster, make_task, phase


def report(c: Cluster, processed: float, total: float | None = 60.0) -> None:
    c.pods[1] = replace(c.pods[1], progress=PodProgress(processed, total, c.now))


def running(settings: CoreSettings | None = None, **spec: object) -> Cluster:
    c = Cluster(make_task(**spec), settings=settings or CoreSettings())
    c.reconcile()
    c.tick(5)
    c.start(1)
    c.reconcile()
    return c


def test_the_annotation_the_worker_writes_is_what_the_operator_reads() -> None:
    at = dt.datetime(2026, 12, 2, 12, 0, 5, tzinfo=dt.UTC)
    value = annotation_value(Progress(12.34, 60.0), at)
    assert json.loads(value) == {"processedSeconds": 12.3, "totalSeconds": 60.0, "at": "2026-12-02T12:00:05Z"}
    pod = {
        "metadata": {"name": "talk-a1", "labels": {"scribe.dev/attempt": "1"},
                     "creationTimestamp": "2026-12-02T12:00:00Z", "annotations": {PROGRESS_ANNOTATION: value}},
        "status": {"phase": "Running"},
    }  # fmt: skip
    observed = ObservedPod.from_pod(pod)
    assert observed is not None and observed.progress == PodProgress(12.3, 60.0, at)


def test_malformed_reports_are_ignored() -> None:
    for text in (
        None,
        "",
        "nope",
        "[]",
        '{"processedSeconds": -1}',
        '{"processedSeconds": "3"}',
        '{"totalSeconds": 3}',
    ):
        assert PodProgress.parse(text) is None
    assert PodProgress.parse('{"processedSeconds": 90, "totalSeconds": 60}') == PodProgress(60.0, 60.0)
    assert PodProgress.parse('{"processedSeconds": 5, "totalSeconds": null}') == PodProgress(5.0, None)


def test_progress_reaches_status_and_the_column() -> None:
    c = running()
    c.tick(10)
    report(c, 12.0)
    plan = c.reconcile()
    progress = c.status.progress
    assert plan.status is not None and progress is not None
    assert (progress.attempt, progress.processed_seconds, progress.total_seconds) == (1, 12.0, 60.0)
    assert (progress.percent, progress.summary, progress.heartbeat_time) == (20, "20%", c.now)
    assert phase(c) is Phase.RUNNING


def test_the_same_report_again_writes_nothing() -> None:
    c = running()
    report(c, 12.0)
    c.reconcile()
    c.tick(3)
    assert c.reconcile().status is None


def test_total_unknown_shows_seconds() -> None:
    c = running()
    report(c, 42.4, total=None)
    c.reconcile()
    assert c.status.progress is not None and c.status.progress.summary == "42s" and c.status.progress.percent is None


def test_stalled_attempt_is_ended_and_retried_before_its_deadline() -> None:
    c = running(timeouts={"stallSeconds": 120, "attemptSeconds": 3600})
    report(c, 12.0)
    c.reconcile()
    c.tick(60)
    report(c, 30.0)  # moved: the heartbeat moves with it
    c.reconcile()
    c.tick(119)
    assert c.reconcile().requeue_after == 1  # wakes up exactly when the stall timeout ends
    c.tick(1)
    plan = c.reconcile()
    assert DeletePod("talk-a1") in plan.actions
    record = c.status.attempts[0]
    assert (record.reason, record.retryable) == ("Stalled", True)
    assert "no progress for 120s" in (record.message or "") and "30 of 60" in (record.message or "")
    assert phase(c) is Phase.RETRYING and c.status.reason == "Stalled"


def test_the_operator_default_applies_and_zero_turns_it_off() -> None:
    c = running(CoreSettings(stall_timeout_seconds=30))
    report(c, 1.0)
    c.reconcile()
    c.tick(30)
    c.reconcile()
    assert c.status.reason == "Stalled"
    off = running(CoreSettings(stall_timeout_seconds=30), timeouts={"stallSeconds": 0})
    report(off, 1.0)
    off.reconcile()
    off.tick(300)
    off.reconcile()
    assert phase(off) is Phase.RUNNING


def test_no_report_yet_or_complete_never_stalls() -> None:
    quiet = running(CoreSettings(stall_timeout_seconds=30))
    quiet.tick(300)  # model loading and the download send no report: only the deadline applies
    quiet.reconcile()
    assert phase(quiet) is Phase.RUNNING
    done = running(CoreSettings(stall_timeout_seconds=30))
    report(done, 60.0)  # everything transcribed: the upload is left, under the deadline
    done.reconcile()
    done.tick(300)
    done.reconcile()
    assert phase(done) is Phase.RUNNING


def test_a_new_attempt_starts_without_the_last_ones_progress() -> None:
    c = running(CoreSettings(stall_timeout_seconds=30), retryPolicy={"backoff": {"initialSeconds": 1, "jitter": 0}})
    report(c, 5.0)
    c.reconcile()
    c.tick(30)
    c.reconcile()
    assert c.status.progress is not None and c.status.progress.attempt == 1  # how far the stalled one got
    c.tick(2)
    c.reconcile()
    assert c.status.attempt == 2 and c.status.progress is None
    assert c.status.started_at == T0
