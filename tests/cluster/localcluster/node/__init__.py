"""The local cluster's real node: containerd + runc, the kubelet and kube-proxy, in their own network namespace.

`Node.network_up()` runs before the control plane (the API server and MinIO listen on the host's end of the
node's veth); `Node.up()` after it; `Node.down()` removes every process, mount, cgroup, iptables rule, network
namespace and sysctl the node changed.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from .. import processes
from ..kubeconfig import write_kubeconfig
from . import containerd, kubelet, kubeproxy, mounts
from .images import Images
from .layout import NodeLayout
from .network import NodeNetwork

DAEMONS = ("containerd", "kubelet", "kube-proxy")  # start order; stop is the reverse


class Node:
    def __init__(self, cluster_root: Path, bin_dir: Path, node_name: str) -> None:
        self.layout = NodeLayout(cluster_root / "node")
        self.cluster_root = cluster_root
        self.bin = bin_dir
        self.name = node_name
        self.run_dir = cluster_root / "run"
        self.log_dir = cluster_root / "logs"
        self.pki = cluster_root / "pki"

    @property
    def net(self) -> NodeNetwork:
        return NodeNetwork.load_or_allocate(self.cluster_root, self.layout.network_state)

    @property
    def images(self) -> Images:
        return Images(self.layout, self.bin)

    def _bin(self, name: str) -> str:
        path = self.bin / name
        if not path.exists():
            raise SystemExit(f"{path} is missing: run hack/build-binaries.sh node pause (make binaries) first")
        return str(path)

    def _start(self, name: str, argv: list[str]) -> None:
        processes.start(name, self.net.in_netns(*argv), run_dir=self.run_dir, log_dir=self.log_dir)

    def _wait(self, what: str, check: Callable[[], bool], timeout: float, log: str) -> None:
        processes.wait_for(what, check, timeout, self.log_dir / f"{log}.log")

    # -- up ----------------------------------------------------------------------------------------
    def network_up(self) -> NodeNetwork:
        net = self.net
        net.up()
        return net

    def up(self, server: str, get: Callable[[str], bytes]) -> None:
        """Start containerd, the kubelet and kube-proxy against the API server at `server`; `get(path)` reads
        the API as the admin (to wait for the node to be Ready)."""
        net, lay = self.net, self.layout
        lay.containerd.mkdir(parents=True, exist_ok=True)
        lay.cni_conf.mkdir(parents=True, exist_ok=True)
        (lay.cni_conf / "10-scribe.conflist").write_text(json.dumps(net.cni_config(lay.cni_ipam), indent=2))
        images = self.images
        (lay.containerd / "config.toml").write_text(containerd.config(lay, images.ref("pause")))
        self._start("containerd", ["containerd", f"--config={lay.containerd / 'config.toml'}"])
        self._wait("containerd", lambda: containerd.healthy(lay), 60, "containerd")
        images.load(["pause"])

        kubeconfig = lay.kubelet / "kubeconfig"
        lay.kubelet.mkdir(parents=True, exist_ok=True)
        write_kubeconfig(kubeconfig, server, self.pki, "kubelet")
        cfg = kubelet.write_files(lay, net, self.pki / "ca.crt")
        kubelet.ensure_cgroup_root(net)
        kubelet.save_sysctls(lay)
        fresh = processes.read_pid(self.run_dir / "kubelet.pid") is None
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1)) if fresh else ""
        self._start("kubelet", [
            self._bin("kubelet"), f"--config={cfg}", f"--kubeconfig={kubeconfig}", f"--root-dir={lay.kubelet_root}",
            f"--node-ip={net.node_ip}", f"--hostname-override={self.name}", "--v=1",
        ])  # fmt: skip

        def ready() -> bool:
            node = json.loads(get(f"/api/v1/nodes/{self.name}"))
            return any(
                c["type"] == "Ready" and c["status"] == "True" and c.get("lastHeartbeatTime", "") >= since
                for c in node.get("status", {}).get("conditions", [])
            )

        self._wait("the kubelet (node Ready)", ready, 120, "kubelet")

        proxy_kc = lay.kube_proxy / "kubeconfig"
        lay.kube_proxy.mkdir(parents=True, exist_ok=True)
        write_kubeconfig(proxy_kc, server, self.pki, "kube-proxy")
        proxy_cfg = kubeproxy.write_config(lay, net, proxy_kc, self.name)
        self._start("kube-proxy", [self._bin("kube-proxy"), f"--config={proxy_cfg}", "--v=1"])
        self._wait("kube-proxy", lambda: self._proxy_synced(net), 60, "kube-proxy")

    @staticmethod
    def _proxy_synced(net: NodeNetwork) -> bool:
        """kube-proxy has written the `kubernetes` Service's rules into the node's namespace."""
        return "10.96.0.1/32" in net.iptables("-t", "nat", "-S", "KUBE-SERVICES")

    # -- down --------------------------------------------------------------------------------------
    def down(self) -> None:
        lay = self.layout
        if not lay.network_state.exists():
            return  # this cluster never had a node
        net = self.net
        processes.stop("kube-proxy", run_dir=self.run_dir)
        processes.stop("kubelet", run_dir=self.run_dir)
        kubelet.remove_cgroup_root(net)  # every container (pause included)
        containerd.kill_shims(lay)
        processes.stop("containerd", run_dir=self.run_dir)
        mounts.unmount_all(lay.root)
        for path in self._host_files(net):
            path.unlink(missing_ok=True)
        kubelet.restore_sysctls(lay)

    def _host_files(self, net: NodeNetwork) -> list[Path]:
        """Files the node writes outside `.cluster/`: the kubelet's links in /var/log/containers (to this node's
        pod logs) and libcni's cached results in /var/lib/cni/results (named after this node's network, or after
        one of its sandboxes for the loopback network)."""
        found = []
        with contextlib.suppress(OSError):
            for link in Path("/var/log/containers").iterdir():
                if link.is_symlink() and str(link.readlink()).startswith(str(self.layout.root)):
                    found.append(link)
        found += Path("/var/lib/cni/results").glob(f"scribe-{net.key}-*")
        sandboxes = self.layout.containerd / "root" / "io.containerd.grpc.v1.cri" / "sandboxes"
        if sandboxes.is_dir():
            for sandbox in sandboxes.iterdir():
                found += Path("/var/lib/cni/results").glob(f"cni-loopback-{sandbox.name}-*")
        return found

    def network_down(self) -> None:
        """After the control plane stopped (it listens on the node's veth): delete the node's network."""
        if self.layout.network_state.exists():
            self.net.down()

    def leftovers(self) -> list[str]:
        """What `down` should have removed but did not (for `localcluster check-clean`)."""
        lay = self.layout
        if not lay.network_state.exists():
            return []
        net, left = self.net, []
        left += [f"process {n}" for n in DAEMONS if processes.read_pid(self.run_dir / f"{n}.pid") is not None]
        left += [f"shim {pid}" for pid in containerd.shim_pids(lay)]
        left += [f"mount {p}" for p in mounts.under(lay.root)]
        if net.exists():
            left.append(f"network namespace {net.netns}")
        if Path(f"/sys/class/net/{net.host_veth}").exists():
            left.append(f"interface {net.host_veth}")
        left += [f"cgroup {p}" for p in kubelet.cgroup_dirs(net)]
        left += [f"file {p}" for p in self._host_files(net)]
        if lay.sysctls.exists():
            left.append(f"sysctls not restored ({lay.sysctls})")
        return left
