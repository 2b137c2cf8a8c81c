"""The TranscriptionTask kind as the code generator sees it (:mod:`scribe_operator.codegen`): names, schema models,
``kubectl get`` columns and where its field reference goes (docs/api.md)."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.constants import KIND, PLURAL
from scribe_operator.api.kind import DocSection, KindApi, PrinterColumn
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import TaskStatus

TASK_API: Final = KindApi(
    kind=KIND,
    plural=PLURAL,
    singular="transcriptiontask",
    short_names=("tt",),
    categories=("scribe",),
    description="TranscriptionTask transcribes one audio object from S3, retrying failed attempts.",
    spec=TranscriptionTaskSpec,
    status=TaskStatus,
    printer_columns=(
        PrinterColumn(name="Phase", type="string", json_path=".status.phase", description="Where the task is."),
        PrinterColumn(name="Attempts", type="integer", json_path=".status.attempt", description="Attempts started."),
        PrinterColumn(name="Reason", type="string", json_path=".status.reason", description="Last failure reason."),
        PrinterColumn(
            name="Retry-At", type="string", json_path=".status.retryAt", description="Next attempt at (UTC)."
        ),
        PrinterColumn(
            name="Progress",
            type="string",
            json_path=".status.progress.summary",
            description="Audio transcribed by the running (or last) attempt.",
        ),
        PrinterColumn(name="Age", type="date", json_path=".metadata.creationTimestamp"),
    ),
    fields_doc=DocSection(doc="docs/api.md", name="fields"),
)
