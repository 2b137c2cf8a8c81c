"""The rules every decision core applies before it decides (kernel.decision)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from scribe_operator.api.meta import ObjectMeta
from scribe_operator.kernel.decision import decision_core

NAIVE = datetime(2026, 1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Thing:
    metadata: ObjectMeta = field(default_factory=ObjectMeta)


@dataclass(frozen=True)
class Knobs:
    level: int = 1


Decided = tuple[object, ...]


def nothing() -> Decided:
    return ("empty",)


@decision_core(empty=nothing, defaults=Knobs)
def decide(thing: Thing, observed: str, now: datetime, settings: Knobs) -> Decided:
    """Decide for ``thing``."""
    return (observed, now, settings)


def test_the_decision_gets_an_aware_now_and_the_default_settings() -> None:
    assert decide(Thing(), "seen", NAIVE) == ("seen", NAIVE.replace(tzinfo=UTC), Knobs())
    assert decide(Thing(), "seen", NAIVE, Knobs(level=2)) == ("seen", NAIVE.replace(tzinfo=UTC), Knobs(level=2))


def test_an_object_being_deleted_gets_the_empty_plan() -> None:
    deleting = Thing(ObjectMeta(deletion_timestamp=NAIVE.replace(tzinfo=UTC)))
    assert decide(deleting, "seen", NAIVE) == ("empty",)


def test_the_core_keeps_the_decisions_docstring() -> None:
    assert decide.__doc__ == "Decide for ``thing``."
