"""The scale benchmark's parts that need no cluster (hack/benchscale): the bounded watch retries, the failure mix,
the audit-log latencies, the table, the command line. The benchmark itself runs in tests/integration."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import pytest
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import Status

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "hack"))

from benchscale.apiserver import RetryBudget, WatchFailed, describe, watch_until  # noqa: E402
from benchscale.measure import latencies  # noqa: E402
from benchscale.names import ADMIN_USER, KWOK_USER, OPERATOR_USER  # noqa: E402
from benchscale.report import table  # noqa: E402
from benchscale.workload import mix_expected, mix_names  # noqa: E402

INITIALISING = ApiError(status=Status(code=429, reason="TooManyRequests", message="storage is (re)initializing"))


class FakeWatchClient:
    """``watch`` returns the next scripted stream: objects, and an exception where the stream fails."""

    def __init__(self, streams: Iterable[list[Any]]) -> None:
        self.streams = list(streams)
        self.opened = 0

    def watch(self, resource: Any, *, namespace: str) -> AsyncIterator[tuple[str, Any]]:
        self.opened += 1
        stream = self.streams.pop(0) if self.streams else [INITIALISING]

        async def events() -> AsyncIterator[tuple[str, Any]]:
            for item in stream:
                if isinstance(item, BaseException):
                    raise item
                yield "ADDED", item

        return events()


def _watch(client: FakeWatchClient, want: int, budget: RetryBudget) -> set[int]:
    seen: set[int] = set()

    def on_object(obj: int) -> bool:
        seen.add(obj)
        return len(seen) >= want

    asyncio.run(watch_until(client, object, "ns", on_object, budget=budget))  # type: ignore[arg-type]
    return seen


def test_a_watch_refused_while_storage_initialises_is_opened_again_and_sees_every_object(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = FakeWatchClient([[INITIALISING], [1, 2, INITIALISING], [1, 2, 3]])  # a fresh list replays 1 and 2
    assert _watch(client, 3, RetryBudget("tasks in ns", delay=0)) == {1, 2, 3}
    assert client.opened == 3
    err = capsys.readouterr().err
    assert "watch of tasks in ns failed (HTTP 429 TooManyRequests: storage is (re)initializing)" in err


def test_a_watch_that_keeps_failing_gives_up_saying_why() -> None:
    client = FakeWatchClient([])
    with pytest.raises(WatchFailed, match=r"gave up watching tasks in ns: 4 failures in a row; last: HTTP 429"):
        _watch(client, 1, RetryBudget("tasks in ns", attempts=3, delay=0))
    assert client.opened == 4


def test_the_retry_budget_is_bounded_in_a_row_in_time_and_in_all() -> None:
    budget = RetryBudget("w", attempts=100, seconds=10, total=100, delay=0.5, max_delay=2)
    assert [budget.failed(INITIALISING, now=0) for _ in range(4)] == [0.5, 1.0, 2.0, 2.0]  # doubling, capped
    with pytest.raises(WatchFailed, match="failing for 11s"):
        budget.failed(INITIALISING, now=11)
    total = RetryBudget("w", attempts=2, total=3, delay=0)
    for _ in range(3):
        total.failed(INITIALISING, now=0)
        total.progressed()  # an object in between: a new row each time
    with pytest.raises(WatchFailed, match="4 failures in all"):
        total.failed(INITIALISING, now=0)


def test_describe_names_the_status_or_the_exception() -> None:
    assert describe(INITIALISING) == "HTTP 429 TooManyRequests: storage is (re)initializing"
    assert describe(ConnectionResetError("reset by peer")) == "ConnectionResetError: reset by peer"


def test_the_failure_mix_is_10_percent_retried_and_5_percent_dead() -> None:
    names = mix_names(100)
    assert len(names) == 100
    outcomes = [mix_expected(n) for n in names]
    assert outcomes.count(("Succeeded", 3)) == 10
    assert outcomes.count(("Dead", 1)) == 5
    assert outcomes.count(("Succeeded", 1)) == 85


def _event(user: str, verb: str, resource: str, name: str, at: str, sub: str = "") -> dict[str, Any]:
    ref = {"resource": resource, "name": name, **({"subresource": sub} if sub else {})}
    return {
        "stage": "ResponseComplete", "responseStatus": {"code": 201}, "user": {"username": user}, "verb": verb,
        "objectRef": ref, "stageTimestamp": f"2026-01-01T00:00:{at}+00:00",
    }  # fmt: skip


def test_latencies_from_the_audit_log() -> None:
    events = [
        _event(ADMIN_USER, "create", "transcriptiontasks", "t0", "00.000"),
        _event(OPERATOR_USER, "create", "pods", "t0-a1", "00.250"),
        _event(KWOK_USER, "patch", "pods", "t0-a1", "01.000", "status"),
        _event(KWOK_USER, "patch", "pods", "t0-a1", "02.000", "status"),  # the last one is the terminal one
        _event(OPERATOR_USER, "patch", "transcriptiontasks", "t0", "01.500", "status"),
        _event(OPERATOR_USER, "patch", "transcriptiontasks", "t0", "02.500", "status"),
    ]
    got = latencies(events, OPERATOR_USER, "transcriptiontasks")
    assert got == {"create_to_pod_ms": [250.0], "terminated_to_status_ms": [500.0]}


def test_the_table_names_every_phase_and_the_restart() -> None:
    phase = {
        "controller": OPERATOR_USER, "n": 50, "wall_s": 5.0, "terminal": 50, "outcomes": {"Succeeded": 50},
        "cpu_s": 1.0, "rss_mib": 100.0, "requests": {"create pods": 50, "patch transcriptiontasks/status": 100},
        "apiserver_requests": 500, "latency_ms": {"create_to_pod_ms": {"p50": 10.0, "p99": 20.0, "count": 50}},
        "note": "", "per_s": 10.0,
    }  # fmt: skip
    result = {
        "n": 50, "kwok": "v0", "cores": 2, "when": "now",
        "phases": [{**phase, "name": "tasks"}, {**phase, "name": "mix", "note": "1 task not as scripted"}],
        "restart": {"finished_tasks": 100, "rss_mib_before": 1, "rss_mib_after": 2, "seconds_to_idle": 1.5,
                    "writes": {}},
    }  # fmt: skip
    text = table(result)
    needles = ["tasks", "mix", "items terminal", "50/50", "writes per item (with Events)"]
    needles += ["restart holding 100 finished tasks: idle after 1.50 s", "note (mix): 1 task not as scripted"]
    for needle in needles:
        assert needle in text, text


def test_the_command_line_runs_as_a_folder() -> None:
    run = subprocess.run(
        [sys.executable, str(REPO / "hack" / "benchscale"), "--help"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    for flag in ("--n", "--own-namespaces", "--skip-qps100", "--tasks-only", "--profile", "--docs", "--chart-only"):
        assert flag in run.stdout
