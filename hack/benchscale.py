"""`make bench-scale N=1000`: N instant TranscriptionTasks against N Jobs, side by side on one API server.

Pods run on kwok nodes (sigs.k8s.io/kwok, hack/versions.env): kwok plays the kubelet of a few simulated Nodes (tainted,
so only the benchmark's pods land there) and moves each pod Pending -> Running -> Succeeded, or Failed with a chosen
exit code and termination message, without a process. So the benchmark measures the controllers, not the machine.

Phases, one after the other on the same API server (docs/performance.md says what each number means):

1. ``tasks``: N tasks, each succeeding at its first attempt, reconciled by the operator (a local process, the chart's
   default settings: all namespaces, JSON logs, no leader election).
2. ``jobs``: N Jobs (one pod each) reconciled by kube-controller-manager at its default client QPS (20, burst 30).
3. ``jobs-qps100``: the same after restarting kube-controller-manager with ``--kube-api-qps=100 --kube-api-burst=150``
   (restored afterwards).
4. ``mix``: N tasks of which 10% fail twice (TranscriptionFailed, retryable; succeed at attempt 3) and 5% fail
   permanently (InvalidAudio, Dead at once): the retry path.
5. ``restart``: the operator restarted holding the 2N finished tasks: time to idle, writes made, memory held.

Requests per item and latencies come from the API server's audit log (.cluster/logs/audit.log, Metadata level): the
operator and kwok run as users of their own, the Job controller as its service account. CPU seconds come from
/proc/<pid>/stat of the operator and of kube-controller-manager. Results: a table on stdout, JSON in .cluster/bench/,
and with ``--docs`` merged into docs/performance-results.json and drawn as docs/performance.png.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "cluster"))

import boto3  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from botocore.config import Config  # noqa: E402
from lightkube import AsyncClient, Client, operators  # noqa: E402
from lightkube.codecs import from_dict  # noqa: E402
from lightkube.core.exceptions import ApiError  # noqa: E402
from lightkube.generic_resource import create_namespaced_resource  # noqa: E402
from lightkube.models.meta_v1 import ObjectMeta  # noqa: E402
from lightkube.resources.batch_v1 import Job  # noqa: E402
from lightkube.resources.core_v1 import Namespace, Node, Pod, Secret  # noqa: E402
from localcluster import processes  # noqa: E402
from localcluster.controlplane import Cluster, State  # noqa: E402
from localcluster.kubeconfig import write_kubeconfig  # noqa: E402
from localcluster.pki import ensure_client  # noqa: E402

TranscriptionTask = create_namespaced_resource("scribe.dev", "v1alpha1", "TranscriptionTask", "transcriptiontasks")

OPERATOR_USER, KWOK_USER, ADMIN_USER = "scribe-bench-operator", "scribe-bench-kwok", "kubernetes-admin"
JOB_CONTROLLER = "system:serviceaccount:kube-system:job-controller"
NODES = 4
KWOK_SELECTOR = {"type": "kwok"}
KWOK_TOLERATION = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
QPS100 = ["--kube-api-qps=100", "--kube-api-burst=150"]
CREATE_CONCURRENCY = 16
# The failure mix: names say what kwok does with an attempt pod (its task's name is the pod's scribe.dev/task label)
RETRY_PREFIX, DEAD_PREFIX = "retry-", "dead-"
RETRY_MSG = '{"reason":"TranscriptionFailed","retryable":true,"message":"failure simulated by the benchmark"}'
DEAD_MSG = '{"reason":"InvalidAudio","retryable":false,"message":"failure simulated by the benchmark"}'
CLK_TCK = os.sysconf("SC_CLK_TCK")
TERMINAL_TASK = ("Succeeded", "Dead")


def log(msg: str) -> None:
    print(f"[bench-scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime (fields 14, 15 of stat)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def wait(what: str, probe: Callable[[], bool], timeout: float, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# --- kwok ----------------------------------------------------------------------------------------------------------


def kwok_version() -> str:
    for line in (REPO / "hack" / "versions.env").read_text().splitlines():
        if line.startswith("KWOK_VERSION="):
            return line.split("=", 1)[1].strip()
    raise SystemExit("KWOK_VERSION missing from hack/versions.env")


def kwok_stages(version: str) -> str:
    """kwok's own node and pod stages (from its module, as `make binaries` downloaded it), and the benchmark's stages
    for attempt pods: complete, or fail by the task's name (retry-*: attempts 1 and 2; dead-*: every attempt)."""
    out = subprocess.run(
        ["go", "mod", "download", "-json", f"sigs.k8s.io/kwok@{version}"],
        capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(),
        env={**os.environ, "GOFLAGS": "-mod=mod", "GO111MODULE": "on"},
    )  # fmt: skip
    stage = Path(json.loads(out.stdout)["Dir"]) / "kustomize" / "stage"
    theirs = [
        "node/fast/node-initialize.yaml",
        "node/heartbeat/node-heartbeat.yaml",
        "pod/fast/pod-ready.yaml",
        "pod/fast/pod-complete.yaml",  # Job-owned pods: Succeeded, exit code 0
        "pod/fast/pod-delete.yaml",
    ]
    task = '(.metadata.labels."scribe.dev/task" // "")'
    attempt = '(.metadata.labels."scribe.dev/attempt" // "")'
    retrying = f'({task} | startswith("{RETRY_PREFIX}")) and ({attempt} | . == "1" or . == "2")'
    dead = f'{task} | startswith("{DEAD_PREFIX}")'
    ours = [
        _attempt_stage(
            "scribe-attempt-complete", [(retrying, "false"), (dead, "false")], 0, "Completed", "", "Succeeded"
        ),
        _attempt_stage("scribe-attempt-retryable", [(retrying, "true")], 21, "Error", RETRY_MSG, "Failed"),
        _attempt_stage("scribe-attempt-permanent", [(dead, "true")], 20, "Error", DEAD_MSG, "Failed"),
    ]
    return "\n---\n".join([*((stage / p).read_text() for p in theirs), *ours])


