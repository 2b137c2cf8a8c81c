"""Shared test setup: the cluster and S3 come from the environment (KUBECONFIG, AWS_*).

Every test under tests/e2e/ and tests/integration/ is marked ``cluster`` (it needs one).

`make test` brings up the embedded local cluster and sources `.cluster/env`; with USE_EXISTING_CLUSTER=1 it uses
whatever cluster KUBECONFIG names instead. Run pytest directly and `.cluster/env` is read if KUBECONFIG is unset.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLUSTER_SUITES = ("e2e", "integration")
"""The folders under tests/ whose every test needs a cluster (marker ``cluster``)."""
sys.path.insert(0, str(REPO))  # `tests.support` and `tests.fixtures` import as packages


def _load_cluster_env() -> None:
    env_file = REPO / ".cluster" / "env"
    if os.environ.get("KUBECONFIG") or not env_file.exists():
        return
    for line in env_file.read_text().splitlines():
        if not line.startswith("export "):
            continue
        key, _, value = line[len("export ") :].partition("=")
        if key == "PATH":
            os.environ["PATH"] = value.strip('"').replace("$PATH", os.environ.get("PATH", ""))
        else:  # what the caller set wins
            os.environ.setdefault(key, shlex.split(value)[0] if value else "")


_load_cluster_env()

pytest_plugins = ["tests.support.fixtures"]


def pytest_itemcollected(item: pytest.Item) -> None:
    folder = item.path.relative_to(REPO / "tests").parts[0]
    if folder in CLUSTER_SUITES:
        item.add_marker(pytest.mark.cluster)
