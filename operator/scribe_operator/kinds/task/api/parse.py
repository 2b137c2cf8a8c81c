"""Read TranscriptionTask objects from the API server without ever raising (:mod:`scribe_operator.api.parse`):
``parse_task`` for an object, ``parse_spec`` and ``parse_status`` for its parts."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.parse import ObjectReader
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import TaskStatus

TASKS: Final = ObjectReader(TranscriptionTask, TranscriptionTaskSpec, TaskStatus)
parse_task = TASKS.object
parse_spec = TASKS.spec
parse_status = TASKS.status
