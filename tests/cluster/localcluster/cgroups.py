"""Removing a cgroup tree: what `cluster-down` does with the kubelet's cgroups (cgroup v1 or v2)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def kill_all(path: Path) -> None:
    """SIGKILL every process in the cgroup tree at `path` and remove the cgroups (deepest first)."""
    if not path.exists():
        return
    dirs = sorted((p for p in [path, *path.rglob("*")] if p.is_dir()), key=lambda p: len(p.parts), reverse=True)
    for _ in range(50):
        pids = []
        for d in dirs:
            with contextlib.suppress(OSError):
                pids += [int(p) for p in (d / "cgroup.procs").read_text().split()]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)
    for d in dirs:
        with contextlib.suppress(OSError):
            d.rmdir()
