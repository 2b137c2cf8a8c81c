"""Expanding a batch's ``spec.inputPrefix`` into ``status.inputs``, once: ask for the listing (``ExpandPrefix``),
then take its answer. A listing that finds nothing, too much or no bucket fails the batch; one that cannot reach S3
is tried again until ``expansion_timeout_seconds`` after the batch was created."""

from __future__ import annotations

from datetime import timedelta

from scribe_operator.kinds.batch.api.spec import MAX_BATCH_INPUTS
from scribe_operator.kinds.batch.api.status import BatchPhase, BatchReason
from scribe_operator.kinds.batch.core.draft import BatchDraft
from scribe_operator.kinds.batch.core.observed import Expansion
from scribe_operator.kinds.batch.core.plan import ExpandPrefix


class PrefixExpansion(BatchDraft):
    """The expansion step."""

    def expand(self, expansion: Expansion | None) -> bool:
        """Expand spec.inputPrefix into status.inputs (once); True when the inputs are known now."""
        prefix = self.spec.input_prefix or ""
        if expansion is None:
            if self.status.phase is None:
                self.set(phase=BatchPhase.PENDING)
            self.actions.append(ExpandPrefix(prefix))
            return False
        if expansion.result == "ok" and expansion.truncated:
            self.fail(BatchReason.TOO_MANY_INPUTS, f"more than {MAX_BATCH_INPUTS} objects under {prefix}")
        elif expansion.result == "ok" and not expansion.inputs:
            self.fail(BatchReason.INPUT_PREFIX_EMPTY, f"no objects to transcribe under {prefix}")
        elif expansion.result == "ok":
            self.set(inputs=list(expansion.inputs), reason=None, message=None)
            self.event("Normal", "InputsExpanded", f"{prefix}: {len(expansion.inputs)} inputs")
            return True
        elif expansion.result == "not_found":
            self.fail(BatchReason.INPUT_PREFIX_NOT_FOUND, self.clip(expansion.message or f"{prefix}: no bucket"))
        else:
            created = self.batch.metadata.creation_timestamp or self.now
            give_up = created + timedelta(seconds=self.settings.expansion_timeout_seconds)
            message = self.clip(f"cannot list {prefix}: {expansion.message}")
            if self.now >= give_up:
                self.fail(BatchReason.INPUT_PREFIX_UNAVAILABLE, message)
            else:
                self.set(phase=BatchPhase.PENDING, reason=BatchReason.INPUT_PREFIX_UNAVAILABLE.value, message=message)
                self.wake_at.append(min(give_up, self.now + timedelta(seconds=self.settings.expansion_retry_seconds)))
        return False

    def fail(self, reason: BatchReason, message: str) -> None:
        """The batch cannot run at all (its inputPrefix did not expand)."""
        self.set(phase=BatchPhase.FAILED, reason=reason.value, message=message, finished_at=self.stamp)
        self.event("Warning", BatchPhase.FAILED.value, f"{reason.value}: {message}")
