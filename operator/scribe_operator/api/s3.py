"""``s3://bucket/key`` URIs: the patterns the CRD enforces and a parser.

The patterns are plain RE2/ECMA-compatible regular expressions, so the same text validates in pydantic
and in the API server's OpenAPI schema. Buckets follow the S3 naming rules (3-63 characters: lowercase
letters, digits, dots and hyphens, beginning and ending with a letter or digit).
"""

from __future__ import annotations

import posixpath
import re
from typing import Final, NamedTuple

BUCKET_PATTERN: Final = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
INPUT_URI_PATTERN: Final = rf"^s3://{BUCKET_PATTERN}/.*[^/]$"
"""An object: ``s3://bucket/key`` with a non-empty key that does not end in ``/``."""
OUTPUT_URI_PATTERN: Final = rf"^s3://{BUCKET_PATTERN}/(.*/)?$"
"""A prefix: ``s3://bucket/`` or ``s3://bucket/some/prefix/`` (always ends in ``/``)."""
MAX_URI_LENGTH: Final = 5 + 63 + 1 + 1024
"""``s3://`` + the longest bucket + ``/`` + the longest key S3 allows."""

_URI = re.compile(rf"^s3://(?P<bucket>{BUCKET_PATTERN})/(?P<key>.*)$", re.DOTALL)


class S3Location(NamedTuple):
    """A parsed ``s3://`` URI."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Location:
    """Split ``s3://bucket/key`` into bucket and key (the key may be empty); ``ValueError`` if malformed."""
    match = _URI.match(uri)
    if match is None:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    return S3Location(match["bucket"], match["key"])


def strip_extension(key: str) -> str:
    """``audio/talk.wav`` -> ``audio/talk``; only the last path segment's last extension goes."""
    cut = key.rfind("/") + 1
    stem, _ext = posixpath.splitext(key[cut:])
    return key[:cut] + stem