def _attempt_stage(name: str, matches: list[tuple[str, str]], code: int, reason: str, message: str, phase: str) -> str:
    exprs = "".join(
        f"    - key: {json.dumps(k)}\n      operator: In\n      values: [{json.dumps(v)}]\n" for k, v in matches
    )
    msg = f"\n            message: {{{{ {json.dumps(message)} | Quote }}}}" if message else ""
    return f"""apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: {name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: [Running]
    - key: '.metadata.ownerReferences.[].kind'
      operator: In
      values: [TranscriptionTask]
{exprs}  next:
    statusTemplate: |
      {{{{ $now := Now }}}}
      containerStatuses:
      {{{{ range .spec.containers }}}}
      - image: {{{{ .image | Quote }}}}
        name: {{{{ .name | Quote }}}}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: {code}
            reason: {reason}{msg}
            startedAt: {{{{ $now | Quote }}}}
            finishedAt: {{{{ $now | Quote }}}}
      {{{{ end }}}}
      phase: {phase}
"""


def kwok_node(i: int) -> dict[str, Any]:
    big = {"cpu": "1000", "memory": "100Ti", "pods": "100000"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": f"kwok-bench-{i}", "annotations": {"kwok.x-k8s.io/node": "fake"},
            "labels": {**KWOK_SELECTOR, "kubernetes.io/hostname": f"kwok-bench-{i}"},
        },
        "spec": {"taints": [{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}]},
        "status": {"allocatable": big, "capacity": big},
    }  # fmt: skip


# --- the audit log -------------------------------------------------------------------------------------------------


def audit_events(path: Path, start: int, end: int) -> list[dict[str, Any]]:
    with path.open("rb") as f:
        f.seek(start)
        data = f.read(end - start)
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def ts(event: dict[str, Any]) -> float:
    return dt.datetime.fromisoformat(event["stageTimestamp"]).timestamp()


def _resource(event: dict[str, Any]) -> str:
    ref = event.get("objectRef") or {}
    return ref.get("resource", "?") + (f"/{ref['subresource']}" if ref.get("subresource") else "")


def requests_by(events: Iterable[dict[str, Any]], user: str) -> Counter[str]:
    return Counter(f"{e['verb']} {_resource(e)}" for e in events if e["user"]["username"] == user)


def _ok(e: dict[str, Any]) -> bool:
    return int((e.get("responseStatus") or {}).get("code", 0)) < 300


