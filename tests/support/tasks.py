"""TranscriptionTasks as a user sees them: plain manifests in, plain dicts (spec, status, pods, events) out.

Deliberately independent of the operator's own models: these helpers read what the API server holds, so the
end-to-end tests check the contract (docs/api.md), not the implementation.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from lightkube import Client
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.core_v1 import Pod, Secret

from .objects import events_about, exists, plain, wait_for_object, wait_for_object_phase

GROUP, VERSION, KIND, PLURAL = "scribe.dev", "v1alpha1", "TranscriptionTask", "transcriptiontasks"
API_VERSION = f"{GROUP}/{VERSION}"
LABEL_TASK = "scribe.dev/task"
LABEL_ATTEMPT = "scribe.dev/attempt"
LABEL_DEAD_LETTER = "scribe.dev/dead-letter"
TERMINAL = ("Succeeded", "Dead")

TranscriptionTask = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)

FAST_BACKOFF: dict[str, Any] = {"initialSeconds": 1, "factor": 2.0, "maxSeconds": 4, "jitter": 0.0}
"""Short, deterministic retries, so that a test that goes wrong goes wrong quickly."""


def task_manifest(name: str, input_uri: str, **spec: Any) -> dict[str, Any]:
    """A TranscriptionTask manifest with fast retries unless ``spec`` says otherwise (``retryPolicy`` merges)."""
    retry = {"maxRetries": 3, "backoff": dict(FAST_BACKOFF)}
    retry.update(spec.pop("retryPolicy", {}))
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name},
        "spec": {"input": input_uri, "retryPolicy": retry, **spec},
    }


def create_task(kube: Client, manifest: dict[str, Any], namespace: str) -> dict[str, Any]:
    return plain(kube.create(TranscriptionTask(**copy.deepcopy(manifest)), namespace=namespace))


class CreateTask(Protocol):
    """Creates the task ``name`` with ``spec`` (as `task_manifest` takes it) on an input and in a namespace chosen
    beforehand, and returns it as created."""

    def __call__(self, name: str, /, **spec: Any) -> dict[str, Any]: ...


def get_task(kube: Client, name: str, namespace: str) -> dict[str, Any]:
    return plain(kube.get(TranscriptionTask, name, namespace=namespace))


def status_of(kube: Client, name: str, namespace: str) -> dict[str, Any]:
    return dict(get_task(kube, name, namespace).get("status") or {})


def list_tasks(kube: Client, namespace: str, labels: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [plain(t) for t in kube.list(TranscriptionTask, namespace=namespace, labels=labels or {})]


def describe(task: dict[str, Any]) -> str:
    """The parts of a task worth seeing when an assertion about it fails."""
    shown = {k: task.get(k) for k in ("spec", "status")}
    shown["labels"] = (task.get("metadata") or {}).get("labels")
    return json.dumps(shown, indent=2, default=str)


def wait_for_phase(
    kube: Client, name: str, namespace: str, phases: Collection[str] | str, timeout: float = 120
) -> dict[str, Any]:
    """Wait until the task is in one of ``phases`` and return it; fail at once (with the status) if it reaches
    a terminal phase that is not wanted."""
    return wait_for_object_phase(
        f"task {namespace}/{name}", lambda: get_task(kube, name, namespace), phases, TERMINAL, describe, timeout
    )


def wait_for_task(
    kube: Client, name: str, namespace: str, what: str, check: Any, timeout: float = 120
) -> dict[str, Any]:
    """Wait until ``check(task)`` is truthy; on timeout show the task."""
    return wait_for_object(
        f"task {namespace}/{name}: {what}", lambda: get_task(kube, name, namespace), check, describe, timeout
    )


def task_pods(kube: Client, name: str, namespace: str) -> list[dict[str, Any]]:
    """The task's attempt pods (by the ``scribe.dev/task`` label), sorted by name."""
    pods = [p.to_dict() for p in kube.list(Pod, namespace=namespace, labels={LABEL_TASK: name})]
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def pod_names(kube: Client, name: str, namespace: str) -> list[str]:
    return [p["metadata"]["name"] for p in task_pods(kube, name, namespace)]


def task_events(kube: Client, name: str, namespace: str, reason: str | None = None) -> list[dict[str, Any]]:
    """Events about the task (core/v1, as ``kubectl describe tt`` shows them), oldest first; with ``reason``, only
    the events of that reason."""
    events = events_about(kube, KIND, name, namespace)
    return events if reason is None else [e for e in events if e.get("reason") == reason]


def secret_exists(kube: Client, name: str, namespace: str) -> bool:
    return exists(kube, Secret, name, namespace)


def leftovers(kube: Client, name: str, namespace: str, attempts: int) -> list[str]:
    """What the task's attempts left in the namespace, by name: its pods, then those of the secrets of presigned
    URLs of attempts 1 to ``attempts`` (``<task>-a<n>-urls``) that exist; empty when they left nothing behind."""
    secrets = [f"{name}-a{n}-urls" for n in range(1, attempts + 1)]
    return pod_names(kube, name, namespace) + [s for s in secrets if secret_exists(kube, s, namespace)]


def dead_lettered(task: dict[str, Any]) -> bool:
    """The task is in the dead-letter queue: it carries the label ``scribe.dev/dead-letter=true``."""
    return (task["metadata"].get("labels") or {}).get(LABEL_DEAD_LETTER) == "true"


def wait_dead_lettered(kube: Client, name: str, namespace: str, timeout: float = 30) -> dict[str, Any]:
    """Wait until the task is in the dead-letter queue (see `dead_lettered`) and return it."""
    return wait_for_task(kube, name, namespace, f"label {LABEL_DEAD_LETTER}=true", dead_lettered, timeout)


def attempt_numbers(status: dict[str, Any]) -> list[int]:
    return [a["attempt"] for a in status.get("attempts") or []]


def stamp(moment: datetime) -> str:
    """``moment`` as status spells a time: RFC 3339 in UTC, whole seconds (``2026-01-01T12:00:00Z``)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def failed_attempts(
    name: str,
    attempts: int,
    first_start: datetime,
    *,
    node: str,
    message: Callable[[int], str],
    queued: timedelta,
    ran: timedelta,
    **fields: Any,
) -> list[dict[str, Any]]:
    """``status.attempts`` of a task whose ``attempts`` attempts all failed with DownloadFailed (exit code 12), one a
    minute from ``first_start``: each pod created ``queued`` before it started and finished ``ran`` after;
    ``message(n)`` is attempt n's message; ``fields`` are added to every record."""
    history = []
    for n in range(1, attempts + 1):
        start = first_start + timedelta(minutes=n - 1)
        history.append(
            {
                "attempt": n,
                "pod": f"{name}-a{n}",
                "node": node,
                "createdAt": stamp(start - queued),
                "startedAt": stamp(start),
                "finishedAt": stamp(start + ran),
                "exitCode": 12,
                "reason": "DownloadFailed",
                "message": message(n),
                "retryable": True,
                "memoryLimit": "2Gi",
                **fields,
            }
        )
    return history


def parse_time(value: str) -> datetime:
    """An RFC 3339 timestamp from status (``2026-01-01T12:00:00Z``)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
