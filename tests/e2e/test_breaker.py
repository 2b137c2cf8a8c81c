"""The circuit breaker on the local cluster: S3 goes away for a while and comes back.

The test's own operator (marker ``local_operator``) reaches S3 only through the fault proxy
(tests/support/faultproxy.py) in front of MinIO: its input probes and the presigned URLs its workers use go through
it. While the proxy resets every connection, the tasks' first attempts fail (DownloadFailed: the probe cannot reach
S3), the breaker opens at the threshold, and the retries wait (condition CircuitOpen) instead of going Dead, although
each task has one retry only. A probe while S3 is still away keeps the breaker open; once the proxy heals, the next
probe closes it and every task finishes with its second attempt.
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client

from tests.support.faultproxy import Fault, FaultProxy
from tests.support.metrics import parse_samples
from tests.support.operators import StartOperator, log_on_failure, own_operators
from tests.support.s3 import Buckets
from tests.support.tasks import (
    create_task,
    describe,
    list_tasks,
    task_events,
    task_manifest,
    wait_for_phase,
    wait_for_task,
)
from tests.support.wait import wait_for

pytestmark = pytest.mark.local_operator

THRESHOLD = 3
COOLDOWN = 4
NAMES = [f"outage-{i}" for i in range(THRESHOLD + 1)]
RETRY = {"maxRetries": 1, "backoff": {"initialSeconds": 5, "factor": 1.0, "maxSeconds": 5, "jitter": 0.0}}


@pytest.fixture
def start_operator(namespace: str, crd: str, tmp_path: Path) -> Iterator[StartOperator]:
    with own_operators(namespace, tmp_path) as start:
        yield start


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    upstream = os.environ.get("AWS_ENDPOINT_URL", "")
    if not upstream.startswith("http://"):
        pytest.skip(f"the fault proxy needs a plain-http S3 endpoint (AWS_ENDPOINT_URL={upstream!r})")
    with FaultProxy(upstream) as running:
        yield running


def _conditions(task: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (task.get("status") or {}).get("conditions") or []}


def _held(task: dict[str, Any]) -> bool:
    return _conditions(task).get("CircuitOpen", {}).get("status") == "True"


def _metrics(port: str) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        samples = parse_samples(response.read().decode())
    return {name + "".join(f"{{{v}}}" for _, v in sorted(labels)): value for (name, labels), value in samples.items()}


def test_tasks_wait_while_s3_is_away_and_all_finish_when_it_is_back(
    kube: Client,
    namespace: str,
    start_operator: StartOperator,
    proxy: FaultProxy,
    buckets: Buckets,
    fox_wav: Path,
) -> None:
    uri = buckets.with_file(fox_wav, "fox.wav")
    proxy.inject(Fault("reset"))  # S3 is away: every connection is reset
    op = start_operator(
        SCRIBE_S3_ENDPOINT_URL=proxy.url,
        SCRIBE_BREAKER_THRESHOLD=str(THRESHOLD),
        SCRIBE_BREAKER_WINDOW_SECONDS="60",
        SCRIBE_BREAKER_COOLDOWN_SECONDS=str(COOLDOWN),
    )
    with log_on_failure(op):
        for name in NAMES:
            manifest = task_manifest(name, uri, language="en", retryPolicy=RETRY, cache=False)
            create_task(kube, manifest, namespace)  # identical tasks, each to run: no result reuse

        # every first attempt fails on its probe; the breaker opens and holds the retries
        for name in NAMES:
            task = wait_for_task(kube, name, namespace, "held by the circuit breaker", _held, timeout=90)
            status = task["status"]
            assert status["phase"] == "Retrying" and status["attempt"] == 1, describe(task)
            assert status["attempts"][0]["reason"] == "DownloadFailed", describe(task)
            cond = _conditions(task)["CircuitOpen"]
            assert cond["reason"] == "DownloadFailed" and "circuit breaker open" in cond["message"], describe(task)
        metrics = _metrics(op.env["SCRIBE_METRICS_PORT"])
        assert metrics["scribe_circuit_breaker_open"] == 1, metrics
        assert metrics["scribe_circuit_breaker_openings_total{DownloadFailed}"] == 1, metrics

        # S3 stays away past a cooldown: the probe fails, the breaker stays open, nobody goes Dead
        port = op.env["SCRIBE_METRICS_PORT"]
        failed_probe = "scribe_circuit_breaker_probes_total{failure}"
        wait_for("a failed probe", lambda: _metrics(port).get(failed_probe, 0) >= 1, timeout=COOLDOWN * 4)
        time.sleep(1)
        for task in list_tasks(kube, namespace):
            status = task["status"]
            assert status["phase"] == "Retrying" and status["attempt"] == 1 and _held(task), describe(task)

        # S3 is back: the next probe closes the breaker and every task finishes with its last attempt
        proxy.clear()
        done = [wait_for_phase(kube, name, namespace, "Succeeded", timeout=240) for name in NAMES]

    for task in done:
        status, shown = task["status"], describe(task)
        assert status["attempt"] == 2 and [a["reason"] for a in status["attempts"]] == ["DownloadFailed", "Completed"]
        assert status["failureCounts"] == {"DownloadFailed": 1}, shown
        cond = _conditions(task)["CircuitOpen"]
        assert (cond["status"], cond["reason"]) == ("False", "CircuitClosed"), shown
        events = task_events(kube, task["metadata"]["name"], namespace)
        held = [e for e in events if e.get("reason") == "CircuitOpen"]
        assert held and all(e["type"] == "Warning" for e in held), events
    metrics = _metrics(op.env["SCRIBE_METRICS_PORT"])
    assert metrics["scribe_circuit_breaker_open"] == 0, metrics
    assert metrics.get("scribe_circuit_breaker_probes_total{success}", 0) >= 1, metrics
    assert metrics["scribe_circuit_breaker_openings_total{DownloadFailed}"] == 1, metrics
    assert any(r.method == "PUT" for r in proxy.requests), "the workers' uploads did not go through the proxy"
