"""The task's conditions: Ready and Failed, derived from the phase; Queued and CircuitOpen, while they apply.

``Ready`` is True once the task Succeeded (reason: the phase); ``Failed`` is True once it is Dead (reason:
the terminal failure reason, e.g. RetriesExhausted); while False, their reason is the current phase.
``Queued`` is True while the task waits for a free attempt slot (phase Queued; reason OperatorCapacity or
NamespaceCapacity) and ``CircuitOpen`` while the circuit breaker holds its next attempt (reason: the failure that
opened the breaker). Those two appear the first time they apply and turn False (``Admitted``, ``CircuitClosed``)
when it ends. A condition that stays True keeps its reason and message from when it turned True, so waiting costs
no status writes. lastTransitionTime changes only when a condition's status changes, so re-deriving them from an
unchanged state changes nothing (:mod:`scribe_operator.kernel.conditions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final, Protocol

from scribe_operator.api.meta import Condition
from scribe_operator.kernel.conditions import READY, by_type, condition, stamped, upsert
from scribe_operator.kinds.task.api.status import Phase, TaskStatus

FAILED: Final = "Failed"
QUEUED: Final = "Queued"
CIRCUIT_OPEN: Final = "CircuitOpen"
CONDITION_TYPES: Final = (READY, FAILED, QUEUED, CIRCUIT_OPEN)
ADMITTED: Final = "Admitted"
CIRCUIT_CLOSED: Final = "CircuitClosed"


class Cause(Protocol):
    """Why a condition is True (a capacity verdict, a circuit hold)."""

    @property
    def reason(self) -> str: ...

    @property
    def message(self) -> str: ...


def derive_conditions(
    status: TaskStatus,
    previous: Sequence[Condition],
    now: datetime,
    generation: int | None,
    queued: Cause | None = None,
    circuit: Cause | None = None,
) -> list[Condition]:
    """The conditions for ``status``; conditions of other types in ``previous`` are kept as they are.

    ``queued``: why the task is Queued, if it entered the phase now. ``circuit``: set when the circuit breaker held
    the task's next attempt in this pass.
    """
    phase = status.phase or Phase.PENDING
    ready = phase is Phase.SUCCEEDED
    dead = phase is Phase.DEAD
    old = by_type(previous)
    updated = [
        stamped(condition(READY, ready, phase.value, status.message), old.get(READY), now, generation),
        stamped(
            condition(FAILED, dead, status.reason if dead else phase.value, status.message if dead else None),
            old.get(FAILED),
            now,
            generation,
        ),
    ]
    for kind, cause, released in (
        (QUEUED, queued if phase is Phase.QUEUED else None, ADMITTED),
        (CIRCUIT_OPEN, circuit, CIRCUIT_CLOSED),
    ):
        active = phase is Phase.QUEUED if kind == QUEUED else circuit is not None
        held = _held(kind, active, cause, released, old.get(kind), now, generation)
        if held is not None:
            updated.append(held)
    return upsert(previous, CONDITION_TYPES, updated)


def _held(
    kind: str,
    active: bool,
    cause: Cause | None,
    released: str,
    before: Condition | None,
    now: datetime,
    generation: int | None,
) -> Condition | None:
    """A condition that is True while a wait lasts: added when it starts, False once it ended, else left out."""
    if active:
        if before is not None and before.status == "True":
            return before  # still waiting: nothing changes
        reason, message = (cause.reason, cause.message) if cause is not None else (kind, None)
        return stamped(condition(kind, True, reason, message), before, now, generation)
    if before is None or before.status != "True":
        return before
    return stamped(condition(kind, False, released, None), before, now, generation)
