"""The API calls that carry out a plan. Every one is idempotent: a create that meets AlreadyExists and a delete
that meets NotFound are successes, so replaying a plan after a crash or a stale read changes nothing."""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any

from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.core_v1 import EventSource, ObjectReference
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Event, Pod, Secret
from lightkube.types import PatchType

from ..api.constants import GROUP, KIND, LABEL_DEAD_LETTER, PLURAL, VERSION
from ..api.task import TaskStatus, TranscriptionTask, to_json
from ..core.plan import EmitEvent
from ..metrics import API_REQUESTS

log = logging.getLogger("scribe_operator.kube")

TaskResource = create_namespaced_resource(GROUP, VERSION, KIND, PLURAL)
COMPONENT = "scribe-operator"


class Conflict(Exception):
    """The task changed since it was read: reconcile again from the newer version."""


def _code(exc: ApiError) -> int:
    return int(exc.status.code or 0)


class KubeEffects:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.instance = os.environ.get("HOSTNAME", "scribe-operator")

    async def create(self, manifest: dict[str, Any]) -> bool:
        """Create a Pod or Secret from its manifest; False if it already existed."""
        resource = {"Pod": Pod, "Secret": Secret}[manifest["kind"]]
        API_REQUESTS.labels("create", manifest["kind"].lower() + "s").inc()
        try:
            await self.client.create(resource.from_dict(manifest))  # type: ignore[attr-defined]
        except ApiError as exc:
            if _code(exc) == 409:
                return False
            raise
        return True

    async def delete(self, kind: str, name: str, namespace: str) -> None:
        resource = {"Pod": Pod, "Secret": Secret}[kind]
        API_REQUESTS.labels("delete", kind.lower() + "s").inc()
        try:
            await self.client.delete(resource, name, namespace=namespace)  # type: ignore[arg-type]
        except ApiError as exc:
            if _code(exc) != 404:
                raise

    async def write_status(self, task: TranscriptionTask, status: TaskStatus) -> dict[str, Any]:
        """Replace the status (merge patch, nulls clear) if the task is still at the version we read."""
        patch = {"metadata": {"resourceVersion": task.metadata.resource_version}, "status": to_json(status, nulls=True)}
        return await self._patch(task, patch, status=True)

    async def set_dead_letter_label(self, task: TranscriptionTask, dead: bool) -> dict[str, Any]:
        patch = {"metadata": {"labels": {LABEL_DEAD_LETTER: "true" if dead else None}}}
        return await self._patch(task, patch, status=False)

    async def _patch(self, task: TranscriptionTask, patch: dict[str, Any], *, status: bool) -> dict[str, Any]:
        resource = TaskResource.Status if status else TaskResource
        API_REQUESTS.labels("patch", f"{PLURAL}/status" if status else PLURAL).inc()
        try:
            result = await self.client.patch(
                resource, task.metadata.name or "", patch, namespace=task.metadata.namespace,
                patch_type=PatchType.MERGE,
            )  # fmt: skip
        except ApiError as exc:
            if _code(exc) in (404, 409):
                raise Conflict(str(exc.status.message)) from exc
            raise
        return dict(result.to_dict())  # type: ignore[no-untyped-call]

    async def emit(self, task: TranscriptionTask, event: EmitEvent) -> None:
        """A core/v1 Event on the task (what `kubectl describe tt` shows); failures are logged, not raised."""
        now = dt.datetime.now(dt.UTC)
        obj = Event(
            metadata=ObjectMeta(generateName=f"{task.metadata.name}.", namespace=task.metadata.namespace),
            involvedObject=ObjectReference(
                apiVersion=task.api_version, kind=KIND, name=task.metadata.name,
                namespace=task.metadata.namespace, uid=task.metadata.uid,
                resourceVersion=task.metadata.resource_version,
            ),
            reason=event.reason, message=event.message[:1024], type=event.type,
            firstTimestamp=now, lastTimestamp=now, count=1,
            source=EventSource(component=COMPONENT), reportingComponent=f"{GROUP}/operator",
            reportingInstance=self.instance,
        )  # fmt: skip
        API_REQUESTS.labels("create", "events").inc()
        try:
            await self.client.create(obj)
        except ApiError as exc:
            log.warning(
                "could not record event %s on %s: %s", event.reason, task.metadata.name, exc.status.message,
                extra={"namespace": task.metadata.namespace, "task": task.metadata.name},
            )  # fmt: skip
