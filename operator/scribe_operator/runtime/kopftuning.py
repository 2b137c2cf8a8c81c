"""What kopf does per watch event that this operator does not need, turned off (measured: docs/performance.md).

- **No diff base.** kopf builds an object's "essence" (a deep copy of the whole body, less metadata and status) on
  every event, to feed on.create/on.update/on.field handlers. This operator has none (index and on.event handlers
  only), so the essence is never read: :class:`NoDiffBase` makes it empty and stores nothing.
- **Linear start-up.** With index handlers, kopf holds every object of the initial listings until all of them are
  indexed, with one toggle per object in one ``ToggleSet`` whose every addition and removal woke *every* waiting
  object's worker (``Condition.notify_all``): quadratic in the number of objects, 117 s to start with 2,000 finished
  tasks and their pods. :func:`linear_toggle_sets` makes an addition or removal wake the waiters only when it changes
  the set's own state, the only thing they wait for (a member toggle turned on or off still wakes them, as before).
"""

from __future__ import annotations

from typing import Any

import kopf
from kopf._cogs.aiokits import aiotoggles


class NoDiffBase(kopf.DiffBaseStorage):
    """A diff base for an operator without change handlers: nothing built, nothing stored, nothing read."""

    def build(self, *, body: kopf.Body, extra_fields: Any = None) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return None

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


async def _make_toggle(self: aiotoggles.ToggleSet, __val: bool = False, *, name: str | None = None) -> Any:
    toggle = aiotoggles.Toggle(__val, name=name, condition=self._condition)
    async with self._condition:
        before = self.is_on()
        self._toggles.add(toggle)
        if self.is_on() != before:
            self._condition.notify_all()
    return toggle


async def _drop_toggles(self: aiotoggles.ToggleSet, toggles: Any) -> None:
    async with self._condition:
        before = self.is_on()
        self._toggles.difference_update(toggles)
        if self.is_on() != before:
            self._condition.notify_all()


async def _drop_toggle(self: aiotoggles.ToggleSet, toggle: aiotoggles.Toggle) -> None:
    await _drop_toggles(self, (toggle,))


def linear_toggle_sets() -> None:
    """Make kopf's ToggleSet wake its waiters only when its state changes (idempotent)."""
    cls: Any = aiotoggles.ToggleSet
    cls.make_toggle, cls.drop_toggle, cls.drop_toggles = _make_toggle, _drop_toggle, _drop_toggles


def tune(settings: kopf.OperatorSettings) -> None:
    settings.persistence.diffbase_storage = NoDiffBase()
    linear_toggle_sets()
