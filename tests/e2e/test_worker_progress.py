"""Progress as a user sees it, and what the worker's credential may do.

The worker patches the ``scribe.dev/progress`` annotation of its own pod with a pod-bound token of the namespace's
worker account; the operator's pod watch carries it into ``status.progress`` (and ``kubectl get tt``'s PROGRESS
column); a worker that stops reporting is ended as Stalled and retried. The token can change nothing else: that is
checked here against the real API server, RBAC and the chart's ValidatingAdmissionPolicy.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from lightkube import Client
from lightkube.models.authentication_v1 import BoundObjectReference, TokenRequestSpec
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Pod, ServiceAccount, ServiceAccountToken
from lightkube.resources.rbac_authorization_v1 import Role, RoleBinding
from scribe_contract.progress import PROGRESS_ANNOTATION
from scribe_operator.kinds.task.progress import worker_identity
from scribe_operator.runtime.settings import OperatorSettings
from scribe_worker.podprogress import PodAnnotationTransport

from tests.support.commands import kubectl
from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    FAST_BACKOFF,
    CreateTask,
    create_task,
    describe,
    task_manifest,
    task_pods,
    wait_for_phase,
    wait_for_task,
)
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


RESTRICTED_CONTAINER = {
    "name": "c",
    "image": "busybox",
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
}
STALL_WORKER_IMAGE = os.environ.get("SCRIBE_TEST_STALL_WORKER_IMAGE", "scribe-stall-worker")
"""tests/support/stallworker.py as an image: `make images` builds it for the local cluster's node."""
PROGRESS = json.dumps({"processedSeconds": 1.0, "totalSeconds": 2.0, "at": "2026-01-01T00:00:00Z"})


# --- the credential --------------------------------------------------------------------------------------------


class Api:
    """Raw requests to the API server with a bearer token (and nothing else: no client certificate)."""

    def __init__(self, token: str) -> None:
        config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
        context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        self.server = cluster["server"].rstrip("/")
        if "certificate-authority-data" in cluster:
            ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
            self.context = ssl.create_default_context(cadata=ca)
        else:
            self.context = ssl.create_default_context(cafile=cluster["certificate-authority"])
        self.token = token

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/merge-patch+json") -> int:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.server}{path}", data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)


def gated_pod(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    """A pod under the worker account that never runs (a scheduling gate holds it)."""
    pod = Pod.from_dict(
        {
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": "x"}, "annotations": {"keep": "1"}},
            "spec": {
                "serviceAccountName": "scribe-worker",
                "automountServiceAccountToken": False,
                "schedulingGates": [{"name": "scribe.dev/never"}],
                "securityContext": {
                    "runAsNonRoot": True, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}
                },
                "containers": [RESTRICTED_CONTAINER],
            },
        }
    )  # fmt: skip
    return dict(kube.create(pod).to_dict())


def pod_bound_token(kube: Client, namespace: str, pod: dict[str, Any]) -> str:
    """What the kubelet projects into the worker pod: a short-lived token of the worker account bound to the pod."""
    meta = pod["metadata"]
    request = ServiceAccountToken(
        metadata=ObjectMeta(),
        spec=TokenRequestSpec(
            audiences=[],
            expirationSeconds=600,
            boundObjectRef=BoundObjectReference(apiVersion="v1", kind="Pod", name=meta["name"], uid=meta["uid"]),
        ),
    )
    result = kube.create(request, "scribe-worker", namespace=namespace)  # type: ignore[call-overload]
    assert result.status is not None
    return str(result.status.token)


