"""The TranscriptionBatch kind as the code generator sees it (:mod:`scribe_operator.codegen`): names, schema
models, ``kubectl get`` columns and where its field reference goes (docs/batches.md)."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.kind import DocSection, KindApi, PrinterColumn, kubectl_columns, status_column
from scribe_operator.kinds.batch.api.names import BATCH_KIND, BATCH_PLURAL
from scribe_operator.kinds.batch.api.spec import TranscriptionBatchSpec
from scribe_operator.kinds.batch.api.status import BatchStatus


def counts_column(count: str, description: str) -> PrinterColumn:
    """A column of the batch's ``status.counts`` (:class:`~.status.BatchCounts`): the integer ``count``, named after
    it (``total``: ``Total``)."""
    return status_column(count.capitalize(), "integer", f"counts.{count}", description)


BATCH_API: Final = KindApi(
    kind=BATCH_KIND,
    plural=BATCH_PLURAL,
    short_names=("tb",),
    description="TranscriptionBatch transcribes many audio objects, one TranscriptionTask each, "
    "and always finishes: when every child has ended, or at its deadline.",
    spec=TranscriptionBatchSpec,
    status=BatchStatus,
    printer_columns=kubectl_columns(
        "Where the batch is.",
        counts_column("total", "Inputs."),
        counts_column("succeeded", "Transcribed."),
        counts_column("dead", "Ended without a transcript."),
        status_column("Deadline", "string", "deadlineAt", "When unfinished children are ended (UTC)."),
    ),
    fields_doc=DocSection(doc="docs/batches.md", name="batch-fields"),
    operator_why="watch them; their status (progress, the summary's location)",
)
