"""What `pip install scribe-operator` brings, and the krew plugin: the plugin and the operator need none of the
worker's dependencies (faster-whisper and what it pulls), and the krew manifest is current and installs a launcher
that runs the plugin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
WORKER_ONLY = {"faster-whisper", "ctranslate2", "av", "onnxruntime", "tokenizers", "huggingface-hub", "numpy"}
"""The worker's transcription stack: none of it may come with the operator package's own dependencies."""


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _unconditional(requirements: list[str] | None) -> list[str]:
    """Requirements without an environment marker that names an extra (what a plain install pulls)."""
    return [r for r in requirements or () if "extra ==" not in r.split(";", 1)[-1] or ";" not in r]


def test_the_operator_package_declares_no_worker_dependency() -> None:
    base = {_name(r) for r in PROJECT["dependencies"]}
    worker = {_name(r) for r in PROJECT["optional-dependencies"]["worker"]}
    assert "faster-whisper" in worker
    assert not base & (worker | WORKER_ONLY), base & (worker | WORKER_ONLY)


def test_a_plain_install_pulls_no_worker_dependency_transitively() -> None:
    """The closure of what `pip install scribe-operator` installs, from the installed distributions' metadata."""
    seen: set[str] = set()
    todo = [_name(r) for r in _unconditional(metadata.requires("scribe-operator"))]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            todo.extend(_name(r) for r in _unconditional(metadata.requires(name)))
        except metadata.PackageNotFoundError:  # an optional platform-specific dependency not installed here
            continue
    assert {"kopf", "lightkube", "pydantic", "boto3"} <= seen
    assert not seen & WORKER_ONLY, sorted(seen & WORKER_ONLY)


def test_the_operator_and_the_plugin_import_nothing_of_the_worker_stack() -> None:
    code = (
        "import sys, scribe_operator.__main__, scribe_operator.cli.__main__; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'faster_whisper', 'ctranslate2', 'av', 'onnxruntime', 'tokenizers', 'numpy', 'scribe_worker'}))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert shown.stdout.strip() == "[]", shown.stdout


def test_the_contract_is_a_third_source_root_covered_by_mypy() -> None:
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    assert find["where"] == ["operator", "worker-image", "contract"]
    assert "scribe_contract*" in find["include"]
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["scribe_contract"]
    assert "contract" in PYPROJECT["tool"]["mypy"]["mypy_path"]
    lint = (ROOT / "Makefile").read_text().split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"mypy operator worker-image contract\b", lint), lint


# --- images ----------------------------------------------------------------------------------------------------------

IMAGES = {
    "operator/Dockerfile": {"pyproject.toml", "README.md", "operator/scribe_operator", "contract/scribe_contract"},
    "worker-image/Dockerfile": {
        "pyproject.toml",
        "README.md",
        "worker-image/scribe_worker",
        "contract/scribe_contract",
    },
}


def _copied(dockerfile: str) -> list[str]:
    """The build-context paths the Dockerfile's COPY instructions take (not those from another stage)."""
    sources: list[str] = []
    for line in (ROOT / dockerfile).read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from=") for w in words):
            sources.extend(w.rstrip("/") for w in words[1:-1] if not w.startswith("--"))
    return sources


def _sent(dockerfile: str) -> set[str]:
    """What the Dockerfile's own .dockerignore lets into the build context."""
    lines = (ROOT / f"{dockerfile}.dockerignore").read_text().splitlines()
    assert "*" in lines  # everything excluded first
    return {line[1:].rstrip("/") for line in lines if line.startswith("!")}


def test_each_image_is_built_from_exactly_what_it_needs() -> None:
    """The operator image has no worker code, the worker image no operator code; both have the contract."""
    for dockerfile, needed in IMAGES.items():
        assert set(_copied(dockerfile)) == needed == _sent(dockerfile), dockerfile


def test_the_local_images_are_tagged_by_their_own_build_context() -> None:
    sys.path.insert(0, str(ROOT / "tests" / "cluster"))
    try:
        from localcluster.node.images import context_paths  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "tests" / "cluster"))
    for dockerfile, needed in IMAGES.items():
        assert set(context_paths(dockerfile)) == needed, dockerfile


def test_the_worker_image_installs_its_dependencies_before_its_sources() -> None:
    """So that a change to the sources reuses the cached dependency layer."""
    lines = (ROOT / "worker-image/Dockerfile").read_text().splitlines()
    requirements = next(i for i, line in enumerate(lines) if "pip install -r /tmp/worker-requirements.txt" in line)
    sources = [i for i, line in enumerate(lines) if line.startswith("COPY") and "scribe_" in line]
    assert sources and requirements < min(sources)


def test_the_plugin_is_a_console_script_of_the_package() -> None:
    assert PROJECT["scripts"]["kubectl-scribe"] == "scribe_operator.cli.__main__:main"


# --- krew ------------------------------------------------------------------------------------------------------------


def test_the_krew_manifest_is_current(tmp_path: Path) -> None:
    built = subprocess.run(
        ["bash", "hack/krew.sh", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert (ROOT / "plugins/scribe.yaml").read_text() == built.stdout, "plugins/scribe.yaml is stale: run `make krew`"
    manifest = yaml.safe_load(built.stdout)
    assert (manifest["apiVersion"], manifest["kind"]) == ("krew.googlecontainertools.github.com/v1alpha2", "Plugin")
    spec = manifest["spec"]
    assert manifest["metadata"]["name"] == "scribe" and spec["version"] == f"v{PROJECT['version']}"
    archive = tmp_path / f"kubectl-scribe-{PROJECT['version']}.tar.gz"
    sha = subprocess.run(["sha256sum", str(archive)], capture_output=True, text=True, check=True).stdout.split()[0]
    oses = set()
    for platform in spec["platforms"]:
        assert platform["sha256"] == sha and platform["bin"] == "kubectl-scribe"
        assert platform["uri"].endswith(f"/v{PROJECT['version']}/{archive.name}")
        oses.add(platform["selector"]["matchLabels"]["os"])
    assert oses == {"linux", "darwin"}


def test_the_krew_launcher_runs_the_plugin_from_a_python_that_has_it(tmp_path: Path) -> None:
    subprocess.run(["bash", "hack/krew.sh", str(tmp_path)], cwd=ROOT, capture_output=True, timeout=60, check=True)
    archive = tmp_path / f"kubectl-scribe-{PROJECT['version']}.tar.gz"
    subprocess.run(["tar", "-xzf", str(archive), "-C", str(tmp_path)], check=True)
    python_dir = tmp_path / "python"
    python_dir.mkdir()
    (python_dir / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (python_dir / "python3").chmod(0o755)
    env = {"PATH": f"{python_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    ran = subprocess.run(
        [str(tmp_path / "kubectl-scribe"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert PROJECT["version"] in ran.stdout and "installing" not in ran.stderr
    assert not (tmp_path / ".local").exists()  # nothing installed: the python on PATH had the package
    assert os.access(tmp_path / "kubectl-scribe", os.X_OK)
