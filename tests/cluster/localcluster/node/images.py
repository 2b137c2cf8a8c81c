"""The node's images, built on this machine with buildah and loaded into the node's containerd (`make images`).

| image | built from |
|---|---|
| `localhost/pause` | the static `pause` binary (hack/pause): every pod's sandbox container |
| `localhost/busybox` | Debian's static busybox (the tests' shell image) |
| `localhost/kubectl` | the kubectl built for the local cluster, FROM scratch (entrypoint `kubectl`) |
| `localhost/debian-python` | `mmdebstrap` Debian bookworm with python3, venv and pip (the Dockerfiles' base) |
| `localhost/scribe-operator` | operator/Dockerfile, `--build-arg PYTHON_IMAGE=<that base>` |
| `localhost/scribe-worker` | worker-image/Dockerfile, the same base |
| `localhost/scribe-stall-worker` | that worker image with tests/support/stallworker.py as its entrypoint (tests) |

Each tag is a hash of the image's inputs (files, base, binaries), so an image is rebuilt only when one of them
changes, and a tag names one build. A Dockerfile's files are the Dockerfile, its `.dockerignore` and what that
sends as the build context (the operator image: the operator and the contract package; the worker image: the
worker and the contract package), so a change to the worker's sources does not rebuild the operator image.
`SCRIBE_PYTHON_IMAGE` names another base for the two Dockerfiles (e.g. the default `python:3.11-slim-bookworm`
where a registry is reachable). The buildah store lives in the cache
(`~/.cache/scribe-operator/containers`), not in the machine's, so `make cluster-clean` keeps the builds. The
host's CA bundle and pip configuration are mounted read-only into the build (pip trusts what the host trusts);
neither is copied into an image.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import resource
import shutil
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..paths import REPO, cache_dir
from . import containerd
from .layout import NodeLayout

BASE_SUITE = "bookworm"
BASE_PACKAGES = "python3,python3-venv,python3-pip,python-is-python3,ca-certificates"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = Path("/bin/busybox")
STALL_WORKER = REPO / "tests" / "support" / "stallworker.py"


def _log(msg: str) -> None:
    print(f"[images] {msg}", file=sys.stderr, flush=True)


def _digest(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:12]


def context_paths(dockerfile: str) -> list[str]:
    """What the build context of ``dockerfile`` sends: the paths its ``<Dockerfile>.dockerignore`` re-includes
    (``!path``) after excluding everything, so the image's tag follows exactly the files the image is built from."""
    ignore = (REPO / f"{dockerfile}.dockerignore").read_text().splitlines()
    return [line[1:].rstrip("/") for line in ignore if line.startswith("!")]


def _tracked(paths: Iterable[str]) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *paths],
        cwd=REPO, check=True, capture_output=True,
    ).stdout  # fmt: skip
    return sorted(REPO / p for p in set(out.decode().split("\0")) if p and (REPO / p).is_file())


@dataclass(frozen=True)
class Spec:
    repository: str
    inputs: Callable[[], list[bytes]]
    build: Callable[[str], None]


