"""Read TranscriptionBatch objects from the API server without ever raising (as :mod:`.parse` does for tasks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scribe_operator.api.parse import ValidationProblem, parse_object, validate_spec, validate_status
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.spec import TranscriptionBatchSpec
from scribe_operator.kinds.batch.api.status import BatchStatus


def parse_batch_spec(spec: Any) -> TranscriptionBatchSpec | ValidationProblem:
    """Validate a TranscriptionBatch spec mapping."""
    return validate_spec(TranscriptionBatchSpec, spec)


def parse_batch_status(status: Any) -> BatchStatus:
    """The status, dropping fields (or list items) that do not validate; never raises."""
    return validate_status(BatchStatus, status)


def parse_batch(obj: Mapping[str, Any]) -> TranscriptionBatch | ValidationProblem:
    """A TranscriptionBatch from a raw object (dict, kopf body); a ValidationProblem if its spec is bad."""
    return parse_object(obj, TranscriptionBatch, parse_batch_spec, parse_batch_status)
