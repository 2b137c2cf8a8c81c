"""Real attempt pods, built by the operator's own manifests from a task, and their worker container's environment
as the kubelet resolves it (plain values and ``secretKeyRef`` from the attempt's Secret): what the worker sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scribe_contract import env as worker_env
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.outputs import output_uris
from scribe_operator.kinds.task.core.plan import LaunchAttempt
from scribe_operator.kinds.task.manifests import attempt_pod, attempt_secret
from scribe_operator.kinds.task.progress import PROGRESS_MOUNT_PATH
from scribe_operator.kinds.task.storage import AttemptUrls
from scribe_operator.kinds.task.workerenv import MODEL_CACHE, MODEL_MOUNT
from scribe_operator.runtime.settings import OperatorSettings

from tests.unit.task.factories import operator_settings

LAUNCH = LaunchAttempt(1, "talk-a1", "talk-a1-urls", 600, 1200, "2Gi")
URLS = AttemptUrls(
    input_url="https://s3.example/audio/talk.wav?X-Amz-Signature=in",
    output_urls={
        "json": "https://s3.example/o/transcript.json?X-Amz-Signature=j",
        "txt": "https://s3.example/o/transcript.txt?X-Amz-Signature=t",
    },
)
MODEL_URLS = {
    name: f"https://s3.example/models/small/{name}?X-Amz-Signature={name}"
    for name in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
}


def settings(**kw: Any) -> OperatorSettings:
    """The operator's settings as the chart sets them (progress reporting on, with its policy)."""
    return operator_settings(**{"progress_reporting": True, **kw})


def pod_of(task: TranscriptionTask, ops: OperatorSettings | None = None) -> dict[str, Any]:
    return attempt_pod(task, LAUNCH, ops or settings())


def attempt_urls(task: TranscriptionTask, ops: OperatorSettings) -> AttemptUrls:
    """The URLs the operator signs for the attempt: the input, a PUT per output format, and the model's files when
    the model comes from S3 (fake signatures, the shape of real ones)."""
    outputs = {
        fmt: uri.replace("s3://", "https://s3.example/", 1) + f"?X-Amz-Signature={fmt}"
        for fmt, uri in output_uris(task.spec).items()
    }
    if (task.spec.model_source and task.spec.model_source.s3) or ops.defaults.model_s3_prefix:
        return AttemptUrls(URLS.input_url, outputs, MODEL_URLS)
    return AttemptUrls(URLS.input_url, outputs)


def container_env(pod: dict[str, Any], secret: dict[str, Any]) -> dict[str, str]:
    """The worker container's environment as the kubelet resolves it (secretKeyRef from the attempt's Secret)."""
    data = secret["stringData"]
    env: dict[str, str] = {}
    for var in pod["spec"]["containers"][0]["env"]:
        if "valueFrom" in var:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == secret["metadata"]["name"]
            env[var["name"]] = data[ref["key"]]
        else:
            env[var["name"]] = var["value"]
    return env


def fake_model(directory: Path) -> Path:
    """A directory with a model's file names (no model): enough for the worker's config loader."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (directory / name).write_text("{}")
    return directory


def worker_environment(task: TranscriptionTask, tmp_path: Path, ops: OperatorSettings | None = None) -> dict[str, str]:
    """The attempt's worker environment, with the pod's mount paths mapped to local directories under ``tmp_path``
    (and, when the model is neither on a volume nor in S3, the image's baked model as a local fake)."""
    ops = ops or settings()
    env = container_env(pod_of(task, ops), attempt_secret(task, LAUNCH, attempt_urls(task, ops)))
    local = {
        MODEL_MOUNT: fake_model(tmp_path / "pvc"),
        MODEL_CACHE: tmp_path / "cache",
        PROGRESS_MOUNT_PATH: tmp_path / "progress",
        "/tmp": tmp_path,
    }
    for path in local.values():
        path.mkdir(exist_ok=True)
    env = {k: str(local.get(v, v)) for k, v in env.items()}
    if worker_env.MODEL_URLS not in env:
        env.setdefault(worker_env.MODEL_DIR, str(fake_model(tmp_path / "baked")))  # the image's baked model
    return env
