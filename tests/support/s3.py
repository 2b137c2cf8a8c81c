"""S3 for tests: settings from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, and the
buckets one test makes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

S3_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> S3Settings:
        """Raises LookupError naming the missing variables."""
        missing = [name for name in S3_ENV if not env.get(name)]
        if missing:
            raise LookupError(", ".join(missing))
        return cls(
            endpoint_url=env["AWS_ENDPOINT_URL"],
            access_key=env["AWS_ACCESS_KEY_ID"],
            secret_key=env["AWS_SECRET_ACCESS_KEY"],
            region=env["AWS_REGION"],
        )

    def client(self, endpoint_url: str | None = None) -> S3Client:
        """A SigV4, path-style client; ``endpoint_url`` overrides the endpoint (e.g. to sign for a proxy)."""
        return boto3.client(
            "s3",
            endpoint_url=endpoint_url or self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=BotoConfig(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


def s3_from_env() -> S3Client:
    """A client for the S3 that AWS_* name; fails the test, saying what is unset, when they are not all set."""
    try:
        return S3Settings.from_env().client()
    except LookupError as exc:
        pytest.fail(f"S3 is not configured: {exc} unset (source .cluster/env or set AWS_*)", pytrace=False)


class Buckets:
    """Unique bucket names for one test; every bucket it created (or that appeared under a reserved name) is
    emptied and deleted afterwards."""

    def __init__(self, s3: S3Client) -> None:
        self.s3 = s3
        self.names: list[str] = []

    def reserve(self) -> str:
        """A unique name for a bucket that does not exist (yet)."""
        name = f"scribe-e2e-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        return name

    def create(self) -> str:
        name = self.reserve()
        self.s3.create_bucket(Bucket=name)
        return name

    def with_files(self, path: Path, *keys: str) -> str:
        """A new bucket holding a copy of ``path`` at each of ``keys``, uploaded in that order; returns its name."""
        name = self.create()
        for key in keys:
            self.s3.upload_file(str(path), name, key)
        return name

    def with_file(self, path: Path, key: str) -> str:
        """A new bucket holding ``path`` at ``key``; returns ``s3://bucket/key``."""
        return f"s3://{self.with_files(path, key)}/{key}"

    def read(self, bucket: str, key: str) -> bytes:
        """The content of the object at ``key`` in ``bucket`` (any bucket, not only this test's)."""
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def cleanup(self) -> None:
        for name in self.names:
            try:
                for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                    for obj in page.get("Contents", []):
                        self.s3.delete_object(Bucket=name, Key=obj["Key"])
                self.s3.delete_bucket(Bucket=name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
                    raise
