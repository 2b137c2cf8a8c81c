"""What an attempt cost, and the task's total: pure functions over the worker's report and the attempt's record.

The worker reports CPU seconds and peak memory from its own cgroup in the termination message (its ``usage``, see
``scribe_contract.termination``); GPU seconds are the GPUs the task requested times the attempt's wall time
(container start to end), since a GPU is held for the whole attempt whether it computes or not. An attempt killed
before it could report (OOMKilled, deadline, pod lost) still counts its GPU seconds.
"""

from __future__ import annotations

from datetime import datetime

from scribe_contract.termination import ContainerUsage

from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import AttemptRecord, Usage


def gpus_requested(spec: TranscriptionTaskSpec) -> int:
    """The task's ``nvidia.com/gpu`` (limits, else requests; Kubernetes requires them equal); 0 when none."""
    return spec.resources.limits.gpu or spec.resources.requests.gpu or 0


def attempt_usage(
    spec: TranscriptionTaskSpec, record: AttemptRecord, reported: ContainerUsage | None, finished: datetime
) -> Usage | None:
    """The usage of the attempt of ``record`` that ended at ``finished`` (``reported``: what the worker's termination
    message says it used); None when nothing is known."""
    gpus = gpus_requested(spec)
    gpu_seconds = None
    if gpus and record.started_at is not None:
        gpu_seconds = round(gpus * max(0.0, (finished - record.started_at).total_seconds()), 3)
    reported = reported or ContainerUsage()
    usage = Usage(
        cpu_seconds=reported.cpu_seconds, peak_memory_bytes=reported.peak_memory_bytes, gpu_seconds=gpu_seconds
    )
    return None if usage == Usage() else usage


def _add(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else round(a + b, 3)


def add_usage(total: Usage | None, attempt: Usage | None) -> Usage | None:
    """``total`` with ``attempt`` added: CPU and GPU seconds summed, the higher peak memory kept."""
    if attempt is None:
        return total
    if total is None:
        return attempt
    peaks = [p for p in (total.peak_memory_bytes, attempt.peak_memory_bytes) if p is not None]
    return Usage(
        cpu_seconds=_add(total.cpu_seconds, attempt.cpu_seconds),
        peak_memory_bytes=max(peaks) if peaks else None,
        gpu_seconds=_add(total.gpu_seconds, attempt.gpu_seconds),
    )