def latencies(events: list[dict[str, Any]], controller: str, kind: str) -> dict[str, list[float]]:
    """Milliseconds from an item's creation to its first pod's creation (tasks: attempt pods have known names), and
    from a pod's terminal status (written by kwok) to the controller's next status write of its owner."""
    created: dict[str, float] = {}
    pod_created: dict[str, float] = {}
    pod_terminal: dict[str, float] = {}
    status_writes: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e.get("stage") != "ResponseComplete" or not _ok(e):
            continue
        user, res, name = e["user"]["username"], _resource(e), (e.get("objectRef") or {}).get("name", "")
        if user == ADMIN_USER and e["verb"] == "create" and res == kind:
            created[name] = ts(e)
        elif user == controller and e["verb"] == "create" and res == "pods" and name:
            pod_created[name] = ts(e)
        elif user == KWOK_USER and res == "pods/status" and e["verb"] in ("patch", "update"):
            pod_terminal[name] = ts(e)  # kwok's last write of a pod's status is its terminal one
        elif user == controller and res == f"{kind}/status" and e["verb"] in ("patch", "update"):
            status_writes[name].append(ts(e))
    to_pod = [(pod_created[f"{n}-a1"] - t) * 1000 for n, t in created.items() if f"{n}-a1" in pod_created]
    to_status = []
    for pod, t in pod_terminal.items():
        owner = pod.rsplit("-", 1)[0]  # <task>-a<N>, or a Job's <job>-<suffix>
        after = [w for w in status_writes.get(owner, ()) if w >= t]
        if after:
            to_status.append((min(after) - t) * 1000)
    return {"create_to_pod_ms": to_pod, "terminated_to_status_ms": to_status}


