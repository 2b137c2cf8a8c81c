"""The TranscriptionTask object (``scribe.dev/v1alpha1``): metadata, spec and status as pydantic models.

These models are the single source of truth: the CRD's OpenAPI schema, its defaults and its field
documentation (``kubectl explain``) are generated from them. The spec is in :mod:`.spec` (with its parts in
:mod:`.retry`, :mod:`.resources`, :mod:`.worker` and :mod:`.transcription`), the status in :mod:`.status`.
JSON uses camelCase (``retryPolicy``); Python uses snake_case (``retry_policy``); both are accepted.
"""

from __future__ import annotations

from pydantic import Field

from scribe_operator.api.constants import API_VERSION, KIND
from scribe_operator.api.resource import Resource
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import TaskStatus


class TranscriptionTask(Resource[TranscriptionTaskSpec, TaskStatus]):
    """A TranscriptionTask object."""

    api_version: str = API_VERSION
    kind: str = KIND
    status: TaskStatus = Field(default_factory=TaskStatus)
