"""The ground is real: these run against the cluster KUBECONFIG names (the embedded one by default) and check the
Kubernetes behaviour the operator relies on, as a kubelet and the real control plane produce it."""

from __future__ import annotations

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace, Pod

from tests.support.fixtures import delete_namespace, make_namespace
from tests.support.objects import (
    KUBECTL_IMAGE,
    RESTRICTED_CONTAINER,
    SHELL_IMAGE,
    create,
    exists,
    pod_dict,
    pod_manifest,
    terminated,
    wait_pod_phase,
    waiting_reason,
)
from tests.support.wait import wait_for


@pytest.mark.parametrize(("code", "phase", "reason"), [(0, "Succeeded", "Completed"), (3, "Failed", "Error")])
def test_exit_code_sets_phase_and_container_state(
    kube: Client, namespace: str, code: int, phase: str, reason: str
) -> None:
    create(kube, pod_manifest("exits", ["sh", "-c", f"exit {code}"]), namespace)
    pod = wait_pod_phase(kube, "exits", namespace, ("Succeeded", "Failed"))
    assert pod["status"]["phase"] == phase
    state = terminated(pod)
    assert (state["exitCode"], state["reason"]) == (code, reason)
    assert state["startedAt"] and state["finishedAt"]


def test_termination_message_reaches_container_status(kube: Client, namespace: str) -> None:
    script = 'echo \'{"reason":"UploadFailed"}\' > /dev/termination-log; exit 30'
    create(kube, pod_manifest("says-why", ["sh", "-c", script]), namespace)
    state = terminated(wait_pod_phase(kube, "says-why", namespace, ("Failed",)))
    assert state["exitCode"] == 30
    assert state["message"].strip() == '{"reason":"UploadFailed"}'


def test_memory_hog_is_oom_killed(kube: Client, namespace: str) -> None:
    manifest = pod_manifest(
        "hog", ["sh", "-c", "tail /dev/zero"], container={"resources": {"limits": {"memory": "64Mi"}}}
    )
    create(kube, manifest, namespace)
    pod = wait_pod_phase(kube, "hog", namespace, ("Failed",), timeout=120)
    state = terminated(pod)
    assert (state["reason"], state["exitCode"]) == ("OOMKilled", 137)


def test_active_deadline_ends_pod_with_deadline_exceeded(kube: Client, namespace: str) -> None:
    create(kube, pod_manifest("sleeper", ["sleep", "300"], activeDeadlineSeconds=3), namespace)
    pod = wait_pod_phase(kube, "sleeper", namespace, ("Failed",), timeout=60)
    assert pod["status"]["reason"] == "DeadlineExceeded"


def test_unknown_image_backs_off(kube: Client, namespace: str) -> None:
    create(kube, pod_manifest("nope", ["true"], image="example.invalid/no-such-image:1"), namespace)
    wait_for(
        "ImagePullBackOff",
        lambda: waiting_reason(pod_dict(kube, "nope", namespace)) == "ImagePullBackOff",
        timeout=60,
    )
    assert pod_dict(kube, "nope", namespace)["status"]["phase"] == "Pending"


def test_deleting_a_pod_terminates_it_gracefully(kube: Client, namespace: str) -> None:
    script = "trap 'exit 0' TERM; while true; do sleep 0.2; done"
    create(kube, pod_manifest("graceful", ["sh", "-c", script]), namespace)
    wait_pod_phase(kube, "graceful", namespace, ("Running",))
    kube.delete(Pod, "graceful", namespace=namespace)
    wait_for("the pod to be gone", lambda: not exists(kube, Pod, "graceful", namespace), timeout=30)


def test_deleting_owner_garbage_collects_pods(kube: Client, namespace: str) -> None:
    owner = create(kube, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}}, namespace)
    manifest = pod_manifest("owned", ["sleep", "300"])
    manifest["metadata"]["ownerReferences"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    ]
    create(kube, manifest, namespace)
    wait_pod_phase(kube, "owned", namespace, ("Running",))
    kube.delete(ConfigMap, "owner", namespace=namespace)
    wait_for("the owned pod to be collected", lambda: not exists(kube, Pod, "owned", namespace), timeout=60)


def test_deployment_becomes_available_and_its_pod_can_call_the_api(kube: Client, namespace: str) -> None:
    create(kube, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "prover"}}, namespace)
    rules = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}]
    rbac = "rbac.authorization.k8s.io/v1"
    create(kube, {"apiVersion": rbac, "kind": "Role", "metadata": {"name": "prover"}, "rules": rules}, namespace)
    subjects = [{"kind": "ServiceAccount", "name": "prover", "namespace": namespace}]
    role_ref = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "prover"}
    binding = {"apiVersion": rbac, "kind": "RoleBinding", "metadata": {"name": "prover"}, "roleRef": role_ref}
    create(kube, {**binding, "subjects": subjects}, namespace)
    labels = {"app": "prover"}
    create(kube, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "prover"},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {
                "serviceAccountName": "prover",
                "initContainers": [{"name": "prove", "image": KUBECTL_IMAGE,
                                    "args": ["create", "configmap", "api-proof", "--from-literal=ok=yes"]}],
                "containers": [{"name": "main", "image": SHELL_IMAGE, "command": ["sleep", "3600"]}],
            }}},
    }, namespace)  # fmt: skip

    def available() -> bool:
        conditions = kube.get(Deployment, "prover", namespace=namespace).status.conditions or []
        return any(c.type == "Available" and c.status == "True" for c in conditions)

    wait_for("the Deployment to be Available", available, timeout=90)
    proof = kube.get(ConfigMap, "api-proof", namespace=namespace)
    assert proof.data == {"ok": "yes"}


