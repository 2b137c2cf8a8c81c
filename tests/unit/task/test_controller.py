"""The task controller around the core, with fake effects, storage and watch: running-attempt limits (queue order,
reservations, waking on a freed slot, restarts) and the circuit breaker (opening, holding, probing, closing)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from prometheus_client import REGISTRY
from scribe_operator.api.meta import ObjectKey, to_json
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.result import ResultRecord
from scribe_operator.kinds.task.api.status import TaskStatus
from scribe_operator.kinds.task.controller import Controller
from scribe_operator.kinds.task.core.breaker import BreakerState
from scribe_operator.kinds.task.core.observed import InputProbe, ObservedPod, StoredResult
from scribe_operator.kinds.task.storage import AttemptUrls, Storage
from scribe_operator.runtime.kube.effects import KubeEffects

from tests.unit.task.factories import operator_settings

NS = "media"
START = dt.datetime.now(dt.UTC).replace(microsecond=0)
"""Import time: only for ages and as a fixed past moment. The controllers run on the real clock, minutes later in a
full run, so what the watchdogs time (pods) is stamped when it happens (``Watch.set_pod``)."""


class Watch:
    """What the kopf indices would hold: task bodies and attempt pods, by task key."""

    def __init__(self) -> None:
        self.tasks: dict[ObjectKey, dict[str, Any]] = {}
        self.pods: dict[ObjectKey, dict[str, ObservedPod]] = {}

    def lookup(self, key: ObjectKey) -> tuple[Mapping[str, Any] | None, Iterable[ObservedPod]]:
        return self.tasks.get(key), list(self.pods.get(key, {}).values())

    def all_pods(self) -> list[tuple[ObjectKey, ObservedPod]]:
        return [(key, pod) for key, pods in self.pods.items() for pod in pods.values()]

    def add_task(self, name: str, age: int, **spec: Any) -> ObjectKey:
        self.tasks[(NS, name)] = {
            "apiVersion": "scribe.dev/v1alpha1",
            "kind": "TranscriptionTask",
            "metadata": {
                "name": name, "namespace": NS, "uid": f"uid-{name}", "resourceVersion": "1", "generation": 1,
                "creationTimestamp": (START - dt.timedelta(seconds=age)).isoformat(),
            },
            "spec": {"input": f"s3://audio/{name}.wav", **spec},
        }  # fmt: skip
        return (NS, name)

    def phase(self, name: str) -> str | None:
        return (self.tasks[(NS, name)].get("status") or {}).get("phase")

    def status(self, name: str) -> dict[str, Any]:
        return dict(self.tasks[(NS, name)].get("status") or {})

    def set_pod(self, task: str, attempt: int, phase: str) -> None:
        name = f"{task}-a{attempt}"
        created = dt.datetime.now(dt.UTC)  # not START: a pod older than its deadline would trip the watchdog
        pod = ObservedPod(name=name, attempt=attempt, phase=phase, created_at=created)  # type: ignore[arg-type]
        self.pods.setdefault((NS, task), {})[name] = pod


class FakeEffects(KubeEffects):
    def __init__(self, watch: Watch, show_pods: bool = True) -> None:
        self.watch, self.show_pods = watch, show_pods
        self.pods: list[str] = []
        self.writes: dict[str, int] = {}
        self.events: list[tuple[str, str, str]] = []

    async def create(self, manifest: dict[str, Any]) -> bool:
        if manifest["kind"] == "Pod":
            meta = manifest["metadata"]
            self.pods.append(meta["name"])
            if self.show_pods:
                task = meta["labels"]["scribe.dev/task"]
                self.watch.set_pod(task, int(meta["labels"]["scribe.dev/attempt"]), "Pending")
        return True

    async def delete(self, kind: str, name: str, namespace: str) -> None:
        return None

    async def get_pod(self, name: str, namespace: str) -> dict[str, Any] | None:
        return None  # the fake API server holds no pod the watch does not show

    async def write_status(self, task: TranscriptionTask, status: TaskStatus) -> dict[str, Any]:
        key = (task.metadata.namespace or "", task.metadata.name)
        body = self.watch.tasks[key]
        body["status"] = to_json(status)
        body["metadata"]["resourceVersion"] = str(int(body["metadata"]["resourceVersion"]) + 1)
        self.writes[task.metadata.name] = self.writes.get(task.metadata.name, 0) + 1
        return body

    async def set_dead_letter_label(self, task: TranscriptionTask, dead: bool) -> dict[str, Any]:
        return self.watch.tasks[(task.metadata.namespace or "", task.metadata.name)]

    async def emit(self, task: TranscriptionTask, event: EmitEvent) -> None:
        self.events.append((task.metadata.name, event.type, event.reason))


class FakeStorage(Storage):
    def __init__(self, result: str = "ok", bucket: bool = True) -> None:
        self.result, self.bucket = result, bucket
        self.probed: list[str] = []
        self.buckets: list[str] = []
        self.stored: dict[str, StoredResult] = {}  # result records, by URI
        self.etag: str | None = None  # of every input

    async def probe(self, uri: str) -> InputProbe:
        self.probed.append(uri)
        if self.result == "ok":
            return InputProbe("ok", size_bytes=1024, etag=self.etag)
        return InputProbe("error", message=f"HEAD {uri}: connection refused")  # type: ignore[arg-type]

    async def probe_bucket(self, uri: str) -> InputProbe:
        self.buckets.append(uri)
        return InputProbe("ok") if self.bucket else InputProbe("not_found", message="HEAD bucket: HTTP 404")

    async def stored_result(self, uri: str) -> StoredResult | None:
        return self.stored.get(uri)

    async def write_result(self, uri: str, record: ResultRecord, writer: Mapping[str, str], attempt: int) -> bool:
        self.stored[uri] = StoredResult(record, {fmt: etag for fmt, (_, etag) in record.outputs.items()})
        return True

    def presign(self, input_uri: str, outputs: dict[str, str], ttl_seconds: int) -> AttemptUrls:
        return AttemptUrls("https://s3/in?sig", {fmt: f"https://s3/{fmt}?sig" for fmt in outputs})


def make_controller(
    watch: Watch, storage: FakeStorage | None = None, show_pods: bool = True, **settings: Any
) -> tuple[Controller, FakeEffects, FakeStorage]:
    effects, storage = FakeEffects(watch, show_pods), storage or FakeStorage()
    controller = Controller(settings=operator_settings(**settings), effects=effects, storage=storage)
    controller.lookup = watch.lookup
    controller.capacity.pods = watch.all_pods
    controller.seed(list(watch.tasks.values()))
    return controller, effects, storage


async def settle(seconds: float = 0.3) -> None:
    """Let timers and woken reconciles run."""
    await asyncio.sleep(seconds)


async def pod_ended(controller: Controller, task: str) -> None:
    """What handlers.pod_event does for a pod that terminated: reconcile its task, then wake the waiting."""
    await controller.reconcile_key((NS, task))
    controller.capacity_freed()
    await settle()


# --- capacity ------------------------------------------------------------------------------------------------------


async def test_limit_of_one_runs_tasks_one_at_a_time_in_creation_order() -> None:
    watch = Watch()
    for name, age in (("a", 30), ("b", 20), ("c", 10)):
        watch.add_task(name, age)
    controller, effects, _ = make_controller(watch, show_pods=False, max_running_attempts=1)

    for key in [(NS, "c"), (NS, "b"), (NS, "a")]:  # events arrive newest first: the order still holds
        await controller.reconcile_key(key)
    assert [watch.phase(n) for n in "abc"] == ["Running", "Queued", "Queued"]
    assert effects.pods == ["a-a1"]
    assert effects.writes == {"a": 1, "b": 1, "c": 1}  # entering Queued is one write
    queued = {c["type"]: c for c in watch.status("b")["conditions"]}["Queued"]
    assert (queued["status"], queued["reason"]) == ("True", "OperatorCapacity")
    assert queued["message"] == "0 of 1 attempts running operator-wide; 1 earlier task starts first"
    assert ("b", "Normal", "Queued") in effects.events

    # a's pod is not in the watch yet: its reservation holds the slot
    controller.capacity_freed()
    await settle()
    await controller.reconcile_key((NS, "b"))
    assert effects.pods == ["a-a1"] and effects.writes == {"a": 1, "b": 1, "c": 1}  # no write while queued

    watch.set_pod("a", 1, "Running")
    await controller.reconcile_key((NS, "c"))
    assert effects.pods == ["a-a1"]

    watch.set_pod("a", 1, "Succeeded")  # the slot comes free: the pod event wakes the first waiting task
    await pod_ended(controller, "a")
    assert effects.pods == ["a-a1", "b-a1"] and watch.phase("b") == "Running" and watch.phase("c") == "Queued"
    assert watch.phase("a") == "Succeeded"
    admitted = {c["type"]: c for c in watch.status("b")["conditions"]}["Queued"]
    assert (admitted["status"], admitted["reason"]) == ("False", "Admitted")

    # b's pod has not shown up: waking again must not start c
    controller.capacity_freed()
    await settle()
    assert effects.pods == ["a-a1", "b-a1"]

    # a restart while b runs and c waits: the new operator counts b's pod and keeps c queued
    watch.set_pod("b", 1, "Running")
    restarted, effects2, _ = make_controller(watch, max_running_attempts=1)
    for key in list(watch.tasks):
        await restarted.reconcile_key(key)
    assert effects2.pods == [] and watch.phase("c") == "Queued" and effects2.writes == {}

    watch.set_pod("b", 1, "Succeeded")
    await pod_ended(restarted, "b")
    assert effects2.pods == ["c-a1"]
    for name in "abc":
        assert watch.status(name)["attempt"] == 1  # waiting spent no attempt


async def test_priority_goes_first_and_a_full_namespace_does_not_block_others() -> None:
    watch = Watch()
    watch.add_task("old", 30)
    watch.add_task("urgent", 5, priority=10)
    other = ("team", "x")
    watch.tasks[other] = {**watch.tasks[(NS, "old")], "metadata": {**watch.tasks[(NS, "old")]["metadata"]}}
    watch.tasks[other]["metadata"].update(name="x", namespace="team", uid="uid-x")
    controller, effects, _ = make_controller(watch, max_running_attempts=5, max_running_attempts_per_namespace=1)
    for key in list(watch.tasks):
        await controller.reconcile_key(key)
    assert sorted(effects.pods) == ["urgent-a1", "x-a1"]
    assert watch.phase("old") == "Queued"
    queued = {c["type"]: c for c in watch.status("old")["conditions"]}["Queued"]
    message = "0 of 1 attempts running in namespace media; 1 earlier task starts first"  # urgent went first
    assert (queued["reason"], queued["message"]) == ("NamespaceCapacity", message)


async def test_a_slot_reserved_for_a_launch_that_fails_goes_to_the_next_task() -> None:
    watch = Watch()
    watch.add_task("gone", 30)
    watch.add_task("next", 20)
    storage = FakeStorage()
    controller, effects, _ = make_controller(watch, storage, max_running_attempts=1)
    await controller.reconcile_key((NS, "next"))
    assert watch.phase("next") == "Queued"

    probe = storage.probe

    async def not_found(uri: str) -> InputProbe:
        return InputProbe("not_found", message="HEAD 404") if "gone" in uri else await probe(uri)

    storage.probe = not_found  # type: ignore[method-assign]
    await controller.reconcile_key((NS, "gone"))  # admitted, probed: the input is missing, no launch
    assert watch.phase("gone") == "Dead" and effects.pods == []
    await settle()
    assert effects.pods == ["next-a1"]


# --- circuit breaker -------------------------------------------------------------------------------------------


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_breaker_opens_holds_probes_and_closes() -> None:
    watch = Watch()
    retry = {"maxRetries": 1, "backoff": {"initialSeconds": 1, "maxSeconds": 1, "jitter": 0}}
    for name, age in (("x", 30), ("y", 20), ("z", 10)):
        watch.add_task(name, age, retryPolicy=retry)
    storage = FakeStorage("error")
    controller, effects, _ = make_controller(
        watch, storage, breaker_threshold=2, breaker_window_seconds=60, breaker_cooldown_seconds=0.5
    )
    openings = _sample("scribe_circuit_breaker_openings_total", reason="DownloadFailed")
    failed_probes = _sample("scribe_circuit_breaker_probes_total", result="failure")

    await controller.reconcile_key((NS, "x"))
    assert watch.phase("x") == "Retrying" and controller.breaker.state.closed
    await controller.reconcile_key((NS, "y"))  # the second distinct task: it opens
    assert controller.breaker.state.state is BreakerState.OPEN
    assert _sample("scribe_circuit_breaker_open") == 1
    assert _sample("scribe_circuit_breaker_openings_total", reason="DownloadFailed") == openings + 1

    probed = len(storage.probed)
    await controller.reconcile_key((NS, "z"))  # held: not even probed
    assert len(storage.probed) == probed and watch.phase("z") == "Pending" and watch.status("z").get("attempt", 0) == 0
    held = {c["type"]: c for c in watch.status("z")["conditions"]}["CircuitOpen"]
    assert (held["status"], held["reason"]) == ("True", "DownloadFailed")
    assert ("z", "Warning", "CircuitOpen") in effects.events

    await settle(1.3)  # x and y come due and are held; the first probe fails: open for another cooldown
    assert _sample("scribe_circuit_breaker_probes_total", result="failure") >= failed_probes + 1
    assert not controller.breaker.state.closed
    assert {watch.phase(n) for n in "xy"} == {"Retrying"} and effects.pods == []
    assert {watch.status(n)["attempt"] for n in "xyz"} == {1, 0}  # held: the last attempts are not spent
    assert set(controller.breaker.held) == {(NS, "x"), (NS, "y"), (NS, "z")}

    storage.result = "ok"  # the storage is back
    await settle(1.0)
    assert controller.breaker.state.closed and _sample("scribe_circuit_breaker_open") == 0
    assert sorted(effects.pods) == ["x-a2", "y-a2", "z-a1"]
    for name in "xyz":
        cond = {c["type"]: c for c in watch.status(name)["conditions"]}["CircuitOpen"]
        assert (cond["status"], cond["reason"]) == ("False", "CircuitClosed")
    assert controller.breaker.held == {}


async def test_a_restart_starts_closed() -> None:
    watch = Watch()
    watch.add_task("x", 10)
    controller, effects, _ = make_controller(watch)
    assert controller.breaker.state.closed and controller.breaker.hold(START) is None
    await controller.reconcile_key((NS, "x"))
    assert effects.pods == ["x-a1"]


def test_observed_pod_factory_is_frozen() -> None:
    pod = ObservedPod(name="p", attempt=1, phase="Running", created_at=START)
    assert replace(pod, phase="Succeeded").terminated
