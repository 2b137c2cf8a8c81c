"""What the unit tests read out of a plan of either kind (a task's ``Plan``, a batch's ``BatchPlan``): the actions
of one type, and the Kubernetes Events it emits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from scribe_operator.kernel.events import EmitEvent

A = TypeVar("A")


class HasActions(Protocol):
    @property
    def actions(self) -> Sequence[Any]: ...


def actions_of(plan: HasActions, kind: type[A]) -> list[A]:
    """The plan's actions that are ``kind``, in order."""
    return [a for a in plan.actions if isinstance(a, kind)]


def events(plan: HasActions) -> list[tuple[str, str]]:
    """The Events the plan emits, as (type, reason)."""
    return [(e.type, e.reason) for e in actions_of(plan, EmitEvent)]
