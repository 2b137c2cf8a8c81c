"""What the unit tests read out of a plan of either kind (a task's ``TaskPlan``, a batch's ``BatchPlan``, both a
:class:`scribe_operator.kernel.plan.Plan`): the actions of one type, and the Kubernetes Events it emits."""

from __future__ import annotations

from typing import Any, TypeVar

from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kernel.plan import Plan

A = TypeVar("A")


def actions_of(plan: Plan[Any, Any, Any], kind: type[A]) -> list[A]:
    """The plan's actions that are ``kind``, in order."""
    return plan.of(kind)


def events(plan: Plan[Any, Any, Any]) -> list[tuple[str, str]]:
    """The Events the plan emits, as (type, reason)."""
    return [(e.type, e.reason) for e in plan.of(EmitEvent)]
