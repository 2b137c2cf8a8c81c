"""What this container has used so far, read from its own cgroup: CPU seconds and peak memory bytes.

Read once, at the end of the attempt, and reported in the termination message (``usage``), from which the operator
sums the cost of a task over its attempts. The worker's own cgroup is the container's (the kubelet and the runtime
account every process of the container in it), so the numbers are exactly this attempt's, need no access to the
node (no kubelet stats endpoint, no metrics server, no RBAC) and are known when the attempt ends; the node's stats
are sampled, vanish with the pod, and would have to be fetched by the operator from every node.

Both cgroup versions: v1 (``cpuacct.usage`` in nanoseconds, ``memory.max_usage_in_bytes``) and v2 (``cpu.stat``'s
``usage_usec``, ``memory.peak``, Linux 5.19+). A value that cannot be read is None: usage is best effort and never
fails an attempt.
"""

from __future__ import annotations

from pathlib import Path

from scribe_contract.termination import ContainerUsage

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
V1_CPU_MOUNTS = ("cpuacct", "cpu,cpuacct", "cpuacct,cpu")


def _memberships(proc_cgroup: Path) -> dict[str, str]:
    """Controller (``cpuacct``, ``memory``; ``""`` for the v2 unified hierarchy) -> the cgroup's path."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return {}
    found: dict[str, str] = {}
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for name in controllers.split(",") if controllers else [""]:
            found.setdefault(name, path)
        if controllers:
            found.setdefault(controllers, path)  # the mount point's name: cpu,cpuacct
    return found


def _dirs(root: Path, mounts: tuple[str, ...], path: str) -> list[Path]:
    """Where the cgroup's files may be: the mount plus the path (the host's view), or the mount itself (inside a
    container the runtime mounts the container's own cgroup there)."""
    dirs: list[Path] = []
    for mount in mounts:
        base = root / mount if mount else root
        dirs += [base / path.lstrip("/"), base]
    return dirs


def _read(dirs: list[Path], name: str) -> str | None:
    for directory in dirs:
        try:
            return (directory / name).read_text()
        except OSError:
            continue
    return None


def _int(text: str | None) -> int | None:
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _usage_usec(text: str | None) -> int | None:
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return _int(value)
    return None


def read(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> ContainerUsage:
    """The container's usage from its cgroup: v1 when its controllers are mounted (a hybrid host's unified
    hierarchy is not the container's), else v2."""
    groups = _memberships(proc_cgroup)
    if "cpuacct" in groups or "memory" in groups:
        cpu_dirs = _dirs(root, V1_CPU_MOUNTS, groups.get("cpuacct", "/"))
        nanos = _int(_read(cpu_dirs, "cpuacct.usage")) if "cpuacct" in groups else None
        cpu = None if nanos is None else nanos / 1e9
        memory_dirs = _dirs(root, ("memory",), groups.get("memory", "/"))
        memory = _int(_read(memory_dirs, "memory.max_usage_in_bytes")) if "memory" in groups else None
    else:
        unified = _dirs(root, ("",), groups.get("", "/"))
        micros = _usage_usec(_read(unified, "cpu.stat"))
        cpu = None if micros is None else micros / 1e6
        memory = _int(_read(unified, "memory.peak"))
    return ContainerUsage(cpu_seconds=None if cpu is None else round(cpu, 3), peak_memory_bytes=memory)
