"""The TranscriptionBatch decision core, case by case: creating children, following them, and terminal phases being
absorbing. The deadline, prefix expansion and the summary are test_prefix_summary_deadline.py."""

from __future__ import annotations

from datetime import timedelta

from scribe_operator.kinds.batch.api.names import child_name
from scribe_operator.kinds.batch.api.status import BatchPhase, BatchStatus, FailedInput
from scribe_operator.kinds.batch.core.observed import BatchObserved
from scribe_operator.kinds.batch.core.plan import CreateChild
from scribe_operator.kinds.batch.core.reconcile import reconcile_batch
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.task.api.status import Phase

from tests.unit.batch.factories import T0, BatchCluster, child, creates, inputs, make_batch
from tests.unit.plans import events


def conditions(status: BatchStatus) -> dict[str, tuple[str, str | None]]:
    return {c.type: (c.status, c.reason) for c in status.conditions}


# --- starting ---------------------------------------------------------------------------------------------


def test_a_new_batch_starts_creates_every_child_and_waits_for_its_deadline() -> None:
    batch = make_batch(n=3, deadline={"perItemSeconds": 100, "bufferSeconds": 50})
    plan = reconcile_batch(batch, BatchObserved(), T0)
    assert plan.status is not None
    st = plan.status
    assert st.phase is BatchPhase.RUNNING
    assert st.started_at == T0 and st.deadline_at == T0 + timedelta(seconds=3 * 100 + 50)
    assert creates(plan) == [0, 1, 2]
    names = [a.name for a in plan.of(CreateChild)]
    assert names == ["calls-0", "calls-1", "calls-2"]
    assert plan.requeue_after == 350.0
    assert (st.counts.total, st.counts.pending) == (3, 3)
    assert ("Normal", "Started") in events(plan)
    assert conditions(st)["Complete"] == ("False", "Running")
    assert st.created == 0  # children count as created once observed


def test_children_get_the_template_their_input_and_an_output_under_the_prefix() -> None:
    batch = make_batch(
        n=2,
        outputPrefix="s3://out/run-1/",
        template={"language": "en", "formats": ["srt"], "retryPolicy": {"maxRetries": 1}},
    )
    plan = reconcile_batch(batch, BatchObserved(), T0)
    specs = [a.spec for a in plan.of(CreateChild)]
    assert [s.input for s in specs] == inputs(2)
    assert [s.output for s in specs] == ["s3://out/run-1/0-call-0/", "s3://out/run-1/1-call-1/"]
    assert all(s.language == "en" and s.retry_policy.max_retries == 1 for s in specs)
    assert [f.value for f in specs[0].formats] == ["srt"]


def test_explicit_deadline_seconds_override_the_estimate() -> None:
    plan = reconcile_batch(make_batch(n=50, deadline={"seconds": 30, "perItemSeconds": 1000}), BatchObserved(), T0)
    assert plan.status is not None and plan.status.deadline_at == T0 + timedelta(seconds=30)


def test_parallelism_limits_unfinished_children() -> None:
    cluster = BatchCluster(make_batch(n=5, parallelism=2))
    assert creates(cluster.reconcile()) == [0, 1]
    assert creates(cluster.reconcile()) == []  # both still unfinished
    cluster.set(0, Phase.RUNNING)
    assert creates(cluster.reconcile()) == []
    cluster.set(0, Phase.SUCCEEDED)
    assert creates(cluster.reconcile()) == [2]
    cluster.set(1, Phase.DEAD, reason="InvalidAudio")
    cluster.set(2, Phase.SUCCEEDED)
    assert creates(cluster.reconcile()) == [3, 4]
    assert cluster.status.counts.model_dump() == {
        "total": 5, "pending": 2, "running": 0, "retrying": 0, "succeeded": 2, "dead": 1
    }  # fmt: skip


