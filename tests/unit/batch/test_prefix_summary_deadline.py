"""The TranscriptionBatch decision core around time and S3, case by case: the deadline (the stuck-session monitor:
unfinished children are ended and the batch finalizes), prefix expansion, and the summary written at the end."""

from __future__ import annotations

from typing import Any

import pytest
from scribe_operator.kinds.batch.api.status import BatchPhase, BatchStatus
from scribe_operator.kinds.batch.core.observed import BatchObserved, Expansion, SummaryResult
from scribe_operator.kinds.batch.core.plan import ExpandPrefix
from scribe_operator.kinds.batch.core.reconcile import reconcile_batch
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.task.api.status import Phase

from tests.unit.batch.factories import T0, UID, BatchCluster, deletes, inputs, make_batch, summaries
from tests.unit.plans import events


def conditions(status: BatchStatus) -> dict[str, tuple[str, str | None]]:
    return {c.type: (c.status, c.reason) for c in status.conditions}


# --- the deadline: the stuck-session monitor --------------------------------------------------------------


def test_at_the_deadline_unfinished_children_are_ended_and_the_batch_finalizes() -> None:
    batch = make_batch(n=4, parallelism=3, deadline={"perItemSeconds": 10, "bufferSeconds": 20})
    cluster = BatchCluster(batch)
    cluster.reconcile()
    cluster.set(0, Phase.SUCCEEDED)
    cluster.set(1, Phase.RETRYING, reason="UploadFailed", message="503")
    cluster.set(2, Phase.QUEUED)
    cluster.reconcile()  # index 3 is created now
    cluster.tick(59)
    early = cluster.reconcile()
    assert cluster.status.phase is BatchPhase.RUNNING and early.requeue_after == 1.0
    cluster.tick(1)
    plan = cluster.reconcile()
    st = cluster.status
    assert sorted(deletes(plan)) == ["calls-1", "calls-2", "calls-3"]
    assert st.phase is BatchPhase.COMPLETED_WITH_FAILURES and st.reason == "BatchDeadlineExceeded"
    assert [(f.index, f.reason) for f in st.failed] == [(i, "BatchDeadlineExceeded") for i in (1, 2, 3)]
    assert "Retrying (last failure UploadFailed: 503)" in (st.failed[0].message or "")
    assert ("Warning", "BatchDeadlineExceeded") in events(plan)
    assert plan.requeue_after is None
    assert (st.counts.succeeded, st.counts.dead, st.counts.total) == (1, 3, 4)
    # after the deadline nothing changes, whatever the children do
    cluster.tick(100)
    assert cluster.reconcile().status is None


def test_the_deadline_fails_inputs_never_started_for_parallelism() -> None:
    cluster = BatchCluster(make_batch(n=3, parallelism=1, deadline={"seconds": 5}))
    cluster.reconcile()
    cluster.tick(5)
    cluster.reconcile()
    st = cluster.status
    assert st.phase is BatchPhase.COMPLETED_WITH_FAILURES
    assert [f.task for f in st.failed] == ["calls-0", None, None]
    assert "never started" in (st.failed[2].message or "")
    assert cluster.ever_created == [0]


def test_a_batch_that_finishes_before_its_deadline_needs_no_timer() -> None:
    cluster = BatchCluster(make_batch(n=1))
    first = cluster.reconcile()
    assert first.requeue_after is not None  # the monitor: the deadline
    cluster.set(0, Phase.SUCCEEDED)
    assert cluster.reconcile().requeue_after is None  # cancelled when the session ends normally


# --- prefix expansion -------------------------------------------------------------------------------------


def prefix_batch(**spec: Any) -> BatchCluster:
    return BatchCluster(make_batch(n=None, inputPrefix="s3://audio/calls/", **spec))


def test_a_prefix_is_expanded_once_into_status_inputs() -> None:
    cluster = prefix_batch()
    first = reconcile_batch(cluster.batch, BatchObserved(), T0)
    assert first.actions == (ExpandPrefix("s3://audio/calls/"),)
    assert first.status is not None and first.status.phase is BatchPhase.PENDING
    cluster.reconcile()
    st = cluster.status
    assert st.inputs == inputs(3) and st.phase is BatchPhase.RUNNING and st.counts.total == 3
    assert cluster.ever_created == [0, 1, 2]
    assert ("Normal", "InputsExpanded") in events(cluster.plans[1])
    cluster.expansion = Expansion("ok", tuple(inputs(5)))  # more objects appear: the list is fixed
    plan = cluster.reconcile()
    assert not any(isinstance(a, ExpandPrefix) for a in plan.actions)
    assert cluster.status.inputs == inputs(3)


@pytest.mark.parametrize(
    ("expansion", "reason"),
    [
        (Expansion("ok", ()), "InputPrefixEmpty"),
        (Expansion("ok", tuple(inputs(3)), truncated=True), "TooManyInputs"),
        (Expansion("not_found", message="HTTP 404 NoSuchBucket"), "InputPrefixNotFound"),
    ],
)
def test_a_prefix_that_cannot_expand_fails_the_batch(expansion: Expansion, reason: str) -> None:
    cluster = prefix_batch()
    cluster.expansion = expansion
    plan = cluster.reconcile()
    st = cluster.status
    assert st.phase is BatchPhase.FAILED and st.reason == reason and st.finished_at == T0
    assert conditions(st)["Complete"] == ("True", "Failed")
    assert plan.requeue_after is None and not cluster.ever_created
    assert st.summary is None and not cluster.written  # no outputPrefix, no input: nowhere to put a summary


