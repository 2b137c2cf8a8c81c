"""The scale benchmark (hack/benchscale, `make bench-scale`) runs end to end at N = 50, so it cannot rot.

Its numbers are not checked (a benchmark prints them; this machine's speed is no test's business). What is checked is
what it must get right to mean anything: every task and Job reached a terminal state, the failure mix came out as
kwok's stages scripted it (retried tasks Succeeded at attempt 3, the others Dead at attempt 1; the benchmark exits
non-zero otherwise), and the table names every phase and the restart. Its operator watches only the benchmark's
namespaces here, so it never meets this session's tasks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.local_operator

REPO = Path(__file__).resolve().parents[2]


def test_the_scale_benchmark_runs_every_phase_at_n_50() -> None:
    if not os.environ.get("KUBECONFIG"):
        pytest.fail("KUBECONFIG is not set: run `make cluster-up` and `source .cluster/env`")
    run = subprocess.run(
        [sys.executable, str(REPO / "hack" / "benchscale"), "--n", "50", "--own-namespaces"],
        capture_output=True, text=True, timeout=540, cwd=REPO, check=False,
    )  # fmt: skip
    assert run.returncode == 0, f"the benchmark failed (exit {run.returncode}):\n{run.stdout}\n{run.stderr[-4000:]}"
    table = run.stdout
    for phase in ("tasks", "jobs", "jobs-qps100", "mix"):
        assert phase in table, f"no {phase} column in:\n{table}"
    assert "items terminal" in table and "50/50" in table, table
    assert "restart holding 100 finished tasks" in table, table
