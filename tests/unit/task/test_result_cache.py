"""The result cache without a cluster: the options hash, the result record, the core's hit or miss, the controller's
lookup and recording, the metric."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client import REGISTRY
from scribe_operator.kinds.task.api.outputs import output_uris
from scribe_operator.kinds.task.api.result import TRANSCRIPT_NEUTRAL, ResultRecord, options_hash, record_uri
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.observed import InputProbe, StoredResult
from scribe_operator.kinds.task.core.plan import DeleteSecret, ProbeOutput, RecordResult
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.runtime.metrics import observe_transition, track_namespace
from scribe_operator.runtime.settings import OperatorSettings

from tests.unit.plans import events
from tests.unit.task.factories import Cluster, launches, make_task, operator_settings
from tests.unit.task.test_controller import NS, FakeStorage, Watch, make_controller

ETAG = '"5d41402abc4b2a76b9719d911017c592"'
SIZE = 10 * 2**20

# One changed value per hashed option: every spec field that is not neutral must be here (a new field fails
# test_every_option_is_hashed_or_neutral until it is given a value here or put on the neutral list on purpose).
CHANGED: dict[str, Any] = {
    "language": "de",
    "model": "small",
    "model_source": {"s3": {"prefix": "s3://models/small/"}},
    "task": "translate",
    "word_timestamps": True,
    "initial_prompt": "Names: Ada, Grace.",
    "hotwords": "Kubernetes",
    "decoding": {"beamSize": 2},
    "device": "cpu",
    "compute_type": "float32",
    "formats": ["json", "srt"],
}
NEUTRAL_CHANGES: dict[str, Any] = {
    "output": "s3://elsewhere/x/",
    "retry_policy": {"maxRetries": 7},
    "priority": 5,
    "timeouts": {"pendingSeconds": 30},
    "resources": {"limits": {"memory": "4Gi"}},
    "worker": {"nodeSelector": {"pool": "gpu"}},
    "notification": {"url": "https://hooks.example/t", "secretRef": {"name": "hook"}},
    "cache": False,
}


def spec(**fields: Any) -> TranscriptionTaskSpec:
    return TranscriptionTaskSpec.model_validate({"input": "s3://audio/talks/talk.wav", **fields})


def test_every_option_is_hashed_or_neutral() -> None:
    fields = set(TranscriptionTaskSpec.model_fields)
    assert fields - {"input"} == set(CHANGED) | set(NEUTRAL_CHANGES), "a new spec field: hash it or call it neutral"
    assert set(NEUTRAL_CHANGES) | {"input"} == TRANSCRIPT_NEUTRAL


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_a_changed_option_changes_the_hash(field: str) -> None:
    key = TranscriptionTaskSpec.model_fields[field].alias or field
    assert options_hash(spec(**{key: CHANGED[field]})) != options_hash(spec())


@pytest.mark.parametrize("field", sorted(NEUTRAL_CHANGES))
def test_where_and_how_it_runs_do_not_change_the_hash(field: str) -> None:
    key = TranscriptionTaskSpec.model_fields[field].alias or field
    assert options_hash(spec(**{key: NEUTRAL_CHANGES[field]})) == options_hash(spec())


def test_worker_image_and_operator_defaults_change_the_hash() -> None:
    base = options_hash(spec(), dict(OperatorSettings().transcript_defaults()))
    assert options_hash(spec(worker={"image": "worker:2"})) != options_hash(spec())
    for change in ({"worker_image": "worker:2"}, {"default_model": "base"}, {"default_device": "cpu"}):
        defaults = dict(operator_settings(**change).transcript_defaults())
        assert options_hash(spec(), defaults) != base, change
    assert options_hash(spec(formats=["txt"])) == options_hash(spec(formats=["json", "txt"]))  # json is always written


def _record(
    task_spec: TranscriptionTaskSpec, etag: str = ETAG, size: int = SIZE, options: str | None = None
) -> ResultRecord:
    outputs = {fmt: (uri, f'"{fmt}-etag"') for fmt, uri in output_uris(task_spec).items()}
    return ResultRecord(task_spec.input, etag, size, options or options_hash(task_spec), outputs)


def test_the_record_round_trips_and_rejects_what_is_not_one() -> None:
    record = _record(spec())
    document = record.document({"namespace": "media", "name": "talk", "uid": "u"}, 2)
    assert ResultRecord.parse(json.dumps(document)) == record
    assert record_uri(spec()) == "s3://audio/talks/talk.transcript/.scribe-result.json"
    for bad in ("", "[]", '{"apiVersion": "v1"}', '{"apiVersion": "scribe.dev/v1alpha1", "kind": "Other"}'):
        assert ResultRecord.parse(bad) is None


def _cluster(stored: StoredResult | None, settings: CoreSettings | None = None, **task: Any) -> Cluster:
    c = Cluster(make_task(**task), settings=settings or CoreSettings())
    c.probe = InputProbe("ok", SIZE, "", etag=ETAG)
    c.output_probe = InputProbe("ok", stored=stored)
    return c


def _stored(task_spec: TranscriptionTaskSpec, **kw: Any) -> StoredResult:
    record = _record(task_spec, **kw)
    return StoredResult(record, {fmt: etag for fmt, (_, etag) in record.outputs.items()})


def test_a_complete_result_of_the_same_input_and_options_is_a_hit_without_a_pod() -> None:
    track_namespace("media")
    hits = REGISTRY.get_sample_value("scribe_cache_hits_total", {"namespace": "media"}) or 0.0
    c = _cluster(_stored(make_task().spec))
    before = c.task
    plan = c.reconcile()
    observe_transition(before, before.status, c.task.status)
    assert ProbeOutput(lookup=True) in c.plans[0].actions
    assert (c.status.phase, c.status.reason, c.status.attempt) == (Phase.SUCCEEDED, "CacheHit", 0)
    assert c.status.outputs == output_uris(c.task.spec)
    assert c.status.input_etag == ETAG and c.status.finished_at is not None
    assert not c.pods and not any(launches(p) for p in c.plans)
    assert ("Normal", "CacheHit") in events(plan)
    assert {cond.type: cond.status for cond in c.status.conditions}["Ready"] == "True"
    assert REGISTRY.get_sample_value("scribe_cache_hits_total", {"namespace": "media"}) == hits + 1
    assert c.reconcile().status is None  # absorbing


@pytest.mark.parametrize(
    "why",
    ["new etag", "other size", "other options", "output overwritten", "output deleted", "other formats", "no record"],
)
def test_anything_different_is_a_miss_and_launches(why: str) -> None:
    task_spec = make_task().spec
    stored: StoredResult | None = _stored(task_spec)
    assert stored is not None
    if why == "new etag":
        stored = _stored(task_spec, etag='"older"')
    elif why == "other size":
        stored = _stored(task_spec, size=SIZE + 1)
    elif why == "other options":
        stored = StoredResult(_record(task_spec, options="sha256:other"), stored.current)
    elif why == "output overwritten":
        stored = StoredResult(stored.record, {**stored.current, "txt": '"changed"'})
    elif why == "output deleted":
        stored = StoredResult(stored.record, {**stored.current, "json": None})
    elif why == "other formats":
        stored = _stored(spec(formats=["json", "txt", "srt"]))
    elif why == "no record":
        stored = None
    c = _cluster(stored)
    c.reconcile()
    assert c.status.phase is Phase.RUNNING and len(launches(c.plans[-1])) == 1, why


@pytest.mark.parametrize("off", ["task", "operator"])
def test_opting_out_always_transcribes(off: str) -> None:
    settings = CoreSettings(result_cache=off != "operator")
    c = _cluster(_stored(make_task().spec), settings, **({"cache": False} if off == "task" else {}))
    c.reconcile()
    assert ProbeOutput(lookup=False) in c.plans[0].actions
    assert c.status.phase is Phase.RUNNING and launches(c.plans[-1])


def _succeed(c: Cluster) -> list[RecordResult]:
    c.reconcile()
    c.start(1)
    c.tick(5)
    c.finish(1, 0, '{"reason": "Completed"}')
    plan = c.reconcile()
    assert c.status.phase is Phase.SUCCEEDED and c.status.reason == "Completed"
    assert DeleteSecret("talk-a1-urls") in plan.actions
    return [a for a in plan.actions if isinstance(a, RecordResult)]


def test_a_success_records_its_result_when_the_cache_is_on() -> None:
    c = _cluster(None, cache=False)  # a task that opted out of reuse still records
    assert _succeed(c) == [RecordResult(1, ETAG, SIZE, options_hash(c.task.spec))]
    off = _cluster(None, CoreSettings(result_cache=False))
    assert _succeed(off) == []


async def test_the_controller_records_a_success_and_the_next_same_task_is_a_hit_without_a_pod() -> None:
    watch, storage = Watch(), FakeStorage()
    storage.etag = ETAG
    same = {"input": "s3://audio/talk.wav", "language": "en"}
    watch.add_task("first", 20, **same)
    controller, effects, _ = make_controller(watch, storage)
    await controller.reconcile_key((NS, "first"))
    watch.set_pod("first", 1, "Succeeded")
    await controller.reconcile_key((NS, "first"))
    assert watch.phase("first") == "Succeeded" and effects.pods == ["first-a1"]
    uri = "s3://audio/talk.transcript/.scribe-result.json"
    assert set(storage.stored) == {uri} and storage.stored[uri].record.input_etag == ETAG

    watch.add_task("again", 10, **same)  # re-applied under a new name: same input version, same options
    watch.add_task("other", 5, **same, wordTimestamps=True)  # a changed option
    await controller.reconcile_key((NS, "again"))
    await controller.reconcile_key((NS, "other"))
    assert (watch.phase("again"), watch.status("again")["reason"]) == ("Succeeded", "CacheHit")
    assert watch.status("again")["outputs"] == watch.status("first")["outputs"]
    assert ("again", "Normal", "CacheHit") in effects.events
    assert watch.phase("other") == "Running"
    assert effects.pods == ["first-a1", "other-a1"]  # no pod for the hit
