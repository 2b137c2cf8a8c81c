"""The worker's contract with the operator, end to end: a real subprocess, real presigned URLs, MinIO.

Each test checks the exit code and the termination message; every run also checks (in run_worker)
that no presigned URL or signature reached stderr or the termination message and that no temp file
was left behind.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.fixtures.speech import recognised
from tests.support.faultproxy import Fault, FaultProxy
from tests.support.s3 import S3Settings
from tests.support.wait import wait_for
from tests.support.workerrun import FORMATS, Job, Result, assert_no_secrets, make_job, run_worker, start_worker

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

INPUT_KEY = "in put/fox ü.wav"  # spaces and non-ASCII survive presigning and the HTTP client


@pytest.fixture(scope="module")
def audio(s3: S3Client, bucket: str, fox_wav: Path) -> str:
    s3.put_object(Bucket=bucket, Key=INPUT_KEY, Body=fox_wav.read_bytes(), ContentType="audio/wav")
    s3.put_object(Bucket=bucket, Key="broken/empty.wav", Body=b"")
    s3.put_object(Bucket=bucket, Key="broken/random.wav", Body=bytes(range(256)) * 256)
    return INPUT_KEY


def run(job: Job, tmp_path: Path, **env: str) -> Result:
    return run_worker({**job.env(), **env}, tmp_path, secrets=job.secrets)


def assert_failure(result: Result, reason: str, exit_code: int, retryable: bool) -> dict[str, Any]:
    assert result.returncode == exit_code, result.describe()
    message = result.termination
    assert message is not None, result.describe()
    assert message["reason"] == reason
    assert message["exitCode"] == exit_code
    assert message["retryable"] is retryable
    assert "outputs" not in message
    return message


def keys(s3: S3Client, bucket: str, prefix: str) -> set[str]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {obj["Key"] for obj in listing.get("Contents", [])}


@dataclass(frozen=True)
class ThroughProxy:
    """Jobs for the test audio signed for the fault proxy (cleared before and after the test), writing under a
    prefix of the module's bucket; ``run`` injects a fault and runs the worker on such a job."""

    s3_settings: S3Settings
    bucket: str
    audio: str
    proxy: FaultProxy
    tmp_path: Path

    def job(self, prefix: str) -> Job:
        return make_job(self.s3_settings.client(self.proxy.url), self.bucket, self.audio, self.bucket, prefix)

    def run(self, fault: Fault, prefix: str, **env: str) -> Result:
        self.proxy.inject(fault)
        return run(self.job(prefix), self.tmp_path, **env)


@pytest.fixture
def through_proxy(
    s3_settings: S3Settings, bucket: str, audio: str, clean_proxy: FaultProxy, tmp_path: Path
) -> ThroughProxy:
    return ThroughProxy(s3_settings, bucket, audio, clean_proxy, tmp_path)


# --- success -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def success(
    s3_settings: S3Settings, bucket: str, audio: str, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Job, Result, FaultProxy]:
    """One full run through the (fault-free) recording proxy, so the order of the PUTs is known."""
    proxy.clear()
    job = make_job(s3_settings.client(proxy.url), bucket, audio, bucket, "out/ok/")
    result = run(job, tmp_path_factory.mktemp("success"), SCRIBE_ATTEMPT="1", SCRIBE_TASK="media/fox")
    return job, result, proxy


def test_success_exits_zero_with_a_complete_termination_message(success: tuple[Job, Result, FaultProxy]) -> None:
    job, result, _ = success
    assert result.returncode == 0, result.describe()
    message = result.termination
    assert message is not None
    assert message["reason"] == "Completed"
    assert message["retryable"] is False
    assert message["exitCode"] == 0
    assert message["outputs"] == job.output_uris
    assert message["language"] == "en"
    assert 3.0 < message["durationSeconds"] < 6.0
    assert job.input_uri in message["message"]
    assert len(result.termination_raw) <= 4096
    usage = message["usage"]  # the worker's own cgroup, read at the end (docs/metrics.md#cost-per-task)
    assert usage["cpuSeconds"] > 0 and usage["peakMemoryBytes"] > 2**20, message


def test_success_uploads_every_format_with_json_last(
    success: tuple[Job, Result, FaultProxy], s3: S3Client, bucket: str
) -> None:
    _, result, proxy = success
    assert result.returncode == 0, result.describe()
    assert keys(s3, bucket, "out/ok/") == {f"out/ok/transcript.{fmt}" for fmt in FORMATS}
    puts = [r for r in proxy.requests if r.method == "PUT"]
    assert [r.status for r in puts] == [200] * 4
    assert len({r.path for r in puts}) == 4
    assert puts[-1].path.endswith("/out/ok/transcript.json")
    gets = [r for r in proxy.requests if r.method == "GET"]
    assert [r.path for r in gets] == [f"/{bucket}/{INPUT_KEY}"]