def test_creates_per_pass_are_capped_and_the_rest_follow_soon() -> None:
    settings = BatchSettings(max_creates_per_pass=2)
    plan = reconcile_batch(make_batch(n=5), BatchObserved(), T0, settings)
    assert creates(plan) == [0, 1]
    assert plan.requeue_after == settings.create_requeue_seconds
    # the watch has not shown children 0 and 1 yet: asking again is harmless (AlreadyExists) and the same
    assert creates(reconcile_batch(plan.apply(make_batch(n=5)), BatchObserved(), T0, settings)) == [0, 1]
    observed = (child(0), child(1))
    assert creates(reconcile_batch(plan.apply(make_batch(n=5)), BatchObserved(observed), T0, settings)) == [2, 3]


def test_the_same_observation_gives_the_same_plan_and_a_written_plan_changes_nothing() -> None:
    batch = make_batch(n=3)
    seen = (child(0, Phase.RUNNING), child(1, Phase.SUCCEEDED), child(2, Phase.RETRYING))
    first = reconcile_batch(batch, BatchObserved(seen), T0)
    assert first == reconcile_batch(batch, BatchObserved(seen), T0)
    again = reconcile_batch(first.apply(batch), BatchObserved(seen), T0 + timedelta(seconds=5))
    assert again.status is None and not again.actions


# --- following children -----------------------------------------------------------------------------------


def test_counts_follow_child_phases() -> None:
    seen = (
        child(0, Phase.PENDING),
        child(1, Phase.QUEUED),
        child(2, Phase.RUNNING),
        child(3, Phase.RETRYING),
        child(4, Phase.SUCCEEDED),
        child(5, Phase.DEAD, reason="InvalidAudio", message="cannot decode"),
    )
    plan = reconcile_batch(make_batch(n=7), BatchObserved(seen), T0)
    assert plan.status is not None
    c = plan.status.counts
    assert (c.total, c.pending, c.running, c.retrying, c.succeeded, c.dead) == (7, 3, 1, 1, 1, 1)
    assert creates(plan) == [6]
    assert plan.status.created == 6
    assert plan.status.succeeded_indexes == "4" and plan.status.failed_indexes == "5"
    assert plan.status.failed == [
        FailedInput(index=5, input=inputs(7)[5], task="calls-5", reason="InvalidAudio", message="cannot decode")
    ]


def test_all_children_succeeded_is_succeeded_with_a_summary() -> None:
    cluster = BatchCluster(make_batch(n=2, outputPrefix="s3://out/run/"))
    cluster.reconcile()
    cluster.set(0, Phase.SUCCEEDED, outputs={"json": "s3://out/run/0-call-0/transcript.json"})
    cluster.set(1, Phase.SUCCEEDED)
    cluster.tick(30)
    plan = cluster.reconcile()
    st = cluster.status
    assert st.phase is BatchPhase.SUCCEEDED and st.reason == "AllSucceeded"
    assert st.finished_at == T0 + timedelta(seconds=30)
    assert st.summary == "s3://out/run/summary.json" and plan.requeue_after is None
    assert conditions(st) == {
        "Complete": ("True", "Succeeded"), "Ready": ("True", "Succeeded"), "SummaryWritten": ("True", "Written")
    }  # fmt: skip
    doc = cluster.written["s3://out/run/summary.json"]
    assert doc["phase"] == "Succeeded" and doc["counts"]["succeeded"] == 2
    assert [i["result"] for i in doc["items"]] == ["Succeeded", "Succeeded"]
    assert doc["items"][0]["outputs"] == {"json": "s3://out/run/0-call-0/transcript.json"}
    # child 1 reported no outputs: the documented ones
    assert doc["items"][1]["outputs"] == {
        "json": "s3://out/run/1-call-1/transcript.json", "txt": "s3://out/run/1-call-1/transcript.txt"
    }  # fmt: skip
    assert doc["finishedAt"] == "2025-01-01T12:00:30Z"


