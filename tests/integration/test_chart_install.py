"""The Helm chart installed for real: into namespaces that enforce the `restricted` Pod Security Standard, with the
operator's ServiceAccount holding exactly the permissions it needs, proven with real SubjectAccessReviews.

The operator image here is one the cluster cannot pull, on purpose: these tests are about what the chart creates
(the pod is still admitted, or refused, by Pod Security admission when the ReplicaSet creates it), and an operator
they started must not reconcile the tasks of tests running beside them. The e2e suite runs the deployed operator.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from lightkube import Client
from lightkube.models.authorization_v1 import ResourceAttributes, SubjectAccessReviewSpec
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.apps_v1 import Deployment, ReplicaSet
from lightkube.resources.authorization_v1 import SubjectAccessReview
from lightkube.resources.core_v1 import Event, Pod, ServiceAccount
from lightkube.resources.rbac_authorization_v1 import ClusterRole, ClusterRoleBinding, Role, RoleBinding

from tests.support.fixtures import delete_namespace, make_namespace
from tests.support.helm import CHART, run_helm
from tests.support.objects import exists
from tests.support.wait import wait_for

RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}
UNPULLABLE = "example.invalid/scribe-operator-chart-test"
CRD_NAME = "transcriptiontasks.scribe.dev"

Resource = tuple[str, str, str]
"""(API group, resource, subresource), as a SubjectAccessReview names them; ``""`` for none."""

# Every namespaced resource these tests ask about, by API group and in RBAC's spelling (``resource`` or
# ``resource/subresource``), with the verbs the operator may use on it where it works: every other verb is denied, and
# an empty set is a resource it may not touch at all.
NAMESPACED: dict[str, dict[str, set[str]]] = {
    "scribe.dev": {
        "transcriptiontasks": {"get", "list", "watch", "patch", "create", "delete"},
        "transcriptiontasks/status": {"patch"},
        "transcriptiontasks/finalizers": set(),
        "transcriptionbatches": {"get", "list", "watch"},
        "transcriptionbatches/status": {"patch"},
    },
    "": {
        "pods": {"get", "list", "watch", "create", "delete", "patch"},
        "pods/exec": set(),
        "pods/log": set(),
        "pods/status": set(),
        "serviceaccounts": {"create"},
        "serviceaccounts/token": set(),
        "secrets": {"create", "delete"},
        "events": {"create", "patch"},
        "configmaps": set(),
        "services": set(),
        "persistentvolumeclaims": set(),
    },
    "rbac.authorization.k8s.io": {"roles": {"create"}, "rolebindings": {"create"}},
    "events.k8s.io": {"events": {"create", "patch"}},
    "apps": {"deployments": set()},
    "batch": {"jobs": set()},
    "networking.k8s.io": {"networkpolicies": set()},
    "coordination.k8s.io": {"leases": set()},
}
# The cluster-scoped resources these tests ask about, by API group: the operator may do nothing with them.
CLUSTER_SCOPED: dict[str, tuple[str, ...]] = {
    "": ("namespaces", "nodes"),
    "apiextensions.k8s.io": ("customresourcedefinitions",),
    "rbac.authorization.k8s.io": ("clusterroles", "clusterrolebindings"),
    "certificates.k8s.io": ("certificatesigningrequests",),
}


def _resource(group: str, spelled: str) -> Resource:
    """``spelled`` (``resource`` or ``resource/subresource``) of API group ``group``, as a review names it."""
    resource, _, sub = spelled.partition("/")
    return group, resource, sub


# What the operator may do, resource -> verbs; every other combination in MATRIX is denied.
ALLOWED: dict[Resource, set[str]] = {
    _resource(group, spelled): verbs
    for group, resources in NAMESPACED.items()
    for spelled, verbs in resources.items()
    if verbs
}
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
MATRIX: list[Resource] = [_resource(group, spelled) for group, resources in NAMESPACED.items() for spelled in resources]
CLUSTER_MATRIX: list[Resource] = [
    (group, resource, "") for group, resources in CLUSTER_SCOPED.items() for resource in resources
]


@dataclass
class Release:
    name: str
    namespace: str
    service_account: str
    watched: list[str]  # empty: all namespaces

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


def can(
    kube: Client,
    release: Release,
    verb: str,
    group: str,
    resource: str,
    sub: str = "",
    *,
    namespace: str | None = None,
    name: str | None = None,
) -> bool:
    """A SubjectAccessReview for the operator's ServiceAccount, with the groups its token authenticates with."""
    review = SubjectAccessReview(
        spec=SubjectAccessReviewSpec(
            user=release.user,
            groups=["system:serviceaccounts", f"system:serviceaccounts:{release.namespace}", "system:authenticated"],
            resourceAttributes=ResourceAttributes(
                verb=verb, group=group, resource=resource, subresource=sub or None, namespace=namespace, name=name
            ),
        )
    )
    result = kube.create(review)
    assert result.status is not None
    return bool(result.status.allowed)


