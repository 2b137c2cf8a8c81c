"""Ask and replan: how a controller completes what a pure decision core needs to know.

A core decides from what it was handed; what it needs and was not handed it asks for, as an action in its plan (is
an attempt slot free, does the input exist, is the pod there, what is under the prefix). The controller carries the
plan out (``answer``), and when that answered a question it hands the core the object as the plan leaves it
(``plan.apply``) and the observation the answers complete, and the core decides again (``decide``). The loop ends
when a plan asks nothing more, or after ``max_passes`` plans. Each kind says what its passes are: which answers
stay for the passes after (a task's observation accumulates, a batch's answers are for one pass) and what carrying
out means.

The answers are typed: ``answer`` returns the observation of the next pass (of the same type the core takes), or
None when the plan asked nothing. The statuses and labels the plans compute are written once, after the loop, from
the newest of them (:meth:`Replanned.latest`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from scribe_operator.kernel.plan import Plan, SubjectT

ObservedT = TypeVar("ObservedT")
PlanT = TypeVar("PlanT", bound=Plan[Any, Any, Any])
ValueT = TypeVar("ValueT")


@dataclass(frozen=True)
class Replanned(Generic[SubjectT, ObservedT, PlanT]):
    """The passes of one reconcile: every plan, first to last, and what the last one was decided on."""

    subject: SubjectT
    """The object the last plan was made for (the first plans' statuses applied)."""
    observed: ObservedT
    """The observation the last plan was made from."""
    plans: tuple[PlanT, ...]

    @property
    def final(self) -> PlanT:
        """The last plan: its requeue is the reconcile's."""
        return self.plans[-1]

    @property
    def outcome(self) -> SubjectT:
        """The object as it is once every plan's status is written."""
        result: SubjectT = self.final.apply(self.subject)
        return result

    def latest(self, value: Callable[[PlanT], ValueT | None]) -> ValueT | None:
        """The newest ``value`` any plan set (a status, a label), None when none did: each plan's status is complete,
        made from the ones before it."""
        return next((v for v in map(value, reversed(self.plans)) if v is not None), None)


async def replan(
    subject: SubjectT,
    observed: ObservedT,
    *,
    decide: Callable[[SubjectT, ObservedT], PlanT],
    answer: Callable[[SubjectT, ObservedT, PlanT], Awaitable[ObservedT | None]],
    max_passes: int,
) -> Replanned[SubjectT, ObservedT, PlanT]:
    """Decide, carry out, and decide again while carrying out answered a question (at most ``max_passes`` plans)."""
    plans: list[PlanT] = []
    while True:
        plan = decide(subject, observed)
        plans.append(plan)
        answered = await answer(subject, observed, plan)
        if answered is None or len(plans) >= max_passes:
            return Replanned(subject, observed, tuple(plans))
        subject, observed = plan.apply(subject), answered
