"""Runs inside `unshare --mount`: joins the container's cgroup, bind-mounts its volumes, then execs it.

Usage: python -m localcluster.podrunner.launch SPEC.json
SPEC: argv, env, cwd, cgroup, mounts [[src, dst]], keep [host paths the container's command needs: the repository,
the Python environment, the tool cache] — a volume mounted over one of their parents (an emptyDir at /tmp while the
checkout lives under /tmp) must not hide them, so they are bound back inside it.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from pathlib import Path

MS_BIND = 4096
_libc = ctypes.CDLL(None, use_errno=True)


def bind(fd: int, target: Path) -> None:
    """Bind-mount what `fd` refers to onto `target` with mount(2) itself: mount(8) would canonicalize the
    /proc/self/fd path back to a path name, which a volume mounted before may now shadow."""
    if _libc.mount(f"/proc/self/fd/{fd}".encode(), str(target).encode(), None, MS_BIND, None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"bind mount onto {target}: {os.strerror(err)}")


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    if spec.get("cgroup"):
        Path(spec["cgroup"], "cgroup.procs").write_text(str(os.getpid()))
    # Hold every source open before mounting anything: a mount over e.g. /tmp must not hide the sources of later
    # mounts (the pod runner's state may live under /tmp). Mount parents before children, as the kubelet does.
    held = [(os.open(src, os.O_PATH), Path(src).is_dir(), Path(dst)) for src, dst in spec["mounts"]]
    targets = [t for _, _, t in held]
    keep = [
        (os.open(path, os.O_PATH), Path(path))
        for path in spec.get("keep", [])
        if Path(path).is_dir() and any(Path(path).is_relative_to(t) for t in targets)
    ]
    for fd, is_dir, target in sorted(held, key=lambda m: len(m[2].parts)):
        if is_dir:
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch(exist_ok=True)
        bind(fd, target)
        os.close(fd)
    for fd, path in keep:  # shadowed by a volume: bind it back at its own path
        path.mkdir(parents=True, exist_ok=True)
        bind(fd, path)
        os.close(fd)
    cwd = spec.get("cwd") or "/"
    os.chdir(cwd)
    argv = spec["argv"]
    try:
        os.execvpe(argv[0], argv, spec["env"])
    except OSError as exc:  # as a runtime reports a missing executable
        print(f"exec {argv[0]!r} failed: {exc}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main()
