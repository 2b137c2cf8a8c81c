"""The Ready and Failed conditions, derived from the phase.

``Ready`` is True once the task Succeeded (reason: the phase); ``Failed`` is True once it is Dead (reason:
the terminal failure reason, e.g. RetriesExhausted); while False, their reason is the current phase.
lastTransitionTime changes only when a condition's status changes, so re-deriving them from an unchanged
phase changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Literal

from ..api.task import Condition, Phase, TaskStatus

READY: Final = "Ready"
FAILED: Final = "Failed"
CONDITION_TYPES: Final = (READY, FAILED)


def derive_conditions(
    status: TaskStatus, previous: Sequence[Condition], now: datetime, generation: int | None
) -> list[Condition]:
    """Ready and Failed for ``status``; conditions of other types in ``previous`` are kept as they are."""
    phase = status.phase or Phase.PENDING
    ready = phase is Phase.SUCCEEDED
    dead = phase is Phase.DEAD
    wanted = [
        _condition(READY, ready, phase.value, status.message),
        _condition(FAILED, dead, status.reason if dead else phase.value, status.message if dead else None),
    ]
    old = {c.type: c for c in previous}
    result = [c for c in previous if c.type not in CONDITION_TYPES]
    for cond in wanted:
        before = old.get(cond.type)
        changed = before is None or before.status != cond.status or before.last_transition_time is None
        since = now if changed or before is None else before.last_transition_time
        result.append(cond.model_copy(update={"last_transition_time": since, "observed_generation": generation}))
    return result


def _condition(kind: str, true: bool, reason: str | None, message: str | None) -> Condition:
    state: Literal["True", "False"] = "True" if true else "False"
    return Condition(type=kind, status=state, reason=reason or kind, message=message)