# --- phases --------------------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    controller: str
    n: int
    wall_s: float = 0.0
    terminal: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0
    rss_mib: float | None = None
    requests: dict[str, int] = field(default_factory=dict)
    apiserver_requests: int = 0
    latency_ms: dict[str, dict[str, float | None]] = field(default_factory=dict)
    note: str = ""

    @property
    def per_s(self) -> float:
        return self.terminal / self.wall_s if self.wall_s else 0.0

    def writes(self, include_events: bool = True) -> int:
        return sum(
            v for k, v in self.requests.items()
            if k.split()[0] in WRITE_VERBS and (include_events or not k.endswith(" events"))
        )  # fmt: skip


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.n: int = args.n
        self.cluster = Cluster()
        self.paths = self.cluster.paths
        self.dir = self.paths.root / "bench"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.token = uuid.uuid4().hex[:4]
        self.namespaces = {p: f"bench-{p}-{self.token}" for p in ("tasks", "jobs", "jobs-qps100", "mix")}
        self.kube = Client(field_manager="scribe-bench")
        self.operator: subprocess.Popen[bytes] | None = None
        self.health_port = self.metrics_port = 0
        self.state = State.load_or_create(self.paths)
        self.bucket = f"bench-{self.token}"

    # -- setup ----------------------------------------------------------------------------------------------------
    def kubeconfig(self, stem: str, user: str) -> Path:
        ensure_client(self.paths.pki, stem, user, "system:masters")
        path = self.dir / f"{stem}.kubeconfig"
        write_kubeconfig(path, self.cluster.server, self.paths.pki, stem)  # the API server's address (the node's veth)
        return path

    def ensure_audit(self) -> None:
        pid = processes.read_pid(self.paths.run / "kube-apiserver.pid")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""
        if b"--audit-log-path" not in cmdline:
            log("restarting kube-apiserver with the audit log on (a cluster started before it was)")
            self.cluster.restart("kube-apiserver", [])

    def start_kwok(self) -> None:
        config = self.dir / "kwok.yaml"
        config.write_text(kwok_stages(kwok_version()))
        processes.stop("kwok", run_dir=self.paths.run)  # its stages may have changed
        kwok = self.paths.bin / "kwok"
        if not kwok.exists():
            raise SystemExit(f"{kwok} is missing: run `bash hack/build-binaries.sh kwok` (make binaries)")
        processes.start(
            "kwok",
            [
                str(kwok), f"--kubeconfig={self.kubeconfig('bench-kwok', KWOK_USER)}", f"--config={config}",
                 "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--server-address=127.0.0.1:{free_port()}", "--node-ip=10.200.0.1", "--cidr=10.200.0.0/16",
            ],
            run_dir=self.paths.run, log_dir=self.paths.logs,
        )  # fmt: skip
        for i in range(NODES):
            with contextlib.suppress(ApiError):
                self.kube.create(from_dict(kwok_node(i)))

        def ready() -> bool:
            nodes = [n for n in self.kube.list(Node, labels=KWOK_SELECTOR)]
            return len(nodes) >= NODES and all(
                any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or [])) for n in nodes
            )

        wait("the kwok nodes Ready", ready, 60)

    def wait_for_previous_runs(self) -> None:
        """A run's namespaces are deleted at its end; their objects' deletions would land in this run's numbers
        (the operator watches every namespace), so wait until they are gone."""
        left = lambda: [n.metadata.name for n in self.kube.list(Namespace, labels={"scribe.dev/bench": "true"})]  # noqa: E731
        if left():
            log(f"waiting for the namespaces of an earlier run to be deleted: {left()}")
            wait("an earlier run's namespaces to be deleted", lambda: not left(), 1800, 2)

    def prepare(self) -> None:
        self.wait_for_previous_runs()
        self.ensure_audit()
        subprocess.run(["kubectl", "apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds")],
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run(["kubectl", "wait", "--for=condition=Established", "-f", str(REPO / "crds")],
                       check=True, capture_output=True)  # fmt: skip
        s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
        s3.create_bucket(Bucket=self.bucket)
        s3.put_object(Bucket=self.bucket, Key="in.wav", Body=b"RIFF" + bytes(1020))  # only HEADed: no worker runs
        for ns in self.namespaces.values():
            self.kube.create(Namespace(metadata=ObjectMeta(name=ns, labels={"scribe.dev/bench": "true"})))
        self.start_kwok()
        self.start_operator()

    def start_operator(self) -> None:
        self.health_port, self.metrics_port = free_port(), free_port()
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig("bench-operator", OPERATOR_USER)),
            # the chart's defaults: every namespace, JSON logs, no leader election; MinIO wants path-style URLs
            "SCRIBE_NAMESPACES": ",".join(self.namespaces.values()) if self.args.own_namespaces else "",
            "SCRIBE_LOG_FORMAT": "json",
            "SCRIBE_LEADER_ELECTION": "false",
            "SCRIBE_S3_ADDRESSING_STYLE": "path",
            "SCRIBE_HEALTH_PORT": str(self.health_port),
            "SCRIBE_METRICS_PORT": str(self.metrics_port),
        }
        out = (self.dir / "operator.log").open("ab")
        self.operator = subprocess.Popen([sys.executable, "-m", "scribe_operator"], env=env, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)  # fmt: skip

        def healthy() -> bool:
            assert self.operator is not None and self.operator.poll() is None, "the operator exited; see its log"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/healthz", timeout=2) as r:
                    return bool(r.status == 200)
            except OSError:
                return False

        wait("the operator's /healthz", healthy, 60, 0.1)

    def stop_operator(self) -> None:
        if self.operator is not None and self.operator.poll() is None:
            self.operator.send_signal(signal.SIGTERM)
            try:
                self.operator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.operator.kill()
                self.operator.wait(timeout=10)

    def cleanup(self) -> None:
        self.stop_operator()
        for ns in self.namespaces.values():
            with contextlib.suppress(ApiError):
                self.kube.delete(Namespace, ns)
        for i in range(NODES):
            with contextlib.suppress(ApiError):
                self.kube.delete(Node, f"kwok-bench-{i}")
        processes.stop("kwok", run_dir=self.paths.run)

    # -- manifests --------------------------------------------------------------------------------------------------
    def task(self, name: str) -> dict[str, Any]:
        return {
            "apiVersion": "scribe.dev/v1alpha1", "kind": "TranscriptionTask", "metadata": {"name": name},
            "spec": {
                "input": f"s3://{self.bucket}/in.wav",
                # an instant task: the retries of the failure mix wait 1 s, not the default 10 s
                "retryPolicy": {"maxRetries": 3, "backoff": {"initialSeconds": 1, "factor": 1.0, "maxSeconds": 1,
                                                             "jitter": 0.0}},
                "worker": {"nodeSelector": KWOK_SELECTOR, "tolerations": [KWOK_TOLERATION]},
            },
        }  # fmt: skip

    @staticmethod
    def job(name: str) -> dict[str, Any]:
        return {
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"spec": {
                "restartPolicy": "Never", "nodeSelector": KWOK_SELECTOR, "tolerations": [KWOK_TOLERATION],
                "containers": [{"name": "main", "image": "busybox:1.36", "command": ["true"]}],
            }}},
        }  # fmt: skip

    # -- running a phase --------------------------------------------------------------------------------------------
    async def _create_and_watch(
        self,
        ns: str,
        manifests: list[dict[str, Any]],
        resource: Any,
        outcome: Callable[[Any], str | None],
        limit: float,
    ) -> tuple[float, dict[str, str]]:
        """Create every manifest (16 at a time) while watching the namespace; return the seconds from the first
        create to the last item's terminal event, and each item's outcome."""
        client = AsyncClient(field_manager="scribe-bench")
        done: dict[str, str] = {}
        finished = asyncio.Event()
        last = 0.0

        async def watch() -> None:
            nonlocal last
            async for _, obj in client.watch(resource, namespace=ns):
                name = obj.metadata.name
                result = outcome(obj)
                if result is not None and name not in done:
                    done[name] = result
                    last = time.monotonic()
                    if len(done) >= len(manifests):
                        finished.set()
                        return

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0.5)  # the watch is open before the first create
        sem = asyncio.Semaphore(CREATE_CONCURRENCY)

        async def create(m: dict[str, Any]) -> None:
            async with sem:
                obj = resource(**m) if resource is TranscriptionTask else from_dict(m)
                await client.create(obj, namespace=ns)

        start = time.monotonic()
        await asyncio.gather(*(create(m) for m in manifests))
        try:
            await asyncio.wait_for(finished.wait(), limit)
        except TimeoutError:
            log(f"{ns}: {len(done)} of {len(manifests)} terminal after {limit:.0f}s")
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await watcher
        await client.close()
        return (last or time.monotonic()) - start, done

    def run_phase(
        self,
        phase: Phase,
        pid: int,
        manifests: list[dict[str, Any]],
        resource: Any,
        outcome: Callable[[Any], str | None],
        settled: Callable[[], bool],
    ) -> Phase:
        ns = self.namespaces[phase.name]
        log(f"{phase.name}: {len(manifests)} items in {ns}")
        offset, cpu0 = self.cluster.audit_log.stat().st_size, cpu_seconds(pid)
        timeout = 120 + len(manifests) * 0.6
        profile = self.dir / f"profile-{phase.name}.txt"
        spy = self.profiler(pid, profile) if self.args.profile and phase.controller == OPERATOR_USER else None
        phase.wall_s, done = asyncio.run(self._create_and_watch(ns, manifests, resource, outcome, timeout))
        with contextlib.suppress(TimeoutError):
            wait(f"{phase.name}: the controller's clean-up", settled, 60)
        phase.cpu_s = cpu_seconds(pid) - cpu0
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its samples when interrupted
            spy.wait(timeout=60)
            print(profile_summary(profile, phase.name), flush=True)
        events = audit_events(self.cluster.audit_log, offset, self.cluster.audit_log.stat().st_size)
        phase.terminal, phase.outcomes = len(done), dict(Counter(done.values()))
        phase.requests = dict(requests_by(events, phase.controller))
        phase.apiserver_requests = len(events)
        kind = "transcriptiontasks" if resource is TranscriptionTask else "jobs"
        for metric, values in latencies(events, phase.controller, kind).items():
            phase.latency_ms[metric] = {"p50": pct(values, 0.5), "p99": pct(values, 0.99), "count": len(values)}
        log(f"{phase.name}: {phase.terminal} terminal in {phase.wall_s:.1f}s ({phase.per_s:.1f}/s)")
        return phase

    @staticmethod
    def profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
        """py-spy sampling the operator (100 Hz, every thread, idle excluded) into collapsed stacks at ``out``."""
        spy = Path(sys.executable).parent / "py-spy"
        argv = [str(spy), "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--output", str(out)]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def tasks(self, name: str, names: list[str]) -> Phase:
        assert self.operator is not None
        ns = self.namespaces[name]

        def outcome(obj: Any) -> str | None:
            phase = (obj.get("status") or {}).get("phase")
            return str(phase) if phase in TERMINAL_TASK else None

        def settled() -> bool:  # the operator deletes an attempt's Secret last
            return not list(self.kube.list(Secret, namespace=ns, labels={"scribe.dev/task": operators.exists()}))

        phase = Phase(name, OPERATOR_USER, len(names))
        self.run_phase(phase, self.operator.pid, [self.task(n) for n in names], TranscriptionTask, outcome, settled)
        phase.rss_mib = rss_mib(self.operator.pid)
        return phase

    def jobs(self, name: str) -> Phase:
        ns = self.namespaces[name]
        pid = processes.read_pid(self.paths.run / "kube-controller-manager.pid")
        assert pid is not None, "kube-controller-manager is not running"

        def outcome(job: Job) -> str | None:
            for c in (job.status.conditions if job.status else None) or []:
                if c.type in ("Complete", "Failed") and c.status == "True":
                    return str(c.type)
            return None

        def settled() -> bool:  # the Job controller removes its tracking finalizer from each finished pod
            return not any(p.metadata.finalizers for p in self.kube.list(Pod, namespace=ns))

        phase = Phase(name, JOB_CONTROLLER, self.n)
        manifests = [self.job(f"j{i}") for i in range(self.n)]
        return self.run_phase(phase, pid, manifests, Job, outcome, settled)

    def mix_names(self) -> list[str]:
        retry, dead = self.n // 10, self.n // 20
        return (
            [f"{RETRY_PREFIX}{i}" for i in range(retry)]
            + [f"{DEAD_PREFIX}{i}" for i in range(dead)]
            + [f"ok-{i}" for i in range(self.n - retry - dead)]
        )

    def check_mix(self, phase: Phase) -> list[str]:
        """What the failure mix should have produced and did not (empty: all as scripted)."""
        problems = []
        for t in self.kube.list(TranscriptionTask, namespace=self.namespaces["mix"]):
            name, status = t.metadata.name, t.get("status") or {}
            want = (
                ("Dead", 1)
                if name.startswith(DEAD_PREFIX)
                else ("Succeeded", 3 if name.startswith(RETRY_PREFIX) else 1)
            )
            got = (status.get("phase"), status.get("attempt"))
            if got != want:
                problems.append(f"{name}: {got}, expected {want}")
        if problems:
            phase.note = f"{len(problems)} tasks not as scripted, e.g. {problems[0]}"
        return problems

    def restart(self, finished: int) -> dict[str, Any]:
        """Restart the operator holding ``finished`` finished tasks: seconds to idle (its initial listing seen and
        its CPU quiet for 1 s), the writes it made meanwhile, and its memory once idle."""
        assert self.operator is not None
        before = rss_mib(self.operator.pid)
        self.stop_operator()
        offset, start = self.cluster.audit_log.stat().st_size, time.monotonic()
        self.start_operator()
        pid, listed = self.operator.pid, 0.0
        profile = self.dir / "profile-restart.txt"
        spy = self.profiler(pid, profile) if self.args.profile else None
        samples: list[tuple[float, float]] = [(time.monotonic(), cpu_seconds(pid))]
        deadline = start + 300
        idle_at = None
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now, cpu = time.monotonic(), cpu_seconds(pid)
            samples.append((now, cpu))
            if not listed and self.watch_events("transcriptiontasks") >= finished:
                listed = now
            older = [s for s in samples if s[0] <= now - 1.0]  # the newest sample at least 1 s old
            if listed and older and older[-1][0] >= listed and cpu - older[-1][1] < 0.05:
                idle_at = older[-1][0]
                break
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
            print(profile_summary(profile, "restart"), flush=True)
        events = audit_events(self.cluster.audit_log, offset, self.cluster.audit_log.stat().st_size)
        writes = {k: v for k, v in requests_by(events, OPERATOR_USER).items() if k.split()[0] in WRITE_VERBS}
        return {
            "finished_tasks": finished,
            "rss_mib_before": round(before, 1),
            "rss_mib_after": round(rss_mib(pid), 1),
            "seconds_to_idle": round(idle_at - start, 2) if idle_at else None,
            "writes": writes,
        }

    def watch_events(self, resource: str) -> float:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return 0.0
        for line in text.splitlines():
            if line.startswith(f'scribe_watch_events_total{{resource="{resource}"}}'):
                return float(line.split()[-1])
        return 0.0

    def run(self) -> dict[str, Any]:
        phases: list[Phase] = []
        restart: dict[str, Any] = {}
        try:
            self.prepare()
            phases.append(self.tasks("tasks", [f"t{i}" for i in range(self.n)]))
            if not self.args.tasks_only:
                phases.append(self.jobs("jobs"))
            if not (self.args.skip_qps100 or self.args.tasks_only):
                log("restarting kube-controller-manager with " + " ".join(QPS100))
                self.cluster.restart("kube-controller-manager", QPS100)
                try:
                    phases.append(self.jobs("jobs-qps100"))
                finally:
                    log("restoring kube-controller-manager's default QPS")
                    self.cluster.restart("kube-controller-manager", [])
            mix = self.tasks("mix", self.mix_names())
            self.check_mix(mix)
            phases.append(mix)
            restart = self.restart(sum(p.terminal for p in phases if p.controller == OPERATOR_USER))
        finally:
            self.cleanup()
        return {
            "n": self.n, "kwok": kwok_version(), "cores": os.cpu_count(), "when": time.strftime("%Y-%m-%d %H:%M UTC"),
            "phases": [{**asdict(p), "per_s": p.per_s} for p in phases], "restart": restart,
        }  # fmt: skip


