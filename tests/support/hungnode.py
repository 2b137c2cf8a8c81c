"""A node whose kubelet has hung: the test plays that kubelet.

It registers a Node (Ready, Lease renewed, tainted so only pods that tolerate the taint land there) and reports
every pod bound to it as Running, then does nothing more: it never runs a container, never enforces
``activeDeadlineSeconds`` and never confirms a deletion, as a kubelet does whose node froze after starting a pod.
Only the operator's own watchdog can end such an attempt. Nothing here needs the local cluster: on any cluster the
node is just an API object no real kubelet serves.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.core_v1 import NodeSpec, Taint
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Node, NodeStatus, Pod, PodStatus
from lightkube.types import PatchType

from .wait import wait_for

TAINT_KEY = "scribe.dev/hung-kubelet"
NODE_LABEL = "scribe.dev/test-node"
TICK_SECONDS = 1.0


def _stamp(micro: bool = False) -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def _node_status() -> dict[str, Any]:
    t = _stamp()
    ready = {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": t}
    capacity = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "50Gi"}
    return {
        "conditions": [{**ready, "lastTransitionTime": t}],
        "capacity": capacity,
        "allocatable": capacity,
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
    }


def _running_status(pod: Pod) -> dict[str, Any]:
    started = _stamp()
    assert pod.spec is not None
    containers = [
        {
            "name": c.name,
            "image": c.image,
            "imageID": "",
            "ready": True,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": started}},
        }
        for c in pod.spec.containers
    ]
    conditions = [{"type": kind, "status": "True", "lastTransitionTime": started} for kind in ("Initialized", "Ready")]
    return {
        "phase": "Running",
        "startTime": started,
        "hostIP": "127.0.0.1",
        "conditions": conditions,
        "containerStatuses": containers,
    }


class HungNode:
    """The node and its kubelet's one act: every pod bound to it is reported Running (in the API only)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kube = Client(field_manager="scribe-hung-kubelet")  # its own connection, off the test's thread
        self.stop = threading.Event()
        self.started: set[str] = set()
        self.thread = threading.Thread(target=self.run, name=f"hung-kubelet-{name}", daemon=True)

    @property
    def toleration(self) -> dict[str, str]:
        """What a pod spec needs to be scheduled here (with ``node_selector``)."""
        return {"key": TAINT_KEY, "operator": "Equal", "value": self.name, "effect": "NoSchedule"}

    @property
    def node_selector(self) -> dict[str, str]:
        return {NODE_LABEL: self.name}

    @property
    def worker(self) -> dict[str, Any]:
        """A task's ``spec.worker`` that pins its pods to this node."""
        return {"nodeSelector": self.node_selector, "tolerations": [self.toleration]}

    def register(self) -> None:
        labels = {"kubernetes.io/hostname": self.name, NODE_LABEL: self.name}
        taint = Taint(key=TAINT_KEY, value=self.name, effect="NoSchedule")
        self.kube.create(Node(metadata=ObjectMeta(name=self.name, labels=labels), spec=NodeSpec(taints=[taint])))
        self.heartbeat()

    def heartbeat(self) -> None:
        self.kube.patch(NodeStatus, self.name, {"status": _node_status()}, patch_type=PatchType.MERGE)
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": self.name, "leaseDurationSeconds": 40, "renewTime": _stamp(micro=True)},
        }
        self.kube.patch(
            Lease, self.name, lease, namespace="kube-node-lease", patch_type=PatchType.APPLY,
            field_manager="scribe-hung-kubelet", force=True,
        )  # fmt: skip

    def pods(self) -> list[Pod]:
        return list(self.kube.list(Pod, namespace="*", fields={"spec.nodeName": self.name}))

    def start_new_pods(self) -> None:
        for pod in self.pods():
            assert pod.metadata is not None and pod.metadata.name is not None
            key = f"{pod.metadata.namespace}/{pod.metadata.name}/{pod.metadata.uid}"
            if key in self.started or pod.metadata.deletionTimestamp is not None:
                continue
            self.kube.patch(
                PodStatus, pod.metadata.name, {"status": _running_status(pod)},
                namespace=pod.metadata.namespace, patch_type=PatchType.MERGE,
            )  # fmt: skip
            self.started.add(key)

    def run(self) -> None:
        while not self.stop.wait(TICK_SECONDS):
            with suppress(ApiError):
                self.heartbeat()
                self.start_new_pods()

    def vanish(self) -> None:
        """The node is gone: its kubelet stops and the Node is deleted (its pods stay, for the pod GC to find)."""
        self.stop.set()
        self.thread.join(timeout=10)
        with suppress(ApiError):
            self.kube.delete(Lease, self.name, namespace="kube-node-lease")
        with suppress(ApiError):
            self.kube.delete(Node, self.name)

    def remove(self) -> None:
        """Force-delete what the hung kubelet would never confirm, then the node and its Lease."""
        for pod in self.pods():
            assert pod.metadata is not None and pod.metadata.name is not None
            with suppress(ApiError):
                self.kube.delete(Pod, pod.metadata.name, namespace=pod.metadata.namespace, grace_period=0)
        self.vanish()


def _schedulable(kube: Client, name: str) -> bool:
    """Ready, and the node lifecycle controller has lifted the not-ready taint a new node starts with."""
    node = kube.get(Node, name)
    taints = (node.spec.taints if node.spec is not None else None) or []
    return not any(t.key.startswith("node.kubernetes.io/") for t in taints)


@contextmanager
def hung_node(kube: Client, name: str) -> Iterator[HungNode]:
    """A schedulable node named ``name`` whose kubelet reports pods Running and then never acts again."""
    node = HungNode(name)
    node.register()
    node.thread.start()
    try:
        wait_for(f"node {name} to be schedulable", lambda: _schedulable(kube, name), timeout=60)
        yield node
    finally:
        node.remove()
