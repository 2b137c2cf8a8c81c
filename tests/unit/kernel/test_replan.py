"""Ask and replan: the loop decides, carries out, and decides again on the applied object and the answered
observation until a plan asks nothing more or the passes are used up."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from hypothesis import given
from hypothesis import strategies as st
from scribe_operator.kernel.plan import Plan
from scribe_operator.kernel.replan import Replanned, replan


@dataclass(frozen=True)
class Thing:
    status: int = 0

    def with_status(self, status: int) -> Thing:
        return replace(self, status=status)


@dataclass(frozen=True)
class Ask:
    """A question: what is ``what``?"""

    what: str


@dataclass(frozen=True)
class Seen:
    answers: tuple[str, ...] = ()


ThingPlan = Plan[Thing, int, Ask]


def run(
    questions: list[str], max_passes: int = 10
) -> tuple[Replanned[Thing, Seen, ThingPlan], list[tuple[Thing, Seen]]]:
    """A core that asks ``questions`` one per pass (bumping the status each time), and a controller that answers
    each by echoing it."""
    decided: list[tuple[Thing, Seen]] = []

    def decide(thing: Thing, seen: Seen) -> ThingPlan:
        decided.append((thing, seen))
        left = questions[len(seen.answers) :]
        return ThingPlan(status=thing.status + 1, actions=tuple(Ask(q) for q in left[:1]), requeue_after=len(left))

    async def answer(thing: Thing, seen: Seen, plan: ThingPlan) -> Seen | None:
        asked = plan.of(Ask)
        return replace(seen, answers=(*seen.answers, *(a.what for a in asked))) if asked else None

    result = asyncio.run(replan(Thing(), Seen(), decide=decide, answer=answer, max_passes=max_passes))
    return result, decided


def test_a_plan_that_asks_nothing_is_the_only_pass() -> None:
    result, decided = run([])
    assert len(result.plans) == 1 and decided == [(Thing(), Seen())]
    assert result.final.requeue_after == 0
    assert result.outcome == Thing(status=1)


def test_each_answer_is_decided_on_with_the_object_as_the_plan_before_left_it() -> None:
    result, decided = run(["capacity", "probe"])
    assert decided == [
        (Thing(0), Seen()),
        (Thing(1), Seen(("capacity",))),
        (Thing(2), Seen(("capacity", "probe"))),
    ]
    assert result.subject == Thing(2) and result.observed == Seen(("capacity", "probe"))
    assert result.latest(lambda plan: plan.status) == 3 and result.outcome == Thing(3)


def test_the_passes_stop_at_max_passes_even_when_the_last_plan_asked() -> None:
    result, _ = run(["a", "b", "c", "d"], max_passes=2)
    assert len(result.plans) == 2
    assert result.final.actions == (Ask("b"),)


def test_latest_is_the_newest_value_any_plan_set() -> None:
    plans = (ThingPlan(status=1), ThingPlan(), ThingPlan(status=None, requeue_after=5.0))
    replanned: Replanned[Thing, Seen, ThingPlan] = Replanned(Thing(), Seen(), plans)
    assert replanned.latest(lambda plan: plan.status) == 1
    assert replanned.latest(lambda plan: plan.requeue_after) == 5.0
    assert replanned.outcome == Thing()  # the final plan writes nothing


@given(st.lists(st.sampled_from(["capacity", "input", "output", "pod"]), max_size=8), st.integers(1, 6))
def test_passes_are_one_more_than_the_answers_within_the_limit(questions: list[str], max_passes: int) -> None:
    result, decided = run(questions, max_passes)
    assert len(result.plans) == len(decided) == min(len(questions) + 1, max_passes)
    assert [seen.answers for _, seen in decided] == [tuple(questions[:i]) for i in range(len(decided))]
