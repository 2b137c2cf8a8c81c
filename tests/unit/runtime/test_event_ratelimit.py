"""Events are rate-limited per object and overall, so a retry storm cannot flood the API server with them."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.runtime.kube.effects import KubeEffects
from scribe_operator.runtime.kube.ratelimit import (
    OBJECT_BURST,
    OBJECT_REFILL_SECONDS,
    SHARED_BURST,
    SHARED_QPS,
    EventLimiter,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_object_gets_its_burst_then_one_per_refill() -> None:
    clock = Clock()
    limiter = EventLimiter(clock)
    assert [limiter.allow("t") for _ in range(OBJECT_BURST)] == [None] * OBJECT_BURST
    assert limiter.allow("t") == "object"
    assert limiter.allow("other") is None  # another object has its own budget
    clock.now += OBJECT_REFILL_SECONDS
    assert limiter.allow("t") is None
    assert limiter.allow("t") == "object"


def test_a_storm_over_many_objects_is_held_to_the_shared_rate() -> None:
    clock = Clock()
    limiter = EventLimiter(clock)
    posted = sum(limiter.allow(f"task-{i}") is None for i in range(10_000))
    assert posted == SHARED_BURST
    posted_next_second = 0
    for i in range(10_000):
        clock.now += 1 / 10_000
        posted_next_second += limiter.allow(f"task-{i}") is None
    assert posted_next_second <= SHARED_QPS + 1


def test_tasks_running_normally_lose_no_event() -> None:
    """2 Events per task at 20 tasks a second (twice what the benchmark's operator finishes) for 10 minutes."""
    clock = Clock()
    limiter = EventLimiter(clock)
    for i in range(20 * 600):
        clock.now += 1 / 20
        assert limiter.allow(f"task-{i}") is None and limiter.allow(f"task-{i}") is None


class Recorder:
    """The API client: records what is POSTed."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
        assert method == "POST" and path == "/api/v1/namespaces/ns/events" and body is not None
        self.created.append(body)
        return body


async def test_emit_drops_events_over_the_limit_and_counts_them() -> None:
    client = Recorder()
    effects = KubeEffects(client, EventLimiter(Clock(), object_burst=3))  # type: ignore[arg-type]
    task = TranscriptionTask.model_validate(
        {"metadata": {"name": "storm", "namespace": "ns", "uid": "u1"}, "spec": {"input": "s3://bucket/in.wav"}}
    )
    before = REGISTRY.get_sample_value("scribe_events_dropped_total", {"reason": "object"}) or 0.0
    for _ in range(10):
        await effects.emit(task, EmitEvent("Warning", "AttemptFailed", "exit code 21"))
    assert [e["reason"] for e in client.created] == ["AttemptFailed"] * 3
    assert client.created[0]["involvedObject"] == {
        "apiVersion": "scribe.dev/v1alpha1", "kind": "TranscriptionTask", "name": "storm", "namespace": "ns",
        "uid": "u1",
    }  # fmt: skip
    assert REGISTRY.get_sample_value("scribe_events_dropped_total", {"reason": "object"}) == before + 7
