"""Cost per task: the worker reads its own cgroup, the termination message carries it, the core sums it in status,
the metrics count it per namespace and ``kubectl scribe describe`` shows it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from scribe_contract.taxonomy import Reason
from scribe_contract.termination import ContainerUsage, parse_termination_message
from scribe_operator.cli.render import usage_line
from scribe_operator.kinds.task.api.status import Phase, Usage
from scribe_operator.runtime.metrics import observe_transition, track_namespace
from scribe_worker import termination, usage

from tests.unit.task.factories import Cluster, make_task

GIB = 2**30


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_cgroup_v1_as_the_host_sees_it(tmp_path: Path) -> None:
    proc = tmp_path / "proc-cgroup"
    proc.write_text("4:memory:/kubepods/pod1/c1\n2:cpu,cpuacct:/kubepods/pod1/c1\n0::/\n")
    _tree(
        tmp_path / "fs",
        {
            "cpu,cpuacct/kubepods/pod1/c1/cpuacct.usage": "12500000000\n",
            "memory/kubepods/pod1/c1/memory.max_usage_in_bytes": "734003200\n",
            "cpu,cpuacct/cpuacct.usage": "999999999999999\n",  # the whole node: not ours
            "unified/cpu.stat": "usage_usec 1\n",
        },
    )
    assert usage.read(tmp_path / "fs", proc) == ContainerUsage(cpu_seconds=12.5, peak_memory_bytes=734003200)


def test_cgroup_v1_inside_a_container(tmp_path: Path) -> None:
    """The runtime mounts the container's own cgroup at the hierarchy's root; /proc still names the host path."""
    proc = tmp_path / "proc-cgroup"
    proc.write_text("4:memory:/kubepods/pod1/c1\n3:cpuacct:/kubepods/pod1/c1\n")
    _tree(tmp_path / "fs", {"cpuacct/cpuacct.usage": "2000000000", "memory/memory.max_usage_in_bytes": "1024"})
    assert usage.read(tmp_path / "fs", proc) == ContainerUsage(cpu_seconds=2.0, peak_memory_bytes=1024)


def test_cgroup_v2(tmp_path: Path) -> None:
    proc = tmp_path / "proc-cgroup"
    proc.write_text("0::/\n")
    _tree(
        tmp_path / "fs",
        {"cpu.stat": "usage_usec 3250000\nuser_usec 3000000\nsystem_usec 250000\n", "memory.peak": "52428800\n"},
    )
    assert usage.read(tmp_path / "fs", proc) == ContainerUsage(cpu_seconds=3.25, peak_memory_bytes=52428800)


def test_unreadable_cgroup_is_unknown_and_left_out_of_the_message(tmp_path: Path) -> None:
    unknown = usage.read(tmp_path / "nothing", tmp_path / "no-proc")
    assert unknown == ContainerUsage() and not unknown.known
    document = json.loads(termination.render(termination.AttemptResult(Reason.COMPLETED, "done", usage=unknown)))
    assert "usage" not in document


def test_the_operator_parses_what_the_worker_renders() -> None:
    outcome = termination.AttemptResult(
        Reason.UPLOAD_FAILED, "x" * 10_000, usage=ContainerUsage(cpu_seconds=7.25, peak_memory_bytes=GIB)
    )
    data = termination.render(outcome)
    assert len(data) <= termination.MAX_BYTES
    parsed = parse_termination_message(data.decode())
    assert parsed is not None and parsed.reason == "UploadFailed"
    assert parsed.usage == ContainerUsage(cpu_seconds=7.25, peak_memory_bytes=GIB)


@pytest.mark.parametrize(
    "raw", ['{"usage": "lots"}', '{"usage": {"cpuSeconds": -1}}', '{"usage": {"cpuSeconds": true}}', '{"usage": {}}']
)
def test_bad_usage_in_a_message_is_ignored(raw: str) -> None:
    parsed = parse_termination_message(raw)
    assert parsed is not None and parsed.usage is None


def _message(reason: str, cpu: float, memory: int) -> str:
    return json.dumps({"reason": reason, "usage": {"cpuSeconds": cpu, "peakMemoryBytes": memory}})


def _run(c: Cluster, attempt: int, seconds: float, exit_code: int, message: str | None, **kw: object) -> None:
    before = c.task
    c.reconcile()
    c.start(attempt)
    c.tick(seconds)
    c.finish(attempt, exit_code, message, **kw)
    c.reconcile()
    observe_transition(before, before.status, c.task.status)
    c.tick(60)  # past any backoff


def _sample(name: str, namespace: str) -> float:
    return REGISTRY.get_sample_value(name, {"namespace": namespace}) or 0.0


def test_usage_is_summed_over_attempts_and_counted_per_namespace() -> None:
    track_namespace("media")
    cpu0, gpu0 = _sample("scribe_task_cpu_seconds_total", "media"), _sample("scribe_task_gpu_seconds_total", "media")
    c = Cluster(make_task())
    _run(c, 1, 30, 30, _message("UploadFailed", 4.5, 600 * 2**20))
    assert c.status.phase is Phase.RETRYING
    assert c.status.attempts[0].usage == Usage(cpu_seconds=4.5, peak_memory_bytes=600 * 2**20)
    _run(c, 2, 40, 0, _message("Completed", 6.0, 400 * 2**20))
    assert c.status.phase is Phase.SUCCEEDED
    assert c.status.usage == Usage(cpu_seconds=10.5, peak_memory_bytes=600 * 2**20)  # the higher peak
    assert _sample("scribe_task_cpu_seconds_total", "media") - cpu0 == pytest.approx(10.5)
    assert _sample("scribe_task_gpu_seconds_total", "media") == gpu0  # no GPU requested
    assert usage_line(c.status.usage) == "CPU 10.5s, peak memory 600.0 MiB"
    for _ in range(2):  # a terminal task's replays change nothing and count nothing
        before = c.task
        c.reconcile()
        observe_transition(before, before.status, c.task.status)
    assert c.status.usage == Usage(cpu_seconds=10.5, peak_memory_bytes=600 * 2**20)
    assert _sample("scribe_task_cpu_seconds_total", "media") - cpu0 == pytest.approx(10.5)


def test_gpu_seconds_are_gpus_times_wall_time_also_for_a_killed_attempt() -> None:
    track_namespace("media")
    gpu0 = _sample("scribe_task_gpu_seconds_total", "media")
    c = Cluster(make_task(resources={"limits": {"nvidia.com/gpu": 2}}))
    _run(c, 1, 50, 137, None, terminated_reason="OOMKilled")  # killed: no message, no CPU or memory
    assert c.status.attempts[0].reason == "OOMKilled"
    assert c.status.attempts[0].usage == Usage(gpu_seconds=100.0)
    _run(c, 2, 10, 0, _message("Completed", 3.0, GIB))
    assert c.status.usage == Usage(cpu_seconds=3.0, peak_memory_bytes=GIB, gpu_seconds=120.0)
    assert _sample("scribe_task_gpu_seconds_total", "media") - gpu0 == pytest.approx(120.0)
    assert usage_line(c.status.usage) == "CPU 3.0s, peak memory 1024.0 MiB, GPU 120.0s"


def test_no_usage_known_leaves_status_without_it() -> None:
    c = Cluster(make_task())
    _run(c, 1, 5, 0, '{"reason": "Completed"}')
    assert c.status.phase is Phase.SUCCEEDED
    assert c.status.usage is None and c.status.attempts[0].usage is None
    assert usage_line(None) == "<none>"
