"""Standard Kubernetes conditions, upserted into a status.

A core derives the conditions it owns from the state it computed and hands them to :func:`upsert` with the ones the
object had: conditions of types the core does not own are kept as they are; each owned one is :func:`stamped`, so
its ``lastTransitionTime`` moves only when its status changes and re-deriving an unchanged state changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Final, Literal

from scribe_operator.api.meta import Condition

READY: Final = "Ready"
"""The condition every kind sets True once its object succeeded."""


def condition(kind: str, true: bool, reason: str | None, message: str | None) -> Condition:
    """Condition ``kind``, True or False; without a reason its reason is its type."""
    state: Literal["True", "False"] = "True" if true else "False"
    return Condition(type=kind, status=state, reason=reason or kind, message=message)


def stamped(cond: Condition, before: Condition | None, now: datetime, generation: int | None) -> Condition:
    """``cond`` with its lastTransitionTime (``before``'s while the status is unchanged, else ``now``) and the
    generation it is based on."""
    changed = before is None or before.status != cond.status or before.last_transition_time is None
    since = now if changed or before is None else before.last_transition_time
    return cond.model_copy(update={"last_transition_time": since, "observed_generation": generation})


def by_type(conditions: Iterable[Condition]) -> dict[str, Condition]:
    return {c.type: c for c in conditions}


def is_true(conditions: Iterable[Condition], kind: str) -> bool:
    """Whether condition ``kind`` is among ``conditions`` and True."""
    return any(c.type == kind and c.status == "True" for c in conditions)


def upsert(previous: Sequence[Condition], owned: Collection[str], updated: Iterable[Condition]) -> list[Condition]:
    """The conditions of ``previous`` whose types are not ``owned`` (unchanged, in their order), then ``updated``:
    the owned conditions that apply now. An owned type ``updated`` leaves out is dropped."""
    return [*(c for c in previous if c.type not in owned), *updated]
