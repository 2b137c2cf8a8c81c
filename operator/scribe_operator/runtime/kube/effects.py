"""The API calls that carry out a plan (of a task or a batch). Every one is idempotent: a create that meets
AlreadyExists and a delete that meets NotFound are successes, so replaying a plan after a crash or a stale read
changes nothing. Status writes carry the resourceVersion they were computed from."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
from typing import Any, Protocol

from pydantic import BaseModel

from scribe_operator.api.constants import GROUP, KIND, LABEL_DEAD_LETTER
from scribe_operator.api.meta import ObjectMeta, to_json
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.runtime.kube.client import MERGE_PATCH, ApiFailure, KubeApi, object_path
from scribe_operator.runtime.kube.ratelimit import EventLimiter
from scribe_operator.runtime.metrics import API_REQUESTS, EVENTS_DROPPED

log = logging.getLogger("scribe_operator.runtime.kube")

COMPONENT = "scribe-operator"

# kind -> (apiVersion, plural: its REST path and the API-request metric); the registered kinds are added on first use
_RESOURCES: dict[str, tuple[str, str]] = {
    "Pod": ("v1", "pods"),
    "Secret": ("v1", "secrets"),
    "ServiceAccount": ("v1", "serviceaccounts"),
    "Event": ("v1", "events"),
    "Role": ("rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings"),
}


def resource_of(kind: str) -> tuple[str, str]:
    """(apiVersion, plural) of a built-in kind or of a kind in the registry."""
    if kind not in _RESOURCES:
        from scribe_operator.kinds.registry import APIS  # noqa: PLC0415  (the kinds import this module)

        for api in APIS:
            _RESOURCES.setdefault(api.kind, (f"{api.group}/{api.version}", api.plural))
    return _RESOURCES[kind]


class Conflict(Exception):
    """The object changed since it was read: reconcile again from the newer version."""


class Reconciled(Protocol):
    """A task or a batch: what status writes and events need of it."""

    api_version: str
    kind: str
    metadata: ObjectMeta


class KubeEffects:
    def __init__(self, client: KubeApi, limiter: EventLimiter | None = None) -> None:
        self.client = client
        self.instance = os.environ.get("HOSTNAME", "scribe-operator")
        self.limiter = limiter or EventLimiter()

    async def create(self, manifest: dict[str, Any]) -> bool:
        """Create a Pod, Secret or TranscriptionTask from its manifest; False if it already existed."""
        api_version, plural = resource_of(manifest["kind"])
        API_REQUESTS.labels("create", plural).inc()
        path = object_path(api_version, plural, manifest["metadata"].get("namespace"))
        try:
            await self.client.request("POST", path, manifest)
        except ApiFailure as exc:
            if exc.code == 409:
                return False
            raise
        return True

    async def delete(self, kind: str, name: str, namespace: str) -> None:
        api_version, plural = resource_of(kind)
        API_REQUESTS.labels("delete", plural).inc()
        try:
            await self.client.request("DELETE", object_path(api_version, plural, namespace, name))
        except ApiFailure as exc:
            if exc.code != 404:
                raise

    async def get_pod(self, name: str, namespace: str) -> dict[str, Any] | None:
        """The pod as the API server has it now; None when it does not exist."""
        API_REQUESTS.labels("get", "pods").inc()
        try:
            return await self.client.request("GET", object_path("v1", "pods", namespace, name))
        except ApiFailure as exc:
            if exc.code == 404:
                return None
            raise

    async def write_status(self, obj: Reconciled, status: BaseModel) -> dict[str, Any]:
        """Replace the status (merge patch, nulls clear) if the object is still at the version we read."""
        patch = {"metadata": {"resourceVersion": obj.metadata.resource_version}, "status": to_json(status, nulls=True)}
        return await self._patch(obj, patch, status=True)

    async def set_dead_letter_label(self, task: TranscriptionTask, dead: bool) -> dict[str, Any]:
        patch = {"metadata": {"labels": {LABEL_DEAD_LETTER: "true" if dead else None}}}
        return await self._patch(task, patch, status=False)

    async def _patch(self, obj: Reconciled, patch: dict[str, Any], *, status: bool) -> dict[str, Any]:
        api_version, plural = resource_of(obj.kind)
        API_REQUESTS.labels("patch", f"{plural}/status" if status else plural).inc()
        path = object_path(api_version, plural, obj.metadata.namespace, obj.metadata.name, "status" if status else None)
        try:
            return await self.client.request("PATCH", path, patch, content_type=MERGE_PATCH)
        except ApiFailure as exc:
            if exc.code in (404, 409):
                raise Conflict(exc.message) from exc
            raise

    async def secret_value(self, namespace: str, name: str, key: str) -> bytes | str:
        """The value of ``key`` in Secret ``name``, or (a str) why it cannot be had: missing, or not readable."""
        API_REQUESTS.labels("get", "secrets").inc()
        try:
            secret = await self.client.request("GET", object_path("v1", "secrets", namespace, name))
        except ApiFailure as exc:
            if exc.code == 404:
                return f"secret {name} not found in {namespace}"
            if exc.code == 403:
                return f"the operator may not read secret {name} in {namespace} (chart: notifications.readSecrets)"
            raise
        encoded = (secret.get("data") or {}).get(key)
        return f"secret {name} in {namespace} has no key {key}" if encoded is None else base64.b64decode(encoded)

    async def emit(self, obj: Reconciled, event: EmitEvent) -> None:
        """A core/v1 Event on the object (what `kubectl describe` shows); failures are logged, not raised. Over the
        rate limits (:mod:`.ratelimit`) it is dropped and counted."""
        meta = obj.metadata
        refused = self.limiter.allow((obj.kind, meta.namespace, meta.name))
        if refused is not None:
            EVENTS_DROPPED.labels(refused).inc()
            return
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        involved = {
            "apiVersion": obj.api_version, "kind": obj.kind, "name": meta.name, "namespace": meta.namespace,
            "uid": meta.uid, "resourceVersion": meta.resource_version,
        }  # fmt: skip
        record = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": f"{meta.name}.", "namespace": meta.namespace},
            "involvedObject": {field: value for field, value in involved.items() if value is not None},
            "reason": event.reason, "message": event.message[:1024], "type": event.type,
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "source": {"component": COMPONENT}, "reportingComponent": f"{GROUP}/operator",
            "reportingInstance": self.instance,
        }  # fmt: skip
        API_REQUESTS.labels("create", "events").inc()
        try:
            await self.client.request("POST", object_path("v1", "events", meta.namespace), record)
        except ApiFailure as exc:
            log.warning(
                "could not record event %s on %s: %s", event.reason, meta.name, exc.message,
                extra={"namespace": meta.namespace, "task" if obj.kind == KIND else "batch": meta.name},
            )  # fmt: skip
