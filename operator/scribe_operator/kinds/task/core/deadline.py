"""How long an attempt may run, and how long its presigned URLs must stay valid."""

from __future__ import annotations

import math

from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.core.settings import CoreSettings

MIB = 2**20


def attempt_deadline(spec: TranscriptionTaskSpec, input_size: int | None, settings: CoreSettings) -> int:
    """``spec.timeouts.attemptSeconds``, or an estimate from the input's size.

    Estimate: overhead + seconds per MiB * size, clamped to [min, max] attempt seconds; max when the
    size is unknown.
    """
    if spec.timeouts.attempt_seconds is not None:
        return spec.timeouts.attempt_seconds
    if input_size is None:
        return settings.max_attempt_seconds
    estimate = settings.attempt_overhead_seconds + settings.seconds_per_mib * input_size / MIB
    return min(settings.max_attempt_seconds, max(settings.min_attempt_seconds, math.ceil(estimate)))


def url_ttl(spec: TranscriptionTaskSpec, deadline_seconds: int, settings: CoreSettings) -> int:
    """Lifetime of the attempt's presigned URLs: until the last moment its pod may still upload.

    That is the pending timeout + the deadline + the watchdog's grace, plus a safety margin (capped at the
    longest lifetime S3 allows).
    """
    ttl = (
        spec.timeouts.pending_seconds
        + deadline_seconds
        + settings.deadline_grace_seconds
        + settings.url_ttl_margin_seconds
    )
    return min(settings.max_url_ttl_seconds, math.ceil(ttl))
