"""What the unit tests read out of a plan of either kind (a task's ``TaskPlan``, a batch's ``BatchPlan``, both a
:class:`scribe_operator.kernel.plan.Plan`, whose ``of`` gives the actions of one type): the Kubernetes Events it
emits."""

from __future__ import annotations

from typing import Any

from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kernel.plan import Plan


def events(plan: Plan[Any, Any, Any]) -> list[tuple[str, str]]:
    """The Events the plan emits, as (type, reason)."""
    return [(e.type, e.reason) for e in plan.of(EmitEvent)]
