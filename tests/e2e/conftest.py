"""End-to-end fixtures: the CRD, one operator for the whole session, S3 buckets, speech samples.

The operator runs as a local process (``python -m scribe_operator``) against the cluster KUBECONFIG names, with its
liveness endpoint on a free port. It watches exactly this session's test namespaces (SCRIBE_NAMESPACES): each test's
namespace name is derived from the session and the test id, so the whole list is known when the operator starts, and
another operator (a second test session, `make dev`'s) never reconciles this session's tasks, nor this one theirs.
Its log goes to a file; a failing test shows the lines the operator logged while it ran.

``SCRIBE_E2E_EXTERNAL_OPERATOR=1``: the operator is already deployed in the cluster (e.g. by Helm) and no process is
started; the CRD must then be installed already. Tests that kill and restart the operator are marked
``local_operator``; deselect them in that mode with ``-m "not local_operator"`` (run there, they fail with a message
saying so).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.fixtures.speech import FOX, speech_wav
from tests.support.fixtures import delete_namespace
from tests.support.helm import helm_binary
from tests.support.processes import free_port as _free_port
from tests.support.processes import terminate
from tests.support.s3 import S3Settings
from tests.support.wait import wait_for

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REPO = Path(__file__).resolve().parents[2]
CRD_NAME = "transcriptiontasks.scribe.dev"
EXTERNAL = os.environ.get("SCRIBE_E2E_EXTERNAL_OPERATOR") == "1"
SESSION_TOKEN = uuid.uuid4().hex[:4]
NAMESPACE_PREFIX = f"e2e{SESSION_TOKEN}"
"""Every e2e namespace of this session starts with this."""

LOG_TAIL_LINES = 120
_NOISE = re.compile(r"Handler '[\w.]+' succeeded\.|GET /healthz")
"""kopf's per-event success lines and liveness probes, left out of the log tail shown on failure."""
_OPERATOR = pytest.StashKey["Operator"]()
_LOG_OFFSET = pytest.StashKey[int]()


# --- the operator -----------------------------------------------------------------------------------------------


class Operator:
    """The operator under test as a local process: ``start()``, ``kill()`` (SIGKILL), ``restart()``."""

    external = False

    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self.env = env
        self.health_port = int(env["SCRIBE_HEALTH_PORT"])
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start the process and wait until its liveness endpoint answers."""
        assert not self.running, "the operator is already running"
        self.starts += 1
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== operator start #{self.starts} =====\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scribe_operator"],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C to pytest is not also delivered to the operator
        )
        url = f"http://127.0.0.1:{self.health_port}/healthz"

        def healthy() -> bool:
            if not self.running:
                pytest.fail(f"the operator exited with {self.returncode} while starting:\n{self.log_tail()}")
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)

        try:
            wait_for(f"the operator's liveness endpoint {url}", healthy, timeout=timeout, interval=0.2)
        except AssertionError as exc:
            pytest.fail(f"{exc}\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no last status write; as a node failure or OOM kill does it."""
        assert self.process is not None and self.running, "the operator is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_log()

    def restart(self) -> None:
        if self.running:
            self.kill()
        self.start()

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it does not exit in time."""
        if self.process is not None and self.running:
            terminate(self.process, grace=20)
        self._close_log()

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def require_local(self) -> None:
        """For tests that kill or restart the operator: a no-op here, a clear failure for an external operator."""

    def ensure_running(self) -> None:
        """Before a test: a crashed operator is a failure (with its log), not a silent restart."""
        if not self.running:
            pytest.fail(f"the operator is not running (exit code {self.returncode}):\n{self.log_tail()}")

    def log_offset(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(no operator log)"
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", errors="replace")
        tail = [line for line in text.splitlines() if not _NOISE.search(line)][-lines:]
        return f"--- operator log ({self.log_path}), last {len(tail)} lines ---\n" + "\n".join(tail)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class ExternalOperator(Operator):
    """The operator runs in the cluster (SCRIBE_E2E_EXTERNAL_OPERATOR=1): nothing to start, nothing to kill."""

    external = True

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"), {"SCRIBE_HEALTH_PORT": "0"})

    @property
    def running(self) -> bool:
        return True

    def start(self, timeout: float = 60) -> None:
        return None

    def kill(self) -> None:
        pytest.fail(
            "SCRIBE_E2E_EXTERNAL_OPERATOR=1: the operator runs in the cluster and the tests cannot kill it; "
            'tests marked local_operator need the operator process the tests start (deselect: -m "not local_operator")',
            pytrace=False,
        )

    def restart(self) -> None:
        self.kill()

    def require_local(self) -> None:
        self.kill()

    def stop(self) -> None:
        return None

    def log_tail(self, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        return "(the operator runs in the cluster: read its pod's logs)"


def _kubectl(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=timeout, check=False)


def _apply_progress_policy() -> None:
    """The chart's ValidatingAdmissionPolicy that narrows the workers' progress credential, as `helm install` would
    create it (the operator these tests start gives workers that credential)."""
    rendered = subprocess.run(
        [helm_binary(), "template", "scribe-operator", str(REPO / "charts" / "scribe-operator"),
         "--show-only", "templates/worker-progress-policy.yaml"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert rendered.returncode == 0, f"helm template failed:\n{rendered.stderr}"
    applied = subprocess.run(
        ["kubectl", "apply", "--server-side", "--force-conflicts", "-f", "-"],
        input=rendered.stdout, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert applied.returncode == 0, f"applying the worker progress policy failed:\n{applied.stderr}"


@pytest.fixture(scope="session")
def crd(kube: Client) -> str:
    """The CRDs in crds/ (TranscriptionTask and what else the operator watches), applied unless the operator is
    external (then they must be installed already), and Established."""
    if not EXTERNAL:
        applied = _kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
        assert applied.returncode == 0, f"kubectl apply -f crds/ failed:\n{applied.stderr}"
        _apply_progress_policy()
    waited = _kubectl("wait", "--for=condition=Established", "-f", str(REPO / "crds"), "--timeout=60s")
    assert waited.returncode == 0, f"the CRDs in crds/ are not Established:\n{waited.stdout}{waited.stderr}"
    return CRD_NAME


@pytest.fixture(scope="session")
def operator(
    crd: str, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config, request: pytest.FixtureRequest
) -> Iterator[Operator]:
    """One operator for the whole session (see the module docstring)."""
    if EXTERNAL:
        op: Operator = ExternalOperator()
    else:
        watched = [
            namespace_for(item)
            for item in request.session.items
            if {"operator", "namespace"} <= set(getattr(item, "fixturenames", ()))
        ]
        env = dict(os.environ)
        env.setdefault("SCRIBE_S3_ADDRESSING_STYLE", "path")  # MinIO; a user's S3 may say otherwise
        env.setdefault("SCRIBE_LOG_FORMAT", "text")
        env.setdefault("SCRIBE_PROGRESS_REPORTING", "true")  # the crd fixture installed the chart's progress policy
        env.update(
            SCRIBE_NAMESPACES=",".join(watched),
            SCRIBE_HEALTH_PORT=str(_free_port()),
            SCRIBE_METRICS_PORT=str(_free_port()),
            PYTHONUNBUFFERED="1",
        )
        op = Operator(tmp_path_factory.mktemp("operator") / "operator.log", env)
    pytestconfig.stash[_OPERATOR] = op
    op.start()
    yield op
    op.stop()
    del pytestconfig.stash[_OPERATOR]


@pytest.fixture(autouse=True)
def _operator_log_window(request: pytest.FixtureRequest) -> None:
    """Remember where the operator's log stood when the test began, for the failure report."""
    if "operator" in request.fixturenames:
        op: Operator = request.getfixturevalue("operator")
        op.ensure_running()
        request.node.stash[_LOG_OFFSET] = op.log_offset()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    op = item.config.stash.get(_OPERATOR, None)
    if report.failed and op is not None and "operator" in getattr(item, "fixturenames", ()):
        report.sections.append(("operator log", op.log_tail(since=item.stash.get(_LOG_OFFSET, 0))))
    return report


