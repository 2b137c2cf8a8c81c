"""What the benchmark asks the controllers to do: the items of each phase, and the kwok stages that play their pods.

- Tasks are instant: no worker runs. kwok moves each attempt pod Pending -> Running -> Succeeded (exit code 0), or,
  by the task's name (the pod's ``scribe.dev/task`` label), Failed: ``retry-*`` tasks fail attempts 1 and 2 with exit
  code 21 and a retryable ``TranscriptionFailed`` termination message, ``dead-*`` tasks fail every attempt with exit
  code 20 ``InvalidAudio`` (permanent). Retries wait 1 s (``backoff.initialSeconds: 1``).
- Jobs have one pod each (``restartPolicy: Never``, busybox ``true``); kwok's own ``pod-complete`` stage ends it with
  exit code 0.
- The failure mix: of N tasks, 10% ``retry-*``, 5% ``dead-*``, the rest ``ok-*``.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from benchscale.names import (
    DEAD_PREFIX,
    KWOK_SELECTOR,
    KWOK_TAINT,
    KWOK_TOLERATION,
    REPO,
    RETRY_PREFIX,
    TERMINAL_TASK,
    node_name,
)

RETRY_MSG = '{"reason":"TranscriptionFailed","retryable":true,"message":"failure simulated by the benchmark"}'
DEAD_MSG = '{"reason":"InvalidAudio","retryable":false,"message":"failure simulated by the benchmark"}'
KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat/node-heartbeat.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",  # Job-owned pods: Succeeded, exit code 0
    "pod/fast/pod-delete.yaml",
)
"""kwok's own stages, from its module."""


# --- kwok ----------------------------------------------------------------------------------------------------------


def kwok_version() -> str:
    for line in (REPO / "hack" / "versions.env").read_text().splitlines():
        if line.startswith("KWOK_VERSION="):
            return line.split("=", 1)[1].strip()
    raise SystemExit("KWOK_VERSION missing from hack/versions.env")


def kwok_stages(version: str) -> str:
    """kwok's own node and pod stages (from its module, as `make binaries` downloaded it), and the benchmark's stages
    for attempt pods: complete, or fail by the task's name (retry-*: attempts 1 and 2; dead-*: every attempt)."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"sigs.k8s.io/kwok@{version}"],
        capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(), timeout=300,
        env={**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"},
    )  # fmt: skip
    stage = Path(json.loads(out.stdout)["Dir"]) / "kustomize" / "stage"
    task = '(.metadata.labels."scribe.dev/task" // "")'
    attempt = '(.metadata.labels."scribe.dev/attempt" // "")'
    retrying = f'({task} | startswith("{RETRY_PREFIX}")) and ({attempt} | . == "1" or . == "2")'
    dead = f'{task} | startswith("{DEAD_PREFIX}")'
    ours = [
        attempt_stage(
            "scribe-attempt-complete", [(retrying, "false"), (dead, "false")], 0, "Completed", "", "Succeeded"
        ),
        attempt_stage("scribe-attempt-retryable", [(retrying, "true")], 21, "Error", RETRY_MSG, "Failed"),
        attempt_stage("scribe-attempt-permanent", [(dead, "true")], 20, "Error", DEAD_MSG, "Failed"),
    ]
    return "\n---\n".join([*((stage / p).read_text() for p in KWOK_STAGES), *ours])


def attempt_stage(name: str, matches: list[tuple[str, str]], code: int, reason: str, message: str, phase: str) -> str:
    """A kwok Stage that ends a Running attempt pod (owned by a TranscriptionTask) whose ``matches`` (jq expression,
    expected value) all hold: phase ``phase``, its containers terminated with ``code``, ``reason`` and ``message``."""
    exprs = "".join(
        f"    - key: {json.dumps(k)}\n      operator: In\n      values: [{json.dumps(v)}]\n" for k, v in matches
    )
    msg = f"\n            message: {{{{ {json.dumps(message)} | Quote }}}}" if message else ""
    return f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: {name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: [Running]
    - key: '.metadata.ownerReferences.[].kind'
      operator: In
      values: [TranscriptionTask]
{exprs}  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      containerStatuses:
      {{{{ range .spec.containers }}}}
      - image: {{{{ .image | Quote }}}}
        name: {{{{ .name | Quote }}}}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: {code}
            reason: {reason}{msg}
            startedAt: {{{{ $now | Quote }}}}
            finishedAt: {{{{ $now | Quote }}}}
      {{{{ end }}}}
      phase: {phase}
"""


def kwok_node(i: int) -> dict[str, Any]:
    big = {"cpu": "1000", "memory": "100Ti", "pods": "100000"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": node_name(i), "annotations": {"kwok.x-k8s.io/node": "fake"},
            "labels": {**KWOK_SELECTOR, "kubernetes.io/hostname": node_name(i)},
        },
        "spec": {"taints": [dict(KWOK_TAINT)]},
        "status": {"allocatable": big, "capacity": big},
    }  # fmt: skip


# --- items ---------------------------------------------------------------------------------------------------------


def task_manifest(name: str, bucket: str) -> dict[str, Any]:
    return {
        "apiVersion": "scribe.dev/v1alpha1", "kind": "TranscriptionTask", "metadata": {"name": name},
        "spec": {
            "input": f"s3://{bucket}/in.wav",
            # an instant task: the retries of the failure mix wait 1 s, not the default 10 s
            "retryPolicy": {"maxRetries": 3, "backoff": {"initialSeconds": 1, "factor": 1.0, "maxSeconds": 1,
                                                         "jitter": 0.0}},
            "worker": {"nodeSelector": KWOK_SELECTOR, "tolerations": [KWOK_TOLERATION]},
        },
    }  # fmt: skip


def job_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never", "nodeSelector": KWOK_SELECTOR, "tolerations": [KWOK_TOLERATION],
            "containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}],
        }}},
    }  # fmt: skip


def task_outcome(obj: Any) -> str | None:
    """A task's terminal phase, or None while it is not terminal."""
    phase = (obj.get("status") or {}).get("phase")
    return str(phase) if phase in TERMINAL_TASK else None


def job_outcome(job: Any) -> str | None:
    """A Job's terminal condition (Complete or Failed), or None while it has none."""
    for c in (job.status.conditions if job.status else None) or []:
        if c.type in ("Complete", "Failed") and c.status == "True":
            return str(c.type)
    return None


# --- the failure mix -----------------------------------------------------------------------------------------------


def mix_names(n: int) -> list[str]:
    retry, dead = n // 10, n // 20
    return (
        [f"{RETRY_PREFIX}{i}" for i in range(retry)]
        + [f"{DEAD_PREFIX}{i}" for i in range(dead)]
        + [f"ok-{i}" for i in range(n - retry - dead)]
    )


def mix_expected(name: str) -> tuple[str, int]:
    """The (phase, attempt) a task of the failure mix must end in, by its name."""
    if name.startswith(DEAD_PREFIX):
        return ("Dead", 1)
    return ("Succeeded", 3 if name.startswith(RETRY_PREFIX) else 1)


def mix_problems(tasks: list[Any]) -> list[str]:
    """What the failure mix should have produced and did not (empty: all as scripted)."""
    problems = []
    for t in tasks:
        name, status = t.metadata.name, t.get("status") or {}
        want = mix_expected(name)
        got = (status.get("phase"), status.get("attempt"))
        if got != want:
            problems.append(f"{name}: {got}, expected {want}")
    return problems
