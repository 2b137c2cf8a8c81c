"""What every kind's decision core does before it decides, written once: :func:`decision_core`.

A decision core is a pure function ``core(object, observed, now, settings=None) -> plan``. Before the kind's own
decision runs:

* a naive ``now`` is taken as UTC (:func:`.clock.aware`);
* no ``settings`` means the kind's defaults;
* an object being deleted (``metadata.deletionTimestamp`` set) gets the empty plan: what it owns goes with it
  (garbage collection of the owner references), and nothing new is started for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from scribe_operator.api.meta import ObjectMeta
from scribe_operator.kernel.clock import aware


class Reconciled(Protocol):
    """An object a decision core is handed: it has metadata (for its deletion timestamp)."""

    @property
    def metadata(self) -> ObjectMeta: ...


ObjectT = TypeVar("ObjectT", bound=Reconciled)
ObservedT = TypeVar("ObservedT")
SettingsT = TypeVar("SettingsT")
PlanT = TypeVar("PlanT")


class DecisionCore(Generic[ObjectT, ObservedT, SettingsT, PlanT]):
    """A kind's decision core: ``decide`` behind the rules of this module (its name and docstring are
    ``decide``'s)."""

    def __init__(
        self,
        decide: Callable[[ObjectT, ObservedT, datetime, SettingsT], PlanT],
        empty: Callable[[], PlanT],
        defaults: Callable[[], SettingsT],
    ) -> None:
        self.decide = decide
        self.empty = empty
        self.defaults = defaults
        functools.update_wrapper(self, decide)

    def __call__(
        self, subject: ObjectT, observed: ObservedT, now: datetime, settings: SettingsT | None = None
    ) -> PlanT:
        """The plan for ``subject`` given what was ``observed`` at ``now``: the empty plan while it is being deleted,
        else what ``decide`` makes of it with ``now`` aware and ``settings`` (or the defaults)."""
        if subject.metadata.deletion_timestamp is not None:
            return self.empty()
        return self.decide(subject, observed, aware(now), self.defaults() if settings is None else settings)


def decision_core(
    *, empty: Callable[[], PlanT], defaults: Callable[[], SettingsT]
) -> Callable[
    [Callable[[ObjectT, ObservedT, datetime, SettingsT], PlanT]], DecisionCore[ObjectT, ObservedT, SettingsT, PlanT]
]:
    """Decorate a kind's decision ``decide(object, observed, now, settings) -> plan``, which is then handed an aware
    ``now`` and settings, and never an object being deleted: ``empty()`` is that object's plan, ``defaults()`` the
    settings when none are given."""

    def wrap(
        decide: Callable[[ObjectT, ObservedT, datetime, SettingsT], PlanT],
    ) -> DecisionCore[ObjectT, ObservedT, SettingsT, PlanT]:
        return DecisionCore(decide, empty, defaults)

    return wrap
