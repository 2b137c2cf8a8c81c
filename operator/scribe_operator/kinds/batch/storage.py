"""S3 for batches: list an inputPrefix (once, when a batch starts) and write a batch's summary object.

Uses the operator's one S3 client (:func:`scribe_operator.runtime.s3.s3_client`: the tasks' endpoint, region,
addressing style and credentials chain). boto3 is synchronous, so every call runs in a thread. Neither call ever
raises: failures come back as values for the decision core
(:class:`~scribe_operator.kinds.batch.core.observed.Expansion`,
:class:`~scribe_operator.kinds.batch.core.observed.SummaryResult`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from scribe_operator.api.s3 import parse_s3_uri
from scribe_operator.kinds.batch.core.observed import Expansion, SummaryResult

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NO_BUCKET = {"NoSuchBucket", "404", "NotFound"}


def _describe(exc: Exception) -> tuple[str, str]:
    """(error code, readable message) of a boto error, never a URL with a signature."""
    if isinstance(exc, ClientError):
        error: Any = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code, f"HTTP {status} {code}".strip()
    return "", f"{type(exc).__name__}: {exc}"


class BatchStorage:
    def __init__(self, client: S3Client) -> None:
        self.client = client

    async def list_prefix(self, prefix: str, limit: int, keep: Callable[[str], bool] = lambda _: True) -> Expansion:
        """The object URIs under ``prefix`` (``s3://bucket/key-prefix``) that ``keep`` accepts, in key order; at
        most ``limit`` of them, ``truncated`` when there are more."""
        try:
            bucket, key_prefix = parse_s3_uri(prefix)
            keys = await asyncio.to_thread(self._list, bucket, key_prefix, limit, keep)
        except ClientError as exc:
            code, message = _describe(exc)
            return Expansion("not_found" if code in _NO_BUCKET else "error", message=f"list {prefix}: {message}")
        except (BotoCoreError, ValueError) as exc:
            return Expansion("error", message=f"list {prefix}: {_describe(exc)[1]}")
        uris = tuple(f"s3://{bucket}/{key}" for key in keys)
        return Expansion("ok", inputs=uris[:limit], truncated=len(uris) > limit)

    def _list(self, bucket: str, prefix: str, limit: int, keep: Callable[[str], bool]) -> list[str]:
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj.get("Key", "")
                if keep(key):
                    keys.append(key)
                    if len(keys) > limit:
                        return keys
        return keys

    async def put_json(self, uri: str, document: Mapping[str, Any]) -> SummaryResult:
        """Write ``document`` as JSON to ``uri`` (overwriting it); the error, if any, in the result."""
        try:
            bucket, key = parse_s3_uri(uri)
            body = json.dumps(document, indent=2, sort_keys=False, default=str).encode()
            await asyncio.to_thread(
                self.client.put_object, Bucket=bucket, Key=key, Body=body, ContentType="application/json"
            )
        except (ClientError, BotoCoreError, ValueError) as exc:
            return SummaryResult(uri, error=f"put {uri}: {_describe(exc)[1]}")
        return SummaryResult(uri)
