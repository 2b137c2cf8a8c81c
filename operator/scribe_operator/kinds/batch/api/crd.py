"""The TranscriptionBatch kind as the code generator sees it (:mod:`scribe_operator.codegen`): names, schema
models, ``kubectl get`` columns and where its field reference goes (docs/batches.md)."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.kind import DocSection, KindApi, PrinterColumn
from scribe_operator.kinds.batch.api.names import BATCH_KIND, BATCH_PLURAL
from scribe_operator.kinds.batch.api.spec import TranscriptionBatchSpec
from scribe_operator.kinds.batch.api.status import BatchStatus

BATCH_API: Final = KindApi(
    kind=BATCH_KIND,
    plural=BATCH_PLURAL,
    singular="transcriptionbatch",
    short_names=("tb",),
    categories=("scribe",),
    description="TranscriptionBatch transcribes many audio objects, one TranscriptionTask each, "
    "and always finishes: when every child has ended, or at its deadline.",
    spec=TranscriptionBatchSpec,
    status=BatchStatus,
    printer_columns=(
        PrinterColumn(name="Phase", type="string", json_path=".status.phase", description="Where the batch is."),
        PrinterColumn(name="Total", type="integer", json_path=".status.counts.total", description="Inputs."),
        PrinterColumn(
            name="Succeeded", type="integer", json_path=".status.counts.succeeded", description="Transcribed."
        ),
        PrinterColumn(
            name="Dead", type="integer", json_path=".status.counts.dead", description="Ended without a transcript."
        ),
        PrinterColumn(
            name="Deadline",
            type="string",
            json_path=".status.deadlineAt",
            description="When unfinished children are ended (UTC).",
        ),
        PrinterColumn(name="Age", type="date", json_path=".metadata.creationTimestamp"),
    ),
    fields_doc=DocSection(doc="docs/batches.md", name="batch-fields"),
)
