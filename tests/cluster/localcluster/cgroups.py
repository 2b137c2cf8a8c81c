"""Memory cgroups for the pod runner's containers, so a memory limit is a real OOM kill (cgroup v1 or v2)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MOUNT = Path("/sys/fs/cgroup")


def _v2() -> bool:
    return (MOUNT / "cgroup.controllers").exists()


def _own_path(controller: str) -> str:
    """This process's cgroup path for `controller` (v1) or the unified hierarchy (v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller == "" and controllers == "") or controller in controllers.split(","):
            return path
    return "/"


def root_for(state_dir: Path) -> Path:
    """The cgroup under which the pod runner keeping its state in `state_dir` puts every container.

    Keyed by the state directory, so two local clusters on one machine (a checkout and a CI clone) never
    touch each other's containers.
    """
    name = "scribe-podrunner-" + hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    if _v2():
        return MOUNT / _own_path("").lstrip("/") / name
    return MOUNT / "memory" / _own_path("memory").lstrip("/") / name


@dataclass(frozen=True)
class ContainerCgroup:
    path: Path

    @classmethod
    def create(cls, root: Path, name: str, memory_limit: int | None) -> ContainerCgroup:
        if _v2() and not root.exists():
            root.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(OSError):
                (root.parent / "cgroup.subtree_control").write_text("+memory")
            with contextlib.suppress(OSError):
                (root / "cgroup.subtree_control").write_text("+memory")
        path = root / name
        path.mkdir(parents=True, exist_ok=True)
        if memory_limit is not None:
            if _v2():
                (path / "memory.max").write_text(str(memory_limit))
                with contextlib.suppress(OSError):
                    (path / "memory.swap.max").write_text("0")
            else:
                (path / "memory.limit_in_bytes").write_text(str(memory_limit))
                with contextlib.suppress(OSError):
                    (path / "memory.memsw.limit_in_bytes").write_text(str(memory_limit))
        return cls(path)

    def oom_killed(self) -> bool:
        """True once the kernel's OOM killer fired inside this cgroup."""
        name = "memory.events" if _v2() else "memory.oom_control"
        with contextlib.suppress(OSError):
            for line in (self.path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        return False

    def pids(self) -> list[int]:
        with contextlib.suppress(OSError):
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        return []

    def remove(self) -> None:
        kill_all(self.path)


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
