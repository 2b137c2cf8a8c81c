"""Run the worker as a subprocess against presigned URLs, and check what it leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FORMATS = ("json", "txt", "srt", "vtt")
SECRET_MARKERS = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token", "Signature=", "AWSAccessKeyId")


@dataclass
class Job:
    """One attempt's inputs: where the audio is and where each format goes, presigned."""

    input_url: str
    input_uri: str
    output_urls: dict[str, str]
    output_uris: dict[str, str]
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_secrets: list[str] = field(default_factory=list)  # e.g. presigned model URLs in extra_env

    @property
    def secrets(self) -> list[str]:
        return [self.input_url, *self.output_urls.values(), *self.extra_secrets]

    def env(self) -> dict[str, str]:
        return {
            "SCRIBE_INPUT_URL": self.input_url,
            "SCRIBE_INPUT_URI": self.input_uri,
            "SCRIBE_OUTPUT_URLS": json.dumps(self.output_urls),
            "SCRIBE_OUTPUT_URIS": json.dumps(self.output_uris),
            **self.extra_env,
        }


def make_job(
    signer: S3Client,
    input_bucket: str,
    input_key: str,
    output_bucket: str,
    output_prefix: str,
    formats: tuple[str, ...] = FORMATS,
    expires: int = 600,
) -> Job:
    """Presign a GET for the input and a PUT per format (``<prefix>transcript.<fmt>``) with ``signer``."""
    output_keys = {fmt: f"{output_prefix}transcript.{fmt}" for fmt in formats}
    return Job(
        input_url=signer.generate_presigned_url(
            "get_object", Params={"Bucket": input_bucket, "Key": input_key}, ExpiresIn=expires
        ),
        input_uri=f"s3://{input_bucket}/{input_key}",
        output_urls={
            fmt: signer.generate_presigned_url(
                "put_object", Params={"Bucket": output_bucket, "Key": key}, ExpiresIn=expires
            )
            for fmt, key in output_keys.items()
        },
        output_uris={fmt: f"s3://{output_bucket}/{key}" for fmt, key in output_keys.items()},
    )


@dataclass
class Result:
    returncode: int
    stderr: str
    termination: dict[str, Any] | None
    termination_raw: bytes
    workdir: Path

    @property
    def logs(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.strip()]

    def describe(self) -> str:
        return f"exit {self.returncode}\ntermination: {self.termination}\nstderr:\n{self.stderr}"


def assert_no_secrets(text: str, secrets: Sequence[str]) -> None:
    """No presigned URL, query string or signing parameter leaks into ``text``."""
    for secret in secrets:
        assert secret not in text
        query = secret.partition("?")[2]
        if query:
            assert query not in text
            for param in query.split("&"):
                value = param.partition("=")[2]
                if len(value) >= 16:  # signatures, credentials, tokens
                    assert value not in text, f"a query parameter value leaked: {param.partition('=')[0]}"
    for marker in SECRET_MARKERS:
        assert marker not in text, f"{marker} leaked"


def run_worker(env: Mapping[str, str], tmp_path: Path, secrets: Sequence[str] = (), timeout: float = 180) -> Result:
    """Run ``python -m scribe_worker`` with exactly ``env`` (plus PATH/HOME and test paths) to completion.

    Also asserts that nothing secret leaked and that no temp file was left behind.
    """
    (tmp_path / "termination-log").unlink(missing_ok=True)
    process, termination_path, workdir = start_worker(env, tmp_path)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    raw = termination_path.read_bytes() if termination_path.exists() else b""
    result = Result(
        returncode=process.returncode,
        stderr=stderr,
        termination=json.loads(raw) if raw else None,
        termination_raw=raw,
        workdir=workdir,
    )
    assert_no_secrets(stderr + stdout, secrets)
    assert_no_secrets(raw.decode("utf-8", errors="replace"), secrets)
    assert list(workdir.iterdir()) == [], f"temp files left behind: {list(workdir.iterdir())}"
    return result


def start_worker(env: Mapping[str, str], tmp_path: Path) -> tuple[subprocess.Popen[str], Path, Path]:
    """Start the worker without waiting: returns the process, its termination-message path and temp dir."""
    workdir = tmp_path / "worker-tmp"
    workdir.mkdir(exist_ok=True)
    termination_path = tmp_path / "termination-log"
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),  # the sources under test
        "SCRIBE_TERMINATION_MESSAGE_PATH": str(termination_path),
        "SCRIBE_TMPDIR": str(workdir),
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "scribe_worker"],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, termination_path, workdir
