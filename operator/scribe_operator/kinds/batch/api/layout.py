"""Where a batch's objects go: each child's spec and output prefix, the summary's URI, and which objects found
under an inputPrefix become inputs."""

from __future__ import annotations

import re
from typing import Final

from scribe_operator.api.meta import to_json
from scribe_operator.api.s3 import parse_s3_uri, strip_extension
from scribe_operator.kinds.batch.api.spec import TranscriptionBatchSpec
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec

SUMMARY_NAME: Final = "summary.json"
_MAX_STEM: Final = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def child_output(spec: TranscriptionBatchSpec, index: int, input_uri: str) -> str | None:
    """Where child ``index`` writes: ``<outputPrefix><index>-<input file name without extension>/``, or None
    (the task's default, next to its input) when the batch has no outputPrefix."""
    if spec.output_prefix is None:
        return None
    _, key = parse_s3_uri(input_uri)
    stem = _UNSAFE.sub("-", strip_extension(key.rsplit("/", 1)[-1]))[:_MAX_STEM].strip("-.")
    return f"{spec.output_prefix}{index}-{stem}/" if stem else f"{spec.output_prefix}{index}/"


def child_spec(spec: TranscriptionBatchSpec, index: int, input_uri: str) -> TranscriptionTaskSpec:
    """The spec of child ``index``: the template plus its input and output. Raises pydantic's ValidationError
    when the result is not a valid TranscriptionTask spec (e.g. the output URI would be too long)."""
    body = to_json(spec.template)
    body["input"] = input_uri
    output = child_output(spec, index, input_uri)
    if output is not None:
        body["output"] = output
    return TranscriptionTaskSpec.model_validate(body)


def summary_uri(batch_name: str, spec: TranscriptionBatchSpec, inputs: list[str] | None) -> str | None:
    """``<outputPrefix>summary.json``; without outputPrefix ``<batch>.summary.json`` in the first input's folder;
    None when there is neither (a prefix that expanded to nothing)."""
    if spec.output_prefix is not None:
        return f"{spec.output_prefix}{SUMMARY_NAME}"
    if not inputs:
        return None
    bucket, key = parse_s3_uri(inputs[0])
    return f"s3://{bucket}/{key[: key.rfind('/') + 1]}{batch_name}.{SUMMARY_NAME}"


def expands_to(key: str, output_prefix: str | None = None, bucket: str = "") -> bool:
    """Whether object ``key`` (of ``bucket``) found under an inputPrefix becomes an input: not a folder marker,
    not one of the operator's own outputs (``*.transcript/`` folders, ``*.summary.json``, the batch's
    outputPrefix)."""
    if not key or key.endswith("/") or key.endswith(f".{SUMMARY_NAME}") or key == SUMMARY_NAME:
        return False
    if any(part.endswith(".transcript") for part in key.split("/")[:-1]):
        return False
    if output_prefix is not None:
        out_bucket, out_key = parse_s3_uri(output_prefix)
        if out_bucket == bucket and key.startswith(out_key):
            return False
    return True
