"""The worker's progress credential: a per-namespace ServiceAccount whose Role allows only ``patch`` on pods, and
the projected volume that gives a worker pod a pod-bound, short-lived token of it. Pure.

RBAC cannot narrow ``patch`` to one annotation of one pod; the ValidatingAdmissionPolicy ``scribe-worker-progress``
(shipped in the chart) does: a request made with a worker account's token may change nothing but the
``scribe.dev/progress`` annotation, and only of the pod the token is bound to. See docs/worker.md, "Progress".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from scribe_contract import env as worker_env

from scribe_operator.api.constants import WORKER_LABELS
from scribe_operator.api.meta import Manifest
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.runtime.settings import OperatorSettings

PROGRESS_MOUNT_PATH: Final = "/var/run/secrets/scribe.dev/progress"
"""Where the worker finds ``token``, ``ca.crt``, ``namespace`` and ``name`` (its pod's)."""
PROGRESS_VOLUME: Final = "progress"
TOKEN_SECONDS: Final = 3600
"""Lifetime of the projected token; the kubelet refreshes it before it expires."""
ROLE_NAME: Final = "scribe-worker-progress"
"""The worker account's Role and RoleBinding in each namespace (named as the chart's admission policy)."""


@dataclass(frozen=True)
class ProgressVolume:
    """What a worker pod that reports progress adds: the credential's volume, its mount and the variable naming it."""

    volume: Manifest
    mount: Manifest
    env: dict[str, str] = field(default_factory=dict)


def reports_progress(task: TranscriptionTask, settings: OperatorSettings) -> bool:
    """Whether the task's worker gets the progress credential: progress reporting is on and the pod runs under the
    operator's worker account (a task naming its own service account gets none)."""
    return settings.worker.progress_reporting and not task.spec.worker.service_account_name


def progress_volume(task: TranscriptionTask, settings: OperatorSettings) -> ProgressVolume | None:
    if not reports_progress(task, settings):
        return None
    volume = {
        "name": PROGRESS_VOLUME,
        "projected": {
            "defaultMode": 0o444,
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": TOKEN_SECONDS}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {
                    "downwardAPI": {
                        "items": [
                            {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}},
                            {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
                        ]
                    }
                },
            ],
        },
    }
    mount = {"name": PROGRESS_VOLUME, "mountPath": PROGRESS_MOUNT_PATH, "readOnly": True}
    return ProgressVolume(volume, mount, {worker_env.PROGRESS_DIR: PROGRESS_MOUNT_PATH})


def worker_identity(namespace: str, settings: OperatorSettings) -> list[Manifest]:
    """The worker account of ``namespace``: ServiceAccount, a Role allowing only ``patch`` on pods, RoleBinding."""
    account = settings.worker.service_account
    meta = {"namespace": namespace, "labels": dict(WORKER_LABELS)}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": account, **meta},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": ROLE_NAME, **meta},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": ROLE_NAME, **meta},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE_NAME},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
    ]
