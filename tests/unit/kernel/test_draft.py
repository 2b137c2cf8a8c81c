"""A pass's working state: status changes, events with plain-text reasons, clipped messages, the earliest
wake-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel
from scribe_operator.kernel.draft import Draft
from scribe_operator.kernel.events import EmitEvent

T0 = datetime(2026, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC)


class Status(BaseModel):
    phase: str = ""
    message: str = ""


class Reason(StrEnum):
    STARTED = "Started"


def test_a_draft_changes_its_copy_of_the_status_and_gathers_what_to_do() -> None:
    draft: Draft[Status, str] = Draft(Status(), T0, max_message_length=5)
    assert draft.stamp == T0.replace(microsecond=0)
    draft.set(phase="Running", message=draft.clip("a long message"))
    draft.event("Normal", Reason.STARTED, "go")
    draft.wake_at += [T0 + timedelta(seconds=9), T0 + timedelta(seconds=3)]
    assert draft.status == Status(phase="Running", message="a lo…")
    assert draft.events == [EmitEvent("Normal", "Started", "go")]
    assert type(draft.events[0].reason) is str
    assert draft.requeue_after() == 3.0
