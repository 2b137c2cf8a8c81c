"""The node's network: its own network namespace, joined to the host by one veth pair, with the pods on a bridge
inside it. Everything is named after a hash of the cluster directory, so two local clusters on one machine never
share a name, an address, an iptables rule or a route.

    host                                   netns scribe-<key> (containerd, kubelet, kube-proxy, every pod)
    scr<key> 10.250.N.1/30  <-- veth -->   node0 10.250.N.2/30 (the node's InternalIP)
    (API server, MinIO listen here)        cni0  10.250.N.129/25 (bridge CNI), pods 10.250.N.130-254

The namespace has no default route (an `unreachable` one instead) and a FORWARD chain that rejects whatever a pod
sends beyond 10.250.N.0/24, so no pod traffic leaves the host; the host itself forwards nothing (its
`ip_forward` stays as it is). Its iptables rules (kube-proxy's, the kubelet's, ours) live and die with the
namespace, so deleting it is the whole network teardown.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

EGRESS_CHAIN = "SCRIBE-EGRESS"


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), check=check, text=True, capture_output=True)


def _used_subnets() -> set[int]:
    """Third octets of 10.250.x.y addresses and routes the host already has."""
    out = run("ip", "-4", "-o", "route", "show", "table", "all").stdout + run("ip", "-4", "-o", "addr").stdout
    used = set()
    for word in out.split():
        if word.startswith("10.250."):
            used.add(int(word.split(".")[2]))
    return used


@dataclass(frozen=True)
class NodeNetwork:
    key: str
    subnet: int  # N in 10.250.N.0/24

    @property
    def netns(self) -> str:
        return f"scribe-{self.key}"

    @property
    def host_veth(self) -> str:
        return f"scr{self.key}"

    node_veth = "node0"
    bridge = "cni0"

    def _ip(self, last: int) -> str:
        return f"10.250.{self.subnet}.{last}"

    def _block(self, first: int, prefix: int) -> str:
        """The block of the node's 10.250.N.0/24 that starts at 10.250.N.``first``, in CIDR notation."""
        return f"{self._ip(first)}/{prefix}"

    @property
    def host_ip(self) -> str:
        """The host's address on the node's link: the API server and MinIO listen here."""
        return self._ip(1)

    @property
    def node_ip(self) -> str:
        return self._ip(2)

    @property
    def cidr(self) -> str:
        return self._block(0, 24)

    @property
    def pod_cidr(self) -> str:
        return self._block(128, 25)

    @classmethod
    def load_or_allocate(cls, cluster_root: Path, state_file: Path) -> NodeNetwork:
        if state_file.exists():
            raw = json.loads(state_file.read_text())
            return cls(raw["key"], int(raw["subnet"]))
        key = hashlib.sha256(str(cluster_root.resolve()).encode()).hexdigest()[:8]
        used = _used_subnets()
        start = int(key, 16) % 200 + 20
        subnet = next((n % 254 + 1 for n in range(start, start + 254) if n % 254 + 1 not in used), None)
        if subnet is None:
            raise RuntimeError("no free 10.250.N.0/24 for the local cluster's node")
        state_file.parent.mkdir(parents=True, exist_ok=True)
        state_file.write_text(json.dumps({"key": key, "subnet": subnet}))
        return cls(key, subnet)

    # -- commands inside the namespace -------------------------------------------------------------
    def in_netns(self, *argv: str) -> list[str]:
        """`argv` run in the node's network namespace (and the host's mount namespace: the kubelet's and
        containerd's mounts must see each other)."""
        return ["nsenter", f"--net=/run/netns/{self.netns}", "--", *argv]

    def _ns(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.netns, *argv, check=check)

    def iptables(self, *args: str) -> str:
        """`iptables ARGS` in the node's namespace; its output ('' when it fails)."""
        return self._ns("iptables", *args, check=False).stdout

    def exists(self) -> bool:
        return self.netns in run("ip", "netns", "list").stdout.split()

    # -- up / down ---------------------------------------------------------------------------------
    def up(self) -> None:
        """Create the namespace, the veth pair, addresses, routes and the egress guard (idempotent)."""
        if not self.exists():
            run("ip", "netns", "add", self.netns)
        if run("ip", "link", "show", self.host_veth, check=False).returncode != 0:
            run("ip", "link", "add", self.host_veth, "type", "veth", "peer", "name", self.node_veth,
                "netns", self.netns)  # fmt: skip
        run("ip", "addr", "replace", f"{self.host_ip}/30", "dev", self.host_veth)
        run("ip", "link", "set", self.host_veth, "up")
        run("ip", "route", "replace", self.pod_cidr, "via", self.node_ip, "dev", self.host_veth)
        self._ns("ip", "link", "set", "lo", "up")
        self._ns("ip", "addr", "replace", f"{self.node_ip}/30", "dev", self.node_veth)
        self._ns("ip", "link", "set", self.node_veth, "up")
        self._ns("ip", "route", "replace", "unreachable", "default")
        self._ns("sysctl", "-qw", "net.ipv4.ip_forward=1")  # this namespace's own copy
        self._egress_guard()

    def _egress_guard(self) -> None:
        if self._ns("iptables", "-nL", EGRESS_CHAIN, check=False).returncode == 0:
            return
        self._ns("iptables", "-N", EGRESS_CHAIN)
        self._ns("iptables", "-A", EGRESS_CHAIN, "-d", self.cidr, "-j", "RETURN")
        self._ns("iptables", "-A", EGRESS_CHAIN, "-j", "REJECT", "--reject-with", "icmp-net-unreachable")
        self._ns("iptables", "-I", "FORWARD", "1", "-j", EGRESS_CHAIN)

    def down(self) -> None:
        """Delete the namespace: its veth (and so the host's end and route), bridge and iptables go with it."""
        run("ip", "link", "del", self.host_veth, check=False)
        if self.exists():
            run("ip", "netns", "del", self.netns)

    def cni_config(self, ipam_dir: Path) -> dict[str, object]:
        net = ipaddress.ip_network(self.pod_cidr)
        return {
            "cniVersion": "1.0.0",
            "name": self.netns,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "dataDir": str(ipam_dir),
                        "ranges": [[{"subnet": self.pod_cidr, "gateway": str(net.network_address + 1)}]],
                        "routes": [{"dst": "0.0.0.0/0"}],
                    },
                },
            ],
        }
