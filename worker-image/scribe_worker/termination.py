"""The termination message: one JSON object the operator reads from the pod's container status.

Kubernetes keeps at most 4096 bytes of it, so the message text is truncated to fit (and, in the
pathological case of huge object keys, the outputs map is dropped: the operator knows them anyway).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scribe_worker.redact import scrub
from scribe_worker.taxonomy import BY_REASON, Reason, exit_code
from scribe_worker.usage import Usage

MAX_BYTES = 4096
ELLIPSIS = "…"


@dataclass(frozen=True)
class Outcome:
    reason: Reason
    message: str
    outputs: Mapping[str, str] = field(default_factory=dict)  # format -> s3:// URI, on success
    duration_seconds: float | None = None  # of the audio, once known
    language: str | None = None  # once known
    usage: Usage = field(default_factory=Usage)  # the container's CPU seconds and peak memory, read at the end

    @property
    def exit_code(self) -> int:
        return exit_code(self.reason)

    @property
    def retryable(self) -> bool:
        return BY_REASON[self.reason].retryable


def usage_document(usage: Usage) -> dict[str, float | int]:
    """``{"cpuSeconds": 12.5, "peakMemoryBytes": 734003200}``, the known values only."""
    document: dict[str, float | int] = {}
    if usage.cpu_seconds is not None:
        document["cpuSeconds"] = usage.cpu_seconds
    if usage.peak_memory_bytes is not None:
        document["peakMemoryBytes"] = usage.peak_memory_bytes
    return document


def _encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render(outcome: Outcome, limit: int = MAX_BYTES) -> bytes:
    """The message as UTF-8 JSON of at most ``limit`` bytes, scrubbed of presigned URLs."""
    document: dict[str, Any] = {
        "reason": str(outcome.reason),
        "retryable": outcome.retryable,
        "message": scrub(outcome.message),
        "exitCode": outcome.exit_code,
    }
    if outcome.outputs:
        document["outputs"] = dict(outcome.outputs)
    if outcome.duration_seconds is not None:
        document["durationSeconds"] = round(outcome.duration_seconds, 3)
    if outcome.language is not None:
        document["language"] = outcome.language
    if outcome.usage.known:
        document["usage"] = usage_document(outcome.usage)
    # Without any message text it must fit; if not (huge object keys), shed the optional fields.
    for optional in ("outputs", "language"):
        if len(_encode({**document, "message": ELLIPSIS})) > limit:
            document.pop(optional, None)
    return _fit_message(document, limit)


def _fit_message(document: dict[str, Any], limit: int) -> bytes:
    encoded = _encode(document)
    if len(encoded) <= limit:
        return encoded
    message: str = document["message"]
    # The longest prefix (in characters) whose JSON, escapes included, fits: binary search.
    low, high = 0, len(message)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_encode({**document, "message": message[:middle] + ELLIPSIS})) <= limit:
            low = middle
        else:
            high = middle - 1
    document["message"] = message[:low] + ELLIPSIS
    return _encode(document)


def write(path: Path, outcome: Outcome) -> bytes:
    """Write the message to ``path`` (e.g. /dev/termination-log); returns what was written."""
    data = render(outcome)
    path.write_bytes(data)
    return data
