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
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.fixtures.speech import FOX, speech_wav
from tests.support.commands import CRDS, REPO, apply_crds, kubectl, wait_established
from tests.support.fixtures import delete_namespace
from tests.support.helm import helm_binary
from tests.support.operators import EXTERNAL, ExternalOperator, Operator, operator_env
from tests.support.s3 import Buckets, s3_from_env
from tests.support.tasks import CreateTask, create_task, task_manifest

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CRD_NAME = "transcriptiontasks.scribe.dev"
SESSION_TOKEN = uuid.uuid4().hex[:4]
NAMESPACE_PREFIX = f"e2e{SESSION_TOKEN}"
"""Every e2e namespace of this session starts with this."""

_OPERATOR = pytest.StashKey[Operator]()
_LOG_OFFSET = pytest.StashKey[int]()


# --- the operator -----------------------------------------------------------------------------------------------


def _apply_progress_policy() -> None:
    """The chart's ValidatingAdmissionPolicy that narrows the workers' progress credential, as `helm install` would
    create it (the operator these tests start gives workers that credential)."""
    rendered = subprocess.run(
        [helm_binary(), "template", "scribe-operator", str(REPO / "charts" / "scribe-operator"),
         "--show-only", "templates/worker-progress-policy.yaml"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert rendered.returncode == 0, f"helm template failed:\n{rendered.stderr}"
    applied = kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=rendered.stdout, timeout=60)
    assert applied.returncode == 0, f"applying the worker progress policy failed:\n{applied.stderr}"


@pytest.fixture(scope="session")
def crd(kube: Client) -> str:
    """The CRDs in crds/ (TranscriptionTask and what else the operator watches), applied unless the operator is
    external (then they must be installed already), and Established."""
    if not EXTERNAL:
        apply_crds()
        _apply_progress_policy()
    wait_established("-f", str(CRDS))
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
        env = operator_env(",".join(watched))
        env.setdefault("SCRIBE_PROGRESS_REPORTING", "true")  # the crd fixture installed the chart's progress policy
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
    return s3_from_env()


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


@pytest.fixture
def fox_uri(buckets: Buckets, fox_wav: Path) -> str:
    """``fox_wav`` in a bucket of its own, made for this test: ``s3://<bucket>/fox.wav``."""
    return buckets.with_file(fox_wav, "fox.wav")


@pytest.fixture
def fox_task(kube: Client, namespace: str, fox_uri: str) -> CreateTask:
    """``fox_task(name, **spec)`` creates, in this test's namespace, the task ``task_manifest(name, fox_uri, **spec)``
    (fast retries unless ``spec`` says otherwise) when it is called, and returns it as created."""

    def create(name: str, /, **spec: Any) -> dict[str, Any]:
        return create_task(kube, task_manifest(name, fox_uri, **spec), namespace)

    return create
