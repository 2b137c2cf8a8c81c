"""The node's kubelet: config for this machine (cgroup v1, cgroupfs, no swap check, small disk), a client
certificate for `system:node:<name>` (Node authorizer), its own cgroup root, and the kernel sysctls it sets
recorded first so that `cluster-down` puts them back."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import yaml

from .. import cgroups
from .layout import NodeLayout
from .network import NodeNetwork

# what the kubelet writes at start (protectKernelDefaults: false); restored on `cluster-down`
KERNEL_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
CGROUP_MOUNT = Path("/sys/fs/cgroup")


def config(layout: NodeLayout, net: NodeNetwork, ca: Path) -> dict[str, object]:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": net.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": net.node_ip,
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca)},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{layout.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root(net),
        "failCgroupV1": False,
        "failSwapOn": False,
        "podLogsDir": str(layout.pod_logs),
        "resolvConf": str(layout.kubelet / "resolv.conf"),
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
        },
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "registerNode": True,
        "syncFrequency": "10s",
        "fileCheckFrequency": "20s",
        "nodeStatusUpdateFrequency": "5s",
        "shutdownGracePeriod": "0s",
        "localStorageCapacityIsolation": True,
    }


def write_files(layout: NodeLayout, net: NodeNetwork, ca: Path) -> Path:
    layout.kubelet.mkdir(parents=True, exist_ok=True)
    # pods resolve nothing: the node has no DNS and no route beyond the host (their own loopback only)
    (layout.kubelet / "resolv.conf").write_text("nameserver 127.0.0.1\n")
    path = layout.kubelet / "config.yaml"
    path.write_text(yaml.safe_dump(config(layout, net, ca), sort_keys=False))
    return path


def cgroup_root(net: NodeNetwork) -> str:
    return f"/scribe-{net.key}"


def _hierarchies() -> list[Path]:
    if (CGROUP_MOUNT / "cgroup.controllers").exists():  # cgroup v2
        return [CGROUP_MOUNT]
    return [p for p in CGROUP_MOUNT.iterdir() if p.is_dir() and not p.is_symlink() and p.name != "unified"]


def ensure_cgroup_root(net: NodeNetwork) -> None:
    """The kubelet wants its --cgroup-root to exist in every hierarchy (cpuset's needs its cpus and mems)."""
    name = cgroup_root(net).lstrip("/")
    for h in _hierarchies():
        d = h / name
        d.mkdir(exist_ok=True)
        for f in ("cpuset.cpus", "cpuset.mems"):
            if (h / f).exists() and not (d / f).read_text().strip():
                (d / f).write_text((h / f).read_text())
        if h == CGROUP_MOUNT and (h / "cgroup.subtree_control").exists():
            with contextlib.suppress(OSError):
                (d / "cgroup.subtree_control").write_text("+cpu +memory +pids")


def cgroup_dirs(net: NodeNetwork) -> list[Path]:
    return [d for h in _hierarchies() if (d := h / cgroup_root(net).lstrip("/")).exists()]


def remove_cgroup_root(net: NodeNetwork) -> None:
    """Kill whatever is left in the kubelet's cgroups (containers) and remove them."""
    for h in _hierarchies():
        cgroups.kill_all(h / cgroup_root(net).lstrip("/"))


def save_sysctls(layout: NodeLayout) -> None:
    if layout.sysctls.exists():  # recorded at the first start: keep the machine's values, not the kubelet's
        return
    values = {}
    for key in KERNEL_SYSCTLS:
        with contextlib.suppress(OSError):
            values[key] = (Path("/proc/sys") / key).read_text().strip()
    layout.sysctls.write_text(json.dumps(values, indent=2))


def restore_sysctls(layout: NodeLayout) -> None:
    if not layout.sysctls.exists():
        return
    for key, value in json.loads(layout.sysctls.read_text()).items():
        with contextlib.suppress(OSError):
            (Path("/proc/sys") / key).write_text(value)
    layout.sysctls.unlink()
