"""The runner's Node: registered with real capacity, Ready, its Lease and heartbeat kept fresh."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import platform
from pathlib import Path
from typing import Any

from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import Node, NodeStatus
from lightkube.types import PatchType

from .container import now, stamp

log = logging.getLogger("podrunner.node")
LEASE_SECONDS, RENEW_EVERY, HEARTBEAT_EVERY = 40, 10.0, 30.0


def _capacity() -> dict[str, str]:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    return {
        "cpu": str(os.cpu_count() or 1),
        "memory": f"{mem_kib}Ki",
        "pods": "110",
        "ephemeral-storage": "50Gi",
    }


def _status(version: str) -> dict[str, Any]:
    t = stamp(now())
    ready = {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "pod runner is ready"}
    conditions = [
        {"type": kind, "status": "False", "reason": f"KubeletHas{reason}", "message": reason}
        for kind, reason in (
            ("MemoryPressure", "SufficientMemory"),
            ("DiskPressure", "NoDiskPressure"),
            ("PIDPressure", "SufficientPID"),
        )
    ] + [ready]
    for c in conditions:
        c["lastHeartbeatTime"] = t
        c["lastTransitionTime"] = t
    uname = platform.uname()
    return {
        "capacity": _capacity(),
        "allocatable": _capacity(),
        "conditions": conditions,
        "addresses": [
            {"type": "InternalIP", "address": "127.0.0.1"},
            {"type": "Hostname", "address": uname.node},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": "scribe-podrunner",
            "systemUUID": "scribe-podrunner",
            "bootID": "scribe-podrunner",
            "kernelVersion": uname.release,
            "osImage": "scribe pod runner (local processes)",
            "containerRuntimeVersion": "podrunner://0.1.0",
            "kubeletVersion": version,
            "kubeProxyVersion": version,
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
    }


async def register(client: AsyncClient, name: str, version: str) -> str:
    """Create (or adopt) the Node and mark it Ready; returns its uid."""
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "scribe.dev/pod-runner": "true",
    }
    try:
        node = await client.create(Node(metadata=ObjectMeta(name=name, labels=labels)))
    except ApiError as exc:
        if exc.status.code != 409:
            raise
        node = await client.get(Node, name)
    await client.patch(NodeStatus, name, {"status": _status(version)}, patch_type=PatchType.MERGE)
    assert node.metadata is not None and node.metadata.uid is not None
    return node.metadata.uid


async def keep_alive(client: AsyncClient, name: str, uid: str, version: str) -> None:
    """Renew the node Lease every RENEW_EVERY seconds and the Ready heartbeat every HEARTBEAT_EVERY."""
    owner = {"apiVersion": "v1", "kind": "Node", "name": name, "uid": uid}
    last_heartbeat = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            renew = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # a MicroTime
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "namespace": "kube-node-lease", "ownerReferences": [owner]},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": renew},
            }
            await client.patch(
                Lease, name, lease, namespace="kube-node-lease", patch_type=PatchType.APPLY,
                field_manager="scribe-podrunner", force=True,
            )  # fmt: skip
            if loop.time() - last_heartbeat >= HEARTBEAT_EVERY:
                await client.patch(NodeStatus, name, {"status": _status(version)}, patch_type=PatchType.MERGE)
                last_heartbeat = loop.time()
        except Exception as exc:  # the API server may be restarting; keep trying
            log.warning("node heartbeat failed: %s", exc)
        await asyncio.sleep(RENEW_EVERY)
