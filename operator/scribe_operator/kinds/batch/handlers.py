"""kopf wiring of TranscriptionBatch, kept thin: indices hold what the watches saw (batches, and the tasks that
batches own); every batch event and every child-task event reconciles the batch. No GETs, no finalizers, no
kopf annotations on the objects: index and on.event handlers only.

Registered by importing this module (``scribe_operator.__main__`` does).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

import kopf
from lightkube import AsyncClient

from scribe_operator.api.constants import GROUP, PLURAL, VERSION
from scribe_operator.kinds.batch.api.names import BATCH_PLURAL, LABEL_BATCH
from scribe_operator.kinds.batch.controller import (
    BatchController,
    BatchEffects,
    BatchOperatorSettings,
    register_batch_collector,
)
from scribe_operator.kinds.batch.core.observed import ObservedChild, owner_batch
from scribe_operator.kinds.batch.storage import BatchStorage
from scribe_operator.kinds.task.storage import Storage
from scribe_operator.runtime.loop import Key
from scribe_operator.runtime.metrics import WATCH_EVENTS
from scribe_operator.runtime.notifier import Notifier
from scribe_operator.runtime.settings import OperatorSettings

log = logging.getLogger("scribe_operator.batch")


class BatchRuntime:
    """The batch controller and the kopf indices it reads, set up at startup."""

    controller: BatchController | None = None
    batches: kopf.Index[Key, dict[str, Any]] | None = None
    children: kopf.Index[Key, ObservedChild] | None = None
    collector_registered = False

    @classmethod
    def bind(
        cls, batches: kopf.Index[Key, dict[str, Any]], children: kopf.Index[Key, ObservedChild]
    ) -> BatchController:
        cls.batches, cls.children = batches, children
        assert cls.controller is not None, "the batch startup handler did not run"
        cls.controller.lookup = cls.lookup
        return cls.controller

    @classmethod
    def lookup(cls, key: Key) -> tuple[Mapping[str, Any] | None, Iterable[ObservedChild]]:
        body = next(iter(cls.batches[key]), None) if cls.batches is not None and key in cls.batches else None
        children = list(cls.children[key]) if cls.children is not None and key in cls.children else []
        return body, children

    @classmethod
    def phases(cls) -> Iterator[tuple[str, str]]:
        """(namespace, phase) of every batch the watch has seen, for the batches-by-phase gauge."""
        for (namespace, _), store in list((cls.batches or {}).items()):
            for body in store:
                yield namespace, str((body.get("status") or {}).get("phase") or "Pending")


@kopf.on.startup()
async def _batch_startup(**_: Any) -> None:
    ours = OperatorSettings()
    effects = BatchEffects(AsyncClient(field_manager="scribe-operator"))
    BatchRuntime.controller = BatchController(
        effects,
        BatchStorage(Storage(ours).client),
        replace(BatchOperatorSettings().core(), notification=ours.core().notification),
        notifier=Notifier(effects, ours.notification_allow_http),
    )
    if not BatchRuntime.collector_registered:
        register_batch_collector(BatchRuntime.phases)
        BatchRuntime.collector_registered = True


@kopf.index(GROUP, VERSION, BATCH_PLURAL)
def batch_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Key, dict[str, Any]]:
    return {(namespace or "", name): copy.deepcopy(dict(body))}


@kopf.index(GROUP, VERSION, PLURAL, labels={LABEL_BATCH: kopf.PRESENT})
def batch_child_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[Key, ObservedChild] | None:
    owner = owner_batch(body)
    observed = ObservedChild.from_task(body)
    if owner is None or observed is None:
        return None
    return {(namespace or "", owner[0]): observed}


# kopf injects indices by parameter name, which its handler protocols cannot express: hence the ignores.
@kopf.on.event(GROUP, VERSION, BATCH_PLURAL)  # type: ignore[arg-type]
async def batch_event(
    event: kopf.RawEvent,
    namespace: str,
    name: str,
    batch_index: kopf.Index[Key, dict[str, Any]],
    batch_child_index: kopf.Index[Key, ObservedChild],
    **_: Any,
) -> None:
    WATCH_EVENTS.labels(BATCH_PLURAL).inc()
    await BatchRuntime.bind(batch_index, batch_child_index).on_event((namespace, name), event["type"])


@kopf.on.event(GROUP, VERSION, PLURAL, labels={LABEL_BATCH: kopf.PRESENT})  # type: ignore[arg-type]
async def batch_child_event(
    namespace: str,
    body: kopf.Body,
    batch_index: kopf.Index[Key, dict[str, Any]],
    batch_child_index: kopf.Index[Key, ObservedChild],
    **_: Any,
) -> None:
    controller = BatchRuntime.bind(batch_index, batch_child_index)
    owner = owner_batch(body)
    if owner is not None:
        await controller.reconcile_key((namespace, owner[0]))