def test_a_dead_child_completes_the_batch_with_failures() -> None:
    cluster = BatchCluster(make_batch(n=3))
    cluster.reconcile()
    cluster.set(0, Phase.SUCCEEDED)
    cluster.set(1, Phase.DEAD, reason="RetriesExhausted", message="last attempt failed: UploadFailed")
    cluster.reconcile()
    assert cluster.status.phase is BatchPhase.RUNNING
    cluster.set(2, Phase.DEAD, reason="InvalidAudio")
    plan = cluster.reconcile()
    st = cluster.status
    assert st.phase is BatchPhase.COMPLETED_WITH_FAILURES and st.reason == "ChildrenFailed"
    assert st.message == "1 of 3 inputs transcribed; 2 failed (InvalidAudio: 1, RetriesExhausted: 1)"
    assert [(f.index, f.reason) for f in st.failed] == [(1, "RetriesExhausted"), (2, "InvalidAudio")]
    assert conditions(st)["Ready"] == ("False", "CompletedWithFailures")
    assert conditions(st)["Complete"] == ("True", "CompletedWithFailures")
    assert plan.requeue_after is None
    # the default summary location: next to the first input
    assert st.summary == "s3://audio/calls/calls.summary.json"
    items = cluster.written[st.summary]["items"]
    assert [(i["result"], i["reason"]) for i in items] == [
        ("Succeeded", "Completed"), ("Failed", "RetriesExhausted"), ("Failed", "InvalidAudio")
    ]  # fmt: skip


def test_a_child_deleted_by_someone_fails_its_input_and_is_not_recreated() -> None:
    cluster = BatchCluster(make_batch(n=2))
    cluster.reconcile()
    cluster.reconcile()  # the children are observed: created is recorded
    assert cluster.status.created == 2
    cluster.delete(1)
    plan = cluster.reconcile()
    assert creates(plan) == []
    assert ("Warning", "ChildDeleted") in events(plan)
    assert [(f.index, f.reason, f.task) for f in cluster.status.failed] == [(1, "ChildDeleted", "calls-1")]
    assert creates(cluster.reconcile()) == [] and cluster.ever_created == [0, 1]
    cluster.set(0, Phase.SUCCEEDED)
    cluster.reconcile()
    assert cluster.status.phase is BatchPhase.COMPLETED_WITH_FAILURES
    assert cluster.status.counts.dead == 1 and cluster.status.counts.succeeded == 1


def test_a_child_being_deleted_before_it_finished_counts_as_deleted() -> None:
    plan = reconcile_batch(make_batch(n=1), BatchObserved((child(0, Phase.RUNNING, deleting=True),)), T0)
    assert plan.status is not None and plan.status.phase is BatchPhase.COMPLETED_WITH_FAILURES
    assert plan.status.failed[0].reason == "ChildDeleted"
    done = reconcile_batch(make_batch(n=1), BatchObserved((child(0, Phase.SUCCEEDED, deleting=True),)), T0)
    assert done.status is not None and done.status.phase is BatchPhase.SUCCEEDED


def test_a_finished_child_deleted_later_keeps_its_result() -> None:
    cluster = BatchCluster(make_batch(n=2))
    cluster.reconcile()
    cluster.set(0, Phase.SUCCEEDED)
    cluster.set(1, Phase.DEAD, reason="InvalidAudio", message="bad")
    cluster.set(1, Phase.DEAD, reason="InvalidAudio", message="bad")
    cluster.reconcile()
    terminal = cluster.status
    cluster.delete(0)
    cluster.delete(1)
    plan = cluster.reconcile()
    assert plan.status is None and not plan.actions
    assert cluster.status == terminal

    # also while the batch is still running
    running = BatchCluster(make_batch(n=3))
    running.reconcile()
    running.set(0, Phase.SUCCEEDED)
    running.set(1, Phase.DEAD, reason="InvalidAudio", message="bad")
    running.reconcile()
    running.delete(0)
    running.delete(1)
    running.reconcile()
    assert running.status.succeeded_indexes == "0" and running.status.failed_indexes == "1"
    assert running.status.failed[0].reason == "InvalidAudio"


def test_a_requeued_dead_child_is_followed_again_while_the_batch_runs() -> None:
    cluster = BatchCluster(make_batch(n=2))
    cluster.reconcile()
    cluster.set(0, Phase.DEAD, reason="UploadFailed")
    cluster.reconcile()
    assert cluster.status.failed_indexes == "0"
    cluster.set(0, Phase.RETRYING)  # scribe.dev/requeue on the child
    cluster.reconcile()
    assert cluster.status.failed_indexes is None and cluster.status.counts.retrying == 1
    cluster.set(0, Phase.SUCCEEDED)
    cluster.set(1, Phase.SUCCEEDED)
    cluster.reconcile()
    assert cluster.status.phase is BatchPhase.SUCCEEDED


