"""kopf wiring of TranscriptionTask, kept thin: indices hold what the watches saw; every task or pod event reconciles
the task.

No handler stores state on the objects (no finalizers, no kopf annotations): on.event and index handlers only.
:class:`TaskWiring` holds the controller and the indices for one operator process; it registers its handlers in the
app's kopf registry (:meth:`TaskWiring.register`), nothing is registered by importing this module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

import kopf
from prometheus_client.registry import Collector

from scribe_operator.api.constants import GROUP, KIND, LABEL_TASK, PLURAL, VERSION
from scribe_operator.api.meta import ObjectKey
from scribe_operator.kernel.raw import parse_time
from scribe_operator.kinds.task.controller import Controller
from scribe_operator.kinds.task.core.observed import ObservedPod
from scribe_operator.runtime.metrics import WATCH_EVENTS, RunningCollector, tasks_by_phase
from scribe_operator.runtime.wiring import IndexedWiring, ObjectIndex

log = logging.getLogger("scribe_operator.kinds.task.handlers")

POD_SELECTOR: Final = ("", "v1", "pods")
"""The pod watch asks the API server for attempt pods only (label ``scribe.dev/task`` present): kopf's ``labels=``
on a handler filters on the client, after every pod event of the cluster has been received and parsed; this
selector (``settings.watching.label_selectors``, set by :meth:`TaskWiring.configure`) filters on the server."""
POD_LABEL_SELECTOR: Final = LABEL_TASK

PodIndex = kopf.Index[ObjectKey, ObservedPod]


def _owner_task(body: Mapping[str, Any]) -> str | None:
    for ref in body.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == KIND and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/"):
            return str(ref.get("name"))
    return None


# The index handlers are coroutines only so that kopf calls them on the event loop: a plain function is run in a
# thread of its executor, a hand-over per event costing more than the handler itself. kopf injects an index into
# every handler by the index handler's id: ``task_index`` and ``pod_index``.
async def task_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[ObjectKey, dict[str, Any]]:
    # A shallow copy: every watch event brings a freshly decoded body, which nothing changes afterwards.
    return {(namespace or "", name): dict(body)}


async def pod_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[ObjectKey, ObservedPod] | None:
    owner = _owner_task(body)
    observed = ObservedPod.from_pod(body)  # reads a few scalars of the pod: nothing to copy
    if owner is None or observed is None:
        return None
    return {(namespace or "", owner): observed}


class TaskWiring(IndexedWiring[Controller, ObservedPod]):
    """The task controller and the kopf indices it reads: the tasks, and their attempt pods by the task's key."""

    def __init__(self, controller: Controller) -> None:
        super().__init__(controller)
        controller.capacity.pods = self.all_pods

    # -- the Wiring protocol ---------------------------------------------------------------------
    def configure(self, settings: kopf.OperatorSettings) -> None:
        settings.watching.label_selectors[POD_SELECTOR] = POD_LABEL_SELECTOR  # server-side filter

    def register(self, registry: kopf.OperatorRegistry) -> None:
        kopf.index(GROUP, VERSION, PLURAL, id="task_index", registry=registry)(task_index)
        kopf.index(*POD_SELECTOR, id="pod_index", registry=registry)(pod_index)
        # kopf injects indices by parameter name, which its handler protocols cannot express: hence the ignores.
        kopf.on.event(GROUP, VERSION, PLURAL, id="task_event", registry=registry)(self.task_event)  # type: ignore[arg-type]
        # No client-side ``labels=`` filter: the server-side selector (POD_LABEL_SELECTOR) already chose these pods,
        # so the counter in pod_event counts every pod event the API server sent.
        kopf.on.event(*POD_SELECTOR, id="pod_event", registry=registry)(self.pod_event)  # type: ignore[arg-type]

    def collectors(self) -> Iterable[Collector]:
        return (tasks_by_phase(self.phases), RunningCollector(self.running))

    # -- handlers --------------------------------------------------------------------------------
    async def task_event(
        self, event: kopf.RawEvent, namespace: str, name: str, task_index: ObjectIndex, pod_index: PodIndex, **_: Any
    ) -> None:
        WATCH_EVENTS.labels(PLURAL).inc()
        await self.bind(task_index, pod_index).on_event((namespace, name), event["type"])

    async def pod_event(
        self,
        event: kopf.RawEvent,
        namespace: str,
        body: kopf.Body,
        task_index: ObjectIndex,
        pod_index: PodIndex,
        **_: Any,
    ) -> None:
        WATCH_EVENTS.labels("pods").inc()
        controller = self.bind(task_index, pod_index)
        owner = _owner_task(body)
        if owner is not None:
            await controller.reconcile_key((namespace, owner), event=True)
        if event["type"] == "DELETED" or (body.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            controller.capacity_freed()  # a slot came free: the first waiting tasks start
        elif (delete_by := parse_time((body.get("metadata") or {}).get("deletionTimestamp"))) is not None:
            controller.capacity_frees_at(delete_by)  # it holds its slot until its grace period ends at the latest

    # -- what the controller and the collectors read ---------------------------------------------
    def bind(self, objects: ObjectIndex, children: PodIndex) -> Controller:
        """Keep kopf's indices and seed the controller once (:meth:`.IndexedWiring.bind`)."""
        controller = super().bind(objects, children)
        if not controller.seeded:  # kopf fills every index before the first handler runs
            controller.seed(body for _, store in list(objects.items()) for body in list(store))
        return controller

    def all_pods(self) -> Iterator[tuple[ObjectKey, ObservedPod]]:
        """Every attempt pod the watch holds, with its task's key (for the running-attempt count)."""
        for key, store in list((self.children or {}).items()):
            for pod in list(store):
                yield key, pod

    def running(self) -> Iterator[tuple[str, int]]:
        """(namespace, attempts running) as the capacity limits count them, for the running-attempts gauge."""
        controller = self.controller
        for _ in range(3):  # scrapes run in another thread: the watch may change the index meanwhile
            try:
                by_namespace = controller.capacity.usage(controller.clock()).by_namespace
            except RuntimeError:
                continue
            yield from list(by_namespace.items())
            return
