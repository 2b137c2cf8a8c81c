"""The wiring every kind shares: the controller reads its object and children from the kopf indices a handler kept,
and the by-phase gauge counts the objects there."""

from __future__ import annotations

from typing import Any

from scribe_operator.api.meta import ObjectKey
from scribe_operator.runtime.loop import ReconcileLoop
from scribe_operator.runtime.wiring import IndexedWiring

KEY: ObjectKey = ("media", "a")


def wiring() -> IndexedWiring[ReconcileLoop[str], str]:
    return IndexedWiring(ReconcileLoop[str]())


def test_building_it_makes_the_controller_look_objects_up_in_it() -> None:
    wired = wiring()
    assert wired.controller.lookup == wired.lookup


def test_nothing_is_found_before_a_handler_kept_the_indices() -> None:
    assert wiring().lookup(KEY) == (None, [])
    assert list(wiring().phases()) == []


def test_lookup_reads_the_object_and_its_children_from_the_kept_indices() -> None:
    wired = wiring()
    objects: Any = {KEY: [{"metadata": {"name": "a"}}]}
    children: Any = {KEY: ["a-1", "a-2"]}
    assert wired.bind(objects, children) is wired.controller
    assert wired.lookup(KEY) == ({"metadata": {"name": "a"}}, ["a-1", "a-2"])
    assert wired.lookup(("media", "b")) == (None, [])


def test_phases_name_every_objects_phase_pending_until_its_status_has_one() -> None:
    wired = wiring()
    objects: Any = {KEY: [{"status": {"phase": "Running"}}], ("other", "b"): [{}]}
    wired.bind(objects, {})  # type: ignore[arg-type]
    assert sorted(wired.phases()) == [("media", "Running"), ("other", "Pending")]
