"""How the attempt ended (:class:`AttemptResult`), and writing it as the termination message the operator reads.

The message's wire format and its serializer are the shared contract's (``scribe_contract.termination``); this
module fills it from the taxonomy (exit code, retryable) and scrubs it of the attempt's presigned URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scribe_contract.taxonomy import BY_REASON, Reason, exit_code
from scribe_contract.termination import (
    MAX_BYTES,
    ContainerUsage,
    TerminationMessage,
    render_termination_message,
)

from scribe_worker.redact import registered_secrets


@dataclass(frozen=True)
class AttemptResult:
    """How the attempt ended: a taxonomy reason, a message for humans, and what is known of the work done."""

    reason: Reason
    message: str
    outputs: Mapping[str, str] = field(default_factory=dict)  # format -> s3:// URI, on success
    duration_seconds: float | None = None  # of the audio, once known
    language: str | None = None  # once known
    usage: ContainerUsage = field(default_factory=ContainerUsage)  # CPU seconds and peak memory, read at the end

    @property
    def exit_code(self) -> int:
        return exit_code(self.reason)

    @property
    def retryable(self) -> bool:
        return BY_REASON[self.reason].retryable

    def termination_message(self) -> TerminationMessage:
        return TerminationMessage(
            reason=str(self.reason),
            retryable=self.retryable,
            message=self.message,
            exit_code=self.exit_code,
            outputs=dict(self.outputs),
            duration_seconds=self.duration_seconds,
            language=self.language,
            usage=self.usage,
        )


def render(result: AttemptResult, limit: int = MAX_BYTES) -> bytes:
    """The termination message of ``result``: UTF-8 JSON of at most ``limit`` bytes, scrubbed of presigned URLs."""
    return render_termination_message(result.termination_message(), limit, secrets=registered_secrets())


def write(path: Path, result: AttemptResult) -> bytes:
    """Write the message to ``path`` (e.g. /dev/termination-log); returns what was written."""
    data = render(result)
    path.write_bytes(data)
    return data
