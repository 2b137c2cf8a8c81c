"""Read TranscriptionTask objects from the API server without ever raising (:mod:`scribe_operator.api.parse`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scribe_operator.api.parse import ValidationProblem, parse_object, validate_spec, validate_status
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import TaskStatus


def parse_spec(spec: Any) -> TranscriptionTaskSpec | ValidationProblem:
    """Validate a TranscriptionTask spec mapping."""
    return validate_spec(TranscriptionTaskSpec, spec)


def parse_status(status: Any) -> TaskStatus:
    """Validate a TranscriptionTask status mapping, dropping what does not validate; never raises."""
    return validate_status(TaskStatus, status)


def parse_task(obj: Mapping[str, Any]) -> TranscriptionTask | ValidationProblem:
    """A TranscriptionTask from a raw object (dict, kopf body); a ValidationProblem if its spec is bad."""
    return parse_object(obj, TranscriptionTask, parse_spec, parse_status)
