"""Completion notifications without a cluster: when the core asks to POST, how the delivery state moves (retry with
backoff, bounded, Delivered or Failed), that the task's phase never depends on it, the event and its signature."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from scribe_operator.api.notification import DeliveryState
from scribe_operator.cli.render import notification_line
from scribe_operator.codegen.crd import openapi_schema
from scribe_operator.kernel.notify import NotificationResult, NotificationSettings, SendNotification
from scribe_operator.kinds.batch.core.notify import batch_cloud_event
from scribe_operator.kinds.batch.core.observed import BatchObserved
from scribe_operator.kinds.batch.core.reconcile import reconcile_batch
from scribe_operator.kinds.task.api.crd import TASK_API
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.notify import task_cloud_event, task_notification_id
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.runtime.metrics import observe_transition, track_namespace
from scribe_operator.runtime.notifier import sign

from tests.unit.batch.factories import UID, BatchCluster, child, make_batch
from tests.unit.task.factories import T0, Cluster, make_task

HOOK = {"url": "https://hooks.example/t", "secretRef": {"name": "hooks"}}
SETTINGS = CoreSettings(notification=NotificationSettings(max_tries=3, backoff_seconds=2, max_backoff_seconds=3))


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"namespace": "media", **labels}) or 0.0


def _succeeded(**spec: object) -> Cluster:
    c = Cluster(make_task(notification=HOOK, **spec), settings=SETTINGS)
    c.reconcile()
    c.start(1)
    c.finish(1, 0, '{"reason": "Completed", "outputs": {"json": "s3://audio/talks/talk.transcript/transcript.json"}}')
    plan = c.reconcile()
    assert c.status.phase is Phase.SUCCEEDED
    assert plan.requeue_after == 0  # the notification goes out in the next reconcile, after this status write
    assert not any(isinstance(a, SendNotification) for a in plan.actions)
    return c


def _dead() -> Cluster:
    c = Cluster(make_task(notification=HOOK, retryPolicy={"maxRetries": 0}), settings=SETTINGS)
    c.reconcile()
    c.start(1)
    c.finish(1, 20, '{"reason": "InvalidAudio", "retryable": false}')
    c.reconcile()
    assert c.status.phase is Phase.DEAD
    return c


def _pass(c: Cluster, result: NotificationResult | None = None) -> tuple[list[SendNotification], float | None]:
    before = c.task
    plan = c._run(c.observed(notification=result))
    if plan.status is not None:
        observe_transition(before, before.status, c.task.status)
    return [a for a in plan.actions if isinstance(a, SendNotification)], plan.requeue_after


def test_redelivered_with_backoff_until_delivered_with_one_id() -> None:
    track_namespace("media")
    delivered0 = _sample("scribe_notification_tries_total", result="delivered")
    failed0 = _sample("scribe_notification_tries_total", result="failed")
    c = _succeeded()
    key = task_notification_id(c.task)
    assert key == "uid-1/Succeeded/1"
    sends, _ = _pass(c)
    assert sends == [SendNotification(key)]
    assert c.status.notification is not None and c.status.notification.state is DeliveryState.PENDING

    sends, wait = _pass(c, NotificationResult(key, False, "HTTP 503"))
    note = c.status.notification
    assert not sends and wait == 2 and (note.tries, note.message, note.state) == (1, "HTTP 503", "Pending")
    sends, wait = _pass(c)  # not yet due
    assert not sends and wait == 2
    c.tick(2)
    sends, _ = _pass(c)
    assert sends == [SendNotification(key)]
    _, wait = _pass(c, NotificationResult(key, False, "POST failed: ConnectError"))
    assert wait == 3  # doubled, capped at max_backoff_seconds
    c.tick(3)
    assert _pass(c)[0] == [SendNotification(key)]
    _pass(c, NotificationResult(key, True, "HTTP 200"))
    note = c.status.notification
    assert (note.state, note.tries, note.next_try_at) == (DeliveryState.DELIVERED, 3, None)
    assert c.status.phase is Phase.SUCCEEDED and c.status.reason == "Completed"  # untouched
    assert notification_line(note) == "Delivered after 3 tries (HTTP 200)"  # kubectl scribe describe
    assert _pass(c) == ([], None)  # done: nothing more
    assert _sample("scribe_notification_tries_total", result="failed") - failed0 == 2
    assert _sample("scribe_notification_tries_total", result="delivered") - delivered0 == 1


def test_bounded_tries_then_failed_and_the_task_stays_succeeded() -> None:
    track_namespace("media")
    gave_up = _sample("scribe_notifications_failed_total")
    c = _succeeded()
    key = task_notification_id(c.task)
    for _ in range(3):
        assert _pass(c)[0] == [SendNotification(key)]
        _pass(c, NotificationResult(key, False, "HTTP 500"))
        c.tick(10)
    note = c.status.notification
    assert (note.state, note.tries) == (DeliveryState.FAILED, 3)
    assert _pass(c) == ([], None)
    assert c.status.phase is Phase.SUCCEEDED
    assert _sample("scribe_notifications_failed_total") == gave_up + 1


def test_a_refused_url_fails_at_once_and_a_stale_result_is_ignored() -> None:
    c = _succeeded()
    key = task_notification_id(c.task)
    _pass(c)
    _pass(c, NotificationResult("other/Dead/1", True, "HTTP 200"))  # not this ending's
    assert c.status.notification.tries == 0
    _pass(c, NotificationResult(key, False, "plain http:// is not allowed", retryable=False))
    assert c.status.notification.state is DeliveryState.FAILED


def test_no_notification_no_requeue_and_a_dead_task_notifies_too() -> None:
    c = Cluster(make_task(), settings=SETTINGS)
    c.reconcile()
    c.start(1)
    c.finish(1, 0, '{"reason": "Completed"}')
    assert c.reconcile().requeue_after is None and c.status.notification is None
    dead = _dead()
    assert dead.status.phase is Phase.DEAD
    assert _pass(dead)[0] == [SendNotification("uid-1/Dead/1")]


def test_the_event_is_a_cloudevent_with_the_outcome_and_no_url() -> None:
    c = _succeeded()
    event = task_cloud_event(c.task, task_notification_id(c.task))
    assert {k: event[k] for k in ("specversion", "id", "type", "subject", "datacontenttype")} == {
        "specversion": "1.0",
        "id": "uid-1/Succeeded/1",
        "type": "dev.scribe.transcriptiontask.succeeded",
        "subject": "media/talk",
        "datacontenttype": "application/json",
    }
    assert event["source"] == "/apis/scribe.dev/v1alpha1/namespaces/media/transcriptiontasks/talk"
    data = event["data"]
    assert (data["phase"], data["reason"], data["attempts"]) == ("Succeeded", "Completed", 1)
    assert data["outputs"] == {"json": "s3://audio/talks/talk.transcript/transcript.json"}
    assert event["time"] == T0.isoformat().replace("+00:00", "Z")
    body = json.dumps(event)
    assert "http" not in body and "X-Amz" not in body
    key = b"secret"
    assert sign(key, body.encode()) == "sha256=" + hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def test_a_requeued_task_that_ends_again_gets_a_new_id() -> None:
    dead = _dead()
    _pass(dead)
    _pass(dead, NotificationResult("uid-1/Dead/1", True, "HTTP 200"))
    dead.annotate("again")
    dead.tick(5)
    dead.reconcile()
    dead.start(2)
    dead.finish(2, 0, '{"reason": "Completed"}')
    dead.reconcile()
    assert dead.status.phase is Phase.SUCCEEDED
    assert _pass(dead)[0] == [SendNotification("uid-1/Succeeded/2")]


def test_a_batch_notifies_once_it_finalizes_with_its_counts_and_summary() -> None:
    c = BatchCluster(make_batch(n=2, notification=HOOK))
    c.reconcile()
    c.children = {i: child(i, Phase.SUCCEEDED if i == 0 else Phase.DEAD) for i in range(2)}
    c.reconcile()  # finalizes and writes the summary (the controller defers the POST until that status is written)
    status = c.batch.status
    assert status.terminal and status.summary is not None
    key = f"{UID}/{status.phase}"
    sent = reconcile_batch(c.batch, BatchObserved(tuple(c.children.values())), c.now, c.settings)
    assert sent.of(SendNotification) == [SendNotification(key)]
    event = batch_cloud_event(c.batch, key)
    assert event["type"] == f"dev.scribe.transcriptionbatch.{str(status.phase).lower()}"
    assert event["data"]["counts"]["succeeded"] == 1 and event["data"]["failedIndexes"] == "1"
    assert event["data"]["summary"] == status.summary
    done = reconcile_batch(
        c.batch,
        BatchObserved(tuple(c.children.values()), notification=NotificationResult(key, True, "HTTP 200")),
        c.now,
        c.settings,
    )
    assert done.status is not None and done.status.notification is not None
    assert (done.status.notification.state, done.status.notification.tries) == (DeliveryState.DELIVERED, 1)
    assert done.status.phase == status.phase


@pytest.mark.parametrize(
    ("notification", "field"),
    [
        ({"url": "ftp://hooks.example/t", "secretRef": {"name": "hooks"}}, "notification.url"),
        ({"url": "https://hooks.example/t"}, "notification.secretRef"),
        ({"url": "https://hooks.example/t", "secretRef": {"name": "Not_A_Name"}}, "notification.secretRef.name"),
    ],
)
def test_a_bad_notification_is_refused_naming_the_field(notification: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        TranscriptionTaskSpec.model_validate({"input": "s3://audio/a.wav", "notification": notification})
    assert field in {".".join(str(p) for p in e["loc"]) for e in refused.value.errors()}
    schema = openapi_schema(TASK_API)["properties"]["spec"]["properties"]["notification"]
    assert schema["required"] == ["url", "secretRef"] and schema["properties"]["url"]["pattern"].startswith("^https?")
