"""Metrics, events and logs after a scripted run on the live cluster, and no presigned URL anywhere.

One operator process (its own, watching only this module's namespace, JSON logs to a file, free health and metrics
ports) handles three tasks:

- ``ok``: spoken audio, succeeds in one attempt;
- ``gone``: the input does not exist, Dead at once (InputNotFound) without a pod;
- ``flaky``: its output prefix is so long that the transcripts' keys exceed S3's 1024 bytes, so S3 refuses each
  upload (400 KeyTooLongError) and each attempt fails (UploadFailed); maxRetries 1 with a 1 s backoff: attempt 1
  fails, a retry is scheduled, attempt 2 fails, the task is Dead (RetriesExhausted).

Then the tests check exact counter values scraped from /metrics, the events on each task, the operator's JSON log
lines and that no log line, event, status or pod holds a presigned URL. The operator is stopped before the log is
read (and always at the end).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client
from scribe_operator.kinds.task.api.retry import MATCHABLE_REASONS
from scribe_operator.runtime.metrics import DEAD_REASONS

from tests.fixtures.speech import FOX, speech_wav
from tests.support.commands import apply_crds, kubectl, wait_established
from tests.support.fixtures import delete_namespace, make_namespace
from tests.support.metrics import Samples, operator_metrics, parse_samples
from tests.support.operators import Operator, operator_env
from tests.support.s3 import Buckets, S3Settings, s3_from_env
from tests.support.tasks import (
    LABEL_DEAD_LETTER,
    create_task,
    get_task,
    task_events,
    task_manifest,
    task_pods,
    wait_for_phase,
    wait_for_task,
)
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.local_operator

REPO = Path(__file__).resolve().parents[2]
TASKS = ("ok", "gone", "flaky")
FAST = {"initialSeconds": 1, "factor": 2.0, "maxSeconds": 1, "jitter": 0.0}
# flaky's retry must be seen waiting (Retrying): a kubelet reports a finished container a few seconds after its
# finishedAt, and a backoff that has already run out by then is relaunched at once, without a Retrying phase
RETRY_SEEN = {"initialSeconds": 8, "factor": 2.0, "maxSeconds": 8, "jitter": 0.0}
# What a presigned URL carries in its query string (SigV4 and SigV2); none may leave the attempt's Secret.
PRESIGN_MARKERS = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm", "X-Amz-Date", "AWSAccessKeyId=")


@dataclass
class Run:
    """What the scripted run left behind."""

    namespace: str
    metrics_text: str
    samples: Samples
    tasks: dict[str, dict[str, Any]]
    events: dict[str, list[dict[str, Any]]]
    pods: dict[str, list[dict[str, Any]]]
    log_path: Path
    log_lines: list[dict[str, Any]] = field(default_factory=list)
    raw_log: str = ""

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 for a labelled series that was never created."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def matching(self, name: str, **labels: str) -> dict[frozenset[tuple[str, str]], float]:
        """Every sample of `name` whose labels include `labels`."""
        return {k: v for (n, k), v in self.samples.items() if n == name and set(labels.items()) <= k}


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


@pytest.fixture(scope="module")
def run(kube: Client, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    apply_crds()
    wait_established("crd/transcriptiontasks.scribe.dev")
    s3 = s3_from_env()
    namespace = make_namespace(kube, "obs")
    buckets = Buckets(s3)
    env = operator_env(namespace, SCRIBE_LOG_FORMAT="json")
    metrics_port = int(env["SCRIBE_METRICS_PORT"])
    log_path = tmp_path_factory.mktemp("observability") / "operator.log"
    operator = Operator(log_path, env)
    try:
        try:
            text = _scripted_run(kube, s3, buckets, operator, namespace, metrics_port)
        except AssertionError as exc:  # the run itself went wrong: show what the operator said
            pytest.fail(f"{exc}\n{operator.log_tail()}", pytrace=False)
        result = Run(
            namespace=namespace,
            metrics_text=text,
            samples=parse_samples(text),
            tasks={n: get_task(kube, n, namespace) for n in TASKS},
            events={n: task_events(kube, n, namespace) for n in TASKS},
            pods={n: task_pods(kube, n, namespace) for n in TASKS},
            log_path=log_path,
        )
        operator.stop()  # flushes the log; everything below reads finished files
        result.raw_log = log_path.read_text()
        result.log_lines = [json.loads(line) for line in result.raw_log.splitlines() if line.startswith("{")]
        yield result
    finally:
        operator.stop()
        delete_namespace(kube, namespace)
        buckets.cleanup()


def _scripted_run(
    kube: Client, s3: S3Client, buckets: Buckets, operator: Operator, namespace: str, metrics_port: int
) -> str:
    """Start the operator, run the three tasks to their ends; returns /metrics once it shows their final phases."""
    audio, out = buckets.create(), buckets.create()
    too_long = "flaky/" + ("s" * 200 + "/") * 5  # with transcript.json: a key of 1026 bytes, over S3's limit
    s3.upload_file(str(speech_wav(FOX)), audio, "fox.wav")
    operator.start()
    fox = f"s3://{audio}/fox.wav"
    manifests = [
        task_manifest("ok", fox, output=f"s3://{out}/ok/", language="en", retryPolicy={"backoff": FAST}),
        task_manifest("gone", f"s3://{audio}/no-such.wav", retryPolicy={"backoff": FAST}),
        task_manifest(
            "flaky",
            fox,
            output=f"s3://{out}/{too_long}",
            language="en",
            retryPolicy={"maxRetries": 1, "backoff": RETRY_SEEN},
        ),
    ]
    for manifest in manifests:
        create_task(kube, manifest, namespace)

    for name, phase in {"ok": "Succeeded", "gone": "Dead", "flaky": "Dead"}.items():
        wait_for_phase(kube, name, namespace, phase, timeout=240)
    for name in ("gone", "flaky"):
        wait_for_task(
            kube, name, namespace, f"label {LABEL_DEAD_LETTER}",
            lambda t: (t["metadata"].get("labels") or {}).get(LABEL_DEAD_LETTER) == "true", timeout=30,
        )  # fmt: skip

    def settled() -> str | None:
        """/metrics once the tasks-by-phase gauge (read from the watch cache) shows the final phases."""
        text = scrape(metrics_port)
        samples = parse_samples(text)
        phases = {p: samples.get(("scribe_tasks", frozenset({"namespace": namespace, "phase": p}.items())))
                  for p in ("Succeeded", "Dead")}  # fmt: skip
        return text if phases == {"Succeeded": 1, "Dead": 2} else None

    return wait_for("scribe_tasks to show 1 Succeeded and 2 Dead", settled, timeout=30)


def about_tasks(run: Run) -> list[dict[str, Any]]:
    return [line for line in run.log_lines if line.get("task") in TASKS]


# --- metrics ------------------------------------------------------------------------------------------------------


def test_counters_after_the_scripted_run(run: Run) -> None:
    ns = run.namespace
    shown = "\n".join(line for line in run.metrics_text.splitlines() if line.startswith("scribe_"))
    # ok: 1 attempt; gone: 1 (its probe is the attempt, no pod); flaky: 2
    assert run.value("scribe_attempts_started_total", namespace=ns) == 4, shown
    failures = run.matching("scribe_attempt_failures_total", namespace=ns)
    assert {dict(k)["reason"]: v for k, v in failures.items() if v} == {"InputNotFound": 1, "UploadFailed": 2}, shown
    dead = run.matching("scribe_dead_lettered_total", namespace=ns)
    assert {dict(k)["reason"]: v for k, v in dead.items() if v} == {"InputNotFound": 1, "RetriesExhausted": 1}, shown
    # every other reason is exported at 0, so the first of each is a step increase() sees
    assert {dict(k)["reason"] for k in failures} == {r.value for r in MATCHABLE_REASONS}, shown
    assert {dict(k)["reason"] for k in dead} == {r.value for r in DEAD_REASONS}, shown
    assert run.value("scribe_retries_scheduled_total", namespace=ns) == 1, shown
    assert run.value("scribe_tasks_succeeded_total", namespace=ns) == 1, shown
    # this operator watched nothing else, so the unlabelled-by-namespace histograms are this run's too
    assert run.value("scribe_attempt_duration_seconds_count", outcome="succeeded") == 1, shown
    assert run.value("scribe_attempt_duration_seconds_count", outcome="failed") == 2, shown  # gone had no pod
    assert run.value("scribe_task_time_to_success_seconds_count") == 1, shown
    assert run.value("scribe_reconcile_duration_seconds_count") >= 6, shown
    assert run.value("scribe_reconcile_errors_total", kind="error") == 0, shown


def test_tasks_by_phase(run: Run) -> None:
    phases = {dict(k)["phase"]: v for k, v in run.matching("scribe_tasks", namespace=run.namespace).items()}
    assert phases == {"Succeeded": 1, "Dead": 2}


def test_api_requests_by_verb_and_resource(run: Run) -> None:
    requests = {
        (dict(k)["verb"], dict(k)["resource"]): v for k, v in run.matching("scribe_kube_api_requests_total").items()
    }
    assert requests.get(("create", "pods"), 0) >= 3, requests  # ok-a1, flaky-a1, flaky-a2
    assert requests.get(("create", "secrets"), 0) >= 3, requests
    assert requests.get(("delete", "secrets"), 0) >= 3, requests  # each attempt's URLs go when it ends
    assert requests.get(("patch", "transcriptiontasks/status"), 0) >= 3, requests
    assert requests.get(("patch", "transcriptiontasks"), 0) >= 2, requests  # the dead-letter labels
    assert requests.get(("create", "events"), 0) >= 10, requests
    assert all(v > 0 for v in requests.values()), requests
    # everything the operator reads comes from its watches: no GET, no LIST of its own
    assert not {verb for verb, _ in requests} & {"get", "list"}, requests


def test_every_metric_the_dashboards_and_alerts_use_is_served(run: Run) -> None:
    """/metrics announces every family metrics.py defines (HELP lines appear before the first sample too)."""
    helped = set(re.findall(r"^# HELP (\w+) ", run.metrics_text, re.MULTILINE))
    for name in operator_metrics():
        assert name in helped or name.removesuffix("_total") in helped, f"{name} is not served"


# --- events -------------------------------------------------------------------------------------------------------


def _events(run: Run, task: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["reason"], e.get("message") or "") for e in run.events[task]]


def test_events_on_each_task(run: Run) -> None:
    ok = _events(run, "ok")
    assert [(t, r) for t, r, _ in ok] == [("Normal", "AttemptLaunched"), ("Normal", "Succeeded")], ok

    gone = _events(run, "gone")
    assert not [e for e in gone if e[1] == "AttemptLaunched"], gone  # no pod was ever made
    dead = [e for e in gone if e[1] == "DeadLettered"]
    assert len(dead) == 1 and dead[0][0] == "Warning" and "InputNotFound" in dead[0][2], gone

    flaky = _events(run, "flaky")
    kinds = [(t, r) for t, r, _ in flaky]
    assert kinds.count(("Normal", "AttemptLaunched")) == 2, flaky
    failed = [m for t, r, m in flaky if r == "AttemptFailed"]
    assert len(failed) == 2 and all("UploadFailed" in m for m in failed), flaky
    assert all(t == "Warning" for t, r, _ in flaky if r in ("AttemptFailed", "DeadLettered")), flaky
    assert kinds.count(("Normal", "RetryScheduled")) == 1, flaky
    dead = [(t, m) for t, r, m in flaky if r == "DeadLettered"]
    assert len(dead) == 1 and dead[0][0] == "Warning", flaky
    assert "RetriesExhausted" in dead[0][1] and "UploadFailed" in dead[0][1], flaky
    for task in TASKS:
        for event in run.events[task]:
            assert event["involvedObject"]["uid"] == run.tasks[task]["metadata"]["uid"]
            assert event["source"]["component"] == "scribe-operator"


# --- logs ---------------------------------------------------------------------------------------------------------


def test_log_is_json(run: Run) -> None:
    lines = [line for line in run.raw_log.splitlines() if line.strip() and not line.startswith("=====")]
    assert lines and len(run.log_lines) == len(lines), "every operator log line is a JSON object"
    for line in run.log_lines:
        assert {"message", "timestamp", "severity"} <= set(line), line


def test_log_lines_about_tasks_carry_task_namespace_attempt_and_reason(run: Run) -> None:
    ours = about_tasks(run)
    assert {line["task"] for line in ours} == set(TASKS), [line.get("message") for line in ours]
    for line in ours:
        assert line.get("namespace") == run.namespace, line
        assert isinstance(line.get("attempt"), int), line
    # the failures are logged with their reason
    reasons = {(line["task"], line.get("reason")) for line in ours}
    assert ("gone", "InputNotFound") in reasons, ours
    assert ("flaky", "UploadFailed") in reasons and ("flaky", "RetriesExhausted") in reasons, ours
    for line in ours:
        if line.get("phase") in ("Retrying", "Dead"):
            assert line.get("reason"), line
    launched = {(line["task"], line["attempt"]) for line in ours if "launched attempt" in line.get("message", "")}
    assert launched == {("ok", 1), ("flaky", 1), ("flaky", 2)}, ours


def test_log_lines_naming_a_task_are_structured(run: Run) -> None:
    """No line names a task or an attempt pod in its text only."""
    for line in run.log_lines:
        named = [t for t in TASKS if re.search(rf"\b{t}(-a\d+)?\b", line.get("message", ""))]
        if named:
            assert line.get("task") in TASKS or (line.get("object") or {}).get("name") in TASKS, line


def test_every_line_about_a_task_or_its_pods_carries_task_namespace_and_attempt(run: Run) -> None:
    pods = {f"{t}-a{n}": (t, n) for t in TASKS for n in (1, 2)}
    for line in run.log_lines:
        obj = line.get("object") or {}
        if obj.get("kind") == "TranscriptionTask" and obj.get("name") in TASKS:
            assert (line.get("task"), line.get("namespace")) == (obj["name"], run.namespace), line
        elif obj.get("kind") == "Pod" and obj.get("name") in pods:
            task, attempt = pods[obj["name"]]
            assert (line.get("task"), line.get("namespace"), line.get("attempt")) == (task, run.namespace, attempt), (
                line
            )


# --- no presigned URL anywhere ------------------------------------------------------------------------------------


def _leaks(text: str) -> list[str]:
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    found = [m for m in PRESIGN_MARKERS if m in text]
    if endpoint:
        found += re.findall(re.escape(endpoint.rstrip("/")) + r"/[^\s\"']*\?[^\s\"']*", text)
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if secret and secret in text:
        found.append("the S3 secret key")
    return found


def test_no_presigned_url_in_the_operator_log(run: Run) -> None:
    assert run.raw_log.strip(), "the operator logged nothing"
    for number, line in enumerate(run.raw_log.splitlines(), 1):
        assert not _leaks(line), f"{run.log_path}:{number}: {line}"


def test_no_presigned_url_in_events_status_or_pods(run: Run) -> None:
    for task in TASKS:
        for event in run.events[task]:
            assert not _leaks(json.dumps(event, default=str)), event
        assert not _leaks(json.dumps(run.tasks[task], default=str)), run.tasks[task].get("status")
        for pod in run.pods[task]:
            assert not _leaks(json.dumps(pod, default=str)), pod["metadata"]["name"]
            # the URLs reach the worker only through its attempt's Secret
            for container in pod["spec"]["containers"]:
                for var in container.get("env") or []:
                    if "URL" in var["name"]:
                        assert "value" not in var or not var["value"], var
    assert [p["metadata"]["name"] for p in run.pods["flaky"]] == ["flaky-a1", "flaky-a2"]
    assert run.pods["gone"] == []


def test_no_presigned_url_in_the_worker_logs(run: Run) -> None:
    """`kubectl logs` of every worker pod, line by line."""
    names = [p["metadata"]["name"] for pods in run.pods.values() for p in pods]
    logs = {name: kubectl("logs", "--namespace", run.namespace, name).stdout for name in names}
    assert set(logs) >= {"ok-a1", "flaky-a1", "flaky-a2"}, sorted(logs)
    assert all(logs.values()), {name: len(text) for name, text in logs.items()}
    for name, text in logs.items():
        for number, line in enumerate(text.splitlines(), 1):
            assert not _leaks(line), f"{name}:{number}: {line}"


def test_the_leak_check_recognises_a_presigned_url() -> None:
    """The checks above would see a real one: a URL presigned the way the operator does it, inside a log line."""
    client = S3Settings.from_env().client()
    url = client.generate_presigned_url("get_object", Params={"Bucket": "audio", "Key": "a.wav"}, ExpiresIn=60)
    line = json.dumps({"message": f"GET {url} failed", "task": "ok"})
    assert _leaks(line) and _leaks(url.split("?")[0] + "?partNumber=1")
    assert not _leaks(json.dumps({"message": "upload to s3://audio/a.wav failed: 404", "task": "ok"}))
