"""Small builders and readers for the objects tests create (plain manifests, as a user writes them), and what the
custom resources' helpers (:mod:`tests.support.tasks`, :mod:`tests.support.batches`) share: plain dicts out of
the client, events about an object, existence, and waiting on an object's state."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from typing import Any

from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.core.exceptions import ApiError
from lightkube.resources.core_v1 import Event, Pod

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


def plain(obj: Any) -> dict[str, Any]:
    """An object from the client as a plain dict (as ``kubectl get -o json`` shows it)."""
    return dict(obj.to_dict()) if hasattr(obj, "to_dict") else dict(obj)


def exists(kube: Client, resource: Any, name: str, namespace: str | None = None) -> bool:
    """Whether the API server has the object (``namespace`` None: a cluster-scoped one)."""
    try:
        if namespace is None:
            kube.get(resource, name)
        else:
            kube.get(resource, name, namespace=namespace)
    except ApiError as exc:
        if exc.status.code == 404:
            return False
        raise
    return True


def events_about(kube: Client, kind: str, name: str, namespace: str) -> list[dict[str, Any]]:
    """Events about the object of ``kind`` named ``name`` (core/v1, as ``kubectl describe`` shows them), oldest
    first."""
    events = [
        e.to_dict()
        for e in kube.list(Event, namespace=namespace, fields={"involvedObject.name": name})
        if e.involvedObject.kind == kind
    ]
    return sorted(events, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))


def wait_for_object(
    what: str,
    get: Callable[[], dict[str, Any]],
    check: Callable[[dict[str, Any]], Any],
    describe: Callable[[dict[str, Any]], str],
    timeout: float,
) -> dict[str, Any]:
    """Wait until ``check(get())`` is truthy and return that object; on timeout show the last one seen (as
    ``describe`` shows it)."""
    seen: dict[str, Any] = {}

    def probe() -> dict[str, Any] | None:
        seen["object"] = obj = get()
        return obj if check(obj) else None

    try:
        return wait_for(what, probe, timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nnow: {describe(seen.get('object', {}))}") from None


def wait_for_object_phase(
    what: str,
    get: Callable[[], dict[str, Any]],
    phases: Collection[str] | str,
    terminal: Collection[str],
    describe: Callable[[dict[str, Any]], str],
    timeout: float,
) -> dict[str, Any]:
    """Wait until the object ``what`` names is in one of ``phases`` (``status.phase``) and return it; fail at once
    (showing it) when it reaches a ``terminal`` phase that is not wanted."""
    wanted = {phases} if isinstance(phases, str) else set(phases)

    def settled(obj: dict[str, Any]) -> bool:
        return (obj.get("status") or {}).get("phase") in wanted | set(terminal)

    obj = wait_for_object(f"{what} in phase {'/'.join(sorted(wanted))}", get, settled, describe, timeout)
    phase = obj["status"].get("phase")
    assert phase in wanted, f"{what} ended {phase}, expected {'/'.join(sorted(wanted))}:\n{describe(obj)}"
    return obj
