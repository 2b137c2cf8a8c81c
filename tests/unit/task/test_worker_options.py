"""The transcription options end to end without a cluster: the spec's fields (and the operator's defaults) become
the attempt pod's environment, volumes and scheduling, and the worker's own config loader accepts exactly what
the pod sets, so the variable names and values cannot drift between operator and worker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from scribe_operator.kinds.batch.api.layout import child_spec
from scribe_operator.kinds.batch.api.spec import TaskTemplate, TranscriptionBatchSpec
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase
from scribe_operator.kinds.task.core.plan import LaunchAttempt
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.kinds.task.manifests import attempt_pod, attempt_secret
from scribe_operator.kinds.task.progress import PROGRESS_DIR, worker_identity
from scribe_operator.kinds.task.storage import AttemptUrls
from scribe_operator.kinds.task.workerenv import MODEL_CACHE, MODEL_MOUNT
from scribe_operator.runtime.settings import OperatorSettings
from scribe_worker import config as worker

from tests.unit.task.factories import Cluster, make_task, operator_settings, phase

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
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (directory / name).write_text("{}")
    return directory


def load_as_worker(task: TranscriptionTask, tmp_path: Path, ops: OperatorSettings | None = None) -> worker.Config:
    """What the worker makes of the pod's environment; the pod's mount paths are mapped to local directories."""
    ops = ops or settings()
    urls = URLS
    if (task.spec.model_source and task.spec.model_source.s3) or ops.defaults.model_s3_prefix:
        urls = AttemptUrls(URLS.input_url, URLS.output_urls, MODEL_URLS)
    env = container_env(pod_of(task, ops), attempt_secret(task, LAUNCH, urls))
    local = {
        MODEL_MOUNT: fake_model(tmp_path / "pvc"),
        MODEL_CACHE: tmp_path / "cache",
        PROGRESS_DIR: tmp_path / "progress",
        "/tmp": tmp_path,
    }
    for path in local.values():
        path.mkdir(exist_ok=True)
    env = {k: str(local.get(v, v)) for k, v in env.items()}
    if worker.MODEL_URLS not in env:
        env.setdefault(worker.MODEL_DIR, str(fake_model(tmp_path / "baked")))  # the image's baked model
    return worker.load(env)


def test_every_variable_the_pod_sets_is_in_the_workers_contract() -> None:
    task = make_task(
        model="small",
        task="translate",
        wordTimestamps=True,
        initialPrompt="Kubernetes, kopf",
        hotwords="scribe",
        decoding={"mode": "sequential", "vad": True, "vadParameters": {"threshold": 0.4}, "beamSize": 2,
                  "temperatures": [0.0, 0.4], "conditionOnPreviousText": False},
        device="cpu",
        computeType="int8",
        modelSource={"s3": {"prefix": "s3://models/small/"}},
    )  # fmt: skip
    names = {v["name"] for v in pod_of(task)["spec"]["containers"][0]["env"]}
    assert names <= {v.name for v in worker.VARIABLES}
    assert {worker.WHISPER_TASK, worker.DECODING, worker.VAD_PARAMETERS, worker.MODEL_URLS} <= names


def test_unset_options_set_no_variable_so_the_workers_defaults_apply(tmp_path: Path) -> None:
    task = make_task()
    env = {v["name"] for v in pod_of(task)["spec"]["containers"][0]["env"]}
    options = {
        worker.WHISPER_TASK, worker.WORD_TIMESTAMPS, worker.INITIAL_PROMPT, worker.HOTWORDS, worker.DEVICE,
        worker.COMPUTE_TYPE, worker.DECODING, worker.BATCH_SIZE, worker.VAD, worker.VAD_PARAMETERS, worker.BEAM_SIZE,
        worker.TEMPERATURES, worker.CONDITION_ON_PREVIOUS_TEXT, worker.MODEL, worker.MODEL_DIR, worker.MODEL_URLS,
    }  # fmt: skip
    assert not env & options
    config = load_as_worker(task, tmp_path)
    assert config.decoding == worker.Decoding()
    assert config.transcription == worker.Transcription()
    assert (config.device, config.compute_type, config.model) == ("auto", None, worker.DEFAULT_MODEL)


def test_the_worker_reads_every_option_as_the_spec_says(tmp_path: Path) -> None:
    task = make_task(
        model="small",
        language="de",
        task="translate",
        wordTimestamps=True,
        initialPrompt="Kubernetes, kopf",
        hotwords="scribe operator",
        decoding={"mode": "sequential", "vad": True, "vadParameters": {"minSilenceDurationMs": 500, "threshold": 0.4},
                  "beamSize": 2, "temperatures": [0.0, 0.4], "conditionOnPreviousText": False},
        device="cuda",
        computeType="float16",
    )  # fmt: skip
    config = load_as_worker(task, tmp_path)
    assert config.transcription == worker.Transcription(
        language="de", task="translate", word_timestamps=True, initial_prompt="Kubernetes, kopf",
        hotwords="scribe operator",
    )  # fmt: skip
    d = config.decoding
    assert (d.mode, d.vad, d.beam_size, d.temperatures, d.condition_on_previous_text) == (
        "sequential", True, 2, (0.0, 0.4), False,
    )  # fmt: skip
    assert d.vad_parameters == {"min_silence_duration_ms": 500, "threshold": 0.4}
    assert (config.device, config.compute_type, config.model) == ("cuda", "float16", "small")
    assert config.progress_dir == tmp_path / "progress"


def test_batched_decoding_reaches_the_worker(tmp_path: Path) -> None:
    config = load_as_worker(make_task(decoding={"mode": "batched", "batchSize": 4, "vad": True}), tmp_path)
    assert (config.decoding.mode, config.decoding.batch_size, config.decoding.vad) == ("batched", 4, True)


def test_operator_defaults_fill_what_the_task_leaves_out(tmp_path: Path) -> None:
    ops = settings(default_model="base", default_device="cpu", default_compute_type="int8_float32")
    config = load_as_worker(make_task(), tmp_path, ops)
    assert (config.model, config.device, config.compute_type) == ("base", "cpu", "int8_float32")
    config = load_as_worker(make_task(model="small", device="auto"), tmp_path, ops)
    assert (config.model, config.device, config.compute_type) == ("small", "auto", "int8_float32")


def test_model_from_a_pvc_is_mounted_read_only(tmp_path: Path) -> None:
    task = make_task(model="small", modelSource={"persistentVolumeClaim": {"claimName": "models", "subPath": "small"}})
    spec = pod_of(task)["spec"]
    assert {"name": "model", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}} in spec["volumes"]
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "model")
    assert mount == {"name": "model", "mountPath": MODEL_MOUNT, "readOnly": True, "subPath": "small"}
    assert load_as_worker(task, tmp_path).model_dir == tmp_path / "pvc"


def test_operator_default_pvc_and_a_task_back_to_the_baked_model() -> None:
    ops = settings(default_model_claim="shared-models", default_model_sub_path="tiny")
    volumes = pod_of(make_task(), ops)["spec"]["volumes"]
    assert {"name": "model", "persistentVolumeClaim": {"claimName": "shared-models", "readOnly": True}} in volumes
    assert not [v for v in pod_of(make_task(modelSource={}), ops)["spec"]["volumes"] if v["name"] == "model"]


def test_model_from_s3_urls_are_only_in_the_secret(tmp_path: Path) -> None:
    task = make_task(model="small", modelSource={"s3": {"prefix": "s3://models/small/"}})
    pod = pod_of(task)
    secret = attempt_secret(task, LAUNCH, AttemptUrls(URLS.input_url, URLS.output_urls, MODEL_URLS))
    assert json.loads(secret["stringData"][worker.MODEL_URLS]) == MODEL_URLS
    assert "X-Amz-Signature" not in json.dumps(pod)
    assert {"name": "model", "emptyDir": {}} in pod["spec"]["volumes"]
    config = load_as_worker(task, tmp_path)
    assert config.model_source.urls == MODEL_URLS and config.model_source.uri == "s3://models/small/"
    assert config.model_source.cache_dir == tmp_path / "cache"


def test_gpu_scheduling_reaches_the_pod() -> None:
    task = make_task(
        device="cuda",
        resources={"limits": {"nvidia.com/gpu": 1, "memory": "8Gi"}},
        worker={"runtimeClassName": "nvidia", "nodeSelector": {"gpu": "a100"},
                "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
    )  # fmt: skip
    spec = pod_of(task)["spec"]
    assert spec["runtimeClassName"] == "nvidia" and spec["nodeSelector"] == {"gpu": "a100"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    requested = make_task(resources={"requests": {"nvidia.com/gpu": 2}})
    assert pod_of(requested)["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert "runtimeClassName" not in pod_of(make_task())["spec"]


def test_progress_credential_is_a_projected_pod_bound_token_of_the_worker_account() -> None:
    spec = pod_of(make_task())["spec"]
    assert spec["serviceAccountName"] == "scribe-worker" and spec["automountServiceAccountToken"] is False
    (volume,) = [v for v in spec["volumes"] if v["name"] == "progress"]
    token = volume["projected"]["sources"][0]["serviceAccountToken"]
    assert token["expirationSeconds"] <= 3600 and "audience" not in token
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "progress")
    assert mount == {"name": "progress", "mountPath": PROGRESS_DIR, "readOnly": True}
    own = pod_of(make_task(worker={"serviceAccountName": "mine"}))["spec"]
    assert own["serviceAccountName"] == "mine" and not [v for v in own["volumes"] if v["name"] == "progress"]
    off = pod_of(make_task(), settings(progress_reporting=False))["spec"]
    assert "serviceAccountName" not in off and not [v for v in off["volumes"] if v["name"] == "progress"]


def test_worker_account_may_only_patch_pods() -> None:
    account, role, binding = worker_identity("media", settings())
    assert account["metadata"] == {
        "name": "scribe-worker",
        "namespace": "media",
        "labels": account["metadata"]["labels"],
    }
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "scribe-worker", "namespace": "media"}]


# --- validation: what admission rejects (the CEL rules carry the same messages) --------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model": "tiny.en", "task": "translate"}, "spec.task: translate needs a multilingual model"),
        ({"model": "base.EN", "language": "de"}, "spec.model is English-only"),
        ({"decoding": {"mode": "sequential", "batchSize": 4}}, "decoding.batchSize needs decoding.mode batched"),
        ({"decoding": {"vad": False}}, "decoding.vad false needs decoding.mode sequential"),
        ({"decoding": {"temperatures": [0.0, 0.2]}}, "decoding.temperatures with a fallback ladder"),
        ({"decoding": {"mode": "sequential", "temperatures": [0.4, 0.2]}}, "decoding.temperatures must be in incr"),
        ({"decoding": {"conditionOnPreviousText": True}}, "decoding.conditionOnPreviousText true needs"),
        ({"decoding": {"mode": "sequential", "vad": False, "vadParameters": {"threshold": 0.5}}}, "needs decoding.vad"),
        ({"decoding": {"vadParameters": {"maxSpeechDurationS": 20}}}, "maxSpeechDurationS needs decoding.mode"),
        ({"decoding": {"beamSize": 17}}, "decoding.beamSize"),
        ({"decoding": {"mode": "greedy"}}, "decoding.mode"),
        ({"task": "summarize"}, "task"),
        ({"device": "tpu"}, "device"),
        ({"computeType": "Float16!"}, "computeType"),
        ({"initialPrompt": "x" * 1001}, "initialPrompt"),
        ({"modelSource": {"s3": {"prefix": "s3://models/x/"}, "persistentVolumeClaim": {"claimName": "m"}}},
         "modelSource: set at most one"),
        ({"modelSource": {"persistentVolumeClaim": {"claimName": "m", "subPath": "../etc"}}}, "subPath"),
        ({"modelSource": {"s3": {"prefix": "s3://models/no-slash"}}}, "modelSource.s3.prefix"),
    ],
)  # fmt: skip
def test_invalid_options_are_rejected_naming_the_field(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        TranscriptionTaskSpec.model_validate({"input": "s3://audio/a.wav", **spec})
    assert message in str(info.value)


def test_multilingual_models_may_translate_and_english_models_may_transcribe_english() -> None:
    TranscriptionTaskSpec.model_validate({"input": "s3://audio/a.wav", "model": "small", "task": "translate"})
    TranscriptionTaskSpec.model_validate({"input": "s3://audio/a.wav", "model": "tiny.en", "language": "en-US"})


def test_batch_template_carries_the_options_and_their_rules() -> None:
    with pytest.raises(ValidationError, match=r"spec\.task: translate needs a multilingual model"):
        TaskTemplate.model_validate({"model": "tiny.en", "task": "translate"})
    batch = TranscriptionBatchSpec.model_validate(
        {"inputs": ["s3://audio/a.wav"], "template": {"decoding": {"mode": "batched", "batchSize": 4},
                                                      "wordTimestamps": True, "device": "cpu"}}
    )  # fmt: skip
    child = child_spec(batch, 0, "s3://audio/a.wav")
    assert child.decoding is not None and child.decoding.batch_size == 4
    assert (child.word_timestamps, child.device) == (True, "cpu")


def test_translate_with_the_default_english_model_is_dead_before_any_pod() -> None:
    c = Cluster(make_task(task="translate"), settings=CoreSettings(default_model=None))
    plan = c.reconcile()
    assert not c.pods and phase(c) is Phase.DEAD
    assert c.status.attempts[0].reason == "InvalidConfiguration"
    assert "model tiny.en" in (c.status.message or "") and plan.status is not None
    multilingual = Cluster(make_task(task="translate"), settings=CoreSettings(default_model="small"))
    multilingual.reconcile()
    assert phase(multilingual) is Phase.RUNNING


def test_the_options_example_is_valid_and_asks_for_a_gpu() -> None:
    example = yaml.safe_load((Path(__file__).parents[3] / "examples" / "task-options.yaml").read_text())
    task = TranscriptionTask.model_validate({**example, "metadata": {**example["metadata"], "uid": "u"}})
    spec = pod_of(task)["spec"]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert spec["runtimeClassName"] == "nvidia"
    env = {v["name"]: v.get("value") for v in spec["containers"][0]["env"]}
    assert (env["SCRIBE_WHISPER_TASK"], env["SCRIBE_DEVICE"], env["SCRIBE_MODEL_DIR"]) == (
        "translate",
        "cuda",
        MODEL_MOUNT,
    )
