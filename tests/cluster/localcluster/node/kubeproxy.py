"""kube-proxy in iptables mode inside the node's network namespace: it gives pods the `kubernetes` Service
(10.96.0.1:443 -> the API server on the host's end of the veth). It touches no global conntrack setting."""

from __future__ import annotations

from pathlib import Path

import yaml

from .layout import NodeLayout
from .network import NodeNetwork


def write_config(layout: NodeLayout, net: NodeNetwork, kubeconfig: Path, node_name: str) -> Path:
    cfg = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "mode": "iptables",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": node_name,
        "bindAddress": net.node_ip,
        "clusterCIDR": net.pod_cidr,
        "healthzBindAddress": f"{net.node_ip}:10256",
        "metricsBindAddress": f"{net.node_ip}:10249",
        "nodePortAddresses": [f"{net.node_ip}/32"],
        "iptables": {"localhostNodePorts": False, "masqueradeAll": False},
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
    }
    layout.kube_proxy.mkdir(parents=True, exist_ok=True)
    path = layout.kube_proxy / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
