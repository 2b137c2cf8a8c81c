"""hack/bench.py (`make bench`): its cluster-free section runs, so its imports follow the operator's modules."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def test_the_core_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("bench_script", REPO / "hack" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.bench_core(5)
    out = capsys.readouterr().out
    for metric in ("core.reconcile_us_per_call", "core.lifecycles_per_second", "core.status_bytes_per_task"):
        assert metric in out, out
