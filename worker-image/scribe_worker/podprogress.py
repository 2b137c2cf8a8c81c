"""Progress on the worker's own pod: a merge patch of one annotation, ``scribe.dev/progress``, through the
Kubernetes API, with the pod-bound token the operator projects into the pod (``SCRIBE_PROGRESS_DIR``).

The operator already watches its pods, so the annotation reaches it with no polling; it copies the value into the
task's ``status.progress``. The token can do nothing else: its Role allows only ``patch`` on pods and the
ValidatingAdmissionPolicy ``scribe-worker-progress`` admits a patch only of this annotation on the pod the token
is bound to (docs/worker.md, "Progress"). Standard library only (urllib, ssl).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scribe_contract.progress import PROGRESS_ANNOTATION

from scribe_worker.progress import Progress

TIMEOUT_SECONDS = 5.0


def annotation_value(progress: Progress, now: dt.datetime) -> str:
    """The annotation's JSON: audio seconds transcribed, the total (null while unknown) and when (RFC 3339)."""
    return json.dumps(
        {
            "processedSeconds": round(progress.seconds, 1),
            "totalSeconds": None if progress.total is None else round(progress.total, 1),
            "at": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        separators=(",", ":"),
    )


class PodAnnotationTransport:
    """Sends each report as a merge patch of the own pod's ``scribe.dev/progress`` annotation."""

    def __init__(self, directory: Path, environ: Mapping[str, str] = os.environ) -> None:
        self.directory = directory
        self.namespace = (directory / "namespace").read_text().strip()
        self.name = (directory / "name").read_text().strip()
        host = environ.get("KUBERNETES_SERVICE_HOST", "")
        port = environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host or not self.namespace or not self.name:
            raise ValueError("no Kubernetes API address (KUBERNETES_SERVICE_HOST) or pod name in the progress dir")
        netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        path = f"/api/v1/namespaces/{urllib.parse.quote(self.namespace)}/pods/{urllib.parse.quote(self.name)}"
        self.url = f"https://{netloc}{path}"
        self.context = ssl.create_default_context(cafile=str(directory / "ca.crt"))

    def patch(self, annotations: dict[str, Any]) -> None:
        """A merge patch of the pod's annotations; raises on any non-2xx answer."""
        token = (self.directory / "token").read_text().strip()  # re-read: the kubelet rotates it
        body = json.dumps({"metadata": {"annotations": annotations}}).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="PATCH",
            headers={"Content-Type": "application/merge-patch+json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=self.context) as response:
            response.read()

    def send(self, progress: Progress) -> None:
        self.patch({PROGRESS_ANNOTATION: annotation_value(progress, dt.datetime.now(dt.UTC))})
