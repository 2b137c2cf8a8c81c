"""What every kind's kopf wiring shares: its controller and the two kopf indices the controller reads.

A kind's watches fill two indices, both keyed by the object's (namespace, name): the kind's objects as last seen
(:data:`ObjectIndex`), and what the watches hold about each object's children (the pods of a task, the tasks of a
batch). kopf injects both into every handler, the same index objects on every call; a handler keeps them
(:meth:`IndexedWiring.bind`) before it wakes the controller, which then reads an object and its children from them
(:meth:`IndexedWiring.lookup`), as does the kind's by-phase gauge (:meth:`IndexedWiring.phases`).

A kind subclasses :class:`IndexedWiring` with its handlers and the rest of the
:class:`~scribe_operator.kinds.kind.Wiring` protocol (``configure``, ``register``, ``collectors``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import kopf

from scribe_operator.api.meta import ObjectKey
from scribe_operator.runtime.loop import ReconcileLoop, Seen

ObjectIndex = kopf.Index[ObjectKey, dict[str, Any]]
"""A kind's objects (their bodies) as its watch last saw them, by (namespace, name)."""

ControllerT = TypeVar("ControllerT", bound=ReconcileLoop[Any])


class IndexedWiring(Generic[ControllerT, Seen]):
    """A kind's controller and the kopf indices it reads: ``objects`` and ``children`` (None until the first
    handler has run). Building one makes the controller look objects up here."""

    def __init__(self, controller: ControllerT) -> None:
        self.controller = controller
        self.objects: ObjectIndex | None = None
        self.children: kopf.Index[ObjectKey, Seen] | None = None
        controller.lookup = self.lookup

    def bind(self, objects: ObjectIndex, children: kopf.Index[ObjectKey, Seen]) -> ControllerT:
        """Keep kopf's indices and hand back the controller that reads them."""
        self.objects, self.children = objects, children
        return self.controller

    def lookup(self, key: ObjectKey) -> tuple[Mapping[str, Any] | None, Iterable[Seen]]:
        """The object ``key`` (None when the watch holds none) and its children, as the watches hold them now."""
        body = next(iter(self.objects[key]), None) if self.objects is not None and key in self.objects else None
        children = list(self.children[key]) if self.children is not None and key in self.children else []
        return body, children

    def phases(self) -> Iterator[tuple[str, str]]:
        """(namespace, phase) of every object the watch has seen (``Pending`` while its status has none), for the
        kind's by-phase gauge."""
        for (namespace, _), store in list((self.objects or {}).items()):
            for body in store:
                yield namespace, str((body.get("status") or {}).get("phase") or "Pending")
