"""The node's container runtime: Debian's containerd (CRI plugin) with runc, every path under `.cluster/node/`.

Settings this machine needs (no CAP_SYS_RESOURCE, cgroup v1, no AppArmor): `restrict_oom_score_adj` (else every
sandbox fails with `can't get final child's PID from pipe`), `disable_apparmor`, cgroupfs; the sandbox image is
the locally built pause (`localcluster.node.images`), so nothing is pulled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from .layout import NodeLayout

CNI_BIN = "/usr/lib/cni"
NAMESPACE = "k8s.io"  # the CRI plugin's containerd namespace


def config(layout: NodeLayout, sandbox_image: str) -> str:
    c = layout.containerd
    return f"""version = 2
root = "{c / "root"}"
state = "{c / "state"}"
oom_score = 0

[grpc]
  address = "{layout.containerd_socket}"

[ttrpc]
  address = "{layout.containerd_socket}.ttrpc"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "{c / "opt"}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  enable_selinux = false
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{layout.cni_conf}"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{c / "runc"}"
"""


def ctr(layout: NodeLayout, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ctr", f"--address={layout.containerd_socket}", f"--namespace={NAMESPACE}", *args],
        check=check,
        text=True,
        capture_output=True,
    )


def healthy(layout: NodeLayout) -> bool:
    return ctr(layout, "version", check=False).returncode == 0


def shim_pids(layout: NodeLayout) -> list[int]:
    """The containerd shims this node's containerd started (each names its socket in its argv)."""
    marker = str(layout.containerd_socket).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and marker in argv:
            pids.append(int(entry.name))
    return pids


def kill_shims(layout: NodeLayout) -> None:
    for pid in shim_pids(layout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