def test_a_failed_prefix_batch_with_an_output_prefix_still_writes_a_summary() -> None:
    cluster = prefix_batch(outputPrefix="s3://out/")
    cluster.expansion = Expansion("ok", ())
    cluster.reconcile()
    assert cluster.status.summary == "s3://out/summary.json"
    assert cluster.written["s3://out/summary.json"]["items"] == []


def test_a_listing_error_is_retried_until_the_expansion_timeout() -> None:
    settings = BatchSettings(expansion_retry_seconds=10, expansion_timeout_seconds=60)
    cluster = prefix_batch()
    cluster.settings = settings
    cluster.expansion = Expansion("error", message="HTTP 503 SlowDown")
    plan = cluster.reconcile()
    st = cluster.status
    assert st.phase is BatchPhase.PENDING and st.reason == "InputPrefixUnavailable"
    assert plan.requeue_after == 10
    cluster.tick(55)
    assert cluster.reconcile().requeue_after == 5
    cluster.tick(5)
    cluster.reconcile()
    assert cluster.status.phase is BatchPhase.FAILED and cluster.status.reason == "InputPrefixUnavailable"
    # recovering in time works
    ok = prefix_batch()
    ok.expansion = Expansion("error", message="HTTP 503")
    ok.reconcile()
    ok.expansion = Expansion("ok", tuple(inputs(2)))
    ok.tick(10)
    ok.reconcile()
    assert ok.status.phase is BatchPhase.RUNNING and ok.status.reason is None


# --- the summary ------------------------------------------------------------------------------------------


def test_a_summary_that_cannot_be_written_is_retried_a_bounded_number_of_times() -> None:
    settings = BatchSettings(summary_retry_seconds=30, max_summary_attempts=3)
    cluster = BatchCluster(make_batch(n=1, outputPrefix="s3://out/"), settings=settings, summary_fails=True)
    cluster.reconcile()
    cluster.set(0, Phase.SUCCEEDED)
    plan = cluster.reconcile()
    st = cluster.status
    assert st.phase is BatchPhase.SUCCEEDED and st.summary is None and st.summary_attempts == 1
    assert plan.requeue_after == 30
    assert conditions(st)["SummaryWritten"] == ("False", "SummaryFailed")
    cluster.tick(10)
    early = cluster.reconcile()  # e.g. a child event: too early to try again
    assert not summaries(early) and early.requeue_after == 20
    cluster.tick(20)
    cluster.reconcile()
    assert cluster.status.summary_attempts == 2
    cluster.summary_fails = False
    cluster.tick(30)
    cluster.reconcile()
    assert cluster.status.summary == "s3://out/summary.json"
    assert conditions(cluster.status)["SummaryWritten"] == ("True", "Written")
    # after giving up, no more timers
    hopeless = BatchCluster(make_batch(n=1, outputPrefix="s3://out/"), settings=settings, summary_fails=True)
    hopeless.reconcile()
    hopeless.set(0, Phase.SUCCEEDED)
    for _ in range(5):
        hopeless.tick(100)
        last = hopeless.reconcile()
    assert hopeless.status.summary_attempts == 3 and last.requeue_after is None and not summaries(last)


def test_summary_after_the_deadline_lists_every_input() -> None:
    cluster = BatchCluster(make_batch(n=3, outputPrefix="s3://out/", deadline={"seconds": 10}))
    cluster.reconcile()
    cluster.set(0, Phase.SUCCEEDED)
    cluster.tick(10)
    cluster.reconcile()
    doc = cluster.written["s3://out/summary.json"]
    assert doc["reason"] == "BatchDeadlineExceeded"
    assert [(i["index"], i["task"], i["result"], i["reason"]) for i in doc["items"]] == [
        (0, "calls-0", "Succeeded", "Completed"),
        (1, "calls-1", "Failed", "BatchDeadlineExceeded"),
        (2, "calls-2", "Failed", "BatchDeadlineExceeded"),
    ]
    assert doc["counts"] == {"total": 3, "pending": 0, "running": 0, "retrying": 0, "succeeded": 1, "dead": 2}
    assert doc["batch"] == {"name": "calls", "namespace": "media", "uid": UID}


def test_summary_result_for_another_uri_is_ignored() -> None:
    cluster = BatchCluster(make_batch(n=1, outputPrefix="s3://out/"))
    cluster.reconcile()
    cluster.set(0, Phase.SUCCEEDED)
    plan = reconcile_batch(cluster.batch, BatchObserved(tuple(cluster.children.values())), T0)
    batch = plan.apply(cluster.batch)
    again = reconcile_batch(batch, BatchObserved(summary=SummaryResult("s3://elsewhere/summary.json")), T0)
    assert again.status is None or again.status.summary is None
