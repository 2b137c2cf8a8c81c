"""The working state of one pass of the batch core (:mod:`.reconcile`): the batch, its children as observed, the
status as changed so far, and the inputs' states derived from them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from scribe_operator.kernel.draft import Draft
from scribe_operator.kinds.batch.api.layout import summary_uri
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.status import BatchStatus
from scribe_operator.kinds.batch.core.inputs import Item, resolve_inputs
from scribe_operator.kinds.batch.core.observed import ObservedChild
from scribe_operator.kinds.batch.core.plan import BatchAction
from scribe_operator.kinds.batch.core.settings import BatchSettings


class BatchDraft(Draft[BatchStatus, BatchAction]):
    """One pass's working state: a copy of the status plus the actions, events and wake-up times gathered."""

    def __init__(
        self, batch: TranscriptionBatch, children: Sequence[ObservedChild], now: datetime, settings: BatchSettings
    ) -> None:
        super().__init__(batch.status, now, settings.max_message_length)
        self.batch, self.spec, self.settings = batch, batch.spec, settings
        self.children = children

    def resolve(self, inputs: Sequence[str], frozen: bool) -> list[Item]:
        """Every input's state now (:func:`.inputs.resolve_inputs`)."""
        return resolve_inputs(self.batch, self.status, self.children, inputs, frozen, self.clip)

    @property
    def summary_uri(self) -> str | None:
        """Where the summary goes (None: nowhere, a prefix that expanded to nothing)."""
        return summary_uri(self.batch.metadata.name, self.spec, self.batch.inputs() or self.status.inputs)
