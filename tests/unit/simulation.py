"""What every kind's simulated cluster shares: the clock the decision core is called with, and the pass loop.

A kind's simulated cluster (``tests/unit/task/factories.py``, ``tests/unit/batch/factories.py``) holds the object and
what the cluster has of it (pods, children) as plain values a test edits, and carries plans out the way the effects
layer does. It runs one reconcile the way the controllers do (``scribe_operator.kernel.replan``): decide, carry the
plan out, and decide again with the answers while carrying it out answered a question, at most ``max_passes`` plans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
"""When a simulated cluster's clock starts."""

PlanT = TypeVar("PlanT")
AnswersT = TypeVar("AnswersT")


def passes(
    decide: Callable[[AnswersT | None], PlanT], answer: Callable[[PlanT], AnswersT | None], *, max_passes: int
) -> list[PlanT]:
    """The plans of one reconcile, first to last: ``decide`` makes one (the first with no answers, each later one with
    the answers to the plan before it), ``answer`` carries one out and returns its answers (None: it asked nothing)."""
    plans = [decide(None)]
    while (answers := answer(plans[-1])) is not None and len(plans) < max_passes:
        plans.append(decide(answers))
    return plans


@dataclass(kw_only=True)
class SimulatedClock:
    """The time a simulated cluster calls its core with; a test moves it on with ``tick``."""

    now: datetime = T0

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