def test_success_outputs_hold_the_transcript(
    success: tuple[Job, Result, FaultProxy], s3: S3Client, bucket: str
) -> None:
    def get(fmt: str) -> tuple[str, str]:
        obj = s3.get_object(Bucket=bucket, Key=f"out/ok/transcript.{fmt}")
        return obj["Body"].read().decode("utf-8"), obj["ContentType"]

    document_text, content_type = get("json")
    assert content_type.startswith("application/json")
    document = json.loads(document_text)
    assert set(document) == {"text", "language", "languageProbability", "duration", "model", "task", "segments"}
    assert document["task"] == "transcribe"
    assert len(recognised(document["text"])) >= 5, document["text"]
    assert document["language"] == "en"
    assert document["model"] == "tiny.en"
    assert document["segments"]
    for i, segment in enumerate(document["segments"]):
        assert set(segment) == {"id", "start", "end", "text"}
        assert segment["id"] == i
        assert 0 <= segment["start"] <= segment["end"]

    txt, content_type = get("txt")
    assert content_type.startswith("text/plain")
    assert len(recognised(txt)) >= 5
    srt, content_type = get("srt")
    assert content_type.startswith("application/x-subrip")
    assert srt.startswith("1\n00:00:0")
    assert " --> " in srt
    vtt, content_type = get("vtt")
    assert content_type.startswith("text/vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:0")


def test_success_logs_are_json_lines_with_context(success: tuple[Job, Result, FaultProxy]) -> None:
    _, result, _ = success
    lines = result.logs
    assert lines
    for line in lines:
        assert {"ts", "level", "msg"} <= set(line)
    ours = [line for line in lines if line.get("logger") == "scribe_worker" and line["msg"] != "progress"]
    assert [line["msg"] for line in ours] == [
        "starting",
        "model loaded",
        "downloaded",
        "transcribed",
        "uploaded",
        "uploaded",
        "uploaded",
        "uploaded",
        "finished",
    ]
    assert all(line["attempt"] == 1 and line["task"] == "media/fox" for line in ours)
    loaded = next(line for line in ours if line["msg"] == "model loaded")
    assert (loaded["device"], loaded["computeType"], loaded["decoding"]) == ("cpu", "int8", "batched")  # auto: CPU here
    progress = [line for line in lines if line["msg"] == "progress"]
    assert progress[0]["audioSeconds"] == 0.0
    assert progress[-1]["final"] is True
    assert progress[-1]["percent"] == 100.0


def test_only_the_requested_formats_are_uploaded(
    s3_settings: S3Settings, s3: S3Client, bucket: str, audio: str, tmp_path: Path
) -> None:
    job = make_job(s3_settings.client(), bucket, audio, bucket, "out/json-only/", formats=("json",))
    result = run(job, tmp_path, SCRIBE_LANGUAGE="en")
    assert result.returncode == 0, result.describe()
    assert keys(s3, bucket, "out/json-only/") == {"out/json-only/transcript.json"}
    assert result.termination is not None
    assert result.termination["outputs"] == job.output_uris


# --- download failures ---------------------------------------------------------------------------


def test_missing_input_is_input_not_found(s3_settings: S3Settings, bucket: str, tmp_path: Path) -> None:
    job = make_job(s3_settings.client(), bucket, "no/such.wav", bucket, "out/404/")
    message = assert_failure(run(job, tmp_path), "InputNotFound", 10, retryable=False)
    assert f"s3://{bucket}/no/such.wav" in message["message"]
    assert "404 NoSuchKey" in message["message"]


def test_expired_url_is_input_forbidden(s3_settings: S3Settings, bucket: str, audio: str, tmp_path: Path) -> None:
    job = make_job(s3_settings.client(), bucket, audio, bucket, "out/expired/", expires=1)
    deadline = time.monotonic() + 30
    with httpx.Client() as client:
        while True:  # wait for the condition (S3 refuses the URL), not for a fixed time
            with client.stream("GET", job.input_url) as response:
                if response.status_code == 403:
                    break
            assert time.monotonic() < deadline, "the presigned URL never expired"
            time.sleep(0.2)
    message = assert_failure(run(job, tmp_path), "InputForbidden", 11, retryable=True)
    assert "403 AccessDenied" in message["message"]


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        (Fault("status", method="GET", status=500, code="InternalError"), "HTTP 500 InternalError"),
        (Fault("status", method="GET", status=503, code="SlowDown"), "HTTP 503 SlowDown"),
        (Fault("reset", method="GET"), "download of s3://"),
        (Fault("truncate", method="GET"), "download of s3://"),
    ],
    ids=["500", "503", "reset", "truncated"],
)
def test_download_faults_are_download_failed(through_proxy: ThroughProxy, fault: Fault, fragment: str) -> None:
    result = through_proxy.run(fault, "out/download-fault/")
    message = assert_failure(result, "DownloadFailed", 12, retryable=True)
    assert fragment in message["message"]
    assert fault.hits == 1