def test_the_workers_token_can_change_nothing_but_its_own_progress(
    kube: Client, namespace: str, crd: str, tmp_path: Path
) -> None:
    # what the operator creates per namespace
    for manifest in worker_identity(namespace, OperatorSettings.from_environ()):
        applied = kube.create(_resource(manifest).from_dict(manifest))
        assert applied is not None
    own, other = gated_pod(kube, namespace, "own"), gated_pod(kube, namespace, "other")
    token = pod_bound_token(kube, namespace, own)
    api = Api(token)
    pods = f"/api/v1/namespaces/{namespace}/pods"

    # the worker's own transport, as the worker runs it: it patches the progress annotation of its own pod
    progress_dir = tmp_path / "progress"
    progress_dir.mkdir()
    for name, text in {"token": token, "namespace": namespace, "name": "own"}.items():
        (progress_dir / name).write_text(text)
    (progress_dir / "ca.crt").write_text(_ca_pem(api))
    host, port = api.server.removeprefix("https://").rsplit(":", 1)
    transport = PodAnnotationTransport(progress_dir, {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port})
    transport.patch({PROGRESS_ANNOTATION: PROGRESS})
    assert kube.get(Pod, "own", namespace=namespace).metadata.annotations[PROGRESS_ANNOTATION] == PROGRESS  # type: ignore[index, union-attr]

    def annotate(value: str) -> dict[str, Any]:
        return {"metadata": {"annotations": {PROGRESS_ANNOTATION: value}}}

    denied = {
        "another pod's progress": ("PATCH", f"{pods}/other", annotate(PROGRESS)),
        "its own pod's labels": ("PATCH", f"{pods}/own", {"metadata": {"labels": {"app": "y"}}}),
        "another annotation": ("PATCH", f"{pods}/own", {"metadata": {"annotations": {"keep": None}}}),
        "its own pod's spec": ("PATCH", f"{pods}/own", {"spec": {"activeDeadlineSeconds": 1}}),
        "its own pod's owners": ("PATCH", f"{pods}/own", {"metadata": {"ownerReferences": [
            {"apiVersion": "v1", "kind": "Pod", "name": "other", "uid": other["metadata"]["uid"]}]}}),
        "its own pod's status": ("PATCH", f"{pods}/own/status", {"status": {"phase": "Failed"}}),
        "its own pod, deleted": ("DELETE", f"{pods}/own", None),
        "a new pod": ("POST", pods, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "new"},
                                      "spec": {"containers": [RESTRICTED_CONTAINER]}}),
        "reading pods": ("GET", pods, None),
        "reading secrets": ("GET", f"/api/v1/namespaces/{namespace}/secrets", None),
        "writing a secret": ("POST", f"/api/v1/namespaces/{namespace}/secrets",
                             {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}),
        "tasks": ("GET", f"/apis/scribe.dev/v1alpha1/namespaces/{namespace}/transcriptiontasks", None),
        "patching a task": ("PATCH", f"/apis/scribe.dev/v1alpha1/namespaces/{namespace}/transcriptiontasks/t",
                            {"metadata": {"labels": {"x": "y"}}}),
        "its own role": ("PATCH", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/"
                                  "scribe-worker-progress", {"rules": []}),
        "a pod elsewhere": ("PATCH", "/api/v1/namespaces/default/pods/x", annotate(PROGRESS)),
    }  # fmt: skip
    answers = {what: api.call(method, path, body) for what, (method, path, body) in denied.items()}
    assert {what: code for what, code in answers.items() if code != 403} == {}, answers
    assert PROGRESS_ANNOTATION not in (kube.get(Pod, "other", namespace=namespace).metadata.annotations or {})  # type: ignore[union-attr]
    labels = kube.get(Pod, "own", namespace=namespace).metadata.labels  # type: ignore[union-attr]
    assert labels == {"app": "x"}

    # a token of the same account not bound to a pod cannot even do that
    unbound = kube.create(
        ServiceAccountToken(metadata=ObjectMeta(), spec=TokenRequestSpec(audiences=[], expirationSeconds=600)),
        "scribe-worker", namespace=namespace,
    )  # type: ignore[call-overload]  # fmt: skip
    assert Api(str(unbound.status.token)).call("PATCH", f"{pods}/own", annotate("{}")) == 403


def _resource(manifest: dict[str, Any]) -> Any:
    return {"ServiceAccount": ServiceAccount, "Role": Role, "RoleBinding": RoleBinding}[manifest["kind"]]


def _ca_pem(api: Api) -> str:
    config = yaml.safe_load(Path(os.environ["KUBECONFIG"]).read_text())
    cluster = config["clusters"][0]["cluster"]
    if "certificate-authority-data" in cluster:
        return base64.b64decode(cluster["certificate-authority-data"]).decode()
    return Path(cluster["certificate-authority"]).read_text()


# --- progress during a run, and a stalled worker ---------------------------------------------------------------


def test_progress_is_visible_while_the_worker_runs(
    kube: Client, namespace: str, operator: Operator, s3: S3Client, buckets: Buckets, long_wav: Path
) -> None:
    audio = buckets.with_file(long_wav, "long.wav")
    create_task(kube, task_manifest("long", audio, language="en"), namespace)
    seen: list[dict[str, Any]] = []

    def running_with_progress(task: dict[str, Any]) -> bool:
        status = task.get("status") or {}
        progress = status.get("progress")
        if progress and status.get("phase") == "Running":
            seen.append(progress)
        return bool(seen) or status.get("phase") in ("Succeeded", "Dead")

    wait_for_task(kube, "long", namespace, "progress while Running", running_with_progress, timeout=180)
    assert seen, "no progress in status while the attempt ran"
    first = seen[0]
    assert first["attempt"] == 1 and first["heartbeatTime"] and first["summary"].endswith("%"), first
    assert 0 <= first["processedSeconds"] <= first["totalSeconds"], first
    done = wait_for_phase(kube, "long", namespace, "Succeeded", timeout=240)
    final = done["status"]["progress"]
    assert final["summary"] == "100%" and final["processedSeconds"] == final["totalSeconds"], describe(done)
    shown = wait_for(
        "kubectl get tt to show PROGRESS 100%",
        lambda: "100%" in _kubectl_get(namespace),
        timeout=30,
    )
    assert shown


def _kubectl_get(namespace: str) -> str:
    return kubectl("get", "tt", "-n", namespace, timeout=30).stdout


def test_a_worker_that_stops_reporting_is_ended_as_stalled_and_retried(
    kube: Client, namespace: str, operator: Operator, fox_task: CreateTask
) -> None:
    fox_task(
        "stuck",
        worker={"image": STALL_WORKER_IMAGE},
        timeouts={"stallSeconds": 5, "attemptSeconds": 3600},
        retryPolicy={"maxRetries": 1, "backoff": FAST_BACKOFF},
    )
    task = wait_for_phase(kube, "stuck", namespace, "Dead", timeout=120)
    status = task["status"]
    shown = describe(task)
    assert status["reason"] == "RetriesExhausted", shown
    assert [(a["attempt"], a["reason"], a["retryable"]) for a in status["attempts"]] == [
        (1, "Stalled", True),
        (2, "Stalled", True),
    ], shown
    assert "no progress for 5s" in status["attempts"][0]["message"], shown
    assert status["failureCounts"] == {"Stalled": 2}, shown
    assert status["progress"]["attempt"] == 2 and status["progress"]["processedSeconds"] == 3.0, shown
    wait_for("the stalled pods to be gone", lambda: not task_pods(kube, "stuck", namespace), timeout=60)
