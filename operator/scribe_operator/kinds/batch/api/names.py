"""The TranscriptionBatch's names in the API (kind, plural, labels) and the deterministic names of its child tasks,
so a replayed create meets AlreadyExists."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.constants import GROUP, VERSION
from scribe_operator.kinds.batch.api.spec import MAX_BATCH_INPUTS
from scribe_operator.kinds.task.api.names import MAX_LENGTH, label_value, shorten

BATCH_KIND: Final = "TranscriptionBatch"
BATCH_PLURAL: Final = "transcriptionbatches"
BATCH_API_VERSION: Final = f"{GROUP}/{VERSION}"

LABEL_BATCH: Final = f"{GROUP}/batch"
"""On a batch's child tasks: the batch's name (shortened with a hash beyond 63 characters)."""
LABEL_BATCH_INDEX: Final = f"{GROUP}/batch-index"
"""On a batch's child tasks: the index of the child's input in the batch's input list, 0-based, decimal."""

_INDEX_DIGITS: Final = len(str(MAX_BATCH_INPUTS - 1))


def child_name(batch: str, index: int) -> str:
    """The child task of input ``index``: ``<batch>-<index>``, the batch name shortened with a hash so that
    the child's name stays within 63 characters."""
    return f"{shorten(batch, MAX_LENGTH - 1 - _INDEX_DIGITS)}-{index}"


def batch_label_value(batch: str) -> str:
    """The value of the ``scribe.dev/batch`` label on a batch's children."""
    return label_value(batch)
