"""The chart's RBAC, exactly what the operator uses and nothing more, and leader election with several replicas."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from tests.unit.chart.rendering import (
    FULLNAME,
    NAMESPACE,
    env_of,
    of_kind,
    one,
    operator_container,
    render,
    rule_table,
)

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
