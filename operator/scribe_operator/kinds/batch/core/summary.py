"""A batch's summary: once the batch has ended, one JSON object with its outcome and every input's task, result,
reason and outputs, written beside the transcripts (:func:`scribe_operator.kinds.batch.api.layout.summary_uri`).

The first write is asked for at once (``WriteSummary``); a failed write is tried again ``summary_retry_seconds``
times the attempts made after the batch finished, at most ``max_summary_attempts`` times (condition SummaryWritten
says how it went). The document is derived from the inputs' states, so a rewrite after a restart is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from scribe_operator.kernel.clock import iso
from scribe_operator.kinds.batch.api.names import BATCH_API_VERSION
from scribe_operator.kinds.batch.core.draft import BatchDraft
from scribe_operator.kinds.batch.core.inputs import Item
from scribe_operator.kinds.batch.core.observed import SummaryResult
from scribe_operator.kinds.batch.core.plan import WriteSummary


class SummaryStep(BatchDraft):
    """The summary step."""

    def summarize(self, items: Sequence[Item] | None, result: SummaryResult | None) -> None:
        """Write the summary once the batch ended; ``items`` None: derive them from the (frozen) status."""
        uri = self.summary_uri
        if uri is None or self.status.summary is not None:
            return
        if result is not None and result.uri == uri:
            if result.error is None:
                self.set(summary=uri)
                self.event("Normal", "SummaryWritten", uri)
                return
            attempts = self.status.summary_attempts + 1
            self.set(summary_attempts=attempts)
            self.event("Warning", "SummaryFailed", self.clip(f"attempt {attempts}: {result.error}"))
            if attempts < self.settings.max_summary_attempts:
                self.wake_at.append(self._retry_at(attempts))
            return
        if self._due(result):
            if items is None:
                items = self.resolve(self.batch.inputs() or [], frozen=True)
            self.actions.append(WriteSummary(uri, self._document(items)))

    def _retry_at(self, attempts: int) -> datetime:
        """When the write after ``attempts`` failed ones is due."""
        return (self.status.finished_at or self.stamp) + timedelta(
            seconds=attempts * self.settings.summary_retry_seconds
        )

    def _due(self, result: SummaryResult | None) -> bool:
        """Whether to write the summary in this pass (first try at once, then on a bounded schedule)."""
        attempts = self.status.summary_attempts
        if result is not None or attempts >= self.settings.max_summary_attempts:
            return False
        due = self._retry_at(attempts)
        if self.now < due:
            self.wake_at.append(due)
            return False
        return True

    def _document(self, items: Sequence[Item]) -> dict[str, Any]:
        """The summary: the batch's outcome and, per input, its task, result, reason and outputs."""
        st, meta = self.status, self.batch.metadata
        return {
            "apiVersion": BATCH_API_VERSION,
            "kind": "TranscriptionBatchSummary",
            "batch": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid},
            "phase": st.phase.value if st.phase else None,
            "reason": st.reason,
            "message": st.message,
            "inputPrefix": self.spec.input_prefix,
            "outputPrefix": self.spec.output_prefix,
            "counts": st.counts.model_dump(mode="json", by_alias=True),
            "createdAt": iso(meta.creation_timestamp),
            "startedAt": iso(st.started_at),
            "deadlineAt": iso(st.deadline_at),
            "finishedAt": iso(st.finished_at),
            "items": [
                {
                    "index": i.index,
                    "input": i.input,
                    "task": i.task,
                    "result": "Succeeded" if i.state == "succeeded" else "Failed",
                    "reason": i.reason or ("Completed" if i.state == "succeeded" else None),
                    "message": i.message,
                    "outputs": dict(i.outputs),
                }
                for i in items
            ],
        }
