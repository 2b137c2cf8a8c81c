"""Bad input stops at the door, and a task that cannot get a pod says so on its first try.

`kubectl apply` refuses what the Pod API would refuse later (requests above limits, inconsistent tolerations), for a
task and for a batch's template. What only the cluster knows (a ResourceQuota, a ValidatingAdmissionPolicy) ends the
attempt at once with the API server's own words, without a pod, and never loops. An admission webhook that refuses
pods is test_admission_webhook.py.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.resources.admissionregistration_v1 import (
    ValidatingAdmissionPolicy,
    ValidatingAdmissionPolicyBinding,
)
from lightkube.resources.core_v1 import Pod, ResourceQuota

from tests.support.commands import kubectl, kubectl_apply
from tests.support.objects import plain
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    create_task,
    describe,
    leftovers,
    status_of,
    task_events,
    task_manifest,
    wait_for_phase,
)
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


TASK = task_manifest("t", "s3://audio-bucket/talks/interview.wav", output="s3://transcripts/interview/")
BATCH: dict[str, Any] = {
    "apiVersion": "scribe.dev/v1alpha1",
    "kind": "TranscriptionBatch",
    "metadata": {"name": "b"},
    "spec": {"inputs": ["s3://audio-bucket/a.wav"], "template": {}},
}
REFUSED: dict[str, tuple[dict[str, Any], str]] = {
    "memory-request-above-limit": (
        {"resources": {"requests": {"memory": "4Gi"}, "limits": {"memory": "1Gi"}}},
        "resources.requests.memory must be less than or equal to resources.limits.memory",
    ),
    "cpu-request-above-limit": (
        {"resources": {"requests": {"cpu": 2}, "limits": {"cpu": "1500m"}}},
        "resources.requests.cpu must be less than or equal to resources.limits.cpu",
    ),
    "gpu-request-other-than-its-limit": (
        {"resources": {"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 2}}},
        "resources.requests.nvidia.com/gpu must equal resources.limits.nvidia.com/gpu when both are set",
    ),
    "node-selector-value-not-a-label-value": (
        {"worker": {"nodeSelector": {"gpu": "yes please"}}},
        "worker.nodeSelector.gpu",
    ),
    "toleration-key-not-a-label-key": (
        {"worker": {"tolerations": [{"key": "Bad Key", "operator": "Exists"}]}},
        "worker.tolerations[0].key",
    ),
    "toleration-without-key-or-exists": (
        {"worker": {"tolerations": [{"value": "gpu", "effect": "NoSchedule"}]}},
        "operator must be Exists when key is empty",
    ),
    "toleration-exists-with-value": (
        {"worker": {"tolerations": [{"key": "gpu", "operator": "Exists", "value": "a100"}]}},
        "value must be empty when operator is Exists",
    ),
    "toleration-seconds-without-no-execute": (
        {"worker": {"tolerations": [{"key": "gpu", "effect": "NoSchedule", "tolerationSeconds": 30}]}},
        "tolerationSeconds is only allowed with effect NoExecute",
    ),
}
ACCEPTED: dict[str, dict[str, Any]] = {
    "equal-in-other-units": {"resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m"}}},
    "null-request": {"resources": {"requests": {"cpu": None, "memory": "1G"}, "limits": {"cpu": 1, "memory": "1Gi"}}},
    "gpu-limit-only": {"resources": {"limits": {"nvidia.com/gpu": 1}}},
    "gpu-request-only": {"resources": {"requests": {"nvidia.com/gpu": 1}}},
    "gpu-alike": {"resources": {"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 1}}},
    "tolerate-everything": {"worker": {"tolerations": [{"operator": "Exists"}]}},
    "null-fields": {"worker": {"tolerations": [{"key": "k", "operator": "Exists", "value": None, "effect": None}]}},
}


def task_with(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    manifest = copy.deepcopy(TASK)
    manifest["metadata"]["name"] = name
    manifest["spec"].update(copy.deepcopy(spec))
    return manifest


def batch_with(name: str, template: dict[str, Any]) -> dict[str, Any]:
    manifest = copy.deepcopy(BATCH)
    manifest["metadata"]["name"] = name
    manifest["spec"]["template"] = copy.deepcopy(template)
    return manifest


@pytest.mark.parametrize("case", REFUSED)
def test_kubectl_apply_refuses_what_the_pod_api_would_refuse_later(namespace: str, crd: str, case: str) -> None:
    spec, message = REFUSED[case]
    for kind, manifest in (("task", task_with(case, spec)), ("batch template", batch_with(case, spec))):
        result = kubectl_apply(manifest, namespace)
        assert result.returncode != 0, f"kubectl apply accepted a {kind} that can never get a pod:\n{manifest}"
        assert message in result.stderr, f"{kind}: {message!r} not in kubectl's error:\n{result.stderr}"
    assert kubectl("get", "tt,transcriptionbatches", "-n", namespace, "-o", "name").stdout.strip() == ""


@pytest.mark.parametrize("case", ACCEPTED)
def test_consistent_resources_and_tolerations_are_accepted(namespace: str, crd: str, case: str) -> None:
    for manifest in (task_with(case, ACCEPTED[case]), batch_with(case, ACCEPTED[case])):
        result = kubectl_apply(manifest, namespace)
        assert result.returncode == 0, result.stderr


# --- what only the cluster knows -------------------------------------------------------------------------------------


def test_a_full_resource_quota_fails_the_attempt_at_once_and_retries_are_bounded(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets
) -> None:
    audio = buckets.create()
    s3.put_object(Bucket=audio, Key="talk.wav", Body=b"RIFF")  # never read: no pod gets to start
    quota = ResourceQuota.from_dict(
        {"metadata": {"name": "no-pods", "namespace": namespace}, "spec": {"hard": {"pods": "0"}}}
    )
    kube.create(quota)
    wait_for(
        "the quota controller to count the namespace",
        lambda: (plain(kube.get(ResourceQuota, "no-pods", namespace=namespace)).get("status") or {}).get("hard"),
        timeout=60,
    )
    policy = {"maxRetries": 1, "backoff": {"initialSeconds": 1, "factor": 1.0, "maxSeconds": 1, "jitter": 0}}
    manifest = task_manifest("quota", f"s3://{audio}/talk.wav", output=f"s3://{audio}/out/", retryPolicy=policy)
    create_task(kube, manifest, namespace)
    task = wait_for_phase(kube, "quota", namespace, "Dead", timeout=60)
    status, shown = task["status"], describe(task)
    assert status["reason"] == "RetriesExhausted" and status["attempt"] == 2, shown
    for record in status["attempts"]:
        assert (record.get("reason"), record.get("retryable"), record.get("pod")) == ("PodForbidden", True, None), shown
        assert "exceeded quota: no-pods" in record["message"], shown
        assert "the API server refused Pod quota-a" in record["message"], shown
    assert status["failureCounts"] == {"PodForbidden": 2}, shown
    assert leftovers(kube, "quota", namespace, attempts=2) == []


@pytest.fixture
def deny_pods(kube: Client, namespace: str) -> Any:
    """A ValidatingAdmissionPolicy bound to this namespace that refuses every pod; removed afterwards."""
    name = f"deny-{namespace}"
    message = "attempt pods are not allowed in this namespace"
    kube.create(
        ValidatingAdmissionPolicy.from_dict(
            {
                "metadata": {"name": name},
                "spec": {
                    "failurePolicy": "Fail",
                    "matchConstraints": {
                        "resourceRules": [
                            {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
                        ]
                    },
                    "validations": [{"expression": "false", "message": message}],
                },
            }
        )
    )
    kube.create(
        ValidatingAdmissionPolicyBinding.from_dict(
            {
                "metadata": {"name": name},
                "spec": {
                    "policyName": name,
                    "validationActions": ["Deny"],
                    "matchResources": {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
                    },
                },
            }
        )
    )
    restricted = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    probe = Pod.from_dict(
        {
            "metadata": {"name": "probe", "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext": restricted}]},
        }
    )

    def refused() -> str | None:
        """The policy is in force once a (dry-run) pod that passes Pod Security is refused with its message."""
        try:
            kube.create(probe, dry_run=True)
        except ApiError as exc:
            text = str(exc.status.message)
            return text if message in text else None
        return None

    try:
        wait_for("the admission policy to refuse pods in the namespace", refused, timeout=60, interval=0.5)
        yield message
    finally:
        for resource in (ValidatingAdmissionPolicyBinding, ValidatingAdmissionPolicy):
            kube.delete(resource, name)


def test_an_admission_policy_refusal_ends_the_task_on_its_first_try(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, deny_pods: str
) -> None:
    audio = buckets.create()
    s3.put_object(Bucket=audio, Key="talk.wav", Body=b"RIFF")
    create_task(
        kube, task_manifest("denied", f"s3://{audio}/talk.wav", output=f"s3://{audio}/out/"), namespace
    )  # maxRetries 3
    task = wait_for_phase(kube, "denied", namespace, "Dead", timeout=60)
    status, shown = task["status"], describe(task)
    assert (status["reason"], status["attempt"]) == ("PodInvalid", 1), shown
    assert deny_pods in status["message"] and "the API server refused Pod denied-a1 (HTTP 422)" in status["message"]
    (record,) = status["attempts"]
    assert (record.get("reason"), record.get("retryable"), record.get("pod")) == ("PodInvalid", False, None), shown
    assert leftovers(kube, "denied", namespace, attempts=1) == []
    failed = task_events(kube, "denied", namespace, reason="AttemptFailed")
    assert len(failed) == 1 and deny_pods in (failed[0].get("message") or ""), failed
    assert status_of(kube, "denied", namespace)["attempt"] == 1  # it stays put: no loop


def test_a_pod_the_pod_api_rejects_ends_the_task_on_its_first_try(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets
) -> None:
    """What the CRD cannot check (a nodeSelector key is a map key: no schema for it) the Pod API refuses with 422."""
    audio = buckets.create()
    s3.put_object(Bucket=audio, Key="talk.wav", Body=b"RIFF")
    manifest = task_manifest(
        "badkey", f"s3://{audio}/talk.wav", output=f"s3://{audio}/out/", worker={"nodeSelector": {"not a key!": "x"}}
    )
    create_task(kube, manifest, namespace)  # maxRetries 3
    task = wait_for_phase(kube, "badkey", namespace, "Dead", timeout=60)
    status, shown = task["status"], describe(task)
    assert (status["reason"], status["attempt"]) == ("PodInvalid", 1), shown
    assert "the API server refused Pod badkey-a1 (HTTP 422)" in status["message"], shown
    assert "spec.nodeSelector" in status["message"] and "not a key!" in status["message"], shown
    assert leftovers(kube, "badkey", namespace, attempts=1) == []
