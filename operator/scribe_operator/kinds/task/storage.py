"""S3 for the operator: HEAD the input and the output bucket (the preflight probes), read and write result records
(the result cache, :mod:`.api.result`) and presign each attempt's URLs.

The operator's credentials sign; workers only ever see presigned URLs. boto3 is synchronous, so calls that
touch the network run in a thread. Presigning is local computation, but fails without credentials.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from scribe_contract.modelfiles import missing_names

from scribe_operator.api.s3 import parse_s3_uri
from scribe_operator.kinds.task.api.result import ResultRecord
from scribe_operator.kinds.task.core.observed import InputProbe, StoredResult

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("scribe_operator")
MAX_RECORD_BYTES = 64 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}
_FORBIDDEN = {"403", "AccessDenied", "Forbidden"}


class PresignError(Exception):
    """URLs could not be signed (no credentials, invalid parameters)."""


class ModelSourceError(Exception):
    """The model's S3 prefix holds no usable model (InvalidConfiguration: no pod is started)."""


MAX_MODEL_FILES = 64


@dataclass(frozen=True)
class AttemptUrls:
    input_url: str
    output_urls: dict[str, str]  # format -> presigned PUT
    model_urls: dict[str, str] = field(default_factory=dict)  # model file name -> presigned GET (model from S3)


class Storage:
    """The task side of the operator's S3 client (:func:`scribe_operator.runtime.s3.s3_client`)."""

    def __init__(self, client: S3Client) -> None:
        self.client = client

    async def probe(self, uri: str) -> InputProbe:
        """HEAD the object ``uri``: ok with its size, not_found, forbidden, or error; never raises."""
        try:
            bucket, key = parse_s3_uri(uri)
            head = await asyncio.to_thread(self.client.head_object, Bucket=bucket, Key=key)
        except ClientError as exc:
            return _failed_probe(f"HEAD {uri}", exc)
        except (BotoCoreError, ValueError) as exc:
            return InputProbe("error", message=f"HEAD {uri}: {exc}")
        etag = head.get("ETag")
        return InputProbe("ok", size_bytes=int(head.get("ContentLength", 0)), message="", etag=etag or None)

    async def probe_bucket(self, uri: str) -> InputProbe:
        """HEAD the bucket of ``uri`` with the operator's credentials: ok, not_found (no such bucket), forbidden, or
        error; never raises."""
        bucket = ""
        try:
            bucket = parse_s3_uri(uri).bucket
            await asyncio.to_thread(self.client.head_bucket, Bucket=bucket)
        except ClientError as exc:
            return _failed_probe(f"HEAD bucket {bucket}", exc)
        except (BotoCoreError, ValueError) as exc:
            return InputProbe("error", message=f"HEAD bucket {bucket or uri}: {exc}")
        return InputProbe("ok")

    async def stored_result(self, uri: str) -> StoredResult | None:
        """The result record at ``uri`` and the current ETag of every output it lists; None when there is none (or
        it cannot be read: the cache then misses, it never fails a task)."""
        try:
            bucket, key = parse_s3_uri(uri)
            got = await asyncio.to_thread(self.client.get_object, Bucket=bucket, Key=key)
            body = await asyncio.to_thread(got["Body"].read, MAX_RECORD_BYTES + 1)
        except (BotoCoreError, ClientError, ValueError):
            return None
        record = ResultRecord.parse(body) if len(body) <= MAX_RECORD_BYTES else None
        if record is None:
            return None
        current = {fmt: await self._etag(output) for fmt, (output, _) in record.outputs.items()}
        return StoredResult(record, current)

    async def write_result(self, uri: str, record: ResultRecord, writer: Mapping[str, str], attempt: int) -> bool:
        """Write ``record`` to ``uri`` with the outputs' ETags as they are now; False (logged) when it cannot."""
        outputs: dict[str, tuple[str, str]] = {}
        for fmt, (output, _) in record.outputs.items():
            etag = await self._etag(output)
            if etag is None:
                log.warning("not recording the result at %s: output %s cannot be read", uri, output)
                return False
            outputs[fmt] = (output, etag)
        document = ResultRecord(record.input_uri, record.input_etag, record.input_size, record.options, outputs)
        body = json.dumps(document.document(writer, attempt), indent=2).encode()
        try:
            bucket, key = parse_s3_uri(uri)
            await asyncio.to_thread(
                self.client.put_object, Bucket=bucket, Key=key, Body=body, ContentType="application/json"
            )
        except (BotoCoreError, ClientError, ValueError) as exc:
            log.warning("cannot write the result record %s: %s", uri, exc)
            return False
        return True

    async def _etag(self, uri: str) -> str | None:
        try:
            bucket, key = parse_s3_uri(uri)
            head = await asyncio.to_thread(self.client.head_object, Bucket=bucket, Key=key)
        except (BotoCoreError, ClientError, ValueError):
            return None
        return head.get("ETag") or None

    def presign(self, input_uri: str, outputs: dict[str, str], ttl_seconds: int) -> AttemptUrls:
        """A GET for the input and a PUT per output, each valid ``ttl_seconds``; PresignError on failure."""
        try:
            return AttemptUrls(
                input_url=self._sign("get_object", input_uri, ttl_seconds),
                output_urls={fmt: self._sign("put_object", uri, ttl_seconds) for fmt, uri in outputs.items()},
            )
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise PresignError(f"cannot presign URLs: {exc}") from exc

    async def presign_model(self, prefix: str, ttl_seconds: int) -> dict[str, str]:
        """A GET for every object directly under ``prefix`` (a model directory), by file name.

        ModelSourceError when the prefix lacks a required model file; PresignError when it cannot be listed.
        """
        bucket, key = parse_s3_uri(prefix)
        try:
            listing = await asyncio.to_thread(
                self.client.list_objects_v2, Bucket=bucket, Prefix=key, Delimiter="/", MaxKeys=MAX_MODEL_FILES
            )
        except (BotoCoreError, ClientError) as exc:
            raise PresignError(f"cannot list the model under {prefix}: {exc}") from exc
        names = [str(obj["Key"])[len(key) :] for obj in listing.get("Contents", []) if "Key" in obj]
        names = [n for n in names if n and not n.startswith(".")]
        missing = missing_names(names)
        if missing:
            raise ModelSourceError(f"modelSource.s3.prefix {prefix} lacks model files: {', '.join(missing)}")
        try:
            return {n: self._sign("get_object", f"s3://{bucket}/{key}{n}", ttl_seconds) for n in sorted(names)}
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise PresignError(f"cannot presign the model's URLs: {exc}") from exc

    def _sign(self, method: str, uri: str, ttl_seconds: int) -> str:
        bucket, key = parse_s3_uri(uri)
        return self.client.generate_presigned_url(method, Params={"Bucket": bucket, "Key": key}, ExpiresIn=ttl_seconds)


def _failed_probe(request: str, exc: ClientError) -> InputProbe:
    """A probe answered with an S3 error: not_found, forbidden or error, and a message naming the status."""
    error: Any = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    message = f"{request}: HTTP {status}" + (f" {code}" if code and code != str(status) else "")
    if code in _NOT_FOUND:
        return InputProbe("not_found", message=message)
    if code in _FORBIDDEN:
        return InputProbe("forbidden", message=message)
    return InputProbe("error", message=message)
