"""Running the phases, one after the other on the same API server (docs/performance.md says what each number means):

1. ``tasks``: N tasks, each succeeding at its first attempt, reconciled by the operator.
2. ``jobs``: N Jobs (one pod each) reconciled by kube-controller-manager at its default client QPS (20, burst 30).
3. ``jobs-qps100``: the same after restarting kube-controller-manager with ``--kube-api-qps=100
   --kube-api-burst=150`` (restored afterwards).
4. ``mix``: N tasks of which 10% fail twice (retryable; Succeeded at attempt 3) and 5% fail permanently (Dead at
   once): the retry path.
5. ``restart``: the operator restarted holding the 2N finished tasks: time to idle, writes made, memory held.

A phase creates its items (16 at a time) while watching its namespace, until every item is terminal or its time
(120 s + 0.6 s per item) is up, then waits (at most 60 s) for the controller's clean-up (the operator deletes each
attempt's Secret last; the Job controller removes its tracking finalizer from each pod) before it reads the CPU
counter and the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from lightkube import AsyncClient, operators
from lightkube.codecs import from_dict
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import Pod, Secret
from localcluster import processes

from benchscale.apiserver import RetryBudget, WatchFailed, wait_serving, watch_until
from benchscale.cluster import BenchCluster
from benchscale.measure import (
    Phase,
    audit_events,
    cpu_seconds,
    latencies,
    requests_by,
    rss_mib,
    summarize,
    watch_events,
    writes_by,
)
from benchscale.names import FIELD_MANAGER, JOB_CONTROLLER, OPERATOR_USER
from benchscale.report import profile_summary
from benchscale.waits import log, wait
from benchscale.workload import (
    job_manifest,
    job_outcome,
    kwok_version,
    mix_names,
    mix_problems,
    task_manifest,
    task_outcome,
)

TranscriptionTask = create_namespaced_resource("scribe.dev", "v1alpha1", "TranscriptionTask", "transcriptiontasks")
QPS100 = ["--kube-api-qps=100", "--kube-api-burst=150"]
CREATE_CONCURRENCY = 16
RESTART_LIMIT_S = 300.0
"""How long the restart phase waits for the operator to be idle (it reports "-" past it)."""
Outcome = Callable[[Any], str | None]
"""An item's terminal state, or None while it has none."""


@dataclass(frozen=True)
class Options:
    n: int
    own_namespaces: bool = False
    skip_qps100: bool = False
    tasks_only: bool = False
    profile: bool = False


