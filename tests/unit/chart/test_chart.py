"""The Helm chart, rendered offline with `helm template` and checked structurally (no snapshots): it lints,
its versions and images follow the project, its CRDs are the generated ones, `helm test` and the notes work, and
the operator image is built as the chart expects.

The other chart tests: RBAC and leader election (test_rbac.py), the operator's pod and environment
(test_operator_pod.py), values and their schema (test_values.py), monitoring (test_monitoring.py).
"""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml
from scribe_operator.runtime.settings import DEFAULT_WORKER_IMAGE

from tests.unit.chart.rendering import (
    CHART,
    CRD_SOURCES,
    NAMESPACE,
    RELEASE,
    ROOT,
    assert_lint_passes,
    assert_restricted,
    chart_meta,
    env_of,
    of_kind,
    one,
    operator_container,
    project_version,
    render,
    rule_table,
    run_helm,
)

# --- lint -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"watchNamespaces": "{media,podcasts}"},
        {"replicaCount": "2", "s3.existingSecret": "s3-credentials", "s3.endpoint": "http://minio:9000"},
        {"watchNamespaces": "{media}", "networkPolicy.enabled": "true", "networkPolicy.s3Cidrs": "{10.0.0.0/8}"},
    ],
    ids=["defaults", "namespaced", "ha-with-secret", "network-policy"],
)
def test_helm_lint_passes(helm: str, values: dict[str, str]) -> None:
    assert_lint_passes(values)


# --- versions ---------------------------------------------------------------------------------------------------


def test_chart_versions_match_the_project() -> None:
    meta = chart_meta()
    assert meta["apiVersion"] == "v2"
    assert meta["appVersion"] == project_version(), "Chart.yaml appVersion must equal pyproject.toml's version"
    assert meta["kubeVersion"] == ">=1.30.0-0"
    assert re.fullmatch(r"\d+\.\d+\.\d+", meta["version"])
    for line in yaml.safe_load(meta["annotations"]["artifacthub.io/images"]):
        assert line["image"].endswith(f":{project_version()}"), line


def test_default_images_are_tagged_with_the_app_version(helm: str) -> None:
    docs = render()
    version = project_version()
    container = operator_container(docs)
    assert container["image"] == f"ghcr.io/scribe-operator/scribe-operator:{version}"
    assert env_of(container)["SCRIBE_WORKER_IMAGE"] == f"ghcr.io/scribe-operator/scribe-worker:{version}"
    labels = one(docs, "Deployment")["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == version


def test_the_operator_default_worker_image_matches_the_chart() -> None:
    assert f"ghcr.io/scribe-operator/scribe-worker:{project_version()}" == DEFAULT_WORKER_IMAGE


def test_image_overrides(helm: str) -> None:
    digest = "sha256:" + "a" * 64
    docs = render({"image.registry": "mirror.example", "image.tag": "dev", "worker.image.digest": digest})
    container = operator_container(docs)
    assert container["image"] == "mirror.example/ghcr.io/scribe-operator/scribe-operator:dev"
    assert env_of(container)["SCRIBE_WORKER_IMAGE"] == f"ghcr.io/scribe-operator/scribe-worker@{digest}"


# --- CRD --------------------------------------------------------------------------------------------------------


def test_chart_crd_copy_is_in_sync() -> None:
    proc = subprocess.run(
        ["bash", str(ROOT / "hack" / "sync-chart-crds.sh"), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_rendered_crds_equal_the_generated_ones(helm: str) -> None:
    rendered = {c["metadata"]["name"]: c for c in of_kind(render(), "CustomResourceDefinition")}
    assert CRD_SOURCES and "transcriptiontasks.scribe.dev" in rendered
    for path in CRD_SOURCES:
        source = yaml.safe_load(path.read_text())
        crd = rendered.pop(source["metadata"]["name"])
        assert crd["spec"] == source["spec"], f"the chart's copy of {path.name} drifted: run hack/sync-chart-crds.sh"
        assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        assert crd["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert not rendered, f"the chart has CRDs that crds/ does not: {sorted(rendered)}"


def test_crd_install_can_be_turned_off(helm: str) -> None:
    assert not of_kind(render({"crds.install": "false"}), "CustomResourceDefinition")


def test_chart_has_no_crds_folder() -> None:
    """Helm installs crds/ once and never upgrades it: the CRDs are templates, so `helm upgrade` upgrades them."""
    assert not (CHART / "crds").exists()


# --- helm test --------------------------------------------------------------------------------------------------


def test_helm_test_hook_is_restricted_and_least_privileged(helm: str) -> None:
    docs = render(tests=True)
    hooks = [d for d in docs if d["metadata"].get("annotations", {}).get("helm.sh/hook") == "test"]
    pod = one(hooks, "Pod")
    assert_restricted(pod["spec"])
    (container,) = pod["spec"]["containers"]
    assert container["image"].startswith("registry.k8s.io/kubectl:v1.")
    assert container["args"] == ["get", "transcriptiontasks.scribe.dev", "--all-namespaces"]
    assert rule_table(one(hooks, "ClusterRole")["rules"]) == {("scribe.dev", "transcriptiontasks"): {"list"}}
    assert pod["spec"]["serviceAccountName"] == one(hooks, "ServiceAccount")["metadata"]["name"]
    # the test's own objects exist only during `helm test`
    assert all(h["metadata"]["annotations"]["helm.sh/hook-delete-policy"] for h in hooks)
    assert len(hooks) == 4


def test_helm_test_in_namespaced_mode_checks_each_namespace(helm: str) -> None:
    docs = render({"watchNamespaces": "{a,b}", "tests.image.tag": "v1.31.0"}, tests=True)
    pod = one(docs, "Pod")
    assert [c["args"][-1] for c in pod["spec"]["containers"]] == ["a", "b"]
    assert {c["image"] for c in pod["spec"]["containers"]} == {"registry.k8s.io/kubectl:v1.31.0"}
    assert not of_kind(docs, "ClusterRole")
    assert sorted(r["metadata"]["namespace"] for r in of_kind(docs, "Role") if "test" in r["metadata"]["name"]) == [
        "a",
        "b",
    ]


def test_notes_tell_the_user_what_to_do_next(helm: str) -> None:
    # helm template does not render NOTES.txt; a client-side dry-run install does
    proc = run_helm("install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--dry-run=client", check=True)
    assert "kind: TranscriptionTask" in proc.stdout
    assert "get tt -w" in proc.stdout
    assert "helm test scribe" in proc.stdout


# --- operator image ---------------------------------------------------------------------------------------------


def test_operator_dockerfile() -> None:
    text = (ROOT / "operator" / "Dockerfile").read_text()
    assert "FROM ${PYTHON_IMAGE}" in text and "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "USER 65532:65532" in text
    assert 'ENTRYPOINT ["scribe-operator"]' in text
    assert "PYTHONDONTWRITEBYTECODE=1" in text
    assert "[worker]" not in text  # the operator image does not install the worker's extra
    ignore = (ROOT / "operator" / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") :][:1] == ["*"]  # an allowlist: .cluster/, .venv/, .git/ never reach the build
