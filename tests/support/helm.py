"""The `helm` binary for chart tests: on PATH (`source .cluster/env`) or built into the cache by `make binaries`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "scribe-operator"


def helm_binary() -> str:
    """Path of helm; fails the test with what to do when there is none."""
    cache_dir = Path(os.environ.get("SCRIBE_CACHE", Path.home() / ".cache" / "scribe-operator"))
    for candidate in (shutil.which("helm"), cache_dir / "bin" / "helm"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.fail(
        f"helm not found on PATH nor in {cache_dir}/bin: run `make binaries` (builds it) or `source .cluster/env`"
    )


def run_helm(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run helm; with `check`, fail showing its stderr when it exits non-zero."""
    proc = subprocess.run([helm_binary(), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc
