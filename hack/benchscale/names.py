"""Who is who in a benchmark run: the users the API server's audit log tells apart, the kwok nodes and how the
benchmark's pods select and tolerate them, and the names of the failure mix.

Every request of the run is attributed by its user: the operator and kwok authenticate with client certificates of
their own (``OPERATOR_USER``, ``KWOK_USER``), the benchmark itself as the cluster's admin, the Job controller as its
service account (kube-controller-manager uses one per controller).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[2]

OPERATOR_USER: Final = "scribe-bench-operator"
KWOK_USER: Final = "scribe-bench-kwok"
ADMIN_USER: Final = "kubernetes-admin"
JOB_CONTROLLER: Final = "system:serviceaccount:kube-system:job-controller"
FIELD_MANAGER: Final = "scribe-bench"

NODES: Final = 4
"""kwok nodes, ``kwok-bench-0`` .. ``kwok-bench-3``."""
KWOK_SELECTOR: Final = {"type": "kwok"}
KWOK_TAINT: Final = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
KWOK_TOLERATION: Final = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}

BENCH_LABEL: Final = {"scribe.dev/bench": "true"}
"""On every namespace a run creates: what a later run finds and deletes if this one was killed."""

PHASES: Final = ("tasks", "jobs", "jobs-qps100", "mix")
"""The phases that create items, each in a namespace of its own."""

RETRY_PREFIX: Final = "retry-"
"""Tasks of the failure mix whose attempts 1 and 2 fail, retryable: Succeeded at attempt 3."""
DEAD_PREFIX: Final = "dead-"
"""Tasks of the failure mix whose every attempt fails permanently: Dead at attempt 1."""
TERMINAL_TASK: Final = ("Succeeded", "Dead")


def node_name(i: int) -> str:
    return f"kwok-bench-{i}"
