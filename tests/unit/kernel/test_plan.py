"""Plans and the delete action every kind's core uses."""

from __future__ import annotations

from dataclasses import dataclass, make_dataclass, replace
from typing import ClassVar

from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kernel.plan import DeleteObject, Plan


@dataclass(frozen=True)
class Thing:
    status: str = ""

    def with_status(self, status: str) -> Thing:
        return replace(self, status=status)


@dataclass(frozen=True)
class DeleteWidget(DeleteObject):
    kind: ClassVar[str] = "Widget"


DeleteGadget = make_dataclass("DeleteGadget", [], bases=(DeleteObject,), namespace={"kind": "Gadget"}, frozen=True)


ThingPlan = Plan[Thing, str, DeleteObject | EmitEvent]


def test_the_default_plan_is_empty_and_changes_nothing() -> None:
    assert ThingPlan().empty
    assert ThingPlan().apply(Thing("old")) == Thing("old")
    assert not ThingPlan(requeue_after=1.0).empty


def test_apply_writes_the_status_and_of_picks_actions_by_type_in_order() -> None:
    plan = ThingPlan(
        status="new", actions=(DeleteWidget("a"), EmitEvent("Normal", "R", "m"), DeleteGadget("b"), DeleteWidget("c"))
    )
    assert plan.apply(Thing("old")) == Thing("new")
    assert plan.of(DeleteWidget) == [DeleteWidget("a"), DeleteWidget("c")]
    assert plan.of(DeleteObject) == [DeleteWidget("a"), DeleteGadget("b"), DeleteWidget("c")]
    assert plan.of(EmitEvent) == [EmitEvent("Normal", "R", "m")]


def test_deletes_of_different_kinds_are_different_actions() -> None:
    assert DeleteWidget("x") != DeleteGadget("x")
    assert DeleteWidget("x") == DeleteWidget("x")
    assert (DeleteWidget("x").kind, DeleteGadget("x").kind) == ("Widget", "Gadget")
