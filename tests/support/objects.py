"""Small builders and readers for the objects tests create (plain manifests, as a user writes them)."""

from __future__ import annotations

import os
from typing import Any

from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.resources.core_v1 import Pod

from .wait import wait_for

# the local cluster's node runs images built on this machine (.cluster/env names them); elsewhere, the public ones
SHELL_IMAGE = os.environ.get("SCRIBE_TEST_SHELL_IMAGE", "busybox:1.36")
KUBECTL_IMAGE = os.environ.get("SCRIBE_TEST_KUBECTL_IMAGE", "registry.k8s.io/kubectl:v1.37.2")

RESTRICTED_CONTAINER: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod_manifest(name: str, command: list[str], image: str = SHELL_IMAGE, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": image, "command": command}
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 5, "containers": [container], **spec},
    }


def create(kube: Client, manifest: dict[str, Any], namespace: str) -> Any:
    obj = from_dict(manifest)
    return kube.create(obj, namespace=namespace)  # type: ignore[call-overload]


def pod_dict(kube: Client, name: str, namespace: str) -> dict[str, Any]:
    return kube.get(Pod, name, namespace=namespace).to_dict()


def wait_pod_phase(
    kube: Client, name: str, namespace: str, phases: tuple[str, ...], timeout: float = 60
) -> dict[str, Any]:
    return wait_for(
        f"pod {namespace}/{name} in phase {'/'.join(phases)}",
        lambda: (p := pod_dict(kube, name, namespace)).get("status", {}).get("phase") in phases and p,
        timeout,
    )


def terminated(pod: dict[str, Any], container: str = "main") -> dict[str, Any]:
    for status in pod["status"].get("containerStatuses", []):
        if status["name"] == container:
            return dict(status["state"]["terminated"])
    raise AssertionError(f"no status for container {container}: {pod['status']}")


def waiting_reason(pod: dict[str, Any], container: str = "main") -> str | None:
    for status in pod.get("status", {}).get("containerStatuses", []):
        if status["name"] == container:
            return status.get("state", {}).get("waiting", {}).get("reason")
    return None
