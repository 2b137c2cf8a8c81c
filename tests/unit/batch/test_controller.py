"""The batch controller around the core, with fake effects: follow-up passes (expansion, summary) end in one
status write, creates are not repeated while the watch catches up, conflicts and errors requeue."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from scribe_operator.api.meta import to_json
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.status import BatchStatus
from scribe_operator.kinds.batch.controller import BatchController, BatchEffects
from scribe_operator.kinds.batch.core.observed import Expansion, ObservedChild, SummaryResult
from scribe_operator.kinds.batch.storage import BatchStorage
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.runtime.kube.effects import Conflict

from tests.unit.batch.factories import T0, UID, inputs


class FakeEffects(BatchEffects):
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.statuses: list[BatchStatus] = []
        self.events: list[tuple[str, str]] = []
        self.conflicts = 0
        self.rv = 10

    async def create_child(self, manifest: dict[str, Any]) -> bool:
        self.created.append(manifest)
        return True

    async def delete_child(self, name: str, namespace: str) -> None:
        self.deleted.append(name)

    async def write_status(self, batch: TranscriptionBatch, status: BatchStatus) -> dict[str, Any]:
        if self.conflicts:
            self.conflicts -= 1
            raise Conflict("the object has been modified")
        self.statuses.append(status)
        self.rv += 1
        body = to_json(batch.with_status(status))
        body["metadata"]["resourceVersion"] = str(self.rv)
        return body

    async def emit(self, batch: TranscriptionBatch, event: EmitEvent) -> None:
        self.events.append((event.type, event.reason))


class FakeStorage(BatchStorage):
    def __init__(self, expansion: Expansion | None = None) -> None:
        self.expansion = expansion or Expansion("ok", tuple(inputs(2)))
        self.listed: list[str] = []
        self.written: dict[str, Mapping[str, Any]] = {}

    async def list_prefix(self, prefix: str, limit: int, keep: Any = None) -> Expansion:
        self.listed.append(prefix)
        return self.expansion

    async def put_json(self, uri: str, document: Mapping[str, Any]) -> SummaryResult:
        self.written[uri] = document
        return SummaryResult(uri)


def body(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "scribe.dev/v1alpha1",
        "kind": "TranscriptionBatch",
        "metadata": {
            "name": "calls", "namespace": "media", "uid": UID, "resourceVersion": "5", "generation": 1,
            "creationTimestamp": "2025-01-01T12:00:00Z",
        },
        "spec": spec,
        "status": status or {},
    }  # fmt: skip


def controller(storage: FakeStorage | None = None) -> tuple[BatchController, FakeEffects, FakeStorage]:
    effects, store = FakeEffects(), storage or FakeStorage()
    ctl = BatchController(effects=effects, storage=store, clock=lambda: T0)
    return ctl, effects, store


KEY = ("media", "calls")


async def test_a_prefix_batch_is_listed_started_and_written_once() -> None:
    ctl, effects, store = controller()
    await ctl.reconcile(KEY, body({"inputPrefix": "s3://audio/calls/"}), ())
    assert store.listed == ["s3://audio/calls/"]
    assert [m["metadata"]["name"] for m in effects.created] == ["calls-0", "calls-1"]
    assert len(effects.statuses) == 1
    status = effects.statuses[0]
    assert status.inputs == inputs(2) and status.phase == "Running"
    assert ("Normal", "ChildrenCreated") in effects.events and ("Normal", "InputsExpanded") in effects.events
    assert KEY in ctl.timers  # the deadline
    ctl.forget(KEY)


async def test_creates_are_not_repeated_while_the_watch_catches_up() -> None:
    ctl, effects, _ = controller()
    spec = {"inputs": inputs(2)}
    await ctl.reconcile(KEY, body(spec), ())
    newest = ctl.written[KEY]
    await ctl.reconcile(KEY, body(spec), ())  # an older body: the controller uses its own newer write
    assert len(effects.created) == 2
    assert len(effects.statuses) == 1  # nothing changed
    ctl.forget(KEY)
    assert newest["metadata"]["resourceVersion"] == "11"


async def test_a_finished_batch_writes_its_summary_and_records_it_in_one_status_write() -> None:
    ctl, effects, store = controller()
    children = [ObservedChild(name=f"calls-{i}", index=i, owner_uid=UID, phase=Phase.SUCCEEDED) for i in range(2)]
    await ctl.reconcile(KEY, body({"inputs": inputs(2), "outputPrefix": "s3://out/"}), children)
    assert list(store.written) == ["s3://out/summary.json"]
    assert len(effects.statuses) == 1
    assert effects.statuses[0].phase == "Succeeded" and effects.statuses[0].summary == "s3://out/summary.json"
    assert KEY not in ctl.timers  # no timer once terminal


async def test_a_conflict_requeues_soon_and_an_invalid_batch_is_ignored() -> None:
    ctl, effects, _ = controller()
    effects.conflicts = 1
    await ctl.reconcile(KEY, body({"inputs": inputs(1)}), ())
    assert not effects.statuses and KEY in ctl.timers
    ctl.forget(KEY)
    await ctl.reconcile(("media", "bad"), body({"inputs": "not a list"}), ())
    assert ("media", "bad") not in ctl.timers and len(effects.statuses) == 0


async def test_the_deadline_deletes_unfinished_children() -> None:
    ctl, effects, _ = controller()
    ctl.clock = lambda: T0 + dt.timedelta(seconds=100)
    status = {"phase": "Running", "startedAt": "2025-01-01T12:00:00Z", "deadlineAt": "2025-01-01T12:00:10Z"}
    running = [ObservedChild(name="calls-0", index=0, owner_uid=UID, phase=Phase.RUNNING)]
    await ctl.reconcile(KEY, body({"inputs": inputs(1)}, status), running)
    assert effects.deleted == ["calls-0"]
    assert effects.statuses[-1].reason == "BatchDeadlineExceeded"


async def test_reconcile_key_of_a_batch_that_is_gone_forgets_it() -> None:
    ctl, _, _ = controller()
    ctl.lookup = lambda key: (None, ())
    ctl.locks[KEY] = asyncio.Lock()
    await ctl.reconcile_key(KEY)
    assert KEY not in ctl.locks
