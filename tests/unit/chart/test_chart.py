"""The Helm chart, rendered offline with `helm template` and checked structurally (no snapshots).

Needs the `helm` binary: on PATH (`source .cluster/env`) or in ~/.cache/scribe-operator/bin (`make binaries`).
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from scribe_operator.runtime.settings import DEFAULT_WORKER_IMAGE, OperatorSettings

from tests.support.helm import CHART, helm_binary, run_helm

ROOT = Path(__file__).resolve().parents[3]
CRD_SOURCES = sorted((ROOT / "crds").glob("*.yaml"))
RELEASE, NAMESPACE = "scribe", "scribe-system"
FULLNAME = "scribe-scribe-operator"

# Exactly what the operator may do: (apiGroup, resource) -> verbs. Anything else is a failure.
OPERATOR_RULES: dict[tuple[str, str], set[str]] = {
    ("scribe.dev", "transcriptiontasks"): {"get", "list", "watch", "patch", "create", "delete"},
    ("scribe.dev", "transcriptiontasks/status"): {"patch"},
    ("scribe.dev", "transcriptionbatches"): {"get", "list", "watch"},
    ("scribe.dev", "transcriptionbatches/status"): {"patch"},
    ("", "pods"): {"get", "list", "watch", "create", "delete", "patch"},
    ("", "serviceaccounts"): {"create"},
    ("rbac.authorization.k8s.io", "roles"): {"create"},
    ("rbac.authorization.k8s.io", "rolebindings"): {"create"},
    ("", "secrets"): {"create", "delete"},
    ("", "events"): {"create", "patch"},
    ("events.k8s.io", "events"): {"create", "patch"},
}


@pytest.fixture(scope="module")
def helm() -> str:
    return helm_binary()


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
    proc = run_helm("lint", "--strict", str(CHART), *set_args(values), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


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


# --- RBAC -------------------------------------------------------------------------------------------------------


def all_rules(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for d in docs if d["kind"] in ("ClusterRole", "Role") for r in d["rules"]]


@pytest.mark.parametrize(
    "values", [{}, {"watchNamespaces": "{a,b}"}, {"replicaCount": "3"}, {"replicaCount": "2", "watchNamespaces": "{a}"}]
)
def test_rbac_has_no_wildcards(helm: str, values: dict[str, str]) -> None:
    docs = render(values, tests=True)
    rules = all_rules(docs)
    assert rules
    for rule in rules:
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in rule.get(key, []), rule
        assert not rule.get("nonResourceURLs"), rule
    for binding in of_kind(docs, "ClusterRoleBinding") + of_kind(docs, "RoleBinding"):
        assert binding["roleRef"]["name"] not in ("cluster-admin", "admin", "edit", "view"), binding


def test_cluster_wide_rbac_is_exactly_what_the_operator_uses(helm: str) -> None:
    docs = render()
    role = one(docs, "ClusterRole")
    assert rule_table(role["rules"]) == OPERATOR_RULES
    binding = one(docs, "ClusterRoleBinding")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": FULLNAME}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]
    assert not of_kind(docs, "Role") and not of_kind(docs, "RoleBinding")  # no leader election with one replica
    sa = one(docs, "ServiceAccount")
    assert (sa["metadata"]["name"], sa["metadata"]["namespace"]) == (FULLNAME, NAMESPACE)


def test_reading_notification_keys_is_opt_in(helm: str) -> None:
    rules = rule_table(one(render({"notifications.readSecrets": "true"}), "ClusterRole")["rules"])
    assert rules == {**OPERATOR_RULES, ("", "secrets"): {"create", "delete", "get"}}


def test_listed_namespaces_get_roles_and_nothing_cluster_wide(helm: str) -> None:
    docs = render({"watchNamespaces": "{media,podcasts}"})
    assert not of_kind(docs, "ClusterRole") and not of_kind(docs, "ClusterRoleBinding")
    roles, bindings = of_kind(docs, "Role"), of_kind(docs, "RoleBinding")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["media", "podcasts"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["media", "podcasts"]
    for role in roles:
        assert rule_table(role["rules"]) == OPERATOR_RULES
    for binding in bindings:
        assert binding["roleRef"]["kind"] == "Role"
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]
    assert env_of(operator_container(docs))["SCRIBE_NAMESPACES"] == "media,podcasts"


def test_rbac_create_false_renders_no_rbac(helm: str) -> None:
    docs = render({"rbac.create": "false"})
    assert not [d for d in docs if d["apiVersion"].startswith("rbac.authorization.k8s.io")]


def test_existing_service_account(helm: str) -> None:
    docs = render({"serviceAccount.create": "false", "serviceAccount.name": "mine"})
    assert not of_kind(docs, "ServiceAccount")
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "mine"
    assert one(docs, "ClusterRoleBinding")["subjects"][0]["name"] == "mine"


def test_service_account_annotations_for_workload_identity(helm: str) -> None:
    arn = "arn:aws:iam::123456789012:role/scribe"
    sa = one(render({"serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn": arn}), "ServiceAccount")
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": arn}


# --- high availability ----------------------------------------------------------------------------------------


LEASE_RULES = {("coordination.k8s.io", "leases"): {"create", "get", "update"}}


def test_single_replica_runs_alone(helm: str) -> None:
    docs = render()
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    env = env_of(operator_container(docs))
    assert env["SCRIBE_LEADER_ELECTION"] == "false"
    assert "SCRIBE_LEADER_ELECTION_LEASE" not in env
    assert not [r for r in of_kind(docs, "Role") if "leader" in r["metadata"]["name"]]


def test_replicas_elect_a_leader_on_a_lease(helm: str) -> None:
    docs = render({"replicaCount": "2"})
    deployment = one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    env = env_of(operator_container(docs))
    assert env["SCRIBE_LEADER_ELECTION"] == "true"
    assert env["SCRIBE_LEADER_ELECTION_NAMESPACE"] == NAMESPACE
    assert env["SCRIBE_LEADER_ELECTION_LEASE"] == FULLNAME
    # the Lease permissions are namespaced (the release's namespace), the rest unchanged
    assert rule_table(one(docs, "ClusterRole")["rules"]) == OPERATOR_RULES
    role = one(docs, "Role")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert rule_table(role["rules"]) == LEASE_RULES
    named = [r for r in role["rules"] if r["verbs"] != ["create"]]
    assert named == [
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [FULLNAME],
            "verbs": ["get", "update"],
        }
    ]
    binding = one(docs, "RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}]


def test_leader_election_with_listed_namespaces(helm: str) -> None:
    docs = render({"replicaCount": "3", "watchNamespaces": "{a,b}", "leaderElection.leaseName": "scribe-ha"})
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in of_kind(docs, "Role")}
    assert set(roles) == {("a", FULLNAME), ("b", FULLNAME), (NAMESPACE, f"{FULLNAME}-leader-election")}
    assert rule_table(roles[NAMESPACE, f"{FULLNAME}-leader-election"]["rules"]) == LEASE_RULES
    assert env_of(operator_container(docs))["SCRIBE_LEADER_ELECTION_LEASE"] == "scribe-ha"


def test_leader_election_can_be_enabled_with_one_replica(helm: str) -> None:
    docs = render({"leaderElection.enabled": "true", "leaderElection.leaseSeconds": "15"})
    env = env_of(operator_container(docs))
    assert (env["SCRIBE_LEADER_ELECTION"], env["SCRIBE_LEADER_ELECTION_LEASE_SECONDS"]) == ("true", "15")


# --- pod security -----------------------------------------------------------------------------------------------


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


def test_operator_pod_is_restricted(helm: str) -> None:
    docs = render()
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert_restricted(spec)
    assert spec["securityContext"]["runAsUser"] == 65532
    container = operator_container(docs)
    assert container["securityContext"]["runAsUser"] == 65532
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in spec["volumes"]


def test_probes_and_ports(helm: str) -> None:
    container = operator_container(render())
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "health"}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"health": 8080, "metrics": 9090}
    env = env_of(container)
    assert (env["SCRIBE_HEALTH_PORT"], env["SCRIBE_METRICS_PORT"]) == ("8080", "9090")


def test_metrics_service(helm: str) -> None:
    docs = render({"metrics.service.labels.team": "audio"})
    service = one(docs, "Service")
    assert service["spec"]["ports"] == [{"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}]
    assert service["spec"]["selector"] == {
        "app.kubernetes.io/name": "scribe-operator",
        "app.kubernetes.io/instance": RELEASE,
    }
    assert service["metadata"]["labels"]["team"] == "audio"
    assert service["metadata"]["labels"]["app.kubernetes.io/component"] == "metrics"
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert not of_kind(render({"metrics.service.enabled": "false"}), "Service")


# --- environment ------------------------------------------------------------------------------------------------


def test_s3_from_an_existing_secret(helm: str) -> None:
    env = env_of(
        operator_container(
            render(
                {
                    "s3.endpoint": "http://minio.storage:9000",
                    "s3.region": "eu-west-1",
                    "s3.addressingStyle": "path",
                    "s3.existingSecret": "s3-creds",
                    "s3.accessKeyIdKey": "user",
                }
            )
        )
    )
    assert env["AWS_ENDPOINT_URL"] == "http://minio.storage:9000"
    assert env["AWS_REGION"] == "eu-west-1"
    assert env["SCRIBE_S3_ADDRESSING_STYLE"] == "path"
    assert env["AWS_ACCESS_KEY_ID"] == {"secretKeyRef": {"name": "s3-creds", "key": "user"}}
    assert env["AWS_SECRET_ACCESS_KEY"] == {"secretKeyRef": {"name": "s3-creds", "key": "secretAccessKey"}}


def test_no_static_credentials_by_default(helm: str) -> None:
    env = env_of(operator_container(render()))
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION"} & set(env)
    docs = render()
    assert not of_kind(docs, "Secret")


ALL_SETTINGS = {
    "settings.attemptOverheadSeconds": "90",
    "settings.secondsPerMib": "12.5",
    "settings.minAttemptSeconds": "120",
    "settings.maxAttemptSeconds": "10000000",
    "settings.podLostGraceSeconds": "30",
    "settings.deadlineGraceSeconds": "45",
    "settings.urlTtlMarginSeconds": "600",
    "settings.defaultMemoryLimit": "3Gi",
    "settings.oomMemoryFactor": "1.5",
    "settings.maxMemoryLimit": "32Gi",
    "settings.workerRunAsUser": "1000",
    "settings.logFormat": "text",
    "settings.maxRunningAttempts": "20",
    "settings.maxRunningAttemptsPerNamespace": "4",
    "settings.breakerThreshold": "8",
    "settings.breakerWindowSeconds": "90",
    "settings.breakerCooldownSeconds": "12.5",
    "leaderElection.leaseSeconds": "12",
    "worker.image.pullPolicy": "Always",
}


def test_settings_become_scribe_environment(helm: str) -> None:
    env = env_of(operator_container(render(ALL_SETTINGS)))
    assert env["SCRIBE_SECONDS_PER_MIB"] == "12.5"
    assert env["SCRIBE_MAX_ATTEMPT_SECONDS"] == "10000000"  # not 1e+07
    assert env["SCRIBE_DEFAULT_MEMORY_LIMIT"] == "3Gi"
    assert env["SCRIBE_OOM_MEMORY_FACTOR"] == "1.5"
    assert env["SCRIBE_LOG_FORMAT"] == "text"
    assert env["SCRIBE_WORKER_IMAGE_PULL_POLICY"] == "Always"
    unset = env_of(operator_container(render()))
    assert "SCRIBE_MAX_MEMORY_LIMIT" not in unset  # null: the operator's default


def test_every_scribe_variable_is_an_operator_setting(helm: str) -> None:
    """The chart sets no SCRIBE_* variable the operator would silently ignore."""
    env = env_of(operator_container(render({**ALL_SETTINGS, "replicaCount": "2"})))
    names = {n for n in env if n.startswith("SCRIBE_")}
    known = {
        variable
        for _, section in OperatorSettings.sections()
        for field in section.model_fields
        for variable in section.env_names(field)
    }
    assert len(names) > 15
    assert names <= known, names - known
    settings = OperatorSettings.from_environ(env)
    assert settings.task.max_attempt_seconds == 10_000_000 and settings.leader_election.enabled
    assert settings.leader_election.lease_seconds == 12
    assert (settings.capacity.max_running_attempts, settings.capacity.max_running_attempts_per_namespace) == (20, 4)
    breaker = settings.breaker
    assert (breaker.threshold, breaker.window_seconds, breaker.cooldown_seconds) == (8, 90, 12.5)


def test_extra_env_is_appended(helm: str) -> None:
    env = env_of(
        operator_container(render({"extraEnv:json": '[{"name": "HTTPS_PROXY", "value": "http://proxy:3128"}]'}))
    )
    assert env["HTTPS_PROXY"] == "http://proxy:3128"


# --- schema -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"replicaCount": "0"}, "/replicaCount"),
        ({"replicaCount": "two"}, "/replicaCount"),
        ({"replicaCount:json": "1.5"}, "/replicaCount"),
        ({"s3.addressingStyle": "sideways"}, "/s3/addressingStyle"),
        ({"image.tag:json": "1.0"}, "/image/tag"),
        ({"image.pullPolicy": "Sometimes"}, "/image/pullPolicy"),
        ({"watchNamespaces:json": '["Not_A_Namespace"]'}, "/watchNamespaces/0"),
        ({"watchNamespaces": "{a,b,a}"}, "/watchNamespaces"),
        ({"settings.logFormat": "xml"}, "/settings/logFormat"),
        ({"settings.maxMemoryLimit": "lots"}, "/settings/maxMemoryLimit"),
        ({"settings.maxAtemptSeconds": "10"}, "maxAtemptSeconds"),
        ({"settings.maxRunningAttempts:json": "-1"}, "/settings/maxRunningAttempts"),
        ({"settings.breakerCooldownSeconds": "soon"}, "/settings/breakerCooldownSeconds"),
        ({"networkPolicy.enabled": "true"}, "/networkPolicy/s3Cidrs"),
        ({"crds.install": "maybe"}, "/crds/install"),
        ({"replicaCunt": "2"}, "replicaCunt"),
    ],
)
def test_schema_rejects_bad_values_naming_the_field(helm: str, values: dict[str, str], field: str) -> None:
    proc = run_helm("template", RELEASE, str(CHART), *set_args(values), check=False)
    assert proc.returncode != 0, f"{values} was accepted"
    assert "values don't meet the specifications of the schema" in proc.stderr, proc.stderr
    assert field in proc.stderr, proc.stderr


# Values whose default is a literal Kubernetes object, documented as a whole by the comment above them.
LITERAL_OBJECTS = {"podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe", "dns"}


def test_values_file_documents_every_value() -> None:
    """Every key in values.yaml has a comment right above it, except inside literal Kubernetes objects."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    parents: list[tuple[int, str]] = []  # (indent, key) of the enclosing keys
    for number, line in enumerate(lines, 1):
        match = re.match(r"^( *)([A-Za-z][\w.-]*):", line)
        if not match:
            continue
        indent, key = len(match.group(1)), match.group(2)
        parents = [(i, k) for i, k in parents if i < indent]
        inside_literal = any(k in LITERAL_OBJECTS for _, k in parents)
        grouping = line.rstrip().endswith(":") and key in ("image", "service", "serviceMonitor", "worker", "tests")
        if not inside_literal and not grouping:
            assert lines[number - 2].strip().startswith("#"), f"values.yaml:{number}: `{key}` has no comment above"
        parents.append((indent, key))


