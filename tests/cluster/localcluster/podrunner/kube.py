"""The few API calls the pod runner makes, on plain dicts, over lightkube's async client."""

from __future__ import annotations

import base64
from typing import Any

from lightkube import AsyncClient
from lightkube.core.exceptions import ApiError
from lightkube.models.authentication_v1 import BoundObjectReference, TokenRequestSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import (
    ConfigMap,
    PersistentVolume,
    PersistentVolumeClaim,
    Pod,
    PodStatus,
    Secret,
    ServiceAccountToken,
)
from lightkube.types import PatchType

Obj = dict[str, Any]


class NotFound(Exception):
    pass


class Kube:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def secret_data(self, namespace: str, name: str) -> dict[str, str]:
        try:
            secret = await self.client.get(Secret, name, namespace=namespace)
        except ApiError as exc:
            if exc.status.code == 404:
                raise NotFound(f'secret "{name}" not found') from exc
            raise
        data = {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}
        data.update(secret.stringData or {})
        return data

    async def claim_path(self, namespace: str, claim: str) -> str:
        """The host directory of a bound PersistentVolumeClaim whose volume is a hostPath or local volume."""
        try:
            pvc = await self.client.get(PersistentVolumeClaim, claim, namespace=namespace)
            volume = pvc.spec.volumeName if pvc.spec is not None else None
            if not volume or pvc.status is None or pvc.status.phase != "Bound":
                raise NotFound(f'persistentvolumeclaim "{claim}" is not bound')
            pv = await self.client.get(PersistentVolume, volume)
        except ApiError as exc:
            if exc.status.code == 404:
                raise NotFound(f'persistentvolumeclaim "{claim}" not found') from exc
            raise
        source = pv.spec.hostPath or pv.spec.local if pv.spec is not None else None
        if source is None:
            raise NotFound(f"persistentvolume {volume}: the pod runner mounts only hostPath and local volumes")
        return str(source.path)

    async def configmap_data(self, namespace: str, name: str) -> dict[str, str]:
        try:
            cm = await self.client.get(ConfigMap, name, namespace=namespace)
        except ApiError as exc:
            if exc.status.code == 404:
                raise NotFound(f'configmap "{name}" not found') from exc
            raise
        return dict(cm.data or {})

    async def token(self, pod: Obj, audience: str | None, seconds: int) -> str:
        meta = pod["metadata"]
        request = ServiceAccountToken(
            metadata=ObjectMeta(),
            spec=TokenRequestSpec(
                audiences=[audience] if audience else [],
                expirationSeconds=seconds,
                boundObjectRef=BoundObjectReference(apiVersion="v1", kind="Pod", name=meta["name"], uid=meta["uid"]),
            ),
        )
        result = await self.client.create(
            request, pod["spec"].get("serviceAccountName") or "default", namespace=meta["namespace"]
        )
        assert result.status is not None
        return str(result.status.token)

    async def patch_status(self, pod: Obj, status: Obj) -> None:
        meta = pod["metadata"]
        try:
            await self.client.patch(
                PodStatus,
                meta["name"],
                {"status": status},
                namespace=meta["namespace"],
                patch_type=PatchType.MERGE,
            )
        except ApiError as exc:
            if exc.status.code != 404:
                raise

    async def delete_now(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete(Pod, meta["name"], namespace=meta["namespace"], grace_period=0)
        except ApiError as exc:
            if exc.status.code != 404:
                raise
