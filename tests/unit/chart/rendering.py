"""Rendering the chart offline (`helm template`) and reading what comes out: the helpers every chart test uses.

Needs the `helm` binary: on PATH (`source .cluster/env`) or in ~/.cache/scribe-operator/bin (`make binaries`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.support.helm import CHART, run_helm

ROOT = Path(__file__).resolve().parents[3]
CRD_SOURCES = sorted((ROOT / "crds").glob("*.yaml"))
RELEASE, NAMESPACE = "scribe", "scribe-system"
FULLNAME = "scribe-scribe-operator"
SCHEMA_ERROR = "values don't meet the specifications of the schema"

__all__ = ["CHART", "CRD_SOURCES", "FULLNAME", "NAMESPACE", "RELEASE", "ROOT", "run_helm"]


def set_args(values: dict[str, str]) -> list[str]:
    """`--set k=v` for plain values, `--set-json` for JSON ones (keys ending in ':json')."""
    out: list[str] = []
    for key, value in values.items():
        if key.endswith(":json"):
            out += ["--set-json", f"{key.removesuffix(':json')}={value}"]
        else:
            out += ["--set", f"{key}={value}"]
    return out


@cache
def _render(items: tuple[tuple[str, str], ...], tests: bool) -> tuple[dict[str, Any], ...]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, *set_args(dict(items))]
    if not tests:
        args.append("--skip-tests")
    docs = yaml.safe_load_all(run_helm(*args).stdout)
    return tuple(d for d in docs if d)


def render(values: dict[str, str] | None = None, *, tests: bool = False) -> list[dict[str, Any]]:
    return list(_render(tuple(sorted((values or {}).items())), tests))


def of_kind(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: Iterable[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = of_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def operator_container(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    (container,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    return dict(container)


def rule_table(rules: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    table: dict[tuple[str, str], set[str]] = {}
    for rule in rules:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                table.setdefault((group, resource), set()).update(rule["verbs"])
    return table


def project_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def chart_meta() -> dict[str, Any]:
    return dict(yaml.safe_load((CHART / "Chart.yaml").read_text()))


def assert_restricted(pod_spec: dict[str, Any]) -> None:
    """The `restricted` Pod Security Standard, as far as these specs can break it."""
    pod_sc = pod_spec.get("securityContext", {})
    assert not pod_spec.get("hostNetwork") and not pod_spec.get("hostPID") and not pod_spec.get("hostIPC")
    for volume in pod_spec.get("volumes", []):
        assert set(volume) - {"name"} <= {"emptyDir", "configMap", "secret", "projected", "persistentVolumeClaim"}
    for container in pod_spec["containers"] + pod_spec.get("initContainers", []):
        sc = container.get("securityContext", {})
        assert sc.get("allowPrivilegeEscalation") is False, container["name"]
        assert sc.get("capabilities", {}).get("drop") == ["ALL"], container["name"]
        assert not sc.get("capabilities", {}).get("add"), container["name"]
        assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, container["name"]
        assert sc.get("runAsUser", pod_sc.get("runAsUser")) not in (None, 0), container["name"]
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
        assert seccomp.get("type") in ("RuntimeDefault", "Localhost"), container["name"]
        assert not sc.get("privileged"), container["name"]
        assert sc.get("readOnlyRootFilesystem") is True, container["name"]
        assert not container.get("ports") or all("hostPort" not in p for p in container["ports"])


def assert_lint_passes(values: dict[str, str]) -> None:
    """`helm lint --strict` accepts the chart with ``values``."""
    proc = run_helm("lint", "--strict", str(CHART), *set_args(values), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def assert_schema_rejects(values: dict[str, str], field: str) -> None:
    """`helm template` refuses ``values`` because of values.schema.json, naming ``field``."""
    proc = run_helm("template", RELEASE, str(CHART), *set_args(values), check=False)
    assert proc.returncode != 0, f"{values} was accepted"
    assert SCHEMA_ERROR in proc.stderr, proc.stderr
    assert field in proc.stderr, proc.stderr
