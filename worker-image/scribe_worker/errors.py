"""The one exception type the pipeline steps raise: a failure already classified by the taxonomy."""

from __future__ import annotations

from scribe_contract.taxonomy import Reason


class WorkerError(Exception):
    """A classified failure: ``reason`` decides the exit code and retryability, ``message`` is for humans.

    The message must never contain a presigned URL; steps name objects by their ``s3://`` URI.
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
