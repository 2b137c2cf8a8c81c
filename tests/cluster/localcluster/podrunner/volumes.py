"""A pod's volumes as host directories: emptyDir, secret, configMap, hostPath, projected (service-account token,
kube-root-ca.crt, downward API), refreshing tokens as the kubelet does, and persistentVolumeClaim when its bound
volume is a hostPath or local volume."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

from lightkube.core.exceptions import ApiError

from .env import ConfigError, field
from .kube import Kube, NotFound, Obj

TOKEN_REFRESH_FRACTION = 0.8


def _write(path: Path, text: str) -> None:
    """Atomic write, so a reader of a mounted directory never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _items(data: dict[str, str], items: list[Obj] | None) -> dict[str, str]:
    if not items:
        return data
    return {i["path"]: data[i["key"]] for i in items if i["key"] in data}


class PodVolumes:
    def __init__(self, kube: Kube, pod: Obj, root: Path) -> None:
        self.kube, self.pod, self.root = kube, pod, root
        self.dirs: dict[str, Path] = {}
        self._tokens: list[tuple[Path, str | None, int]] = []
        self._refresher: asyncio.Task[None] | None = None

    async def _data(self, kind: str, name: str, optional: bool) -> dict[str, str]:
        getter = self.kube.secret_data if kind == "Secret" else self.kube.configmap_data
        try:
            return await getter(self.pod["metadata"]["namespace"], name)
        except NotFound as exc:
            if optional:
                return {}
            raise ConfigError(str(exc)) from exc

    async def prepare(self) -> None:
        """Materialise every volume; raises ConfigError while a referenced object is missing."""
        for vol in self.pod["spec"].get("volumes", []):
            path = self.root / vol["name"]
            path.mkdir(parents=True, exist_ok=True)
            self.dirs[vol["name"]] = path
            if "hostPath" in vol:
                self.dirs[vol["name"]] = Path(vol["hostPath"]["path"])
            elif "persistentVolumeClaim" in vol:
                claim = vol["persistentVolumeClaim"]["claimName"]
                try:
                    self.dirs[vol["name"]] = Path(await self.kube.claim_path(self.pod["metadata"]["namespace"], claim))
                except NotFound as exc:  # the kubelet waits for the claim, as with a missing secret
                    raise ConfigError(str(exc)) from exc
            elif "secret" in vol:
                src = vol["secret"]
                data = await self._data("Secret", src["secretName"], src.get("optional", False))
                for rel, text in _items(data, src.get("items")).items():
                    _write(path / rel, text)
            elif "configMap" in vol:
                src = vol["configMap"]
                data = await self._data("ConfigMap", src["name"], src.get("optional", False))
                for rel, text in _items(data, src.get("items")).items():
                    _write(path / rel, text)
            elif "projected" in vol:
                await self._projected(vol["projected"], path)
        if self._tokens:
            self._refresher = asyncio.create_task(self._refresh())

    async def _projected(self, projected: Obj, path: Path) -> None:
        for source in projected.get("sources", []):
            if "serviceAccountToken" in source:
                sat = source["serviceAccountToken"]
                target = path / sat["path"]
                seconds = int(sat.get("expirationSeconds", 3600))
                try:
                    token = await self.kube.token(self.pod, sat.get("audience"), seconds)
                except ApiError as exc:  # e.g. the namespace is terminating: the kubelet retries the mount
                    raise ConfigError(f"cannot mount the service account token: {exc.status.message}") from exc
                _write(target, token)
                self._tokens.append((target, sat.get("audience"), seconds))
            elif "configMap" in source:
                src = source["configMap"]
                data = await self._data("ConfigMap", src["name"], src.get("optional", False))
                for rel, text in _items(data, src.get("items")).items():
                    _write(path / rel, text)
            elif "secret" in source:
                src = source["secret"]
                data = await self._data("Secret", src["name"], src.get("optional", False))
                for rel, text in _items(data, src.get("items")).items():
                    _write(path / rel, text)
            elif "downwardAPI" in source:
                for item in source["downwardAPI"].get("items", []):
                    _write(path / item["path"], field(self.pod, item["fieldRef"]["fieldPath"]))

    async def _refresh(self) -> None:
        interval = min(s for _, _, s in self._tokens) * TOKEN_REFRESH_FRACTION
        while True:
            await asyncio.sleep(interval)
            for target, audience, seconds in self._tokens:
                with contextlib.suppress(Exception):
                    _write(target, await self.kube.token(self.pod, audience, seconds))

    def mounts(self, container: Obj) -> list[tuple[str, str]]:
        out = []
        for m in container.get("volumeMounts", []):
            src = self.dirs.get(m["name"])
            if src is not None:
                if m.get("subPath"):
                    src = src / m["subPath"]
                    src.mkdir(parents=True, exist_ok=True)
                out.append((str(src), m["mountPath"]))
        return out

    def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
        shutil.rmtree(self.root, ignore_errors=True)
