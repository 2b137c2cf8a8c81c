"""The TranscriptionBatch object (``scribe.dev/v1alpha1``): a session of many inputs, one TranscriptionTask each.

Like the task's models, these are the single source of truth: the CRD, its defaults and the field reference in
docs/batches.md derive from them. The spec is in :mod:`.spec`, the status in :mod:`.status`; the pure helpers
that fix the API contract around them are in :mod:`.names` (child names and labels), :mod:`.layout` (where each
child writes, where the summary goes, which objects a prefix expands to) and :mod:`.indexes` (the ``"0-3,7"``
index-set notation of ``status.succeededIndexes`` / ``status.failedIndexes``).
"""

from __future__ import annotations

from pydantic import Field

from scribe_operator.api.resource import Resource
from scribe_operator.kinds.batch.api.names import BATCH_API_VERSION, BATCH_KIND
from scribe_operator.kinds.batch.api.spec import TranscriptionBatchSpec
from scribe_operator.kinds.batch.api.status import BatchStatus


class TranscriptionBatch(Resource[TranscriptionBatchSpec, BatchStatus]):
    """A TranscriptionBatch object."""

    api_version: str = BATCH_API_VERSION
    kind: str = BATCH_KIND
    status: BatchStatus = Field(default_factory=BatchStatus)

    def inputs(self) -> list[str] | None:
        """The fixed input list: spec.inputs, or the prefix's expansion once made; None before that."""
        return self.spec.inputs if self.spec.inputs is not None else self.status.inputs