# --- namespaces, buckets, audio -----------------------------------------------------------------------------------


def namespace_for(item: pytest.Item) -> str:
    """The namespace of ``item``: ``e2e<session token>-<test name>-<hash of the test id>``, a valid DNS label."""
    slug = re.sub(r"[^a-z0-9]+", "-", item.name.lower()).strip("-")
    digest = hashlib.sha256(item.nodeid.encode()).hexdigest()[:6]
    return f"{f'{NAMESPACE_PREFIX}-{slug}'[:55].rstrip('-')}-{digest}"


@pytest.fixture
def namespace(kube: Client, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards; the operator started by these tests watches exactly these.

    It enforces the `restricted` Pod Security Standard, so every worker pod the operator makes must pass it.
    """
    name = namespace_for(request.node)
    labels = {"scribe.dev/test": "true", "pod-security.kubernetes.io/enforce": "restricted"}
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels=labels)))
    yield name
    delete_namespace(kube, name)


@pytest.fixture(scope="session")
def s3() -> S3Client:
    try:
        return S3Settings.from_env().client()
    except LookupError as exc:
        pytest.fail(f"S3 is not configured: {exc} unset (source .cluster/env or set AWS_*)", pytrace=False)


class Buckets:
    """Unique bucket names for one test; every bucket it created (or that appeared under a reserved name) is
    emptied and deleted afterwards."""

    def __init__(self, s3: S3Client) -> None:
        self.s3 = s3
        self.names: list[str] = []

    def reserve(self) -> str:
        """A unique name for a bucket that does not exist (yet)."""
        name = f"scribe-e2e-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        return name

    def create(self) -> str:
        name = self.reserve()
        self.s3.create_bucket(Bucket=name)
        return name

    def with_file(self, path: Path, key: str) -> str:
        """A new bucket holding ``path`` at ``key``; returns ``s3://bucket/key``."""
        name = self.create()
        self.s3.upload_file(str(path), name, key)
        return f"s3://{name}/{key}"

    def cleanup(self) -> None:
        for name in self.names:
            try:
                for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                    for obj in page.get("Contents", []):
                        self.s3.delete_object(Bucket=name, Key=obj["Key"])
                self.s3.delete_bucket(Bucket=name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
                    raise


@pytest.fixture
def buckets(s3: S3Client) -> Iterator[Buckets]:
    made = Buckets(s3)
    yield made
    made.cleanup()


FOX_REPEATS = 8


@pytest.fixture(scope="session")
def fox_wav() -> Path:
    """About 4 s of speech: a quick, complete transcription."""
    return speech_wav(FOX)


@pytest.fixture(scope="session")
def long_wav() -> Path:
    """About 35 s of speech: a tiny model needs several seconds for it on two cores."""
    return speech_wav(" ".join([f"{FOX}."] * FOX_REPEATS))
