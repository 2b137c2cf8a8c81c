"""kopf wiring of TranscriptionBatch, kept thin: indices hold what the watches saw (batches, and the tasks that
batches own); every batch event and every child-task event reconciles the batch. No GETs, no finalizers, no
kopf annotations on the objects: index and on.event handlers only.

:class:`BatchWiring` holds the controller and the indices for one operator process; it registers its handlers in
the app's kopf registry (:meth:`BatchWiring.register`), nothing is registered by importing this module.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from typing import Any

import kopf
from prometheus_client.registry import Collector

from scribe_operator.api.constants import GROUP, PLURAL, VERSION
from scribe_operator.api.meta import ObjectKey
from scribe_operator.kinds.batch.api.names import BATCH_PLURAL, LABEL_BATCH
from scribe_operator.kinds.batch.controller import BatchController, batches_by_phase
from scribe_operator.kinds.batch.core.observed import ObservedChild, owner_batch
from scribe_operator.runtime.metrics import WATCH_EVENTS
from scribe_operator.runtime.wiring import IndexedWiring, ObjectIndex

log = logging.getLogger("scribe_operator.batch")

ChildIndex = kopf.Index[ObjectKey, ObservedChild]
CHILDREN: dict[str, Any] = {LABEL_BATCH: kopf.PRESENT}
"""The child-task watch's filter: tasks that carry the batch label."""


# kopf injects an index into every handler by the index handler's id: ``batch_index`` and ``batch_child_index``.
def batch_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[ObjectKey, dict[str, Any]]:
    return {(namespace or "", name): copy.deepcopy(dict(body))}


def batch_child_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[ObjectKey, ObservedChild] | None:
    owner = owner_batch(body)
    observed = ObservedChild.from_task(body)
    if owner is None or observed is None:
        return None
    return {(namespace or "", owner[0]): observed}


class BatchWiring(IndexedWiring[BatchController, ObservedChild]):
    """The batch controller and the kopf indices it reads: the batches, and the child tasks by their batch's key."""

    # -- the Wiring protocol ---------------------------------------------------------------------
    def configure(self, settings: kopf.OperatorSettings) -> None:
        return None  # both watches list every object of their resource

    def register(self, registry: kopf.OperatorRegistry) -> None:
        kopf.index(GROUP, VERSION, BATCH_PLURAL, id="batch_index", registry=registry)(batch_index)
        kopf.index(GROUP, VERSION, PLURAL, labels=CHILDREN, id="batch_child_index", registry=registry)(
            batch_child_index
        )
        # kopf injects indices by parameter name, which its handler protocols cannot express: hence the ignores.
        kopf.on.event(GROUP, VERSION, BATCH_PLURAL, id="batch_event", registry=registry)(self.batch_event)  # type: ignore[arg-type]
        kopf.on.event(GROUP, VERSION, PLURAL, labels=CHILDREN, id="batch_child_event", registry=registry)(
            self.batch_child_event  # type: ignore[arg-type]
        )

    def collectors(self) -> Iterable[Collector]:
        return (batches_by_phase(self.phases),)

    # -- handlers --------------------------------------------------------------------------------
    async def batch_event(
        self,
        event: kopf.RawEvent,
        namespace: str,
        name: str,
        batch_index: ObjectIndex,
        batch_child_index: ChildIndex,
        **_: Any,
    ) -> None:
        WATCH_EVENTS.labels(BATCH_PLURAL).inc()
        await self.bind(batch_index, batch_child_index).on_event((namespace, name), event["type"])

    async def batch_child_event(
        self, namespace: str, body: kopf.Body, batch_index: ObjectIndex, batch_child_index: ChildIndex, **_: Any
    ) -> None:
        controller = self.bind(batch_index, batch_child_index)
        owner = owner_batch(body)
        if owner is not None:
            await controller.reconcile_key((namespace, owner[0]), event=True)
