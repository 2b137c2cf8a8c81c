"""A container's environment, resolved as the kubelet resolves it."""

from __future__ import annotations

import re
from typing import Any

from .kube import Kube, NotFound, Obj

_VAR = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class ConfigError(Exception):
    """The container cannot be configured yet: reported as waiting CreateContainerConfigError."""


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion; `$$` escapes; unknown references stay as written."""

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))

    return _VAR.sub(sub, text)


def field(pod: Obj, path: str) -> str:
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status", {})
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": status.get("hostIP", "127.0.0.1"),
        "status.podIP": status.get("podIP", "127.0.0.1"),
    }
    if path in simple:
        return str(simple[path] or "")
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return str(meta.get(m.group(1), {}).get(m.group(2), ""))
    raise ConfigError(f"unsupported fieldRef {path!r}")


async def _lookup(kube: Kube, namespace: str, ref: dict[str, Any], kind: str) -> str | None:
    getter = kube.secret_data if kind == "Secret" else kube.configmap_data
    try:
        data = await getter(namespace, ref["name"])
    except NotFound as exc:
        if ref.get("optional"):
            return None
        raise ConfigError(str(exc)) from exc
    if ref["key"] not in data:
        if ref.get("optional"):
            return None
        raise ConfigError(f"couldn't find key {ref['key']} in {kind} {namespace}/{ref['name']}")
    return data[ref["key"]]


async def resolve(kube: Kube, pod: Obj, container: Obj, base: dict[str, str]) -> dict[str, str]:
    namespace = pod["metadata"]["namespace"]
    env = dict(base)
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(key)
            if not ref:
                continue
            getter = kube.secret_data if kind == "Secret" else kube.configmap_data
            try:
                data = await getter(namespace, ref["name"])
            except NotFound as exc:
                if ref.get("optional"):
                    continue
                raise ConfigError(str(exc)) from exc
            env.update({prefix + k: v for k, v in data.items()})
    for var in container.get("env", []):
        value_from = var.get("valueFrom")
        value: str | None
        if value_from is None:
            value = expand(var.get("value", ""), env)
        elif "secretKeyRef" in value_from:
            value = await _lookup(kube, namespace, value_from["secretKeyRef"], "Secret")
        elif "configMapKeyRef" in value_from:
            value = await _lookup(kube, namespace, value_from["configMapKeyRef"], "ConfigMap")
        elif "fieldRef" in value_from:
            value = field(pod, value_from["fieldRef"]["fieldPath"])
        else:
            raise ConfigError(f"unsupported valueFrom for {var['name']}")
        if value is not None:
            env[var["name"]] = value
    return env