# --- reporting -----------------------------------------------------------------------------------------------------


def _fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def report(result: dict[str, Any]) -> str:
    phases = [Phase(**{k: v for k, v in p.items() if k != "per_s"}) for p in result["phases"]]
    cols = [p.name for p in phases]
    rows: list[tuple[str, list[str]]] = [
        ("controller", ["operator" if p.controller == OPERATOR_USER else "kube-controller-manager" for p in phases]),
        ("items terminal", [f"{p.terminal}/{p.n}" for p in phases]),
        ("outcomes", [",".join(f"{k}={v}" for k, v in sorted(p.outcomes.items())) for p in phases]),
        ("wall time to all terminal (s)", [_fmt(p.wall_s) for p in phases]),
        ("items/s", [_fmt(p.per_s, 2) for p in phases]),
        ("controller CPU ms per item", [_fmt(p.cpu_s * 1000 / max(p.terminal, 1)) for p in phases]),
        ("controller API requests per item", [_fmt(sum(p.requests.values()) / max(p.terminal, 1), 2) for p in phases]),
        ("  writes per item (with Events)", [_fmt(p.writes() / max(p.terminal, 1), 2) for p in phases]),
        ("  writes per item (without Events)", [_fmt(p.writes(False) / max(p.terminal, 1), 2) for p in phases]),
        ("all API server requests per item", [_fmt(p.apiserver_requests / max(p.terminal, 1), 1) for p in phases]),
    ]
    for metric, label in (
        ("create_to_pod_ms", "created -> pod created"),
        ("terminated_to_status_ms", "pod terminated -> status written"),
    ):
        for q in ("p50", "p99"):
            rows.append((f"{label} {q} (ms)", [_fmt(p.latency_ms.get(metric, {}).get(q), 0) for p in phases]))
    rows.append(("operator RSS after (MiB)", [_fmt(p.rss_mib) for p in phases]))
    keys = sorted({k for p in phases for k in p.requests})
    for k in keys:
        rows.append((f"  {k} /item", [_fmt(p.requests.get(k, 0) / max(p.terminal, 1), 2) for p in phases]))
    width = max(len(r[0]) for r in rows) + 2
    colw = max(14, *(len(c) + 2 for c in cols), *(len(v) + 2 for _, vs in rows for v in vs))
    lines = [f"scale benchmark: N={result['n']}, kwok {result['kwok']}, {result['cores']} cores, {result['when']}"]
    lines.append("".ljust(width) + "".join(c.rjust(colw) for c in cols))
    lines += [label.ljust(width) + "".join(v.rjust(colw) for v in vs) for label, vs in rows]
    by = {p.name: p for p in phases}
    for jobs in ("jobs", "jobs-qps100"):
        if "tasks" in by and jobs in by and by[jobs].per_s:
            lines.append(f"throughput ratio tasks/{jobs}: {by['tasks'].per_s / by[jobs].per_s:.2f}")
            cpu_t = by["tasks"].cpu_s / max(by["tasks"].terminal, 1)
            cpu_j = by[jobs].cpu_s / max(by[jobs].terminal, 1)
            lines.append(f"CPU ratio per item tasks/{jobs}: {cpu_t / cpu_j:.2f}" if cpu_j else "")
    r = result.get("restart") or {}
    if r:
        lines.append(
            f"restart holding {r['finished_tasks']} finished tasks: idle after {_fmt(r['seconds_to_idle'], 2)} s, "
            f"writes {sum(r['writes'].values())} {r['writes'] or ''}, RSS {r['rss_mib_before']} MiB before, "
            f"{r['rss_mib_after']} MiB after"
        )
    lines += [f"note ({p.name}): {p.note}" for p in phases if p.note]
    return "\n".join(lines)


