"""Fixtures for the worker's tests: S3 (MinIO) from the environment, speech clips, a worker runner.

S3 comes from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION; tests that
need it fail (not skip) when they are missing. The worker runs as a real subprocess
(``python -m scribe_worker``) with only its documented environment: no AWS credentials.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fixtures.speech import FOX, speech_wav
from tests.support.faultproxy import FaultProxy
from tests.support.s3 import S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture(scope="session")
def s3_settings() -> S3Settings:
    try:
        return S3Settings.from_env()
    except LookupError as exc:
        missing = str(exc)
    pytest.fail(
        f"S3 for the worker tests is not configured: {missing} unset. Start the local cluster "
        "(its .cluster/env provides them) or a MinIO, e.g.\n"
        "  MINIO_ROOT_USER=minioadmin MINIO_ROOT_PASSWORD=minioadmin minio server /tmp/minio "
        "--address 127.0.0.1:19000\n"
        "and export AWS_ENDPOINT_URL=http://127.0.0.1:19000 AWS_ACCESS_KEY_ID=minioadmin "
        "AWS_SECRET_ACCESS_KEY=minioadmin AWS_REGION=us-east-1",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def s3(s3_settings: S3Settings) -> S3Client:
    return s3_settings.client()


def _empty_bucket(s3: S3Client, bucket: str) -> None:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=obj["Key"])


@pytest.fixture(scope="module")
def bucket(s3: S3Client) -> Iterator[str]:
    """A fresh bucket for the test module, emptied and removed afterwards."""
    name = f"scribe-worker-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    yield name
    _empty_bucket(s3, name)
    s3.delete_bucket(Bucket=name)


@pytest.fixture(scope="module")
def proxy(s3_settings: S3Settings) -> Iterator[FaultProxy]:
    with FaultProxy(s3_settings.endpoint_url) as running:
        yield running


@pytest.fixture
def clean_proxy(proxy: FaultProxy) -> Iterator[FaultProxy]:
    proxy.clear()
    yield proxy
    proxy.clear()


@pytest.fixture(scope="session")
def fox_wav() -> Path:
    return speech_wav(FOX)