def can_i(release: Release, *args: str) -> bool:
    """`kubectl auth can-i ... --as=<the operator's ServiceAccount>` (impersonation: a SelfSubjectAccessReview)."""
    proc = subprocess.run(
        ["kubectl", "auth", "can-i", *args, f"--as={release.user}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = proc.stdout.strip()
    assert answer in ("yes", "no"), f"kubectl auth can-i {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return answer == "yes"


def install(kube: Client, name: str, namespace: str, *values: str) -> None:
    args = ["install", name, str(CHART), "--namespace", namespace, "--set", f"image.repository={UNPULLABLE}"]
    # The CRD is cluster-wide and may already be there (other tests apply crds/): take it over, it is kept anyway.
    if "--take-ownership" in run_helm("install", "--help").stdout:
        args.append("--take-ownership")
    for value in values:
        args += ["--set", value]
    if kubectl := os.environ.get("SCRIBE_TEST_KUBECTL_IMAGE"):  # `helm test`'s kubectl: the one the node has
        repository, _, tag = kubectl.rpartition(":")
        args += ["--set-string", f"tests.image.repository={repository}", "--set-string", f"tests.image.tag={tag}"]
    proc = run_helm(*args, timeout=300)
    assert "violate PodSecurity" not in proc.stderr, proc.stderr


def uninstall(release: Release) -> None:
    run_helm("uninstall", release.name, "--namespace", release.namespace, check=False, timeout=300)


@pytest.fixture(scope="module")
def cluster_wide(kube: Client) -> Iterator[Release]:
    """The chart with default values (all namespaces), in a namespace enforcing `restricted`."""
    namespace = make_namespace(kube, "chart-all", RESTRICTED)
    release = Release(f"scribe-{uuid.uuid4().hex[:5]}", namespace, "", [])
    release.service_account = f"{release.name}-scribe-operator"
    try:
        install(kube, release.name, namespace)
        yield release
    finally:
        uninstall(release)
        delete_namespace(kube, namespace)


@pytest.fixture(scope="module")
def namespaced(kube: Client) -> Iterator[Release]:
    """The chart watching two namespaces, with two replicas (leader election), all namespaces enforcing `restricted`."""
    namespace = make_namespace(kube, "chart-ops", RESTRICTED)
    watched = [make_namespace(kube, "chart-tasks", RESTRICTED) for _ in range(2)]
    release = Release(f"scribe-{uuid.uuid4().hex[:5]}", namespace, "", watched)
    release.service_account = f"{release.name}-scribe-operator"
    try:
        install(kube, release.name, namespace, f"watchNamespaces={{{','.join(watched)}}}", "replicaCount=2")
        yield release
    finally:
        uninstall(release)
        for name in [namespace, *watched]:
            delete_namespace(kube, name)


@pytest.fixture
def elsewhere(kube: Client) -> Iterator[str]:
    name = make_namespace(kube, "chart-other")
    yield name
    delete_namespace(kube, name)


def operator_pods(kube: Client, release: Release) -> list[Pod]:
    selector: dict[str, Any] = {"app.kubernetes.io/instance": release.name, "app.kubernetes.io/component": "operator"}
    return list(kube.list(Pod, namespace=release.namespace, labels=selector))


def assert_admitted_as_restricted(kube: Client, release: Release, replicas: int) -> None:
    """The ReplicaSet's pods were created in the `restricted` namespace: Pod Security admission let them in."""
    pods = wait_for(
        f"{replicas} operator pods",
        lambda: p if len(p := operator_pods(kube, release)) >= replicas else None,
        timeout=60,
    )
    for pod in pods:
        assert pod.spec is not None and pod.spec.serviceAccountName == release.service_account
    refused = [
        e.message
        for e in kube.list(Event, namespace=release.namespace)
        if e.reason == "FailedCreate" and e.involvedObject.kind == "ReplicaSet"
    ]
    assert not refused, refused


def test_cluster_wide_install(kube: Client, cluster_wide: Release, elsewhere: str) -> None:
    release = cluster_wide
    status = run_helm("status", release.name, "--namespace", release.namespace, "-o", "json").stdout
    assert '"status":"deployed"' in status.replace(" ", "")
    assert_admitted_as_restricted(kube, release, replicas=1)
    kube.get(ServiceAccount, release.service_account, namespace=release.namespace)
    role = kube.get(ClusterRole, f"{release.name}-scribe-operator")
    assert role.rules
    crd = kube.get(CustomResourceDefinition, CRD_NAME)
    assert crd.metadata is not None and crd.metadata.annotations is not None
    assert crd.metadata.annotations.get("meta.helm.sh/release-name") == release.name

    # What it needs, in any namespace
    for namespace in (elsewhere, release.namespace):
        assert can_i(release, "create", "pods", "-n", namespace)
        assert can_i(release, "patch", "transcriptiontasks.scribe.dev", "--subresource=status", "-n", namespace)
        assert can_i(release, "create", "secrets", "-n", namespace)
    # ... and nothing it does not need
    assert not can_i(release, "get", "secrets", "-n", elsewhere)
    assert not can_i(release, "list", "secrets", "-n", elsewhere)
    assert not can_i(release, "list", "secrets", "--all-namespaces")
    assert not can_i(release, "delete", "namespaces")
    assert not can_i(release, "create", "deployments.apps", "-n", elsewhere)
    assert not can_i(release, "get", "deployments.apps", "-n", release.namespace)
    assert not can_i(release, "get", "configmaps", "-n", elsewhere)

    assert_exact_permissions(kube, release, [elsewhere, release.namespace], cluster_scoped=True)


def test_namespaced_install(kube: Client, namespaced: Release, elsewhere: str) -> None:
    release = namespaced
    assert_admitted_as_restricted(kube, release, replicas=2)
    names = [o.metadata.name for o in kube.list(ClusterRole) if o.metadata]
    names += [o.metadata.name for o in kube.list(ClusterRoleBinding) if o.metadata]
    assert not [n for n in names if n and n.startswith(release.name)], "a namespaced install made cluster-wide RBAC"
    for namespace in release.watched:
        kube.get(Role, f"{release.name}-scribe-operator", namespace=namespace)
        kube.get(RoleBinding, f"{release.name}-scribe-operator", namespace=namespace)
        assert can_i(release, "create", "pods", "-n", namespace)
        assert can_i(release, "patch", "transcriptiontasks.scribe.dev", "--subresource=status", "-n", namespace)
        assert can_i(release, "create", "secrets", "-n", namespace)
        assert not can_i(release, "get", "secrets", "-n", namespace)
        assert not can_i(release, "get", "configmaps", "-n", namespace)
    # Nothing outside the watched namespaces, not even where it runs
    for namespace in (elsewhere, release.namespace):
        assert not can_i(release, "create", "pods", "-n", namespace)
        assert not can_i(release, "list", "transcriptiontasks.scribe.dev", "-n", namespace)
    assert not can_i(release, "list", "pods", "--all-namespaces")
    assert not can_i(release, "list", "transcriptiontasks.scribe.dev", "--all-namespaces")

    assert_exact_permissions(kube, release, release.watched, cluster_scoped=False)
    assert_exact_permissions(kube, release, [elsewhere], cluster_scoped=False, allowed={})
    # Leader election: create a Lease where it runs, then read and renew only its own one
    lease = f"{release.name}-scribe-operator"
    leases = {("coordination.k8s.io", "leases", ""): {"create"}}
    assert_exact_permissions(kube, release, [release.namespace], cluster_scoped=False, allowed=leases)
    for verb in ("get", "update"):
        assert can(kube, release, verb, "coordination.k8s.io", "leases", namespace=release.namespace, name=lease)
        assert not can(kube, release, verb, "coordination.k8s.io", "leases", namespace=release.namespace, name="x")
    assert not can(kube, release, "create", "coordination.k8s.io", "leases", namespace=elsewhere)


def assert_exact_permissions(
    kube: Client,
    release: Release,
    namespaces: list[str],
    *,
    cluster_scoped: bool,
    allowed: dict[Resource, set[str]] | None = None,
) -> None:
    """Every verb on every resource of MATRIX: allowed exactly when `allowed` says so (ALLOWED by default)."""
    allowed = ALLOWED if allowed is None else allowed
    wrong: list[str] = []
    for namespace in namespaces:
        for group, resource, sub in MATRIX:
            for verb in VERBS:
                expected = verb in allowed.get((group, resource, sub), set())
                if can(kube, release, verb, group, resource, sub, namespace=namespace) != expected:
                    wrong.append(f"{verb} {group}/{resource}{'/' + sub if sub else ''} in {namespace}: {not expected}")
    for group, resource, sub in CLUSTER_MATRIX:
        for verb in VERBS:
            expected = cluster_scoped and verb in allowed.get((group, resource, sub), set())
            if can(kube, release, verb, group, resource, sub) != expected:
                wrong.append(f"{verb} {group}/{resource} (cluster): {not expected}")
    assert not wrong, "permissions differ from the expected:\n" + "\n".join(wrong)


def test_helm_test_smoke_check_passes(cluster_wide: Release) -> None:
    proc = run_helm("test", cluster_wide.name, "--namespace", cluster_wide.namespace, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Succeeded" in proc.stdout


def test_helm_test_in_namespaced_mode(namespaced: Release) -> None:
    proc = run_helm("test", namespaced.name, "--namespace", namespaced.namespace, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_uninstall_removes_everything_but_the_crd(kube: Client) -> None:
    namespace = make_namespace(kube, "chart-gone", RESTRICTED)
    release = Release(f"scribe-{uuid.uuid4().hex[:5]}", namespace, "", [])
    release.service_account = f"{release.name}-scribe-operator"
    try:
        install(kube, release.name, namespace)
        uninstall(release)
        fullname = f"{release.name}-scribe-operator"
        kinds = ((Deployment, namespace), (ServiceAccount, namespace), (ClusterRole, None), (ClusterRoleBinding, None))
        for kind, ns in kinds:
            assert not exists(kube, kind, fullname, ns), f"{kind.__name__} {fullname} is left behind"
        wait_for("the operator's pods to go", lambda: not operator_pods(kube, release), timeout=60)
        wait_for("the ReplicaSet to go", lambda: not list(kube.list(ReplicaSet, namespace=namespace)), timeout=60)
        kube.get(CustomResourceDefinition, CRD_NAME)  # kept: helm.sh/resource-policy: keep
    finally:
        uninstall(release)
        delete_namespace(kube, namespace)