def profile_summary(path: Path, name: str, top: int = 20) -> str:
    """From py-spy's collapsed stacks: where the operator's event loop (its main thread) spent the time it was busy
    (not waiting in select), by the function a sample was in (self) and by every function on its stack (inclusive).
    Other threads (boto3 calls in the default executor, the metrics server) are summed separately."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = idle = threads = 0
    for line in path.read_text().splitlines() if path.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [
            f.split(" (")[0] + " (" + f.rsplit("(", 1)[-1].split(":")[0].rsplit("/", 1)[-1] + ")"
            for f in stack.split(";")
        ]
        n = int(count)
        if not frames[0].startswith("_run_module_as_main"):
            threads += n
            continue
        if frames[-1].split(" ")[0].endswith(".select"):
            idle += n
            continue
        busy += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    if not busy:
        return f"profile ({name}): no samples in {path}"
    lines = [
        f"profile ({name}): event loop busy {busy / 100:.0f} s, idle {idle / 100:.0f} s; other threads "
        f"{threads / 100:.0f} s sampled ({path}); shares of the busy time:",
        "  self:",
    ]
    lines += [f"    {n * 100 / busy:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("  inclusive:")
    lines += [f"    {n * 100 / busy:5.1f}%  {f}" for f, n in inclusive.most_common(top * 3) if n < busy * 0.99]
    return "\n".join(lines)


def chart(results: list[dict[str, Any]], out: Path) -> None:
    results = sorted(results, key=lambda r: r["n"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels = {
        "tasks": "operator (tasks)",
        "jobs": "Job controller, QPS 20/30",
        "jobs-qps100": "Job controller, QPS 100/150",
    }
    for name, label in labels.items():
        pts = [(r["n"], p) for r in results for p in r["phases"] if p["name"] == name]
        if not pts:
            continue
        ns = [n for n, _ in pts]
        (line,) = left.plot(ns, [p["per_s"] for _, p in pts], marker="o", label=label)
        for q, style in (("p50", "-"), ("p99", "--")):
            got = [(p["latency_ms"].get("terminated_to_status_ms") or {}).get(q) for _, p in pts]
            if any(y is not None for y in got):
                ys = [float("nan") if y is None else y for y in got]
                right.plot(ns, ys, style, marker="o", color=line.get_color(), label=f"{label} {q}")
    left.set(xscale="log", xlabel="N items", ylabel="items/s to all terminal", title="Throughput")
    right.set(xscale="log", yscale="log", xlabel="N items", ylabel="ms", title="Pod terminated -> status written")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("scribe-operator vs kube-controller-manager on kwok nodes (2 shared cores)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchscale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="items per phase (default 1000)")
    parser.add_argument(
        "--own-namespaces",
        action="store_true",
        help="the operator watches only the benchmark's namespaces (the smoke test in `make test`)",
    )
    parser.add_argument("--skip-qps100", action="store_true", help="no phase with kube-controller-manager at 100/150")
    parser.add_argument("--tasks-only", action="store_true", help="no Job phases (e.g. with --profile)")
    parser.add_argument("--profile", action="store_true", help="py-spy the operator during its phases (slows it)")
    parser.add_argument(
        "--docs",
        action="store_true",
        help="merge the result into docs/performance-results.json and redraw docs/performance.png",
    )
    parser.add_argument("--chart-only", action="store_true", help="only redraw docs/performance.png from the results")
    args = parser.parse_args(argv)
    store = REPO / "docs" / "performance-results.json"
    if args.chart_only:
        chart(json.loads(store.read_text()), REPO / "docs" / "performance.png")
        return 0
    if not os.environ.get("KUBECONFIG"):
        raise SystemExit("KUBECONFIG is not set: run under `make bench-scale` (it sources .cluster/env)")
    bench = Bench(args)
    result = bench.run()
    (bench.dir / f"scale-{args.n}.json").write_text(json.dumps(result, indent=2))
    print(report(result), flush=True)
    if args.docs:
        saved = json.loads(store.read_text()) if store.exists() else []
        saved = [r for r in saved if r["n"] != args.n] + [result]
        store.write_text(json.dumps(sorted(saved, key=lambda r: r["n"]), indent=1) + "\n")
        chart(saved, REPO / "docs" / "performance.png")
        log(f"wrote {store} and docs/performance.png")
    short = [p for p in result["phases"] if p["terminal"] < p["n"]]
    mix_note = next((p["note"] for p in result["phases"] if p["name"] == "mix" and p["note"]), "")
    if short or mix_note:
        log(f"incomplete: {[p['name'] for p in short]} {mix_note}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
