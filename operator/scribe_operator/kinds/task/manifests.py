"""The objects an attempt runs as, built from the task and the plan's LaunchAttempt. Pure functions.

The pod passes the ``restricted`` Pod Security Standard and carries no credential in its spec: the presigned URLs
(input, outputs, a model from S3) reach the worker only through ``secretKeyRef`` from the attempt's Secret. It
mounts no API token but, under the operator's worker service account, one projected, pod-bound, short-lived token
whose only use is patching the progress annotation of its own pod (see :mod:`.progress`).
"""

from __future__ import annotations

import json

from scribe_contract import env as worker_env

from scribe_operator.api.constants import API_VERSION, KIND, LABEL_ATTEMPT, LABEL_TASK, WORKER_LABELS
from scribe_operator.api.meta import Manifest, to_json
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.names import label_value
from scribe_operator.kinds.task.api.outputs import output_uris
from scribe_operator.kinds.task.core.memory import memory_request
from scribe_operator.kinds.task.core.plan import LaunchAttempt
from scribe_operator.kinds.task.progress import progress_volume
from scribe_operator.kinds.task.storage import AttemptUrls
from scribe_operator.kinds.task.workerenv import model_source, model_volume, transcription_env
from scribe_operator.runtime.settings import OperatorSettings

WORKER_CONTAINER = "worker"
GPU_RESOURCE = "nvidia.com/gpu"


def owner_reference(task: TranscriptionTask) -> Manifest:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": task.metadata.name,
        "uid": task.metadata.uid,
        "controller": True,
    }


def _labels(task: TranscriptionTask, attempt: int) -> dict[str, str]:
    return {**WORKER_LABELS, LABEL_TASK: label_value(task.metadata.name or ""), LABEL_ATTEMPT: str(attempt)}


def attempt_secret(task: TranscriptionTask, launch: LaunchAttempt, urls: AttemptUrls) -> Manifest:
    """The per-attempt Secret holding the presigned URLs (immutable; owned by the task)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": launch.secret_name,
            "namespace": task.metadata.namespace,
            "labels": _labels(task, launch.attempt),
            "ownerReferences": [owner_reference(task)],
        },
        "type": "Opaque",
        "immutable": True,
        "stringData": _secret_data(urls),
    }


def _secret_data(urls: AttemptUrls) -> dict[str, str]:
    data = {worker_env.INPUT_URL: urls.input_url, worker_env.OUTPUT_URLS: json.dumps(urls.output_urls)}
    if urls.model_urls:
        data[worker_env.MODEL_URLS] = json.dumps(urls.model_urls, sort_keys=True)
    return data


def _env(task: TranscriptionTask, launch: LaunchAttempt, settings: OperatorSettings) -> list[Manifest]:
    spec = task.spec
    plain = {
        worker_env.INPUT_URI: spec.input,
        worker_env.OUTPUT_URIS: json.dumps(output_uris(spec)),
        worker_env.LANGUAGE: spec.language or "",
        **transcription_env(spec, settings),
        worker_env.TASK_NAME: task.metadata.name or "",
        worker_env.ATTEMPT: str(launch.attempt),
        worker_env.TMPDIR: "/tmp",
    }
    keys = [worker_env.INPUT_URL, worker_env.OUTPUT_URLS]
    if model_source(spec, settings).s3 is not None:
        keys.append(worker_env.MODEL_URLS)
    secret = [{"name": key, "valueFrom": {"secretKeyRef": {"name": launch.secret_name, "key": key}}} for key in keys]
    progress = progress_volume(task, settings)
    if progress is not None:
        plain.update(progress.env)
    return secret + [{"name": k, "value": v} for k, v in plain.items() if v]


def _resources(task: TranscriptionTask, launch: LaunchAttempt, settings: OperatorSettings) -> Manifest:
    res = task.spec.resources
    requests = {k: v for k, v in to_json(res.requests).items() if v is not None}
    limits = {k: v for k, v in to_json(res.limits).items() if v is not None}
    if launch.memory_limit is not None:
        limits["memory"] = launch.memory_limit
        request = memory_request(task.spec, launch.memory_limit, settings.core())
        if request is not None:
            requests["memory"] = request
    if GPU_RESOURCE in requests and GPU_RESOURCE not in limits:
        limits[GPU_RESOURCE] = requests[GPU_RESOURCE]  # extended resources are scheduled by their limit
    out: Manifest = {}
    if requests:
        out["requests"] = requests
    if limits:
        out["limits"] = limits
    return out


def attempt_pod(task: TranscriptionTask, launch: LaunchAttempt, settings: OperatorSettings) -> Manifest:
    """The attempt's worker pod: restartPolicy Never, activeDeadlineSeconds from the plan, owned by the task."""
    worker = task.spec.worker
    uid = settings.worker.run_as_user
    spec: Manifest = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": launch.deadline_seconds,
        "terminationGracePeriodSeconds": 30,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": uid,
            "runAsGroup": uid,
            "fsGroup": uid,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": WORKER_CONTAINER,
                "image": worker.image or settings.worker.image,
                "imagePullPolicy": settings.worker.image_pull_policy,
                "env": _env(task, launch, settings),
                "resources": _resources(task, launch, settings),
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            }
        ],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    container = spec["containers"][0]
    for extra in (model_volume(task.spec, settings), progress_volume(task, settings)):
        if extra is not None:
            spec["volumes"].append(extra.volume)
            container["volumeMounts"].append(extra.mount)
    account = worker.service_account_name or (
        settings.worker.service_account if settings.worker.progress_reporting else None
    )
    if account:
        spec["serviceAccountName"] = account
    if worker.runtime_class_name:
        spec["runtimeClassName"] = worker.runtime_class_name
    if worker.node_selector:
        spec["nodeSelector"] = dict(worker.node_selector)
    if worker.tolerations:
        spec["tolerations"] = [to_json(t) for t in worker.tolerations]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": launch.pod_name,
            "namespace": task.metadata.namespace,
            "labels": _labels(task, launch.attempt),
            "ownerReferences": [owner_reference(task)],
        },
        "spec": spec,
    }
