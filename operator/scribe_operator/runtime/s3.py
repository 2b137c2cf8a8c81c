"""The operator's S3 client: one per process, shared by every kind (tasks probe, sign and record results; batches
list prefixes and write summaries). Credentials come from boto3's default chain, never from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from scribe_operator.runtime.settings import S3Section

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def s3_client(settings: S3Section) -> S3Client:
    """A client for the endpoint, region and addressing style of ``settings``: SigV4, short timeouts, three tries."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": settings.addressing_style},
        connect_timeout=5,
        read_timeout=15,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=settings.endpoint_url, region_name=settings.region, config=config
    )