def test_service_account_without_rbac_is_forbidden(kube: Client, namespace: str) -> None:
    create(kube, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody"}}, namespace)
    manifest = pod_manifest("snoop", [], image=KUBECTL_IMAGE, serviceAccountName="nobody")
    manifest["spec"]["containers"][0] = {
        "name": "main", "image": KUBECTL_IMAGE, "args": ["get", "secrets"],
        "terminationMessagePolicy": "FallbackToLogsOnError",
    }  # fmt: skip
    create(kube, manifest, namespace)
    state = terminated(wait_pod_phase(kube, "snoop", namespace, ("Failed",)))
    assert state["exitCode"] != 0
    assert "forbidden" in state["message"].lower()
    assert "system:serviceaccount:" + namespace + ":nobody" in state["message"]


def test_restricted_namespace_rejects_privileged_pod(kube: Client) -> None:
    ns = make_namespace(kube, "restricted", {"pod-security.kubernetes.io/enforce": "restricted"})
    try:
        privileged = pod_manifest("root", ["true"], container={"securityContext": {"privileged": True}})
        with pytest.raises(ApiError) as err:
            create(kube, privileged, ns)
        assert err.value.status.code == 403
        assert "violates PodSecurity" in str(err.value.status.message)
        compliant = pod_manifest("fine", ["true"], container={"securityContext": RESTRICTED_CONTAINER})
        create(kube, compliant, ns)  # the same namespace admits a pod that meets the standard
        assert kube.get(Namespace, ns).metadata.labels["pod-security.kubernetes.io/enforce"] == "restricted"
    finally:
        delete_namespace(kube, ns)


def test_env_sources_and_empty_dir_reach_the_container(kube: Client, namespace: str) -> None:
    create(kube, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
                  "stringData": {"token": "s3cr3t", "extra": "from-secret"}}, namespace)  # fmt: skip
    create(kube, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "labels": {"tier": "x"}},
                  "data": {"mode": "fast", "shared": "from-configmap"}}, namespace)  # fmt: skip
    script = (
        'echo "$SECRET $MODE $POD_NAME $POD_NS $GREETING $CM_shared $SEC_extra" > /scratch/out;'
        "cat /scratch/out > /dev/termination-log"
    )
    manifest = pod_manifest("envy", ["sh", "-c", script], volumes=[{"name": "scratch", "emptyDir": {}}])
    manifest["spec"]["containers"][0].update(
        env=[
            {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
            {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "conf", "key": "mode"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "GREETING", "value": "hello-$(MODE)"},
        ],
        envFrom=[
            {"configMapRef": {"name": "conf"}, "prefix": "CM_"},
            {"secretRef": {"name": "creds"}, "prefix": "SEC_"},
        ],
        volumeMounts=[{"name": "scratch", "mountPath": "/scratch"}],
    )
    create(kube, manifest, namespace)
    state = terminated(wait_pod_phase(kube, "envy", namespace, ("Succeeded", "Failed")))
    assert state["message"].split() == [
        "s3cr3t", "fast", "envy", namespace, "hello-fast", "from-configmap", "from-secret",
    ]  # fmt: skip


def test_missing_secret_is_create_container_config_error(kube: Client, namespace: str) -> None:
    manifest = pod_manifest("needs-secret", ["true"])
    manifest["spec"]["containers"][0]["env"] = [
        {"name": "X", "valueFrom": {"secretKeyRef": {"name": "not-yet", "key": "k"}}}
    ]
    create(kube, manifest, namespace)
    wait_for(
        "CreateContainerConfigError",
        lambda: waiting_reason(pod_dict(kube, "needs-secret", namespace)) == "CreateContainerConfigError",
        timeout=60,
    )
    create(kube, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "not-yet"}, "stringData": {"k": "v"}},
           namespace)  # fmt: skip
    wait_pod_phase(kube, "needs-secret", namespace, ("Succeeded",), timeout=60)


def test_restart_policy_on_failure_restarts_the_container(kube: Client, namespace: str) -> None:
    script = "if [ -e /scratch/once ]; then exit 0; fi; touch /scratch/once; exit 1"
    manifest = pod_manifest(
        "flaky", ["sh", "-c", script], restartPolicy="OnFailure", volumes=[{"name": "scratch", "emptyDir": {}}]
    )
    manifest["spec"]["containers"][0]["volumeMounts"] = [{"name": "scratch", "mountPath": "/scratch"}]
    create(kube, manifest, namespace)
    pod = wait_pod_phase(kube, "flaky", namespace, ("Succeeded", "Failed"), timeout=90)
    assert pod["status"]["phase"] == "Succeeded"
    status = pod["status"]["containerStatuses"][0]
    assert status["restartCount"] == 1
    assert status["lastState"]["terminated"]["exitCode"] == 1
