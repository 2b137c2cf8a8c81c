"""kopf wiring, kept thin: indices hold what the watches saw; every task or pod event reconciles the task.

No handler stores state on the objects (no finalizers, no kopf annotations): on.event and index handlers only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import kopf

from scribe_operator.api.constants import GROUP, KIND, LABEL_TASK, PLURAL, VERSION
from scribe_operator.kernel.raw import parse_time
from scribe_operator.kinds.task.controller import Controller
from scribe_operator.kinds.task.core.observed import ObservedPod
from scribe_operator.runtime.loop import Key
from scribe_operator.runtime.metrics import WATCH_EVENTS

log = logging.getLogger("scribe_operator.kinds.task.handlers")

POD_SELECTOR = ("", "v1", "pods")
"""The pod watch asks the API server for attempt pods only (label ``scribe.dev/task`` present): kopf's ``labels=``
on a handler filters on the client, after every pod event of the cluster has been received and parsed; this
selector (``settings.watching.label_selectors``, set at startup) filters on the server."""
POD_LABEL_SELECTOR = LABEL_TASK


class Runtime:
    """The controller and the kopf indices it reads, set up at startup."""

    controller: Controller | None = None
    tasks: kopf.Index[Key, dict[str, Any]] | None = None
    pods: kopf.Index[Key, ObservedPod] | None = None

    @classmethod
    def bind(cls, task_index: kopf.Index[Key, dict[str, Any]], pod_index: kopf.Index[Key, ObservedPod]) -> Controller:
        cls.tasks, cls.pods = task_index, pod_index
        controller = cls.controller
        assert controller is not None, "the operator's startup handler did not run"
        controller.lookup = cls.lookup
        controller.capacity.pods = cls.all_pods
        if not controller.seeded:  # kopf fills every index before the first handler runs
            controller.seed(body for _, store in list(task_index.items()) for body in list(store))
        return controller

    @classmethod
    def all_pods(cls) -> Iterator[tuple[Key, ObservedPod]]:
        """Every attempt pod the watch holds, with its task's key (for the running-attempt count)."""
        for key, store in list((cls.pods or {}).items()):
            for pod in list(store):
                yield key, pod

    @classmethod
    def running(cls) -> Iterator[tuple[str, int]]:
        """(namespace, attempts running) as the capacity limits count them, for the running-attempts gauge."""
        controller = cls.controller
        if controller is None:
            return
        for _ in range(3):  # scrapes run in another thread: the watch may change the index meanwhile
            try:
                by_namespace = controller.capacity.usage(controller.clock()).by_namespace
            except RuntimeError:
                continue
            yield from list(by_namespace.items())
            return

    @classmethod
    def phases(cls) -> Iterator[tuple[str, str]]:
        """(namespace, phase) of every task the watch has seen, for the tasks-by-phase gauge."""
        for (namespace, _), store in list((cls.tasks or {}).items()):
            for body in store:
                yield namespace, str((body.get("status") or {}).get("phase") or "Pending")

    @classmethod
    def lookup(cls, key: Key) -> tuple[Mapping[str, Any] | None, Iterable[ObservedPod]]:
        body = next(iter(cls.tasks[key]), None) if cls.tasks is not None and key in cls.tasks else None
        pods = list(cls.pods[key]) if cls.pods is not None and key in cls.pods else []
        return body, pods


def _owner_task(body: Mapping[str, Any]) -> str | None:
    for ref in body.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("kind") == KIND and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/"):
            return str(ref.get("name"))
    return None


# The index handlers are coroutines only so that kopf calls them on the event loop: a plain function is run in a
# thread of its executor, a hand-over per event costing more than the handler itself.
@kopf.index(GROUP, VERSION, PLURAL)
async def task_index(namespace: str | None, name: str, body: kopf.Body, **_: Any) -> dict[Key, dict[str, Any]]:
    # A shallow copy: every watch event brings a freshly decoded body, which nothing changes afterwards.
    return {(namespace or "", name): dict(body)}


@kopf.index(*POD_SELECTOR)
async def pod_index(namespace: str | None, body: kopf.Body, **_: Any) -> dict[Key, ObservedPod] | None:
    owner = _owner_task(body)
    observed = ObservedPod.from_pod(body)  # reads a few scalars of the pod: nothing to copy
    if owner is None or observed is None:
        return None
    return {(namespace or "", owner): observed}


# kopf injects indices by parameter name, which its handler protocols cannot express: hence the ignores.
@kopf.on.event(GROUP, VERSION, PLURAL)  # type: ignore[arg-type]
async def task_event(
    event: kopf.RawEvent,
    namespace: str,
    name: str,
    task_index: kopf.Index[Key, dict[str, Any]],
    pod_index: kopf.Index[Key, ObservedPod],
    **_: Any,
) -> None:
    WATCH_EVENTS.labels(PLURAL).inc()
    await Runtime.bind(task_index, pod_index).on_event((namespace, name), event["type"])


# No client-side ``labels=`` filter: the server-side selector (POD_LABEL_SELECTOR) already chose these pods, so
# the counter below counts every pod event the API server sent.
@kopf.on.event(*POD_SELECTOR)  # type: ignore[arg-type]
async def pod_event(
    event: kopf.RawEvent,
    namespace: str,
    body: kopf.Body,
    task_index: kopf.Index[Key, dict[str, Any]],
    pod_index: kopf.Index[Key, ObservedPod],
    **_: Any,
) -> None:
    WATCH_EVENTS.labels("pods").inc()
    controller = Runtime.bind(task_index, pod_index)
    owner = _owner_task(body)
    if owner is not None:
        await controller.reconcile_key((namespace, owner))
    if event["type"] == "DELETED" or (body.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        controller.capacity_freed()  # a slot came free: the first waiting tasks start
    elif (delete_by := parse_time((body.get("metadata") or {}).get("deletionTimestamp"))) is not None:
        controller.capacity_frees_at(delete_by)  # it holds its slot until its grace period ends at the latest
