"""The failure taxonomy: every reason an attempt can end with, in one table, and the worker's exit codes.

The worker owns the exit codes (one per reason it can report, 0 for success); the operator adds the reasons it
detects itself (from pod status or its own calls). Every other module looks reasons up here: a new failure reason
is one row in ``TAXONOMY``. The reason strings and exit codes are wire values (``status.reason``, the container's
exit code, the termination message's ``reason`` and ``exitCode``): never renumber or rename one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Machine-readable, CamelCase reasons as they appear in ``status.reason`` and ``status.attempts[].reason``."""

    COMPLETED = "Completed"
    CACHE_HIT = "CacheHit"
    INPUT_NOT_FOUND = "InputNotFound"
    INPUT_FORBIDDEN = "InputForbidden"
    DOWNLOAD_FAILED = "DownloadFailed"
    INVALID_AUDIO = "InvalidAudio"
    TRANSCRIPTION_FAILED = "TranscriptionFailed"
    UPLOAD_FAILED = "UploadFailed"
    INVALID_CONFIGURATION = "InvalidConfiguration"
    PRESIGN_FAILED = "PresignFailed"
    OUTPUT_UNAVAILABLE = "OutputUnavailable"
    POD_INVALID = "PodInvalid"
    POD_FORBIDDEN = "PodForbidden"
    OOM_KILLED = "OOMKilled"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    STALLED = "Stalled"
    IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
    UNSCHEDULABLE = "Unschedulable"
    CREATE_CONTAINER_CONFIG_ERROR = "CreateContainerConfigError"
    POD_LOST = "PodLost"
    WORKER_CRASHED = "WorkerCrashed"
    RETRIES_EXHAUSTED = "RetriesExhausted"


class Source(StrEnum):
    """Who detects a reason."""

    WORKER = "worker"  # the worker reports it: exit code + termination message
    POD = "pod"  # the operator reads it from the pod's status
    OPERATOR = "operator"  # the operator's own calls or bookkeeping


@dataclass(frozen=True)
class Entry:
    """One row of the taxonomy."""

    reason: Reason
    source: Source
    exit_code: int | None  # worker reasons only
    retryable: bool  # the default; spec.retryPolicy.rules may override
    description: str


TAXONOMY: tuple[Entry, ...] = (
    Entry(Reason.COMPLETED, Source.WORKER, 0, False, "the transcript and every requested format were uploaded"),
    Entry(
        Reason.CACHE_HIT,
        Source.OPERATOR,
        None,
        False,
        "a complete result of the same input version and options was already at the output; no pod was started",
    ),
    Entry(Reason.INPUT_NOT_FOUND, Source.WORKER, 10, False, "the input object does not exist (HTTP 404)"),
    Entry(Reason.INPUT_FORBIDDEN, Source.WORKER, 11, True, "S3 refused the download (HTTP 403, e.g. URL expired)"),
    Entry(Reason.DOWNLOAD_FAILED, Source.WORKER, 12, True, "download failed: 5xx, connection reset or timeout"),
    Entry(Reason.INVALID_AUDIO, Source.WORKER, 20, False, "the input is empty or not decodable audio"),
    Entry(Reason.TRANSCRIPTION_FAILED, Source.WORKER, 21, True, "the transcription engine failed"),
    Entry(Reason.UPLOAD_FAILED, Source.WORKER, 30, True, "an upload failed: non-2xx, connection reset or timeout"),
    Entry(Reason.INVALID_CONFIGURATION, Source.WORKER, 40, False, "the worker's environment is incomplete or invalid"),
    Entry(Reason.WORKER_CRASHED, Source.POD, None, True, "non-zero exit without a termination message"),
    Entry(Reason.OOM_KILLED, Source.POD, 137, True, "the container exceeded its memory limit"),
    Entry(Reason.DEADLINE_EXCEEDED, Source.POD, None, True, "the attempt ran past its deadline"),
    Entry(Reason.STALLED, Source.OPERATOR, None, True, "the worker's reported progress did not move for stallSeconds"),
    Entry(Reason.IMAGE_PULL_BACK_OFF, Source.POD, None, True, "the worker image could not be pulled in time"),
    Entry(Reason.UNSCHEDULABLE, Source.POD, None, True, "no node could take the pod in time"),
    Entry(
        Reason.CREATE_CONTAINER_CONFIG_ERROR, Source.POD, None, True, "the container could not be configured in time"
    ),
    Entry(Reason.POD_LOST, Source.POD, None, True, "the pod vanished: deleted, evicted or its node is gone"),
    Entry(Reason.PRESIGN_FAILED, Source.OPERATOR, None, True, "the operator could not sign URLs for the attempt"),
    Entry(
        Reason.OUTPUT_UNAVAILABLE,
        Source.OPERATOR,
        None,
        True,
        "the output bucket does not exist or cannot be reached; no pod was started",
    ),
    Entry(
        Reason.POD_INVALID,
        Source.OPERATOR,
        None,
        False,
        "the API server rejected the attempt's pod (HTTP 422 or 400: invalid, or denied by admission policy)",
    ),
    Entry(
        Reason.POD_FORBIDDEN,
        Source.OPERATOR,
        None,
        True,
        "admission refused the attempt's pod or Secret (HTTP 403: quota exceeded, Pod Security, webhook)",
    ),
    Entry(Reason.RETRIES_EXHAUSTED, Source.OPERATOR, None, False, "the last allowed attempt failed"),
)

BY_REASON: dict[Reason, Entry] = {e.reason: e for e in TAXONOMY}
BY_EXIT_CODE: dict[int, Entry] = {
    e.exit_code: e for e in TAXONOMY if e.source is Source.WORKER and e.exit_code is not None
}


def exit_code(reason: Reason) -> int:
    """The worker's exit code for ``reason``; raises KeyError for reasons the worker does not report."""
    code = BY_REASON[reason].exit_code
    if code is None or BY_REASON[reason].source is not Source.WORKER:
        raise KeyError(reason)
    return code