class Images:
    def __init__(self, layout: NodeLayout, bin_dir: Path) -> None:
        self.layout = layout
        self.bin = bin_dir
        self.store = cache_dir() / "containers"
        self.specs: dict[str, Spec] = {
            "pause": Spec("localhost/pause", lambda: [self._file(bin_dir / "pause")], self._build_pause),
            "busybox": Spec("localhost/busybox", lambda: [self._file(BUSYBOX)], self._build_busybox),
            "kubectl": Spec("localhost/kubectl", lambda: [self._file(bin_dir / "kubectl")], self._build_kubectl),
            "base": Spec(
                "localhost/debian-python", lambda: [BASE_SUITE.encode(), BASE_PACKAGES.encode()], self._build_base
            ),
            "operator": Spec(
                "localhost/scribe-operator",
                lambda: self._context("operator/Dockerfile"),
                lambda ref: self._build_dockerfile("operator/Dockerfile", ref),
            ),
            "stall-worker": Spec(
                "localhost/scribe-stall-worker",
                lambda: [self.ref("worker").encode(), self._file(STALL_WORKER)],
                self._build_stall_worker,
            ),
            "worker": Spec(
                "localhost/scribe-worker",
                lambda: self._context("worker-image/Dockerfile"),
                lambda ref: self._build_dockerfile("worker-image/Dockerfile", ref),
            ),
        }

    # -- names -------------------------------------------------------------------------------------
    @staticmethod
    def _file(path: Path) -> bytes:
        if not path.exists():
            raise SystemExit(f"{path} is missing (make binaries; make system-deps)")
        return path.read_bytes()

    def _base_ref(self) -> str:
        return os.environ.get("SCRIBE_PYTHON_IMAGE") or self.ref("base")

    def _context(self, dockerfile: str) -> list[bytes]:
        files = [REPO / dockerfile, REPO / f"{dockerfile}.dockerignore", *_tracked(context_paths(dockerfile))]
        return [self._base_ref().encode()] + [str(f.relative_to(REPO)).encode() + f.read_bytes() for f in files]

    def ref(self, name: str) -> str:
        spec = self.specs[name]
        return f"{spec.repository}:{_digest(spec.inputs())}"

    # -- buildah -----------------------------------------------------------------------------------
    def _conf(self) -> Path:
        """containers.conf for this store: rlimits no higher than this process's (no CAP_SYS_RESOURCE here)."""
        path = self.store / "containers.conf"
        self.store.mkdir(parents=True, exist_ok=True)
        path.write_text(f"[containers]\ndefault_ulimits = {json.dumps(self._ulimits())}\n")
        return path

    @staticmethod
    def _ulimits() -> list[str]:
        nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 20000)
        nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 8192)
        return [f"nofile={nofile}:{nofile}", f"nproc={nproc}:{nproc}"]

    def buildah(self, *args: str, capture: bool = True) -> str:
        argv = ["buildah", f"--root={self.store / 'storage'}", f"--runroot={self.store / 'run'}",
                "--storage-driver=overlay", *args]  # fmt: skip
        env = {**os.environ, "CONTAINERS_CONF": str(self._conf()), "BUILDAH_ISOLATION": "oci"}
        proc = subprocess.run(argv, env=env, text=True, capture_output=capture, cwd=REPO, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stderr or ''}")
        return proc.stdout or ""

    def built(self, ref: str) -> bool:
        try:
            self.buildah("inspect", "--type=image", ref)
        except RuntimeError:
            return False
        return True

    def _from_scratch(self, ref: str, files: dict[str, Path], entrypoint: str, env: dict[str, str]) -> None:
        ctr = self.buildah("from", "scratch").strip()
        try:
            for dest, src in files.items():
                self.buildah("copy", ctr, str(src), dest)
            config = [f"--entrypoint={entrypoint}", "--cmd="]
            config += [f"--env={k}={v}" for k, v in env.items()]
            self.buildah("config", *config, ctr)
            self.buildah("commit", "--rm", ctr, ref)
        except BaseException:
            self.buildah("rm", ctr)
            raise

    def _build_pause(self, ref: str) -> None:
        self._from_scratch(ref, {"/pause": self.bin / "pause"}, '["/pause"]', {})

    def _build_kubectl(self, ref: str) -> None:
        self._from_scratch(ref, {"/bin/kubectl": self.bin / "kubectl"}, '["/bin/kubectl"]', {"PATH": "/bin"})

    def _build_stall_worker(self, ref: str) -> None:
        """The worker image with tests/support/stallworker.py as its entrypoint (a worker that reports progress
        once, then hangs: test tooling)."""
        self.ensure(["worker"])
        ctr = self.buildah("from", "--pull=false", self.ref("worker")).strip()
        try:
            self.buildah("copy", ctr, str(STALL_WORKER), "/opt/stallworker.py")
            self.buildah("config", '--entrypoint=["python", "/opt/stallworker.py"]', "--cmd=", ctr)
            self.buildah("commit", "--rm", ctr, ref)
        except BaseException:
            self.buildah("rm", ctr)
            raise

    def _build_busybox(self, ref: str) -> None:
        applets = subprocess.run([str(BUSYBOX), "--list"], check=True, capture_output=True, text=True).stdout.split()
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "bin").mkdir()
            (root / "tmp").mkdir(mode=0o1777)
            (root / "tmp").chmod(0o1777)
            shutil.copy2(BUSYBOX, root / "bin" / "busybox")
            for applet in applets:
                if applet != "busybox":
                    (root / "bin" / applet).symlink_to("busybox")
            self._from_scratch(ref, {"/": root}, '["/bin/sh"]', {"PATH": "/bin"})

    def _build_base(self, ref: str) -> None:
        sources = "/etc/apt/sources.list.d/debian.sources"
        mirror = [sources] if Path(sources).exists() else []
        with tempfile.TemporaryDirectory(dir=self.store) as tmp:
            rootfs = Path(tmp) / "rootfs.tar"
            _log(f"mmdebstrap {BASE_SUITE} with {BASE_PACKAGES} (about 2 min)")
            subprocess.run(
                ["mmdebstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", BASE_SUITE, str(rootfs), *mirror],
                check=True, stdin=subprocess.DEVNULL, capture_output=True,
            )  # fmt: skip
            ctr = self.buildah("from", "scratch").strip()
            self.buildah("add", ctr, str(rootfs), "/")
            self.buildah("config", f"--env=PATH={BASE_PATH}", "--cmd=python3", ctr)
            self.buildah("commit", "--rm", ctr, ref)

    def _pip_conf(self) -> Path:
        """pip.conf for the build: the host's (if any) with `cert` set to the host's CA bundle."""
        parser = configparser.ConfigParser()
        parser.read("/etc/pip.conf")
        if not parser.has_section("global"):
            parser.add_section("global")
        parser.set("global", "cert", self._ca_bundle())
        path = self.store / "pip.conf"
        with path.open("w") as f:
            parser.write(f)
        return path

    @staticmethod
    def _ca_bundle() -> str:
        bundle = os.environ.get("SSL_CERT_FILE") or ssl.get_default_verify_paths().cafile
        return bundle or "/etc/ssl/certs/ca-certificates.crt"

    def _build_dockerfile(self, dockerfile: str, ref: str) -> None:
        base = self._base_ref()
        if not os.environ.get("SCRIBE_PYTHON_IMAGE"):
            self.ensure(["base"])
        bundle = self._ca_bundle()
        self.buildah(
            "bud", "--network=host", "--pull=false", "--layers", f"--build-arg=PYTHON_IMAGE={base}",
            *(f"--ulimit={u}" for u in self._ulimits()),
            f"--volume={bundle}:{bundle}:ro", f"--volume={self._pip_conf()}:/etc/pip.conf:ro",
            "-f", dockerfile, "-t", ref, ".",
        )  # fmt: skip

    # -- public ------------------------------------------------------------------------------------
    def ensure(self, names: Iterable[str]) -> None:
        """Build each image unless its tag (a hash of its inputs) is already in the store."""
        for name in names:
            ref = self.ref(name)
            if not self.built(ref):
                _log(f"building {ref}")
                self.specs[name].build(ref)

    def loaded(self) -> set[str]:
        return set(containerd.ctr(self.layout, "images", "ls", "-q").stdout.split())

    def load(self, names: Iterable[str]) -> None:
        """Build (when needed) and import each image into the node's containerd, unless it is there."""
        names = list(names)
        self.ensure(names)
        have = self.loaded()
        for name in names:
            ref = self.ref(name)
            if ref in have:
                continue
            with tempfile.TemporaryDirectory(dir=self.store) as tmp:
                archive = Path(tmp) / "image.tar"
                self.buildah("push", ref, f"docker-archive:{archive}:{ref}")
                containerd.ctr(self.layout, "images", "import", str(archive))
            _log(f"loaded {ref} into the node's containerd")
