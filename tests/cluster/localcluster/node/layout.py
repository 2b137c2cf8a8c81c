"""Where the node keeps its state: `.cluster/node/`, one directory per component."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class NodeLayout:
    root: Path  # .cluster/node

    @property
    def network_state(self) -> Path:
        return self.root / "network.json"

    @property
    def containerd(self) -> Path:
        return self.root / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd / "containerd.sock"

    @property
    def cni_conf(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def cni_ipam(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def kubelet(self) -> Path:
        return self.root / "kubelet"

    @property
    def kubelet_root(self) -> Path:
        """The kubelet's --root-dir (pods' volumes are mounted below it)."""
        return self.kubelet / "root"

    @property
    def pod_logs(self) -> Path:
        """The kubelet's podLogsDir: <namespace>_<pod>_<uid>/<container>/<restart>.log, as /var/log/pods."""
        return self.root / "pod-logs"

    @property
    def kube_proxy(self) -> Path:
        return self.root / "kube-proxy"

    @property
    def sysctls(self) -> Path:
        return self.root / "sysctls.json"
