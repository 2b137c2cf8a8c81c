"""Completion notifications end to end: a receiver on loopback (the operator under test runs as a local process)
answers 503 twice, then 200; the operator redelivers the same signed CloudEvent with backoff until it is accepted,
the task is Succeeded before the first POST and throughout, and status.notification shows the delivery. The test
starts its own operator (marker ``local_operator``) allowing plain http:// and a 1 s backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret

from tests.support.batches import batch_manifest, create_batch, wait_for_batch_status
from tests.support.operators import StartOperator, log_on_failure, own_operators
from tests.support.s3 import Buckets
from tests.support.tasks import create_task, describe, status_of, task_manifest, wait_for_phase, wait_for_task

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


pytestmark = pytest.mark.local_operator

KEY = b"a-shared-hmac-key-0123456789"


@pytest.fixture
def start_operator(namespace: str, crd: str, tmp_path: Path) -> Iterator[StartOperator]:
    with own_operators(namespace, tmp_path) as start:
        yield start


class Receiver(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that fails the first ``failures`` POSTs with 503, then answers 200."""

    def __init__(self, failures: int, task: str, namespace: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.failures, self.task, self.namespace = failures, task, namespace
        self.kube = Client(field_manager="scribe-tests-receiver")  # its own connection, off the test's thread
        self.requests: list[tuple[dict[str, str], bytes, str | None]] = []  # headers, body, task phase at arrival
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/transcripts"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        phase = status_of(self.server.kube, self.server.task, self.server.namespace).get("phase")
        with self.server.lock:
            self.server.requests.append((dict(self.headers.items()), body, phase))
            n = len(self.server.requests)
        self.send_response(503 if n <= self.server.failures else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_signed_cloudevent_is_redelivered_after_two_failures(
    kube: Client,
    namespace: str,
    start_operator: StartOperator,
    s3: S3Client,
    buckets: Buckets,
    fox_wav: Path,
) -> None:
    kube.create(Secret(metadata=ObjectMeta(name="hooks", namespace=namespace), stringData={"key": KEY.decode()}))
    receiver = Receiver(2, "told", namespace)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    op = start_operator(SCRIBE_NOTIFICATION_ALLOW_HTTP="true", SCRIBE_NOTIFICATION_BACKOFF_SECONDS="1")
    try:
        with log_on_failure(op):
            audio = buckets.with_file(fox_wav, "talks/fox.wav")
            notification = {"url": receiver.url, "secretRef": {"name": "hooks"}}
            manifest = task_manifest("told", audio, language="en", formats=["txt"], notification=notification)
            created = create_task(kube, manifest, namespace)
            wait_for_phase(kube, "told", namespace, "Succeeded", timeout=180)
            task = wait_for_task(
                kube, "told", namespace, "the notification delivered",
                lambda t: (t.get("status", {}).get("notification") or {}).get("state") == "Delivered", timeout=60,
            )  # fmt: skip
            tried = len(receiver.requests)

            # a batch notifies once when it finalizes (here its one input is missing: the child goes Dead at once)
            missing = audio.rsplit("/", 1)[0] + "/absent.wav"
            create_batch(kube, batch_manifest("calls", inputs=[missing], notification=notification), namespace)
            batch = wait_for_batch_status(
                kube, "calls", namespace, "the batch's notification delivered",
                lambda s: (s.get("notification") or {}).get("state") == "Delivered", timeout=90,
            )  # fmt: skip
    finally:
        receiver.shutdown()
        receiver.server_close()

    status, shown = task["status"], describe(task)
    uid = created["metadata"]["uid"]
    note = status["notification"]
    assert (note["id"], note["tries"], note["message"]) == (f"{uid}/Succeeded/1", 3, "HTTP 200"), shown
    assert status["phase"] == "Succeeded" and status["reason"] == "Completed", shown
    assert tried == 3, receiver.requests
    assert [phase for _, _, phase in receiver.requests[:3]] == ["Succeeded"] * 3  # the task never waited for it
    bodies = {body for _, body, _ in receiver.requests[:3]}
    assert len(bodies) == 1, "every redelivery carries the same event"
    for headers, body, _ in receiver.requests[:3]:
        lower = {k.lower(): v for k, v in headers.items()}
        assert lower["content-type"].startswith("application/cloudevents+json")
        assert lower["idempotency-key"] == f"{uid}/Succeeded/1"
        expected = "sha256=" + hmac.new(KEY, body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(lower["x-scribe-signature"], expected)
    event = json.loads(bodies.pop())
    assert (event["specversion"], event["id"], event["type"]) == (
        "1.0", f"{uid}/Succeeded/1", "dev.scribe.transcriptiontask.succeeded"
    )  # fmt: skip
    data = event["data"]
    assert (data["phase"], data["reason"], data["attempts"]) == ("Succeeded", "Completed", 1)
    assert data["outputs"] == status["outputs"] and set(data["outputs"]) == {"json", "txt"}
    text = json.dumps(event)
    assert "X-Amz-" not in text and "Signature=" not in text and KEY.decode() not in text
    assert KEY.decode() not in json.dumps(task)

    bstatus = batch["status"]
    assert len(receiver.requests) == 4, receiver.requests  # the batch's: delivered at once
    headers, body, _ = receiver.requests[3]
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower["x-scribe-signature"] == "sha256=" + hmac.new(KEY, body, hashlib.sha256).hexdigest()
    batch_event = json.loads(body)
    phase = bstatus["phase"]
    assert batch_event["id"] == lower["idempotency-key"] == f"{batch['metadata']['uid']}/{phase}"
    assert batch_event["type"] == f"dev.scribe.transcriptionbatch.{phase.lower()}"
    assert batch_event["data"]["counts"]["total"] == 1 and batch_event["data"]["failedIndexes"] == "0"
    assert bstatus["notification"]["tries"] == 1