class Bench:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.n = options.n
        self.env = BenchCluster(own_namespaces=options.own_namespaces)
        self.dir = self.env.dir

    # -- one phase --------------------------------------------------------------------------------------------------
    async def _create_and_watch(
        self, ns: str, manifests: list[dict[str, Any]], resource: Any, outcome: Outcome, limit: float
    ) -> tuple[float, dict[str, str]]:
        """Create every manifest (16 at a time) while watching the namespace; return the seconds from the first
        create to the last item's terminal event, and each item's outcome. A watch that keeps failing ends the run
        (``WatchFailed``, saying why), not the wait."""
        client = AsyncClient(field_manager=FIELD_MANAGER)
        done: dict[str, str] = {}
        last = 0.0

        def seen(obj: Any) -> bool:
            nonlocal last
            result = outcome(obj)
            if result is not None and obj.metadata.name not in done:
                done[obj.metadata.name] = result
                last = time.monotonic()
            return len(done) >= len(manifests)

        budget = RetryBudget(f"{resource.__name__} in {ns}")
        watcher = asyncio.create_task(watch_until(client, resource, ns, seen, budget=budget))
        await asyncio.sleep(0.5)  # the watch is open before the first create
        sem = asyncio.Semaphore(CREATE_CONCURRENCY)

        async def create(m: dict[str, Any]) -> None:
            async with sem:
                m = {**m, "metadata": {**m["metadata"], "namespace": ns}}
                await client.create(resource(**m) if resource is TranscriptionTask else from_dict(m))

        start = time.monotonic()
        try:
            await asyncio.gather(*(create(m) for m in manifests))
            await asyncio.wait_for(watcher, limit)  # cancels the watch when the time is up
        except TimeoutError:
            log(f"{ns}: {len(done)} of {len(manifests)} terminal after {limit:.0f}s")
        finally:
            if not watcher.done():  # a create failed
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await client.close()
        return (last or time.monotonic()) - start, done

    def run_phase(
        self,
        phase: Phase,
        pid: int,
        manifests: list[dict[str, Any]],
        resource: Any,
        outcome: Outcome,
        settled: Callable[[], bool],
    ) -> Phase:
        ns = self.env.namespaces[phase.name]
        log(f"{phase.name}: {len(manifests)} items in {ns}")
        wait_serving(self.env.kube, resource, ns)
        offset, cpu0 = self.env.audit_log.stat().st_size, cpu_seconds(pid)
        timeout = 120 + len(manifests) * 0.6
        profile = self.dir / f"profile-{phase.name}.txt"
        profiled = self.options.profile and phase.controller == OPERATOR_USER
        spy = self.env.profiler(pid, profile) if profiled else None
        phase.wall_s, done = asyncio.run(self._create_and_watch(ns, manifests, resource, outcome, timeout))
        with contextlib.suppress(TimeoutError):
            wait(f"{phase.name}: the controller's clean-up", settled, 60)
        phase.cpu_s = cpu_seconds(pid) - cpu0
        if spy is not None:
            self.env.stop_profiler(spy)
            print(profile_summary(profile, phase.name), flush=True)
        events = audit_events(self.env.audit_log, offset, self.env.audit_log.stat().st_size)
        phase.terminal, phase.outcomes = len(done), dict(Counter(done.values()))
        phase.requests = dict(requests_by(events, phase.controller))
        phase.apiserver_requests = len(events)
        kind = "transcriptiontasks" if resource is TranscriptionTask else "jobs"
        for metric, values in latencies(events, phase.controller, kind).items():
            phase.latency_ms[metric] = summarize(values)
        log(f"{phase.name}: {phase.terminal} terminal in {phase.wall_s:.1f}s ({phase.per_s:.1f}/s)")
        return phase

    # -- the phases -------------------------------------------------------------------------------------------------
    def tasks(self, name: str, names: list[str]) -> Phase:
        ns = self.env.namespaces[name]

        def settled() -> bool:  # the operator deletes an attempt's Secret last
            return not list(self.env.kube.list(Secret, namespace=ns, labels={"scribe.dev/task": operators.exists()}))

        pid = self.env.operator_pid
        manifests = [task_manifest(n, self.env.bucket) for n in names]
        phase = self.run_phase(Phase(name, OPERATOR_USER, len(names)), pid, manifests, TranscriptionTask,
                               task_outcome, settled)  # fmt: skip
        phase.rss_mib = rss_mib(pid)
        return phase

    def jobs(self, name: str) -> Phase:
        ns = self.env.namespaces[name]
        pid = processes.read_pid(self.env.paths.run / "kube-controller-manager.pid")
        if pid is None:
            raise SystemExit("kube-controller-manager is not running")

        def settled() -> bool:  # the Job controller removes its tracking finalizer from each finished pod
            return not any(p.metadata and p.metadata.finalizers for p in self.env.kube.list(Pod, namespace=ns))

        manifests = [job_manifest(f"j{i}") for i in range(self.n)]
        return self.run_phase(Phase(name, JOB_CONTROLLER, self.n), pid, manifests, Job, job_outcome, settled)

    def check_mix(self, phase: Phase) -> list[str]:
        """What the failure mix should have produced and did not (empty: all as scripted), noted on the phase."""
        problems = mix_problems(list(self.env.kube.list(TranscriptionTask, namespace=self.env.namespaces["mix"])))
        if problems:
            phase.note = f"{len(problems)} tasks not as scripted, e.g. {problems[0]}"
        return problems

    def restart(self, finished: int) -> dict[str, Any]:
        """Restart the operator holding ``finished`` finished tasks: seconds to idle (its initial listing seen and
        its CPU quiet for 1 s; at most 300 s), the writes it made meanwhile, and its memory once idle."""
        before = rss_mib(self.env.operator_pid)
        self.env.stop_operator()
        offset, start = self.env.audit_log.stat().st_size, time.monotonic()
        pid, listed = self.env.start_operator(), 0.0
        profile = self.dir / "profile-restart.txt"
        spy = self.env.profiler(pid, profile) if self.options.profile else None
        samples: list[tuple[float, float]] = [(time.monotonic(), cpu_seconds(pid))]
        idle_at = None
        while time.monotonic() < start + RESTART_LIMIT_S:
            time.sleep(0.25)
            now, cpu = time.monotonic(), cpu_seconds(pid)
            samples.append((now, cpu))
            if not listed and watch_events(self.env.metrics_port, "transcriptiontasks") >= finished:
                listed = now
            older = [s for s in samples if s[0] <= now - 1.0]  # the newest sample at least 1 s old
            if listed and older and older[-1][0] >= listed and cpu - older[-1][1] < 0.05:
                idle_at = older[-1][0]
                break
        if spy is not None:
            self.env.stop_profiler(spy)
            print(profile_summary(profile, "restart"), flush=True)
        events = audit_events(self.env.audit_log, offset, self.env.audit_log.stat().st_size)
        return {
            "finished_tasks": finished,
            "rss_mib_before": round(before, 1),
            "rss_mib_after": round(rss_mib(pid), 1),
            "seconds_to_idle": round(idle_at - start, 2) if idle_at else None,
            "writes": writes_by(events, OPERATOR_USER),
        }

    def run(self) -> dict[str, Any]:
        """Every phase, the cluster prepared before and cleaned up after (also when a phase fails)."""
        phases: list[Phase] = []
        restart: dict[str, Any] = {}
        try:
            self.env.prepare()
            phases.append(self.tasks("tasks", [f"t{i}" for i in range(self.n)]))
            if not self.options.tasks_only:
                phases.append(self.jobs("jobs"))
            if not (self.options.skip_qps100 or self.options.tasks_only):
                log("restarting kube-controller-manager with " + " ".join(QPS100))
                self.env.restart_controller_manager(QPS100)
                try:
                    phases.append(self.jobs("jobs-qps100"))
                finally:
                    log("restoring kube-controller-manager's default QPS")
                    self.env.restart_controller_manager([])
            mix = self.tasks("mix", mix_names(self.n))
            self.check_mix(mix)
            phases.append(mix)
            restart = self.restart(sum(p.terminal for p in phases if p.controller == OPERATOR_USER))
        except WatchFailed as exc:
            raise SystemExit(f"bench-scale: {exc}") from exc
        finally:
            self.env.cleanup()
        return {
            "n": self.n, "kwok": kwok_version(), "cores": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M UTC"),
            "phases": [{**asdict(p), "per_s": p.per_s} for p in phases], "restart": restart,
        }  # fmt: skip
