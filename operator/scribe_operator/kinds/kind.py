"""What a resource kind is to the operator: its API, which the code generator turns into a CRD and a field
reference, and how it runs, which the app starts once at startup.

A kind package (``kinds/<kind>/``) exposes one :class:`Kind` (``kinds/<kind>/kind.py``), listed in
:data:`scribe_operator.kinds.registry.KINDS`. :attr:`Kind.start` builds the kind's controller from the shared
:class:`~scribe_operator.app.App` (its settings, API client and S3 client) and returns it bound to kopf
(a :class:`Wiring`): the kopf settings it needs, the handlers it registers, the metrics it collects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import kopf
from prometheus_client.registry import Collector

from scribe_operator.api.kind import KindApi

if TYPE_CHECKING:
    from scribe_operator.app import App


class Wiring(Protocol):
    """A running kind: its controller, fed by the kopf handlers it registers."""

    def configure(self, settings: kopf.OperatorSettings) -> None:
        """Set what the kind's watches need of kopf's settings (e.g. a server-side label selector)."""

    def register(self, registry: kopf.OperatorRegistry) -> None:
        """Register the kind's index and event handlers."""

    def collectors(self) -> Iterable[Collector]:
        """The Prometheus collectors that read the kind's watch cache at scrape time."""


@dataclass(frozen=True)
class Kind:
    """One resource kind: ``api`` for the code generator, ``start`` for the operator."""

    name: str
    """The kind's short name: its package (``kinds/<name>``) and its log field (``task``, ``batch``)."""
    api: KindApi
    start: Callable[[App], Wiring]
    """Build the kind's controller from the shared app, bound to kopf (called once, before kopf starts)."""
