"""Bring the local cluster up and down: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, MinIO,
and the node (containerd, runc, kubelet, kube-proxy in the node's own network namespace: `localcluster.node`), on
free ports, each waited on until healthy. The API server and MinIO listen on the host's end of the node's veth
(10.250.N.1), so that pods reach them; etcd and the controllers' health ports stay on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import shlex
import socket
import ssl
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import processes
from .kubeconfig import write_kubeconfig
from .node import DAEMONS, Node
from .paths import NODE_NAME, REPO, ClusterPaths
from .pki import ensure_pki

PORT_NAMES = ("etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler", "minio", "minio_console")
# start order; stop is the reverse
CONTROL_PLANE = ("etcd", "minio", "kube-apiserver", "kube-controller-manager", "kube-scheduler")


TOOLS = ("operator", "kwok")
"""Processes started on top of the cluster (`make dev`'s operator, the scale benchmark's kwok): stopped first."""
# Every request at Metadata level (who, verb, resource, name, times; no bodies) in .cluster/logs/audit.log: the
# scale benchmark counts each controller's requests from it. Node heartbeats and Lease renewals are left out.
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  resources: [{group: coordination.k8s.io, resources: [leases]}]
- level: None
  verbs: [get]
  resources: [{group: "", resources: [nodes, nodes/status]}]
- level: Metadata
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class State:
    ports: dict[str, int]
    minio_user: str
    minio_password: str

    @classmethod
    def load_or_create(cls, paths: ClusterPaths) -> State:
        if paths.state.exists():
            raw = json.loads(paths.state.read_text())
            return cls(raw["ports"], raw["minio_user"], raw["minio_password"])
        state = cls({n: _free_port() for n in PORT_NAMES}, "scribe-admin", secrets.token_hex(16))
        paths.root.mkdir(parents=True, exist_ok=True)
        paths.state.write_text(json.dumps(state.__dict__, indent=2))
        paths.state.chmod(0o600)
        return state


class Cluster:
    def __init__(self, paths: ClusterPaths | None = None) -> None:
        self.paths = paths or ClusterPaths.default()
        self.extra_args: dict[str, list[str]] = {}
        """Flags added to a component's command line when it is (re)started: see ``restart``."""
        self.node = Node(self.paths.root, self.paths.bin, NODE_NAME)
        self.host = self.node.net.host_ip  # where the API server and MinIO listen: the node's veth (pods reach it)

    def _url_on_host(self, scheme: str, port: str) -> str:
        """``scheme``://the node's veth address:the port named ``port`` in the cluster's state (see PORT_NAMES)."""
        return f"{scheme}://{self.host}:{State.load_or_create(self.paths).ports[port]}"

    @property
    def server(self) -> str:
        return self._url_on_host("https", "apiserver")

    @property
    def s3_endpoint(self) -> str:
        return self._url_on_host("http", "minio")

    # -- helpers ---------------------------------------------------------------------------------
    def _bin(self, name: str) -> str:
        path = self.paths.bin / name
        if not path.exists():
            raise SystemExit(f"{path} is missing: run hack/build-binaries.sh (make binaries) first")
        return str(path)

    def _tls(self, client: bool = True, verify: bool = True) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.paths.pki / "ca.crt"))
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if client:
            ctx.load_cert_chain(str(self.paths.pki / "admin.crt"), str(self.paths.pki / "admin.key"))
        return ctx

    def _get(self, url: str, ctx: ssl.SSLContext | None = None) -> tuple[int, bytes]:
        with urllib.request.urlopen(url, timeout=3, context=ctx) as resp:
            return int(resp.status), bytes(resp.read())

    def _ok(self, url: str, ctx: ssl.SSLContext | None = None) -> bool:
        return self._get(url, ctx)[0] == 200

    def _log(self, name: str) -> Path:
        return self.paths.logs / f"{name}.log"

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        argv = [*argv, *self.extra_args.get(name, [])]
        processes.start(name, argv, run_dir=self.paths.run, log_dir=self.paths.logs, env=env, cwd=REPO)

    def _component(
        self,
        name: str,
        flags: list[str],
        healthy: Callable[[], bool],
        timeout: float,
        env: dict[str, str] | None = None,
    ) -> None:
        """Start component ``name`` (its binary in .cluster/bin, with ``flags``) and wait up to ``timeout`` seconds
        until ``healthy()``; on timeout the error carries the tail of its log."""
        self._start(name, [self._bin(name), *flags], env=env)
        processes.wait_for(name, healthy, timeout, self._log(name))

    @property
    def audit_log(self) -> Path:
        return self._log("audit")

    # -- components ------------------------------------------------------------------------------
    def _etcd(self, st: State) -> None:
        p = st.ports
        self._component(
            "etcd",
            [
                "--name=local",
                f"--data-dir={self.paths.data / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{p['etcd']}",
                f"--advertise-client-urls=http://127.0.0.1:{p['etcd']}",
                f"--listen-peer-urls=http://127.0.0.1:{p['etcd_peer']}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{p['etcd_peer']}",
                f"--initial-cluster=local=http://127.0.0.1:{p['etcd_peer']}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            lambda: b'"true"' in self._get(f"http://127.0.0.1:{p['etcd']}/health")[1],
            60,
        )

    def _minio(self, st: State) -> None:
        p = st.ports
        self._component(
            "minio",
            [
                "server",
                str(self.paths.data / "minio"),
                f"--address={self.host}:{p['minio']}",
                f"--console-address={self.host}:{p['minio_console']}",
                "--quiet",
            ],
            lambda: self._ok(f"{self.s3_endpoint}/minio/health/live"),
            60,
            env={"MINIO_ROOT_USER": st.minio_user, "MINIO_ROOT_PASSWORD": st.minio_password},
        )

    def _apiserver(self, st: State) -> None:
        p, pki = st.ports, self.paths.pki
        self._component(
            "kube-apiserver",
            [
                f"--etcd-servers=http://127.0.0.1:{p['etcd']}",
                f"--bind-address={self.host}",
                f"--advertise-address={self.host}",
                f"--secure-port={p['apiserver']}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                "--authorization-mode=Node,RBAC",
                "--anonymous-auth=false",
                "--enable-admission-plugins=PodSecurity,NodeRestriction",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--service-cluster-ip-range=10.96.0.0/16",
                "--allow-privileged=true",
                # the `kubernetes` Service's endpoint is this address (pods reach it through kube-proxy)
                "--endpoint-reconciler-type=lease",
                f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
                "--kubelet-preferred-address-types=InternalIP,Hostname",  # `kubectl logs` reaches the node's IP
                f"--audit-policy-file={self.paths.root / 'audit-policy.yaml'}",
                f"--audit-log-path={self.audit_log}",
                "--audit-log-format=json",
                "--audit-log-maxsize=2048",
                "--audit-log-maxbackup=1",
                "--v=1",
            ],
            lambda: self._ok(f"{self.server}/readyz", self._tls()),
            90,
        )

    def _secure_component(self, name: str, port: int, kubeconfig: Path, flags: list[str]) -> None:
        """Start a component that authenticates with ``kubeconfig`` and serves HTTPS health on 127.0.0.1:``port``
        (kube-controller-manager, kube-scheduler), its own ``flags`` after the shared ones; wait until it is healthy."""
        url = f"https://127.0.0.1:{port}/healthz"
        self._component(
            name,
            [
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={port}",
                "--leader-elect=false",
                *flags,
                "--v=1",
            ],
            lambda: self._ok(url, self._tls(client=False, verify=False)),
            60,
        )

    def _controller_manager(self, st: State) -> None:
        pki = self.paths.pki
        self._secure_component(
            "kube-controller-manager",
            st.ports["controller_manager"],
            self.paths.root / "controller-manager.kubeconfig",
            [
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                "--use-service-account-credentials=true",
                "--controllers=*",
            ],
        )

    def _scheduler(self, st: State) -> None:
        self._secure_component("kube-scheduler", st.ports["scheduler"], self.paths.root / "scheduler.kubeconfig", [])

    def _default_service_account(self) -> None:
        sa_url = f"{self.server}/api/v1/namespaces/default/serviceaccounts/default"
        processes.wait_for("the default ServiceAccount", lambda: self._ok(sa_url, self._tls()), 60)

    # -- public ----------------------------------------------------------------------------------
    def up(self) -> None:
        started = time.monotonic()
        st = State.load_or_create(self.paths)
        for d in (self.paths.logs, self.paths.run, self.paths.data):
            d.mkdir(parents=True, exist_ok=True)
        self.node.network_up()
        ensure_pki(self.paths.pki, (self.host,))
        (self.paths.root / "audit-policy.yaml").write_text(AUDIT_POLICY)
        server = self.server
        write_kubeconfig(self.paths.kubeconfig, server, self.paths.pki, "admin")
        for user in ("controller-manager", "scheduler"):
            write_kubeconfig(self.paths.root / f"{user}.kubeconfig", server, self.paths.pki, user)
        self._etcd(st)
        self._minio(st)
        self._apiserver(st)
        self._controller_manager(st)
        self._scheduler(st)
        self.node.up(server, lambda path: self._get(f"{server}{path}", self._tls())[1])
        self._default_service_account()
        self.write_env(st)
        print(f"local cluster healthy in {time.monotonic() - started:.1f}s; source {self.paths.env}")

    def write_env(self, st: State) -> None:
        """Write .cluster/env: the kubeconfig, MinIO's address and credentials, and a PATH with kubectl, helm and
        the ``kubectl scribe`` plugin (``.cluster/bin/kubectl-scribe``, a link to the project venv's entry point;
        the rest of the venv stays off PATH)."""
        tools = self.paths.root / "bin"
        tools.mkdir(parents=True, exist_ok=True)
        plugin, target = tools / "kubectl-scribe", Path(sys.prefix) / "bin" / "kubectl-scribe"
        if plugin.is_symlink() or plugin.exists():
            plugin.unlink()
        plugin.symlink_to(target)
        images = self.node.images
        lines = {
            "KUBECONFIG": str(self.paths.kubeconfig),
            "PATH": f"{tools}:{self.paths.bin}:$PATH",
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": st.minio_user,
            "AWS_SECRET_ACCESS_KEY": st.minio_password,
            "AWS_REGION": "us-east-1",
            # the images `make images` builds and loads into the node (tags: hashes of their inputs)
            "SCRIBE_WORKER_IMAGE": images.ref("worker"),
            "SCRIBE_OPERATOR_IMAGE": images.ref("operator"),
            "SCRIBE_TEST_SHELL_IMAGE": images.ref("busybox"),
            "SCRIBE_TEST_KUBECTL_IMAGE": images.ref("kubectl"),
            "SCRIBE_TEST_STALL_WORKER_IMAGE": images.ref("stall-worker"),
        }
        text = "".join(
            f'export {k}="{v}"\n' if k == "PATH" else f"export {k}={shlex.quote(v)}\n" for k, v in lines.items()
        )
        self.paths.env.write_text("# written by `make cluster-up`; source it\n" + text)
        self.paths.env.chmod(0o600)

    def operator_start(self) -> None:
        """Run the operator as a local process against this cluster (for `make dev`); idempotent."""
        if processes.read_pid(self.paths.run / "operator.pid") is not None:
            print("operator already running")
            return
        st = State.load_or_create(self.paths)
        env = {
            "KUBECONFIG": str(self.paths.kubeconfig),
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": st.minio_user,
            "AWS_SECRET_ACCESS_KEY": st.minio_password,
            "AWS_REGION": "us-east-1",
            "SCRIBE_S3_ADDRESSING_STYLE": "path",
            "SCRIBE_HEALTH_PORT": str(_free_port()),
            "SCRIBE_METRICS_PORT": str(_free_port()),
            "SCRIBE_LOG_FORMAT": "text",
            "SCRIBE_NAMESPACES": "scribe-demo",  # the demo's namespace only: never the tests' tasks
            "SCRIBE_WORKER_IMAGE": self.node.images.ref("worker"),  # built and loaded by `make images`
        }
        self._start("operator", [sys.executable, "-m", "scribe_operator"], env=env)
        url = f"http://127.0.0.1:{env['SCRIBE_HEALTH_PORT']}/healthz"
        processes.wait_for("the operator", lambda: self._ok(url), 60, self._log("operator"))
        print(f"operator running (log: {self._log('operator')})")

    def operator_stop(self) -> None:
        processes.stop("operator", run_dir=self.paths.run)

    def restart(self, name: str, extra_args: list[str]) -> None:
        """Stop component ``name`` and start it again with ``extra_args`` added to its flags (``[]``: as `up` starts
        it), waiting until it is healthy: e.g. kube-controller-manager with other client QPS for the benchmark."""
        starters = {"kube-apiserver": self._apiserver, "kube-controller-manager": self._controller_manager}
        processes.stop(name, run_dir=self.paths.run)
        self.extra_args[name] = list(extra_args)
        starters[name](State.load_or_create(self.paths))

    def images(self) -> None:
        """Build (when their inputs changed) and load the node's images (`make images`)."""
        self.node.images.load(["busybox", "kubectl", "operator", "worker", "stall-worker"])

    def down(self) -> None:
        for name in TOOLS:
            processes.stop(name, run_dir=self.paths.run)
        self.node.down()
        for name in reversed(CONTROL_PLANE):
            processes.stop(name, run_dir=self.paths.run)
        self.node.network_down()
        print("local cluster stopped")

    def leftovers(self) -> list[str]:
        """What `down` should have removed and did not: a non-empty list makes `localcluster check-clean` fail."""
        names = (*CONTROL_PLANE, *TOOLS)
        left = [f"process {n}" for n in names if processes.read_pid(self.paths.run / f"{n}.pid") is not None]
        return left + self.node.leftovers()

    def status(self) -> dict[str, bool]:
        names = (*CONTROL_PLANE, *DAEMONS)
        return {n: processes.read_pid(self.paths.run / f"{n}.pid") is not None for n in names}
