"""The benchmark's cluster side: what it starts, checks and removes on the local cluster (``make cluster-up``).

- kube-apiserver with its audit log on, kube-controller-manager at its default client QPS (either is restarted so if
  an earlier cluster or a killed run left it otherwise).
- kwok (``.cluster/bin/kwok``), as its own user, playing the kubelet of ``NODES`` tainted Nodes.
- The namespaces of a run (label ``scribe.dev/bench=true``), an S3 bucket with one object (only HEADed), the CRDs.
  Namespaces an earlier run left (a killed run cannot delete its own) are deleted first, and waited for.
- The operator: ``python -m scribe_operator`` as its own user, with the chart's defaults (every namespace, JSON logs,
  no leader election); pid file and log under ``.cluster/bench/``, so one a killed run left is stopped first.

Every wait is bounded and names what it waits for.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import boto3
from botocore.config import Config
from lightkube import Client
from lightkube.codecs import from_dict
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Node
from localcluster import processes
from localcluster.controlplane import Cluster
from localcluster.kubeconfig import write_kubeconfig
from localcluster.pki import ensure_client

from benchscale.apiserver import wait_ready
from benchscale.names import (
    BENCH_LABEL,
    FIELD_MANAGER,
    KWOK_SELECTOR,
    KWOK_USER,
    NODES,
    OPERATOR_USER,
    PHASES,
    REPO,
    node_name,
)
from benchscale.waits import log, wait
from benchscale.workload import kwok_node, kwok_stages, kwok_version
from tests.support.processes import free_port

QPS_FLAGS = ("--kube-api-qps", "--kube-api-burst")
LEFTOVER_TIMEOUT = 600.0
"""Seconds to wait for an earlier run's namespaces to go (the namespace controller deletes 2N objects of each)."""


