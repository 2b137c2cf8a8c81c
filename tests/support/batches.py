"""TranscriptionBatches as a user sees them: plain manifests in, plain dicts (spec, status, children, events) out.

Like :mod:`tests.support.tasks`, deliberately independent of the operator's models: these helpers read what the API
server holds, so the end-to-end tests check the contract (docs/batches.md), not the implementation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Collection
from typing import Any

from lightkube import Client
from lightkube.generic_resource import create_namespaced_resource

from .objects import events_about, plain, wait_for_object, wait_for_object_phase
from .tasks import GROUP, VERSION, list_tasks

KIND, PLURAL = "TranscriptionBatch", "transcriptionbatches"
API_VERSION = f"{GROUP}/{VERSION}"
CRD_NAME = f"{PLURAL}.{GROUP}"
LABEL_BATCH = "scribe.dev/batch"
LABEL_BATCH_INDEX = "scribe.dev/batch-index"
TERMINAL = ("Succeeded", "CompletedWithFailures", "Failed")

TranscriptionBatch = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)

FAST_RETRIES: dict[str, Any] = {"maxRetries": 0}


def batch_manifest(name: str, **spec: Any) -> dict[str, Any]:
    """A TranscriptionBatch manifest; children get no retries unless ``template.retryPolicy`` says otherwise."""
    template = {"retryPolicy": dict(FAST_RETRIES), **spec.pop("template", {})}
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name},
        "spec": {"template": template, **spec},
    }


def create_batch(kube: Client, manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    return plain(kube.create(TranscriptionBatch(**copy.deepcopy(manifest)), namespace=namespace))


def get_batch(kube: Client, name: str, namespace: str) -> dict[str, Any]:
    return plain(kube.get(TranscriptionBatch, name, namespace=namespace))


def children(kube: Client, name: str, namespace: str) -> list[dict[str, Any]]:
    """The batch's child tasks (label ``scribe.dev/batch``), sorted by their index label."""
    tasks = list_tasks(kube, namespace, labels={LABEL_BATCH: name})
    return sorted(tasks, key=lambda t: int(t["metadata"]["labels"].get(LABEL_BATCH_INDEX, "0")))


def child_names(kube: Client, name: str, namespace: str) -> list[str]:
    return [t["metadata"]["name"] for t in children(kube, name, namespace)]


def describe_batch(kube: Client, batch: dict[str, Any], namespace: str) -> str:
    """The batch and its children, for assertion messages."""
    shown: dict[str, Any] = {"spec": batch.get("spec"), "status": batch.get("status")}
    try:
        shown["children"] = {
            t["metadata"]["name"]: (t.get("status") or {}).get("phase")
            for t in children(kube, batch["metadata"]["name"], namespace)
        }
    except Exception as exc:  # the description must not hide the failure it describes
        shown["children"] = repr(exc)
    return json.dumps(shown, indent=2, default=str)


def wait_for_batch(
    kube: Client, name: str, namespace: str, phases: Collection[str] | str, timeout: float = 180
) -> dict[str, Any]:
    """Wait until the batch is in one of ``phases``; fail at once (with the batch) on another terminal phase."""
    return wait_for_object_phase(
        f"batch {namespace}/{name}",
        lambda: get_batch(kube, name, namespace),
        phases,
        TERMINAL,
        lambda batch: describe_batch(kube, batch, namespace),
        timeout,
    )


def wait_for_batch_status(
    kube: Client, name: str, namespace: str, what: str, check: Any, timeout: float = 120
) -> dict[str, Any]:
    """Wait until ``check(status)`` is truthy; on timeout show the batch and its children."""
    return wait_for_object(
        f"batch {namespace}/{name}: {what}",
        lambda: get_batch(kube, name, namespace),
        lambda batch: check(batch.get("status") or {}),
        lambda batch: describe_batch(kube, batch, namespace),
        timeout,
    )


def batch_events(kube: Client, name: str, namespace: str) -> list[dict[str, Any]]:
    return events_about(kube, KIND, name, namespace)
