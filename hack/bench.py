"""`make bench`: the operator's speed and cost, printed as numbers.

1. The decision core: microseconds per reconcile over whole task lifecycles, and memory held per task status.
2. On the cluster KUBECONFIG names (the local one under `make bench`): Kubernetes API requests the operator makes per
   successful single-attempt task, by verb and resource (the budget is 4 writes: Secret, Pod, status on start,
   status on finish, plus deleting the Secret and the task's Events).
3. The scale benchmark (hack/benchscale) at N = 1,000: tasks against Jobs on kwok nodes (docs/performance.md).
4. The worker (hack/workerbench.py): real-time factor and word error rate per decoding mode, the worker's overhead
   over bare faster-whisper, and peak memory on long audio. `python hack/bench.py worker` runs only this section.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scribe_operator.kinds.task.api.model import TranscriptionTask  # noqa: E402
from scribe_operator.kinds.task.api.status import AttemptRecord, TaskStatus  # noqa: E402
from scribe_operator.kinds.task.core.observed import InputProbe, Observed, ObservedPod  # noqa: E402
from scribe_operator.kinds.task.core.reconcile import reconcile  # noqa: E402

from tests.support.processes import free_port, terminate  # noqa: E402

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _task(i: int) -> TranscriptionTask:
    return TranscriptionTask.model_validate(
        {"metadata": {"name": f"t{i}", "namespace": "bench", "uid": f"uid-{i}"}, "spec": {"input": "s3://bench/a.wav"}}
    )


def bench_core(n: int = 2000) -> None:
    calls = 0
    start = time.perf_counter()
    for i in range(n):
        task = _task(i)
        plan = reconcile(task, Observed(), T0)
        task = plan.apply(task)
        calls += 1
        plan = reconcile(
            task, Observed(input_probe=InputProbe("ok", size_bytes=1 << 20), output_probe=InputProbe("ok")), T0
        )
        task = plan.apply(task)
        calls += 1
        pod = ObservedPod(
            name=f"t{i}-a1", attempt=1, phase="Succeeded", created_at=T0, started_at=T0,
            finished_at=T0 + dt.timedelta(seconds=5), exit_code=0, terminated_reason="Completed",
        )  # fmt: skip
        plan = reconcile(task, Observed(pods=(pod,)), T0 + dt.timedelta(seconds=6))
        calls += 1
        assert plan.status is not None and plan.status.phase == "Succeeded"
    elapsed = time.perf_counter() - start
    print(f"core.reconcile_us_per_call {elapsed / calls * 1e6:.1f}")
    print(f"core.lifecycles_per_second {n / elapsed:.0f}")

    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    history = [
        AttemptRecord(attempt=a, pod=f"t-a{a}", created_at=T0, finished_at=T0, exit_code=30, reason="UploadFailed",
                      message="upload of json failed: HTTP 503 SlowDown", retryable=True)
        for a in range(1, 21)
    ]  # fmt: skip
    statuses = [
        TaskStatus(attempt=20, attempts=list(history), failure_counts={"UploadFailed": 20}) for _ in range(1000)
    ]
    after = tracemalloc.take_snapshot()
    size = sum(s.size_diff for s in after.compare_to(before, "filename"))
    tracemalloc.stop()
    print(f"core.status_bytes_per_task_with_20_attempts {size / len(statuses):.0f}")


def _kubectl(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["kubectl", *args], input=stdin, text=True, capture_output=True, check=True).stdout


def _metrics(port: int) -> dict[tuple[str, str], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for m in re.finditer(r'^scribe_kube_api_requests_total\{resource="([^"]+)",verb="([^"]+)"\} (\S+)$', text, re.M):
        out[(m.group(2), m.group(1))] = float(m.group(3))
    return out


def bench_api(tasks: int = 3) -> None:
    if not os.environ.get("KUBECONFIG"):
        print("api: skipped (no KUBECONFIG; run under `make bench`)")
        return
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "a.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "one two three"], check=True)
        s3.upload_file(str(wav), bucket, "a.wav")
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    _kubectl("apply", "--server-side", "-f", str(REPO / "crds"))
    _kubectl("create", "namespace", ns)
    health, metrics = free_port(), free_port()
    env = {
        **os.environ, "SCRIBE_NAMESPACES": ns, "SCRIBE_HEALTH_PORT": str(health), "SCRIBE_METRICS_PORT": str(metrics),
        "SCRIBE_S3_ADDRESSING_STYLE": "path", "SCRIBE_LOG_FORMAT": "text",
    }  # fmt: skip
    log = open(Path(tempfile.gettempdir()) / "scribe-bench-operator.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "scribe_operator"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{health}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        started = time.monotonic()
        for i in range(tasks):
            manifest = {
                "apiVersion": "scribe.dev/v1alpha1", "kind": "TranscriptionTask",
                "metadata": {"name": f"b{i}", "namespace": ns}, "spec": {"input": f"s3://{bucket}/a.wav"},
            }  # fmt: skip
            _kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
        for i in range(tasks):
            _kubectl("wait", "-n", ns, f"tt/b{i}", "--for=jsonpath={.status.phase}=Succeeded", "--timeout=300s")
        elapsed = time.monotonic() - started
        time.sleep(1)  # let the last events and secret deletions land before reading the counters
        counts = _metrics(metrics)
    finally:
        terminate(proc, grace=30)
        log.close()
        _kubectl("delete", "namespace", ns, "--wait=false")
    writes = {k: v for k, v in counts.items() if k[0] in ("create", "patch", "delete", "update")}
    for (verb, resource), value in sorted(writes.items()):
        print(f"api.{verb}.{resource}_per_task {value / tasks:.2f}")
    core_writes = sum(v for (verb, res), v in writes.items() if res != "events")
    print(f"api.writes_per_task_excluding_events {core_writes / tasks:.2f}")
    print(f"api.writes_per_task_including_events {sum(writes.values()) / tasks:.2f}")
    print(f"api.gets_per_task {sum(v for (verb, _), v in counts.items() if verb == 'get') / tasks:.2f}")
    print(f"e2e.seconds_per_task_sequential_apply {elapsed / tasks:.2f}")


if __name__ == "__main__":
    from benchscale import main as bench_scale  # hack/benchscale: hack/ is on sys.path when this file runs as a script
    from workerbench import bench_worker

    if sys.argv[1:] == ["worker"]:
        bench_worker()
    else:
        bench_core()
        bench_api()
        bench_scale(["--n", "1000"])
        bench_worker()