class BenchCluster:
    def __init__(self, *, own_namespaces: bool) -> None:
        self.cluster = Cluster()
        self.paths = self.cluster.paths
        self.dir = self.paths.root / "bench"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.token = uuid.uuid4().hex[:4]
        self.namespaces = {p: f"bench-{p}-{self.token}" for p in PHASES}
        self.bucket = f"bench-{self.token}"
        self.kube = Client(field_manager=FIELD_MANAGER)
        self.own_namespaces = own_namespaces
        self.operator_pid = 0
        self.health_port = self.metrics_port = 0

    @property
    def audit_log(self) -> Path:
        return self.cluster.audit_log

    # -- the control plane ------------------------------------------------------------------------------------------
    def kubeconfig(self, stem: str, user: str) -> Path:
        ensure_client(self.paths.pki, stem, user, "system:masters")
        path = self.dir / f"{stem}.kubeconfig"
        write_kubeconfig(path, self.cluster.server, self.paths.pki, stem)  # the API server's address (the node's veth)
        return path

    def _cmdline(self, name: str) -> bytes:
        pid = processes.read_pid(self.paths.run / f"{name}.pid")
        return Path(f"/proc/{pid}/cmdline").read_bytes() if pid else b""

    def ensure_audit(self) -> None:
        if b"--audit-log-path" not in self._cmdline("kube-apiserver"):
            log("restarting kube-apiserver with the audit log on (a cluster started before it was)")
            self.cluster.restart("kube-apiserver", [])

    def ensure_default_qps(self) -> None:
        if any(flag.encode() in self._cmdline("kube-controller-manager") for flag in QPS_FLAGS):
            log("restarting kube-controller-manager at its default QPS (an earlier run was killed at QPS 100)")
            self.restart_controller_manager([])

    def restart_controller_manager(self, extra_args: list[str]) -> None:
        self.cluster.restart("kube-controller-manager", extra_args)

    # -- kwok -------------------------------------------------------------------------------------------------------
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
            with contextlib.suppress(ApiError):  # a killed run's node is still there
                self.kube.create(from_dict(kwok_node(i)))

        def ready() -> bool:
            nodes = list(self.kube.list(Node, labels={**KWOK_SELECTOR}))
            return len(nodes) >= NODES and all(
                any(c.type == "Ready" and c.status == "True" for c in (n.status and n.status.conditions) or [])
                for n in nodes
            )

        wait("the kwok nodes Ready", ready, 60, last=lambda: f"log {self.paths.logs / 'kwok.log'}")

    # -- namespaces -------------------------------------------------------------------------------------------------
    def _bench_namespaces(self) -> list[Namespace]:
        return list(self.kube.list(Namespace, labels={**BENCH_LABEL}))

    def _what_is_left(self) -> str:
        """Each namespace still there, with what its conditions say remains in it (pods, finalizers, ...)."""
        said = []
        for ns in self._bench_namespaces():
            conditions = (ns.status.conditions if ns.status else None) or []
            remaining = "; ".join(c.message for c in conditions if c.status == "True" and c.message) or "terminating"
            said.append(f"{ns.metadata.name if ns.metadata else '?'} ({remaining})")
        return ", ".join(said) or "nothing"

    def delete_leftovers(self, timeout: float = LEFTOVER_TIMEOUT) -> None:
        """An earlier run's namespaces (a killed run leaves its own): delete them and wait until they are gone, since
        their objects' deletions would land in this run's numbers (the operator watches every namespace)."""
        left = [ns.metadata.name for ns in self._bench_namespaces() if ns.metadata and ns.metadata.name]
        if not left:
            return
        log(f"deleting the namespaces of earlier runs and waiting for them (at most {timeout:.0f}s): {', '.join(left)}")
        for name in left:
            with contextlib.suppress(ApiError):  # already gone
                self.kube.delete(Namespace, name)
        wait("the namespaces of earlier runs to be deleted", lambda: not self._bench_namespaces(), timeout, 2,
             last=self._what_is_left)  # fmt: skip

    def prepare(self) -> None:
        self.ensure_audit()
        wait_ready()
        self.ensure_default_qps()
        self.start_kwok()  # before the leftovers: it completes the deletion of their pods
        self.delete_leftovers()
        for verb in (["apply", "--server-side", "--force-conflicts"], ["wait", "--for=condition=Established"]):
            subprocess.run(["kubectl", *verb, "-f", str(REPO / "crds")], check=True, capture_output=True, timeout=120)
        s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
        s3.create_bucket(Bucket=self.bucket)
        s3.put_object(Bucket=self.bucket, Key="in.wav", Body=b"RIFF" + bytes(1020))  # only HEADed: no worker runs
        for ns in self.namespaces.values():
            self.kube.create(Namespace(metadata=ObjectMeta(name=ns, labels=dict(BENCH_LABEL))))
        self.start_operator()

    def cleanup(self) -> None:
        """Stop the operator and kwok; delete the namespaces (not waited for: the next run does) and the nodes."""
        self.stop_operator()
        for ns in self.namespaces.values():
            with contextlib.suppress(ApiError):
                self.kube.delete(Namespace, ns)
        for i in range(NODES):
            with contextlib.suppress(ApiError):
                self.kube.delete(Node, node_name(i))
        processes.stop("kwok", run_dir=self.paths.run)

    # -- the operator -----------------------------------------------------------------------------------------------
    @property
    def operator_log(self) -> Path:
        return self.dir / "operator.log"

    def start_operator(self) -> int:
        """Start the operator (stopping one an earlier, killed run left) and wait for its /healthz."""
        self.stop_operator()
        self.health_port, self.metrics_port = free_port(), free_port()
        env = {
            "KUBECONFIG": str(self.kubeconfig("bench-operator", OPERATOR_USER)),
            # the chart's defaults: every namespace, JSON logs, no leader election; MinIO wants path-style URLs
            "SCRIBE_NAMESPACES": ",".join(self.namespaces.values()) if self.own_namespaces else "",
            "SCRIBE_LOG_FORMAT": "json",
            "SCRIBE_LEADER_ELECTION": "false",
            "SCRIBE_S3_ADDRESSING_STYLE": "path",
            "SCRIBE_HEALTH_PORT": str(self.health_port),
            "SCRIBE_METRICS_PORT": str(self.metrics_port),
        }
        pid = processes.start("operator", [sys.executable, "-m", "scribe_operator"], run_dir=self.dir,
                              log_dir=self.dir, env=env, cwd=REPO)  # fmt: skip
        self.operator_pid = pid

        def healthy() -> bool:
            if not processes.alive(pid):
                raise SystemExit(f"the operator exited; see its log {self.operator_log}")
            return self._get_ok(f"http://127.0.0.1:{self.health_port}/healthz")

        wait("the operator's /healthz", healthy, 60, 0.1, last=lambda: f"log {self.operator_log}")
        return pid

    @staticmethod
    def _get_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop_operator(self) -> None:
        """SIGTERM, SIGKILL after 30 s (its pid file under .cluster/bench/)."""
        processes.stop("operator", run_dir=self.dir, grace=30)
        self.operator_pid = 0

    @staticmethod
    def profiler(pid: int, out: Path) -> subprocess.Popen[bytes]:
        """py-spy sampling the operator (100 Hz, every thread, idle excluded) into collapsed stacks at ``out``."""
        spy = Path(sys.executable).parent / "py-spy"
        argv = [str(spy), "record", "--pid", str(pid), "--rate", "100", "--format", "raw", "--output", str(out)]
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @staticmethod
    def stop_profiler(spy: subprocess.Popen[bytes]) -> None:
        """SIGINT: py-spy writes its samples when interrupted (at most 60 s, then it is killed)."""
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(timeout=10)