def test_schema_covers_every_value() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(node: Any, sub: dict[str, Any], path: str) -> None:
        if not isinstance(node, dict) or "properties" not in sub:
            return
        for key, value in node.items():
            assert key in sub["properties"], f"{path}.{key} is not in values.schema.json"
            walk(value, sub["properties"][key], f"{path}.{key}")

    walk(values, schema, "")


# --- network policy ---------------------------------------------------------------------------------------------


def test_network_policy_for_workers(helm: str) -> None:
    assert not of_kind(render(), "NetworkPolicy")
    docs = render(
        {
            "networkPolicy.enabled": "true",
            "watchNamespaces": "{media,podcasts}",
            "networkPolicy.s3Cidrs": "{10.1.2.3/32}",
            "networkPolicy.s3Ports": "{9000}",
        }
    )
    policies = of_kind(docs, "NetworkPolicy")
    assert sorted(p["metadata"]["namespace"] for p in policies) == ["media", "podcasts"]
    for policy in policies:
        spec = policy["spec"]
        assert spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "scribe-worker"}}
        assert spec["policyTypes"] == ["Ingress", "Egress"] and spec["ingress"] == []
        dns, s3 = spec["egress"]
        assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {("UDP", 53), ("TCP", 53)}
        assert s3 == {"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"protocol": "TCP", "port": 9000}]}


def test_network_policy_cluster_wide_needs_namespaces(helm: str) -> None:
    values = {"networkPolicy.enabled": "true", "networkPolicy.s3Cidrs": "{0.0.0.0/0}"}
    proc = run_helm("template", RELEASE, str(CHART), *set_args(values), check=False)
    assert proc.returncode != 0 and "networkPolicy.namespaces" in proc.stderr
    docs = render({**values, "networkPolicy.namespaces": "{jobs}"})
    assert [p["metadata"]["namespace"] for p in of_kind(docs, "NetworkPolicy")] == ["jobs"]


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


# --- the workers' progress credential ---------------------------------------------------------------------------


def test_worker_progress_policy_narrows_the_worker_account(helm: str) -> None:
    docs = render({"settings.workerServiceAccount": "transcriber", "settings.stallTimeoutSeconds": "600"})
    policy = one(docs, "ValidatingAdmissionPolicy")
    binding = one(docs, "ValidatingAdmissionPolicyBinding")
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    (match,) = policy["spec"]["matchConditions"]
    assert "':transcriber'" in match["expression"] and "system:serviceaccount:" in match["expression"]
    assert policy["spec"]["failurePolicy"] == "Fail"
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rules[0]["resources"] == ["pods", "pods/*"] and {"CREATE", "UPDATE"} <= set(rules[0]["operations"])
    messages = " ".join(v["message"] for v in policy["spec"]["validations"])
    for what in ("the pod it is bound to", "spec", "labels", "no annotation but scribe.dev/progress", "owners"):
        assert what in messages
    env = env_of(operator_container(docs))
    assert (env["SCRIBE_WORKER_SERVICE_ACCOUNT"], env["SCRIBE_STALL_TIMEOUT_SECONDS"]) == ("transcriber", "600")
    assert env["SCRIBE_PROGRESS_REPORTING"] == "true"  # the credential goes with the policy that narrows it
    without = render({"workerProgressPolicy.install": "false"})
    assert not of_kind(without, "ValidatingAdmissionPolicy")
    assert env_of(operator_container(without))["SCRIBE_PROGRESS_REPORTING"] == "false"


def test_network_policy_lets_workers_report_progress_to_the_api_server(helm: str) -> None:
    docs = render(
        {
            "networkPolicy.enabled": "true",
            "watchNamespaces": "{media}",
            "networkPolicy.s3Cidrs": "{10.1.2.3/32}",
            "networkPolicy.apiServerCidrs": "{10.96.0.1/32}",
            "networkPolicy.apiServerPorts": "{443}",
        }
    )
    _, _, api = one(docs, "NetworkPolicy")["spec"]["egress"]
    assert api == {"to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}], "ports": [{"protocol": "TCP", "port": 443}]}