def test_download_timeout_is_download_failed(through_proxy: ThroughProxy) -> None:
    stall = Fault("stall", method="GET", seconds=10)
    result = through_proxy.run(stall, "out/timeout/", SCRIBE_HTTP_TIMEOUT_SECONDS="1")
    message = assert_failure(result, "DownloadFailed", 12, retryable=True)
    assert "timed out after 1s (ReadTimeout)" in message["message"]


# --- invalid audio -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["broken/empty.wav", "broken/random.wav"])
def test_undecodable_input_is_invalid_audio(
    s3_settings: S3Settings, s3: S3Client, bucket: str, audio: str, tmp_path: Path, key: str
) -> None:
    job = make_job(s3_settings.client(), bucket, key, bucket, f"out/invalid/{key}/")
    message = assert_failure(run(job, tmp_path), "InvalidAudio", 20, retryable=False)
    assert f"s3://{bucket}/{key}" in message["message"]
    assert keys(s3, bucket, f"out/invalid/{key}/") == set()


# --- upload failures -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        (Fault("status", method="PUT", path_contains=".txt", status=500), "upload of txt to s3://"),
        (Fault("reset", method="PUT", path_contains=".json"), "upload of json to s3://"),
    ],
    ids=["500-on-txt", "reset-on-json"],
)
def test_upload_faults_are_upload_failed(
    through_proxy: ThroughProxy, s3: S3Client, bucket: str, fault: Fault, fragment: str
) -> None:
    prefix = f"out/upload-fault-{fault.action}/"
    message = assert_failure(through_proxy.run(fault, prefix), "UploadFailed", 30, retryable=True)
    assert fragment in message["message"]
    if fault.action == "status":
        assert "HTTP 500 InternalError" in message["message"]
    assert message["language"] == "en"  # what was learnt before the failure is kept
    assert message["durationSeconds"] > 3.0
    assert f"{prefix}transcript.json" not in keys(s3, bucket, prefix)  # no json: no complete result


def test_upload_to_missing_bucket_reports_the_s3_error_code(
    s3_settings: S3Settings, bucket: str, audio: str, tmp_path: Path
) -> None:
    signer = s3_settings.client()
    job = make_job(signer, bucket, audio, f"{bucket}-missing", "out/", formats=("json",))
    message = assert_failure(run(job, tmp_path), "UploadFailed", 30, retryable=True)
    assert (
        f"upload of json to s3://{bucket}-missing/out/transcript.json failed: HTTP 404 NoSuchBucket"
        in (message["message"])
    )


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drop", "override", "fragment"),
    [
        ("SCRIBE_INPUT_URL", {}, "SCRIBE_INPUT_URL is not set"),
        ("SCRIBE_OUTPUT_URLS", {}, "SCRIBE_OUTPUT_URLS is not set"),
        (None, {"SCRIBE_OUTPUT_URLS": "{"}, "SCRIBE_OUTPUT_URLS is not valid JSON"),
        (None, {"SCRIBE_MODEL": "large-v3"}, "model 'large-v3' is not installed locally"),
        (None, {"SCRIBE_LANGUAGE": "de"}, "does not support language 'de'"),
        (None, {"SCRIBE_HTTP_TIMEOUT_SECONDS": "-1"}, "must be a positive number"),
    ],
    ids=["no-input-url", "no-output-urls", "bad-json", "model-not-installed", "language", "timeout"],
)
def test_bad_environment_is_invalid_configuration(
    s3_settings: S3Settings,
    bucket: str,
    audio: str,
    tmp_path: Path,
    drop: str | None,
    override: dict[str, str],
    fragment: str,
) -> None:
    job = make_job(s3_settings.client(), bucket, audio, bucket, "out/config/")
    env = {**job.env(), **override}
    if drop:
        del env[drop]
    result = run_worker(env, tmp_path, secrets=job.secrets)
    message = assert_failure(result, "InvalidConfiguration", 40, retryable=False)
    assert fragment in message["message"]


def test_empty_environment_is_invalid_configuration(tmp_path: Path) -> None:
    message = assert_failure(run_worker({}, tmp_path), "InvalidConfiguration", 40, retryable=False)
    assert message["message"] == "SCRIBE_INPUT_URL is not set"


# --- signals -------------------------------------------------------------------------------------


def test_sigterm_cleans_up_and_exits_143_without_a_message(through_proxy: ThroughProxy, tmp_path: Path) -> None:
    stall = through_proxy.proxy.inject(Fault("stall", method="GET", seconds=60))
    job = through_proxy.job("out/sigterm/")
    process, termination_path, workdir = start_worker(job.env(), tmp_path)
    try:
        wait_for("the worker to be mid-download", lambda: stall.hits == 1 and any(workdir.iterdir()), timeout=60)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert not termination_path.exists()
    assert list(workdir.iterdir()) == []
    assert "terminated by signal" in stderr
    assert_no_secrets(stdout + stderr, job.secrets)
