"""The mounts the node leaves on the host's mount namespace (kubelet volumes, containerd's overlay and shm
mounts, pods' network-namespace files): found in /proc/self/mountinfo under the node's directory."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape") if "\\" in field else field


def under(root: Path) -> list[Path]:
    """Mount points at or below `root`, deepest first."""
    prefix = str(root.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = _unescape(line.split()[4])
        if point == prefix or point.startswith(prefix + "/"):
            points.append(Path(point))
    return sorted(set(points), key=lambda p: len(p.parts), reverse=True)


def unmount_all(root: Path) -> None:
    for _ in range(3):  # a mount may be stacked several times
        points = under(root)
        if not points:
            return
        for point in points:
            if subprocess.run(["umount", str(point)], capture_output=True, check=False).returncode != 0:
                subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
