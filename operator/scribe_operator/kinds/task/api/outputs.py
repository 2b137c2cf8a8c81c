"""Where a task's transcripts go: the output prefix, the formats written and their object URIs."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.s3 import parse_s3_uri, strip_extension
from scribe_operator.kinds.task.api.spec import Format, TranscriptionTaskSpec

OUTPUT_BASENAME: Final = "transcript"
"""Every format is written as ``<prefix>transcript.<format>``."""
DEFAULT_PREFIX_SUFFIX: Final = ".transcript/"


def output_prefix(spec: TranscriptionTaskSpec) -> str:
    """``spec.output``, or by default the input's bucket and ``<input key without extension>.transcript/``.

    ``s3://audio/talks/interview-42.wav`` -> ``s3://audio/talks/interview-42.transcript/``.
    """
    if spec.output is not None:
        return spec.output
    bucket, key = parse_s3_uri(spec.input)
    return f"s3://{bucket}/{strip_extension(key)}{DEFAULT_PREFIX_SUFFIX}"


def effective_formats(spec: TranscriptionTaskSpec) -> tuple[Format, ...]:
    """The formats actually written: json first (always, it marks completion), then the others as listed."""
    return (Format.JSON, *(f for f in dict.fromkeys(spec.formats) if f is not Format.JSON))


def output_uris(spec: TranscriptionTaskSpec) -> dict[str, str]:
    """Format -> object URI for every effective format, e.g. ``{"json": "s3://b/p/transcript.json"}``."""
    prefix = output_prefix(spec)
    return {fmt.value: f"{prefix}{OUTPUT_BASENAME}.{fmt.value}" for fmt in effective_formats(spec)}
