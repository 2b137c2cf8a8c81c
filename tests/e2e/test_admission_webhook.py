"""An admission webhook that refuses the attempt's pod: the operator records the API server's answer at once,
without a pod. Without a code (HTTP 400) the refusal is permanent; with 403 it is retried with backoff.

The webhook is an HTTPS server in this process (a self-signed certificate) on the API server's own address, so it
runs where the local cluster's API server runs; it is registered for pods in the test's namespace only.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lightkube import Client, KubeConfig
from lightkube.resources.admissionregistration_v1 import (
    ValidatingWebhookConfiguration,
)

from tests.support.operators import Operator
from tests.support.s3 import Buckets
from tests.support.tasks import (
    create_task,
    describe,
    pod_names,
    task_manifest,
    wait_for_phase,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


WEBHOOK_MESSAGE = "the audit webhook refuses pods in this namespace"


def _self_signed(directory: Path, ip: str) -> tuple[Path, Path, bytes]:
    """A certificate for ``ip`` (and its key), as files for the TLS server, and its PEM for the caBundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "scribe-test-webhook")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_file, key_file = directory / "webhook.crt", directory / "webhook.key"
    cert_file.write_bytes(pem)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file, pem


class _Refuse(BaseHTTPRequestHandler):
    """Answers every AdmissionReview with allowed: false and ``code`` (None: no code; the API server answers 400)."""

    code: int | None = None

    def do_POST(self) -> None:
        review = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        status: dict[str, Any] = {"message": WEBHOOK_MESSAGE}
        if self.code is not None:
            status["code"] = self.code
        answer = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": review["request"]["uid"], "allowed": False, "status": status},
        }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def refusing_webhook(kube: Client, namespace: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A real validating admission webhook that refuses every pod in the namespace, with the status code
    ``request.param`` (None: none). It serves HTTPS on the API server's own address (the local cluster's API server
    runs on this host), so the API server can call it; a cluster whose API server is elsewhere cannot."""
    host = urlsplit(str(KubeConfig.from_env().get().cluster.server)).hostname or ""
    host = "127.0.0.1" if host == "localhost" else host
    handler = type("Refuse", (_Refuse,), {"code": request.param})
    try:
        server = ThreadingHTTPServer((host, 0), handler)
    except OSError as exc:
        pytest.skip(f"the API server ({host}) is not on this host, so it cannot call a webhook served here: {exc}")
    cert_file, key_file, pem = _self_signed(tmp_path, host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    name = f"refuse-{namespace}"
    webhook = {
        "name": "refuse.scribe.dev",
        "clientConfig": {
            "url": f"https://{host}:{server.server_address[1]}/validate",
            "caBundle": base64.b64encode(pem).decode(),
        },
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "failurePolicy": "Fail",
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 5,
    }
    kube.create(ValidatingWebhookConfiguration.from_dict({"metadata": {"name": name}, "webhooks": [webhook]}))
    try:
        yield WEBHOOK_MESSAGE
    finally:
        kube.delete(ValidatingWebhookConfiguration, name)
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("refusing_webhook", "code", "reason", "attempts"),
    [(None, 400, "PodInvalid", 1), (403, 403, "PodForbidden", 2)],
    indirect=["refusing_webhook"],
    ids=["no-code", "forbidden"],
)
def test_an_admission_webhook_refusal_fails_the_attempt_at_once(
    kube: Client,
    namespace: str,
    operator: Operator,
    s3: S3Client,
    buckets: Buckets,
    refusing_webhook: str,
    code: int,
    reason: str,
    attempts: int,
) -> None:
    """A refusal without a code (the API server answers 400) is permanent: Dead on the first try; one with 403 is
    retried with backoff (a webhook may change its mind), then RetriesExhausted. No pod either way."""
    audio = buckets.create()
    s3.put_object(Bucket=audio, Key="talk.wav", Body=b"RIFF")
    policy = {"maxRetries": 1, "backoff": {"initialSeconds": 1, "factor": 1.0, "maxSeconds": 1, "jitter": 0}}
    manifest = task_manifest("hooked", f"s3://{audio}/talk.wav", output=f"s3://{audio}/out/", retryPolicy=policy)
    create_task(kube, manifest, namespace)
    task = wait_for_phase(kube, "hooked", namespace, "Dead", timeout=60)
    status, shown = task["status"], describe(task)
    assert status["attempt"] == attempts, shown
    assert status["reason"] == (reason if attempts == 1 else "RetriesExhausted"), shown
    for record in status["attempts"]:
        assert (record.get("reason"), record.get("retryable"), record.get("pod")) == (reason, code == 403, None), shown
        assert f"(HTTP {code})" in record["message"] and refusing_webhook in record["message"], shown
    assert pod_names(kube, "hooked", namespace) == []
