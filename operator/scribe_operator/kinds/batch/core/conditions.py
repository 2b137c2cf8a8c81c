"""The batch's conditions: Complete (True once terminal), Ready (True once Succeeded) and, once the batch has ended
with somewhere to write it, SummaryWritten (True once written; False while pending or after failed attempts).
Upserted as :mod:`scribe_operator.kernel.conditions` does: other conditions are kept, lastTransitionTime moves only
when a status changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from scribe_operator.api.meta import Condition
from scribe_operator.kernel.conditions import READY, by_type, condition, stamped, upsert
from scribe_operator.kinds.batch.api.status import BatchPhase, BatchStatus

COMPLETE: Final = "Complete"
SUMMARY_WRITTEN: Final = "SummaryWritten"
BATCH_CONDITION_TYPES: Final = (COMPLETE, READY, SUMMARY_WRITTEN)


def batch_conditions(
    status: BatchStatus,
    previous: Sequence[Condition],
    summary_uri: str | None,
    max_summary_attempts: int,
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    """The conditions for ``status``; conditions of other types in ``previous`` are kept as they are."""
    phase = status.phase or BatchPhase.PENDING
    ended = status.message if status.terminal else None
    wanted = [
        condition(COMPLETE, status.terminal, phase.value, ended),
        condition(READY, phase is BatchPhase.SUCCEEDED, phase.value, ended),
    ]
    if status.terminal and summary_uri is not None:
        if status.summary is not None:
            wanted.append(condition(SUMMARY_WRITTEN, True, "Written", status.summary))
        elif status.summary_attempts:
            gave_up = status.summary_attempts >= max_summary_attempts
            why = f"{status.summary_attempts} failed attempts to write {summary_uri}" + ("; gave up" if gave_up else "")
            wanted.append(condition(SUMMARY_WRITTEN, False, "SummaryFailed", why))
        else:
            wanted.append(condition(SUMMARY_WRITTEN, False, "Pending", summary_uri))
    old = by_type(previous)
    return upsert(previous, BATCH_CONDITION_TYPES, (stamped(c, old.get(c.type), now, generation) for c in wanted))
