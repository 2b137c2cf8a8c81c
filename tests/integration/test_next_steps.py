"""`make dev` ends by printing the next commands a new user types; each works as printed, in a fresh shell.

The commands are taken from what hack/dev.sh prints (its closing section, run here), then run one after the other in
a clean ``bash`` with nothing of the project on PATH and no KUBECONFIG: `source .cluster/env` has to provide
kubectl, the kubeconfig and the ``kubectl scribe`` plugin, as it does for a user who just ran `make dev`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support.commands import apply_crds, wait_established
from tests.support.fixtures import delete_namespace
from tests.support.tasks import TranscriptionTask

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "hack" / "dev.sh"
MARKER = "# The next commands to type"
HEADING = "== next, in your shell =="
EXAMPLE = yaml.safe_load((REPO / "examples" / "task.yaml").read_text())


def printed_next_steps() -> list[str]:
    """The commands hack/dev.sh prints at its end, as a user sees them (its closing section, run as it is)."""
    script = DEV.read_text()
    assert MARKER in script, f"{DEV} no longer prints the next steps after {MARKER!r}"
    closing = script[script.index(MARKER) :]
    shown = subprocess.run(["bash", "-c", closing], cwd=REPO, capture_output=True, text=True, timeout=30, check=True)
    lines = shown.stdout.splitlines()
    assert lines[0] == HEADING, shown.stdout
    return [line.strip() for line in lines[1:] if line.strip()]


@pytest.fixture
def demo_task(kube: Client) -> Iterator[None]:
    """The task `make dev` leaves behind (examples/task.yaml); made here if this cluster has none, removed after."""
    namespace, name = EXAMPLE["metadata"]["namespace"], EXAMPLE["metadata"]["name"]
    apply_crds()
    wait_established("crd/transcriptiontasks.scribe.dev")
    made_namespace = made_task = False
    try:
        kube.create(Namespace(metadata=ObjectMeta(name=namespace, labels={"scribe.dev/test": "true"})))
        made_namespace = True
    except ApiError as exc:
        if exc.status.code != 409:
            raise
    try:
        kube.create(TranscriptionTask(**EXAMPLE), namespace=namespace)
        made_task = True
    except ApiError as exc:
        if exc.status.code != 409:
            raise
    yield
    if made_task:
        kube.delete(TranscriptionTask, name, namespace=namespace)
    if made_namespace:
        delete_namespace(kube, namespace)


def test_the_next_steps_make_dev_prints_work_as_printed(kube: Client, demo_task: None) -> None:
    local = REPO / ".cluster" / "kubeconfig"
    if Path(os.environ.get("KUBECONFIG", "")).resolve() != local.resolve():
        pytest.skip("make dev's next steps are about the local cluster (.cluster/), not the one KUBECONFIG names")
    commands = printed_next_steps()
    assert len(commands) == 3 and commands[0] == "source .cluster/env", commands

    clean = {"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    script = "set -euo pipefail\n" + "".join(f"echo '$ {c}'\n{c}\n" for c in commands)
    ran = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=REPO, env=clean, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    shown = f"exit {ran.returncode}\nstdout:\n{ran.stdout}\nstderr:\n{ran.stderr}"
    assert ran.returncode == 0, shown
    outputs = dict(zip(commands, ran.stdout.split("$ ")[1:], strict=True))
    listing = outputs[commands[1]].splitlines()[1:]
    assert listing[0].split()[:2] == ["NAMESPACE", "NAME"], shown
    assert any(row.split()[:2] == ["scribe-demo", "interview-42"] for row in listing[1:]), shown
    described = outputs[commands[2]]
    assert "Name:" in described and "interview-42" in described and "Namespace:" in described, shown
    assert "unknown command" not in ran.stderr, shown
