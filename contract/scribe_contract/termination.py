"""The termination message: the one JSON object the worker leaves in its container's status for the operator.

The worker writes it (:func:`render_termination_message`) to its ``terminationMessagePath`` just before it exits;
the operator reads it back from the pod's container status (:func:`parse_termination_message`). On the wire::

    {"reason": "UploadFailed", "retryable": true, "message": "...", "exitCode": 30,
     "outputs": {"json": "s3://..."}, "durationSeconds": 912.4, "language": "en",
     "usage": {"cpuSeconds": 12.5, "peakMemoryBytes": 734003200}}

Keys appear in this order, compact (no spaces), UTF-8, and only when known. Kubernetes keeps at most 4096 bytes of
a termination message, so the serializer truncates the message text to fit (and, when object keys are huge, drops
the outputs map and the language: the operator knows the outputs anyway). The parser trusts nothing: any input,
however large or malformed, gives a message or None, never an exception; a field that is missing or of the wrong
shape is left unset.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from scribe_contract.redact import scrub

MAX_BYTES: Final = 4096
"""What Kubernetes keeps of a container's termination message."""
MAX_PARSED_BYTES: Final = 16 * MAX_BYTES
"""Longer text is not a termination message the worker wrote (the API server caps them); the parser refuses it."""
ELLIPSIS: Final = "…"
_REASON_SYNTAX: Final = re.compile(r"^[A-Z][A-Za-z0-9]{0,63}$")


@dataclass(frozen=True)
class ContainerUsage:
    """What the worker container used, from its own cgroup: CPU seconds and peak memory; None when unknown."""

    cpu_seconds: float | None = None
    peak_memory_bytes: int | None = None

    @property
    def known(self) -> bool:
        return self.cpu_seconds is not None or self.peak_memory_bytes is not None


@dataclass(frozen=True)
class TerminationMessage:
    """The worker's termination message; every field optional (unset: ``None``, empty)."""

    reason: str | None = None
    """A taxonomy reason (``scribe_contract.taxonomy.Reason``), CamelCase."""
    retryable: bool | None = None
    message: str = ""
    """For humans; never a presigned URL."""
    exit_code: int | None = None
    """The worker's exit code for ``reason`` (the container's own exit code is the operator's first source)."""
    outputs: Mapping[str, str] = field(default_factory=dict)
    """Format -> ``s3://`` URI of every uploaded output, on success."""
    duration_seconds: float | None = None
    """Of the audio, once known."""
    language: str | None = None
    """The spoken language, once known."""
    usage: ContainerUsage | None = None
    """The container's CPU seconds and peak memory, read at the end of the attempt."""


# --- the serializer (the worker) -------------------------------------------------------------------------------


def usage_document(usage: ContainerUsage) -> dict[str, float | int]:
    """``{"cpuSeconds": 12.5, "peakMemoryBytes": 734003200}``, the known values only."""
    document: dict[str, float | int] = {}
    if usage.cpu_seconds is not None:
        document["cpuSeconds"] = usage.cpu_seconds
    if usage.peak_memory_bytes is not None:
        document["peakMemoryBytes"] = usage.peak_memory_bytes
    return document


def _encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_termination_message(
    message: TerminationMessage, limit: int = MAX_BYTES, *, secrets: Iterable[str] = ()
) -> bytes:
    """The message as UTF-8 JSON of at most ``limit`` bytes, its text scrubbed of ``secrets`` and of anything that
    looks like a presigned URL."""
    document: dict[str, Any] = {}
    if message.reason is not None:
        document["reason"] = message.reason
    if message.retryable is not None:
        document["retryable"] = message.retryable
    document["message"] = scrub(message.message, secrets)
    if message.exit_code is not None:
        document["exitCode"] = message.exit_code
    if message.outputs:
        document["outputs"] = dict(message.outputs)
    if message.duration_seconds is not None:
        document["durationSeconds"] = round(message.duration_seconds, 3)
    if message.language is not None:
        document["language"] = message.language
    if message.usage is not None and message.usage.known:
        document["usage"] = usage_document(message.usage)
    # Without any message text it must fit; if not (huge object keys), shed the optional fields.
    for optional in ("outputs", "language"):
        if len(_encode({**document, "message": ELLIPSIS})) > limit:
            document.pop(optional, None)
    return _fit_message(document, limit)


def _fit_message(document: dict[str, Any], limit: int) -> bytes:
    encoded = _encode(document)
    if len(encoded) <= limit:
        return encoded
    text: str = document["message"]
    # The longest prefix (in characters) whose JSON, escapes included, fits: binary search.
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_encode({**document, "message": text[:middle] + ELLIPSIS})) <= limit:
            low = middle
        else:
            high = middle - 1
    document["message"] = text[:low] + ELLIPSIS
    return _encode(document)


# --- the parser (the operator) ---------------------------------------------------------------------------------


def parse_termination_message(text: str | bytes | None) -> TerminationMessage | None:
    """The message in ``text``; None unless it is a JSON object (of at most ``MAX_PARSED_BYTES``). Never raises."""
    if not text or len(text) > MAX_PARSED_BYTES:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    if not isinstance(data, dict):
        return None
    reason, retryable, message = data.get("reason"), data.get("retryable"), data.get("message")
    exit_code, language, outputs = data.get("exitCode"), data.get("language"), data.get("outputs")
    return TerminationMessage(
        reason=reason if isinstance(reason, str) and _REASON_SYNTAX.match(reason) else None,
        retryable=retryable if isinstance(retryable, bool) else None,
        message=message if isinstance(message, str) else "",
        exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None,
        outputs={
            k: v
            for k, v in (outputs.items() if isinstance(outputs, dict) else ())
            if isinstance(k, str) and isinstance(v, str) and v.startswith("s3://")
        },
        duration_seconds=_amount(data.get("durationSeconds")),
        language=language if isinstance(language, str) and language else None,
        usage=_usage(data.get("usage")),
    )


def _amount(value: object) -> float | None:
    """A finite, non-negative number; None otherwise (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def _usage(raw: object) -> ContainerUsage | None:
    """The message's usage; None when absent or nothing in it is a valid amount."""
    if not isinstance(raw, dict):
        return None
    cpu, memory = _amount(raw.get("cpuSeconds")), _amount(raw.get("peakMemoryBytes"))
    if cpu is None and memory is None:
        return None
    return ContainerUsage(cpu_seconds=cpu, peak_memory_bytes=None if memory is None else int(memory))
