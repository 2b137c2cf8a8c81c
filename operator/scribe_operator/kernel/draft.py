"""One reconcile pass's working state, the part every kind's core shares: a copy of the status being changed, the
actions and events gathered, and the times the object wants to be looked at again.

A kind's pass subclasses :class:`Draft` and adds its steps; at the end it makes its plan from ``status``,
``actions`` then ``events`` (events last: they tell what the actions did) and :meth:`Draft.requeue_after`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from scribe_operator.kernel.clip import clip
from scribe_operator.kernel.clock import requeue_after, stamp
from scribe_operator.kernel.events import EmitEvent, EventType
from scribe_operator.kernel.plan import ActionT

ModelStatusT = TypeVar("ModelStatusT", bound=BaseModel)


class Draft(Generic[ModelStatusT, ActionT]):
    """The status as changed so far in this pass (``status``), what to do (``actions``, ``events``) and when to
    reconcile again (``wake_at``). ``now`` is the pass's time, ``stamp`` the same cut to whole seconds."""

    def __init__(self, status: ModelStatusT, now: datetime, max_message_length: int) -> None:
        self.now, self.stamp = now, stamp(now)
        self.status = status
        self.actions: list[ActionT] = []
        self.events: list[EmitEvent] = []
        self.wake_at: list[datetime] = []
        self.max_message_length = max_message_length

    def set(self, **fields: object) -> None:
        """Change fields of the working status."""
        self.status = self.status.model_copy(update=fields)

    def event(self, kind: EventType, reason: str, message: str) -> None:
        """Record an event (``reason`` as plain text, also when given as an enum member)."""
        self.events.append(EmitEvent(kind, str(reason), message))

    def clip(self, text: str) -> str:
        """A message as it may be copied into status."""
        return clip(text, self.max_message_length)

    def requeue_after(self) -> float | None:
        """Seconds until the earliest wake-up gathered; None: no timer."""
        return requeue_after(self.wake_at, self.now)
