"""Condition upserts: other conditions are kept, owned ones are replaced, and lastTransitionTime moves only when a
condition's status changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from scribe_operator.api.meta import Condition
from scribe_operator.kernel.conditions import condition, is_true, stamped, upsert

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)


def test_a_condition_without_a_reason_takes_its_type() -> None:
    assert condition("Ready", True, None, None) == Condition(type="Ready", status="True", reason="Ready")
    assert condition("Ready", False, "Running", "m").status == "False"


def test_the_transition_time_stays_while_the_status_does() -> None:
    first = stamped(condition("Ready", False, "Pending", None), None, T0, 1)
    assert (first.last_transition_time, first.observed_generation) == (T0, 1)
    same = stamped(condition("Ready", False, "Running", "now running"), first, T1, 2)
    assert (same.last_transition_time, same.reason, same.observed_generation) == (T0, "Running", 2)
    flipped = stamped(condition("Ready", True, "Succeeded", None), same, T1, 2)
    assert flipped.last_transition_time == T1


def test_upsert_keeps_other_types_in_order_and_drops_owned_ones_left_out() -> None:
    other = Condition(type="Custom", status="True", reason="Mine")
    old = [Condition(type="Ready", status="False"), other, Condition(type="Stale", status="True")]
    new = condition("Ready", True, "Succeeded", None)
    assert upsert(old, ("Ready", "Stale"), [new]) == [other, new]
    assert is_true([other, new], "Ready") and is_true([other], "Custom") and not is_true([other], "Ready")
