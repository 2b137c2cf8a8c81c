"""Where the local cluster keeps its state: `.cluster/` in the repository, binaries in the user's cache."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
NODE_NAME = "scribe-local-node"


def cache_dir() -> Path:
    base = os.environ.get("SCRIBE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "scribe-operator"
    )
    return Path(base)


@dataclass(frozen=True)
class ClusterPaths:
    root: Path

    @classmethod
    def default(cls) -> ClusterPaths:
        return cls(Path(os.environ.get("SCRIBE_CLUSTER_DIR", REPO / ".cluster")).resolve())

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def env(self) -> Path:
        return self.root / "env"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def bin(self) -> Path:
        return cache_dir() / "bin"