def test_children_of_another_owner_or_unexpected_names_are_ignored() -> None:
    seen = (
        child(0, Phase.SUCCEEDED, uid="someone-else"),
        child(1, Phase.SUCCEEDED, batch="other"),
        child(7, Phase.SUCCEEDED),  # beyond the inputs
    )
    plan = reconcile_batch(make_batch(n=2), BatchObserved(seen), T0)
    assert plan.status is not None and plan.status.counts.succeeded == 0
    assert creates(plan) == [0, 1]


def test_children_created_before_a_crash_are_adopted_not_duplicated() -> None:
    # status never recorded them (the operator died after creating them); the watch shows them after the restart
    plan = reconcile_batch(make_batch(n=4), BatchObserved((child(0), child(1), child(2))), T0)
    assert creates(plan) == [3]
    assert plan.status is not None and plan.status.created == 3


def test_an_input_that_makes_no_valid_task_fails_without_a_child() -> None:
    prefix = "s3://out/" + "p" * 1070 + "/"  # 1080 characters: room for "1-ok/", not for a long file name
    batch = make_batch(n=None, inputs=[f"s3://audio/{'x' * 60}.wav", "s3://audio/ok.wav"], outputPrefix=prefix)
    cluster = BatchCluster(batch)
    plan = cluster.reconcile()
    assert creates(plan) == [1]
    assert cluster.status.failed[0].reason == "InvalidInput" and cluster.status.failed[0].task is None
    assert "child.output" in (cluster.status.failed[0].message or "")
    cluster.set(1, Phase.SUCCEEDED)
    cluster.reconcile()
    assert cluster.status.phase is BatchPhase.COMPLETED_WITH_FAILURES


# --- terminal and deleted batches -------------------------------------------------------------------------


def test_a_batch_being_deleted_gets_an_empty_plan() -> None:
    batch = make_batch(n=2)
    batch = batch.model_copy(update={"metadata": batch.metadata.model_copy(update={"deletion_timestamp": T0})})
    plan = reconcile_batch(batch, BatchObserved((child(0, Phase.RUNNING),)), T0 + timedelta(days=9))
    assert plan.status is None and not plan.actions and plan.requeue_after is None


def test_a_terminal_batch_ignores_its_children() -> None:
    cluster = BatchCluster(make_batch(n=2, deadline={"seconds": 1}))
    cluster.reconcile()
    cluster.tick(1)
    cluster.reconcile()
    final = cluster.status
    assert final.terminal
    for phase in (Phase.RUNNING, Phase.SUCCEEDED, Phase.DEAD):
        plan = reconcile_batch(
            cluster.batch, BatchObserved((child(0, phase), child(1, phase))), cluster.now + timedelta(hours=1)
        )
        assert plan.status is None and not plan.actions and plan.requeue_after is None


def test_conditions_keep_their_transition_time_while_unchanged() -> None:
    cluster = BatchCluster(make_batch(n=2))
    cluster.reconcile()
    started = {c.type: c.last_transition_time for c in cluster.status.conditions}
    cluster.tick(30)
    cluster.set(0, Phase.RUNNING)
    cluster.reconcile()
    assert {c.type: c.last_transition_time for c in cluster.status.conditions} == started
    cluster.set(0, Phase.SUCCEEDED)
    cluster.set(1, Phase.SUCCEEDED)
    cluster.reconcile()
    complete = next(c for c in cluster.status.conditions if c.type == "Complete")
    assert complete.last_transition_time == T0 + timedelta(seconds=30)


def test_child_names_are_deterministic_and_short() -> None:
    long_batch = "b" * 200
    plan = reconcile_batch(make_batch(name=long_batch, n=2), BatchObserved(), T0)
    names = [a.name for a in plan.of(CreateChild)]
    assert names == [child_name(long_batch, 0), child_name(long_batch, 1)]
    assert all(len(n) <= 63 for n in names) and len(set(names)) == 2
