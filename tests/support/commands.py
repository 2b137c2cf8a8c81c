"""The command-line tools the cluster tests drive, as a user runs them: ``kubectl`` and the ``kubectl scribe``
plugin (``python -m scribe_operator.cli``). Each returns the finished process; nothing raises on a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CRDS = REPO / "crds"


def kubectl(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", *args], input=stdin, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


def kubectl_apply(manifest: dict[str, Any], namespace: str) -> subprocess.CompletedProcess[str]:
    """``kubectl apply -n namespace -f -`` of one manifest."""
    return kubectl("apply", "-n", namespace, "-f", "-", stdin=json.dumps(manifest))


def scribe(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the plugin (``python -m scribe_operator.cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "scribe_operator.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def apply_crds(path: Path = CRDS) -> None:
    """Server-side apply of the CRDs in ``path`` (a file or crds/); asserts it worked."""
    applied = kubectl("apply", "--server-side", "--force-conflicts", "-f", str(path))
    assert applied.returncode == 0, f"kubectl apply -f {path} failed:\n{applied.stderr}"


def wait_established(*crds: str) -> None:
    """Wait until every CRD named (``crd/<name>``, or ``-f <path>``) is Established; asserts it is."""
    waited = kubectl("wait", "--for=condition=Established", *crds, "--timeout=60s")
    assert waited.returncode == 0, f"{' '.join(crds)} not Established:\n{waited.stdout}{waited.stderr}"
