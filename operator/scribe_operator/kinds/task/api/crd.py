"""The TranscriptionTask kind as the code generator sees it (:mod:`scribe_operator.codegen`): names, schema models,
``kubectl get`` columns and where its field reference goes (docs/api.md)."""

from __future__ import annotations

from typing import Final

from scribe_operator.api.constants import KIND, PLURAL
from scribe_operator.api.kind import DocSection, KindApi, kubectl_columns, status_column
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import TaskStatus

TASK_API: Final = KindApi(
    kind=KIND,
    plural=PLURAL,
    short_names=("tt",),
    description="TranscriptionTask transcribes one audio object from S3, retrying failed attempts.",
    spec=TranscriptionTaskSpec,
    status=TaskStatus,
    printer_columns=kubectl_columns(
        "Where the task is.",
        status_column("Attempts", "integer", "attempt", "Attempts started."),
        status_column("Reason", "string", "reason", "Last failure reason."),
        status_column("Retry-At", "string", "retryAt", "Next attempt at (UTC)."),
        status_column("Progress", "string", "progress.summary", "Audio transcribed by the running (or last) attempt."),
    ),
    fields_doc=DocSection(doc="docs/api.md", name="fields"),
    operator_verbs=("get", "list", "watch", "patch", "create", "delete"),
    operator_why="watch them, patch them (the dead-letter label); create and delete a batch's child tasks",
)
