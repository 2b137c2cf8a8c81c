"""Read TranscriptionBatch objects from the API server without ever raising (:mod:`scribe_operator.api.parse`):
``parse_batch`` for an object, ``parse_batch_spec`` and ``parse_batch_status`` for its parts."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.parse import ObjectReader
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.spec import TranscriptionBatchSpec
from scribe_operator.kinds.batch.api.status import BatchStatus

BATCHES: Final = ObjectReader(TranscriptionBatch, TranscriptionBatchSpec, BatchStatus)
parse_batch = BATCHES.object
parse_batch_spec = BATCHES.spec
parse_batch_status = BATCHES.status
