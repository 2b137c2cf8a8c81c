"""One pod's life on the pod runner, reported as a kubelet reports it: container states, phase, conditions,
activeDeadlineSeconds, restart policy, image pull failures and graceful deletion."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from ..cgroups import ContainerCgroup
from .container import ContainerRun, Termination, now, stamp
from .env import ConfigError, expand, resolve
from .images import ImageMap
from .kube import Kube, Obj
from .quantity import parse_bytes
from .volumes import PodVolumes

log = logging.getLogger("podrunner.pod")

PULL_BACKOFF_AFTER = 2.0
CONFIG_RETRY = 2.0
RESTART_BACKOFF, RESTART_BACKOFF_MAX = 10.0, 300.0
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class NodeContext:
    kube: Kube
    images: ImageMap
    node: str
    state_dir: Path
    log_dir: Path
    cgroup_root: Path
    api_host: str
    api_port: int
    bin_path: str


def parse_time(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


class PodWorker:
    def __init__(self, ctx: NodeContext, pod: Obj) -> None:
        self.ctx, self.pod = ctx, pod
        meta = pod["metadata"]
        self.key = f"{meta['namespace']}_{meta['name']}_{meta['uid']}"
        self.updated = asyncio.Event()
        self.statuses: dict[str, Obj] = {}
        self.init_statuses: dict[str, Obj] = {}
        self.runs: dict[str, ContainerRun] = {}
        self.conditions: dict[str, tuple[str, str]] = {}
        self.final: tuple[str, str | None, str | None] | None = None  # phase, reason, message
        self.sent: Obj | None = None
        self.lock = asyncio.Lock()
        self.volumes = PodVolumes(ctx.kube, pod, ctx.state_dir / self.key / "volumes")
        self.task = asyncio.create_task(self._main(), name=self.key)

    # -- inputs ------------------------------------------------------------------------------------
    def update(self, pod: Obj) -> None:
        self.pod = pod
        self.updated.set()

    @property
    def spec(self) -> Obj:
        return dict(self.pod["spec"])

    @property
    def deleting(self) -> bool:
        return bool(self.pod["metadata"].get("deletionTimestamp"))

    # -- status ------------------------------------------------------------------------------------
    def _set_condition(self, ctype: str, status: bool) -> None:
        value = "True" if status else "False"
        if self.conditions.get(ctype, ("", ""))[0] != value:
            self.conditions[ctype] = (value, stamp(now()))

    def _phase(self) -> str:
        if self.final:
            return self.final[0]
        states = [s["state"] for s in self.statuses.values()]
        if any("running" in s for s in states) or any(s.get("restartCount", 0) for s in self.statuses.values()):
            return "Running"
        if states and all("terminated" in s for s in states):
            return "Running"  # about to be finalised by _main
        return "Pending"

    def _status(self) -> Obj:
        ready = bool(self.statuses) and all("running" in s["state"] for s in self.statuses.values())
        for s in self.statuses.values():
            s["ready"] = "running" in s["state"]
        self._set_condition("ContainersReady", ready)
        self._set_condition("Ready", ready)
        conditions = [c for c in self.pod.get("status", {}).get("conditions", []) if c["type"] not in self.conditions]
        conditions += [
            {"type": t, "status": v, "lastTransitionTime": when, "lastProbeTime": None}
            for t, (v, when) in self.conditions.items()
        ]
        status: Obj = {
            "phase": self._phase(),
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}],
            "startTime": self.pod.get("status", {}).get("startTime") or stamp(now()),
            "conditions": conditions,
            "containerStatuses": [
                self.statuses[c["name"]] for c in self.spec["containers"] if c["name"] in self.statuses
            ],
        }
        if self.init_statuses:
            status["initContainerStatuses"] = list(self.init_statuses.values())
        if self.final and self.final[1]:
            status["reason"], status["message"] = self.final[1], self.final[2]
        return status

    async def sync(self) -> None:
        async with self.lock:
            status = self._status()
            if status != self.sent:
                await self.ctx.kube.patch_status(self.pod, status)
                self.sent = status
                # the patch echoes back through the watch; keep our view of startTime meanwhile
                self.pod.setdefault("status", {})["startTime"] = status["startTime"]

    def _container_status(
        self,
        c: Obj,
        init: bool,
        state: Obj,
        restarts: int = 0,
        last: Obj | None = None,
        container_id: str = "",
    ) -> None:
        table = self.init_statuses if init else self.statuses
        table[c["name"]] = {
            "name": c["name"],
            "image": c["image"],
            "imageID": "",
            "ready": False,
            "started": "running" in state,
            "restartCount": restarts,
            "state": state,
            "lastState": last or {},
            **({"containerID": container_id} if container_id else {}),
        }

    # -- life --------------------------------------------------------------------------------------
    async def _main(self) -> None:
        try:
            status = self.pod.get("status", {})
            if status.get("phase") in ("Succeeded", "Failed"):
                await self._until_deleted()
                await self._delete()
                return
            if (
                any(
                    ("running" in s.get("state", {}) or "terminated" in s.get("state", {}))
                    for s in status.get("containerStatuses", [])
                )
                and self.spec.get("restartPolicy") == "Never"
            ):
                await self._lost(status)
                await self._until_deleted()
                await self._delete()
                return
            for c in self.spec.get("initContainers", []):
                self._container_status(c, True, {"waiting": {"reason": "PodInitializing"}})
            for c in self.spec["containers"]:
                self._container_status(c, False, {"waiting": {"reason": "ContainerCreating"}})
            self._set_condition("PodReadyToStartContainers", False)
            self._set_condition("Initialized", not self.spec.get("initContainers"))
            await self.sync()
            life = asyncio.create_task(self._life())
            await self._supervise(life)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("pod %s: pod runner error", self.key)
        finally:
            self.volumes.close()

    async def _supervise(self, life: asyncio.Task[None]) -> None:
        """Wait for deletion, enforcing activeDeadlineSeconds meanwhile; then stop, report and delete."""
        deadline = self.spec.get("activeDeadlineSeconds")
        start = parse_time(self.pod.get("status", {}).get("startTime")) or now()
        while not self.deleting:
            timeout = None
            if deadline is not None and not self.final:
                timeout = max(0.0, (start + dt.timedelta(seconds=int(deadline)) - now()).total_seconds())
            self.updated.clear()
            waiter = asyncio.create_task(self.updated.wait())
            waiting = {waiter} if life.done() else {life, waiter}
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if life in done and not life.cancelled() and life.exception() is not None:
                log.error("pod %s: pod runner error", self.key, exc_info=life.exception())
            if not done and not self.final:  # the active deadline has passed
                life.cancel()
                await self._stop_containers(self._grace())
                self.final = (
                    "Failed",
                    "DeadlineExceeded",
                    "Pod was active on the node longer than the specified deadline",
                )
                await self.sync()
        life.cancel()
        await self._stop_containers(self._grace())
        if not self.final:  # as the kubelet does, a deleted pod reaches a terminal phase before it goes
            codes = [s["state"].get("terminated", {}).get("exitCode", 1) for s in self.statuses.values()]
            self.final = ("Succeeded" if codes and all(c == 0 for c in codes) else "Failed", None, None)
        await self._delete()

    async def _until_deleted(self) -> None:
        while not self.deleting:
            self.updated.clear()
            await self.updated.wait()

    async def _delete(self) -> None:
        await self.sync()
        await self.ctx.kube.delete_now(self.pod)

    def _grace(self) -> float:
        meta_grace = self.pod["metadata"].get("deletionGracePeriodSeconds")
        grace = meta_grace if meta_grace is not None else self.spec.get("terminationGracePeriodSeconds", 30)
        return float(grace)

    async def _stop_containers(self, grace: float) -> None:
        running = [r for r in self.runs.values() if r.proc is not None and r.proc.returncode is None]
        for r in running:
            r.kill(signal.SIGTERM)
        if running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(r.proc.wait() for r in running if r.proc)), grace)
        for r in running:
            r.kill(signal.SIGKILL)
        await asyncio.sleep(0)  # let each container loop record its termination
        for name, r in self.runs.items():
            with contextlib.suppress(Exception):
                if r.proc is not None:
                    await r.proc.wait()
            table = self.statuses if name in self.statuses else self.init_statuses
            state = table.get(name, {}).get("state", {})
            if "running" in state and r.proc is not None:
                code = r.proc.returncode or 0
                exit_code = 128 - code if code < 0 else code
                term = Termination(exit_code, "Error" if exit_code else "Completed", "", r.started_at, now())
                table[name]["state"] = {"terminated": term.state(table[name].get("containerID", ""))}
            r.cgroup.remove()

    async def _lost(self, status: Obj) -> None:
        """The pod runner restarted while this Never-restart pod ran: its containers cannot be found."""
        for s in status.get("containerStatuses", []):
            state = s.get("state", {})
            if "terminated" not in state:
                s["state"] = {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "message": "The container could not be located when the pod was terminated",
                        "startedAt": state.get("running", {}).get("startedAt"),
                        "finishedAt": stamp(now()),
                    }
                }
            self.statuses[s["name"]] = s
        self.final = ("Failed", None, None)
        await self.sync()

    async def _life(self) -> None:
        while True:
            try:
                await self.volumes.prepare()
                break
            except ConfigError as exc:
                await self._waiting_all("CreateContainerConfigError", str(exc))
                await asyncio.sleep(CONFIG_RETRY)
        self._set_condition("PodReadyToStartContainers", True)
        argvs = {
            c["name"]: self.ctx.images.argv(c["image"], c.get("command"), c.get("args"))
            for c in [*self.spec.get("initContainers", []), *self.spec["containers"]]
        }
        unknown = [
            c for c in [*self.spec.get("initContainers", []), *self.spec["containers"]] if argvs[c["name"]] is None
        ]
        if unknown:
            await self._pull_failure(unknown)
            return
        policy = self.spec.get("restartPolicy", "Always")
        for c in self.spec.get("initContainers", []):
            term = await self._container_loop(c, True, "OnFailure" if policy != "Never" else "Never")
            if term.exit_code != 0:
                self.final = ("Failed", None, None)
                await self.sync()
                return
        self._set_condition("Initialized", True)
        terms = await asyncio.gather(*(self._container_loop(c, False, policy) for c in self.spec["containers"]))
        self.final = ("Succeeded" if all(t.exit_code == 0 for t in terms) else "Failed", None, None)
        await self.sync()

    async def _waiting_all(self, reason: str, message: str) -> None:
        for c in self.spec["containers"]:
            self._container_status(c, False, {"waiting": {"reason": reason, "message": message}})
        await self.sync()

    async def _pull_failure(self, containers: list[Obj]) -> None:
        for reason, fmt in (
            (
                "ErrImagePull",
                'Failed to pull image "{}": not in the pod runner\'s image map (tests/cluster/images.yaml)',
            ),
            ("ImagePullBackOff", 'Back-off pulling image "{}"'),
        ):
            for c in containers:
                init = c in self.spec.get("initContainers", [])
                self._container_status(c, init, {"waiting": {"reason": reason, "message": fmt.format(c["image"])}})
            await self.sync()
            await asyncio.sleep(PULL_BACKOFF_AFTER)

    def _memory_limit(self, c: Obj) -> int | None:
        limit = c.get("resources", {}).get("limits", {}).get("memory")
        return parse_bytes(limit) if limit is not None else None

    async def _container_loop(self, c: Obj, init: bool, policy: str) -> Termination:
        restarts, last = 0, None
        meta = self.pod["metadata"]
        while True:
            base = {
                "PATH": f"{self.ctx.bin_path}:{BASE_PATH}",
                "HOME": "/root",
                "HOSTNAME": meta["name"],
                "KUBERNETES_SERVICE_HOST": self.ctx.api_host,
                "KUBERNETES_SERVICE_PORT": str(self.ctx.api_port),
                "KUBERNETES_SERVICE_PORT_HTTPS": str(self.ctx.api_port),
            }
            try:
                env = await resolve(self.ctx.kube, self.pod, c, base)
            except ConfigError as exc:
                self._container_status(
                    c,
                    init,
                    {"waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}},
                    restarts,
                    last,
                )
                await self.sync()
                await asyncio.sleep(CONFIG_RETRY)
                continue
            argv = self.ctx.images.argv(c["image"], c.get("command"), c.get("args"))
            assert argv is not None
            argv = [expand(a, env) for a in argv]
            run_id = f"{c['name']}-{restarts}"
            cgroup = ContainerCgroup.create(self.ctx.cgroup_root, f"{meta['uid']}-{run_id}", self._memory_limit(c))
            run = ContainerRun(
                self.ctx.state_dir / self.key / run_id,
                self.ctx.log_dir / f"{meta['namespace']}_{meta['name']}_{c['name']}.log",
                cgroup,
            )
            self.runs[c["name"]] = run
            container_id = f"podrunner://{meta['uid']}/{run_id}"
            await run.start(
                argv,
                env,
                c.get("workingDir"),
                self.volumes.mounts(c),
                c.get("terminationMessagePath") or "/dev/termination-log",
            )
            self._container_status(
                c, init, {"running": {"startedAt": stamp(run.started_at)}}, restarts, last, container_id
            )
            await self.sync()
            term = await run.wait(c.get("terminationMessagePolicy") == "FallbackToLogsOnError")
            terminated = {"terminated": term.state(container_id)}
            again = policy == "Always" or (policy == "OnFailure" and term.exit_code != 0)
            if not again:
                self._container_status(c, init, terminated, restarts, last, container_id)
                await self.sync()
                return term
            last = terminated
            delay = min(RESTART_BACKOFF * 2**restarts, RESTART_BACKOFF_MAX)
            restarts += 1
            self._container_status(
                c,
                init,
                {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {delay:.0f}s restarting failed container",
                    }
                },
                restarts,
                last,
            )
            await self.sync()
            await asyncio.sleep(delay)

    async def stop(self) -> None:
        """The pod object is gone: stop everything at once."""
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task
        for r in self.runs.values():
            r.kill(signal.SIGKILL)
            r.cgroup.remove()
