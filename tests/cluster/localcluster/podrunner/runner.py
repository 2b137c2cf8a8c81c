"""Watches the pods bound to this node and gives each a PodWorker."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lightkube import AsyncClient
from lightkube.resources.core_v1 import Pod

from .pod import NodeContext, PodWorker

log = logging.getLogger("podrunner")


class Runner:
    def __init__(self, client: AsyncClient, ctx: NodeContext) -> None:
        self.client, self.ctx = client, ctx
        self.workers: dict[str, PodWorker] = {}
        self.stopping: set[asyncio.Task[None]] = set()

    def _stop(self, worker: PodWorker) -> None:
        task = asyncio.create_task(worker.stop())
        self.stopping.add(task)
        task.add_done_callback(self.stopping.discard)

    def _dispatch(self, kind: str, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        if kind == "DELETED":
            worker = self.workers.pop(uid, None)
            if worker is not None:
                self._stop(worker)
            return
        worker = self.workers.get(uid)
        if worker is None:
            log.info("pod %s/%s bound here", pod["metadata"]["namespace"], pod["metadata"]["name"])
            self.workers[uid] = PodWorker(self.ctx, pod)
        else:
            worker.update(pod)

    async def run(self) -> None:
        fields: dict[str, Any] = {"spec.nodeName": self.ctx.node}
        while True:
            try:
                seen: set[str] = set()
                async for pod in self.client.list(Pod, namespace="*", fields=fields):
                    obj = pod.to_dict()
                    seen.add(obj["metadata"]["uid"])
                    self._dispatch("MODIFIED", obj)
                for uid in set(self.workers) - seen:
                    self._stop(self.workers.pop(uid))
                async for kind, pod in self.client.watch(Pod, namespace="*", fields=fields):
                    self._dispatch(kind, pod.to_dict())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("pod watch interrupted (%s); re-listing", exc)
                await asyncio.sleep(1)

    async def shutdown(self) -> None:
        await asyncio.gather(*(w.stop() for w in self.workers.values()), return_exceptions=True)
