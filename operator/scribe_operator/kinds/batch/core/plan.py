"""A BatchPlan: the batch decision core's output (a :class:`scribe_operator.kernel.plan.Plan`). The new status plus
idempotent actions, carried out by effects.

Carrying out a plan: run the actions in order, write ``status`` (if not None) and requeue after ``requeue_after``
seconds (if not None). Child names are deterministic (``<batch>-<index>``): a create that meets AlreadyExists and a
delete that meets NotFound are successes, and the summary object is simply overwritten. ``ExpandPrefix``,
``WriteSummary`` and ``SendNotification`` ask for a result (:mod:`scribe_operator.kernel.replan`): run them, then
reconcile again with ``plan.apply(batch)`` and the results in :class:`.observed.BatchObserved`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from scribe_operator.api.constants import KIND
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kernel.notify import SendNotification
from scribe_operator.kernel.plan import DeleteObject, Plan
from scribe_operator.kinds.batch.api.model import TranscriptionBatch
from scribe_operator.kinds.batch.api.status import BatchStatus
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec


@dataclass(frozen=True)
class ExpandPrefix:
    """List the objects under ``prefix`` (at most MAX_BATCH_INPUTS + 1), then reconcile with the Expansion."""

    prefix: str


@dataclass(frozen=True)
class CreateChild:
    """Create child TranscriptionTask ``name`` for input ``index`` (AlreadyExists is success)."""

    index: int
    name: str
    spec: TranscriptionTaskSpec


@dataclass(frozen=True)
class DeleteChild(DeleteObject):
    """Delete child TranscriptionTask ``name`` (and so its pods); NotFound is success."""

    kind: ClassVar[str] = KIND


@dataclass(frozen=True)
class WriteSummary:
    """Write ``document`` as JSON to ``uri`` (overwriting), then reconcile with the SummaryResult."""

    uri: str
    document: Mapping[str, Any] = field(compare=False)


BatchAction = ExpandPrefix | CreateChild | DeleteChild | WriteSummary | EmitEvent | SendNotification


@dataclass(frozen=True)
class BatchPlan(Plan[TranscriptionBatch, BatchStatus, BatchAction]):
    """What to do for one batch now (:class:`scribe_operator.kernel.plan.Plan`). ``requeue_after``: the deadline,
    pending creates, retries of a listing or summary."""
