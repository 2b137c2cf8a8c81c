"""The operator's pod environment, read by the worker's own config loader: a real attempt pod (built by the
operator's manifests from a task) and its Secret's data, resolved as the kubelet resolves them, are what the worker
loads. So the variable names and values cannot drift between operator and worker, and what the API server admits
the worker accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError
from scribe_contract import env as worker_env
from scribe_contract.env import SECRET_VARIABLES, VARIABLES
from scribe_contract.options import (
    BATCHED_TEMPERATURES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BEAM_SIZE,
    DEFAULT_MODEL,
    DEFAULT_TERMINATION_PATH,
    FORMATS,
    SEQUENTIAL_TEMPERATURES,
)
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.outputs import output_uris
from scribe_operator.kinds.task.api.transcription import model_problem
from scribe_operator.kinds.task.manifests import attempt_secret
from scribe_operator.kinds.task.workerenv import MODEL_MOUNT
from scribe_operator.runtime.settings import OperatorSettings
from scribe_worker import config
from scribe_worker.errors import WorkerError

from tests.unit.task.attemptpods import LAUNCH, MODEL_URLS, URLS, attempt_urls, pod_of, settings, worker_environment
from tests.unit.task.factories import make_task


def load_as_worker(task: TranscriptionTask, tmp_path: Path, ops: OperatorSettings | None = None) -> config.Config:
    """What the worker makes of the pod's environment; the pod's mount paths are mapped to local directories."""
    return config.load(worker_environment(task, tmp_path, ops))


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
    assert names <= {v.name for v in VARIABLES}
    assert {worker_env.WHISPER_TASK, worker_env.DECODING, worker_env.VAD_PARAMETERS, worker_env.MODEL_URLS} <= names


def test_the_presigned_urls_reach_the_worker_only_through_the_secret() -> None:
    task = make_task(modelSource={"s3": {"prefix": "s3://models/small/"}})
    container = pod_of(task)["spec"]["containers"][0]
    by_name = {v["name"]: v for v in container["env"]}
    for name in SECRET_VARIABLES:
        assert "value" not in by_name[name] and by_name[name]["valueFrom"]["secretKeyRef"]["key"] == name
    secret = attempt_secret(task, LAUNCH, attempt_urls(task, settings()))
    assert set(secret["stringData"]) == set(SECRET_VARIABLES)


def test_unset_options_set_no_variable_so_the_workers_defaults_apply(tmp_path: Path) -> None:
    task = make_task()
    env = {v["name"] for v in pod_of(task)["spec"]["containers"][0]["env"]}
    w = worker_env
    options = {
        w.WHISPER_TASK, w.WORD_TIMESTAMPS, w.INITIAL_PROMPT, w.HOTWORDS, w.DEVICE, w.COMPUTE_TYPE, w.DECODING,
        w.BATCH_SIZE, w.VAD, w.VAD_PARAMETERS, w.BEAM_SIZE, w.TEMPERATURES, w.CONDITION_ON_PREVIOUS_TEXT, w.MODEL,
        w.MODEL_DIR, w.MODEL_URLS,
    }  # fmt: skip
    assert not env & options
    loaded = load_as_worker(task, tmp_path)
    assert loaded.decoding == config.DecodingOptions()
    assert loaded.transcription == config.Transcription()
    assert (loaded.device, loaded.compute_type, loaded.model) == ("auto", None, DEFAULT_MODEL)


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
    loaded = load_as_worker(task, tmp_path)
    assert loaded.transcription == config.Transcription(
        language="de", task="translate", word_timestamps=True, initial_prompt="Kubernetes, kopf",
        hotwords="scribe operator",
    )  # fmt: skip
    d = loaded.decoding
    assert (d.mode, d.vad, d.beam_size, d.temperatures, d.condition_on_previous_text) == (
        "sequential", True, 2, (0.0, 0.4), False,
    )  # fmt: skip
    assert d.vad_parameters == {"min_silence_duration_ms": 500, "threshold": 0.4}
    assert (loaded.device, loaded.compute_type, loaded.model) == ("cuda", "float16", "small")
    assert loaded.progress_dir == tmp_path / "progress"


def test_the_worker_reads_the_inputs_outputs_and_bookkeeping_the_pod_sets(tmp_path: Path) -> None:
    task = make_task(
        input="s3://audio/talks/keynote.flac",
        output="s3://transcripts/keynote/",
        formats=["vtt", "json", "srt", "txt"],
        language="fr",
        model="small",
        modelSource={"persistentVolumeClaim": {"claimName": "models", "subPath": "small"}},
    )
    ops = settings(worker_progress_interval_seconds=2.5)
    env = worker_environment(task, tmp_path, ops)
    loaded = config.load(env)
    urls = attempt_urls(task, ops)
    assert (loaded.input_url, loaded.input_uri) == (URLS.input_url, "s3://audio/talks/keynote.flac")
    expected = output_uris(task.spec)
    assert dict(loaded.output_uris) == expected and set(expected) == set(FORMATS)
    assert dict(loaded.output_urls) == urls.output_urls
    assert list(loaded.output_uris) == list(FORMATS) and list(loaded.output_urls)[-1] == "json"  # json last
    assert loaded.language == "fr"
    assert loaded.model_source == config.ModelLocation("small", dir=tmp_path / "pvc")
    assert (loaded.progress_interval, loaded.progress_dir) == (2.5, tmp_path / "progress")
    assert (loaded.tmpdir, loaded.termination_path) == (tmp_path, Path(DEFAULT_TERMINATION_PATH))
    assert config.log_context(env) == {"attempt": LAUNCH.attempt, "task": "talk", "pod": None}
    assert {URLS.input_url, *urls.output_urls.values()} <= set(config.secret_values(env))  # scrubbed from every line


def test_batched_decoding_reaches_the_worker(tmp_path: Path) -> None:
    loaded = load_as_worker(make_task(decoding={"mode": "batched", "batchSize": 4, "vad": True}), tmp_path)
    assert (loaded.decoding.mode, loaded.decoding.batch_size, loaded.decoding.vad) == ("batched", 4, True)


def test_operator_defaults_fill_what_the_task_leaves_out(tmp_path: Path) -> None:
    ops = settings(default_model="base", default_device="cpu", default_compute_type="int8_float32")
    loaded = load_as_worker(make_task(), tmp_path, ops)
    assert (loaded.model, loaded.device, loaded.compute_type) == ("base", "cpu", "int8_float32")
    loaded = load_as_worker(make_task(model="small", device="auto"), tmp_path, ops)
    assert (loaded.model, loaded.device, loaded.compute_type) == ("small", "auto", "int8_float32")


def test_model_from_a_pvc_is_mounted_read_only(tmp_path: Path) -> None:
    task = make_task(model="small", modelSource={"persistentVolumeClaim": {"claimName": "models", "subPath": "small"}})
    spec = pod_of(task)["spec"]
    assert {"name": "model", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}} in spec["volumes"]
    mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "model")
    assert mount == {"name": "model", "mountPath": MODEL_MOUNT, "readOnly": True, "subPath": "small"}
    assert load_as_worker(task, tmp_path).model_dir == tmp_path / "pvc"


def test_model_from_s3_urls_are_only_in_the_secret(tmp_path: Path) -> None:
    task = make_task(model="small", modelSource={"s3": {"prefix": "s3://models/small/"}})
    pod = pod_of(task)
    secret = attempt_secret(task, LAUNCH, attempt_urls(task, settings()))
    assert json.loads(secret["stringData"][worker_env.MODEL_URLS]) == MODEL_URLS
    assert "X-Amz-Signature" not in json.dumps(pod)
    assert {"name": "model", "emptyDir": {}} in pod["spec"]["volumes"]
    loaded = load_as_worker(task, tmp_path)
    assert loaded.model_source.urls == MODEL_URLS and loaded.model_source.uri == "s3://models/small/"
    assert loaded.model_source.cache_dir == tmp_path / "cache"


# --- what the API server admits, the worker accepts ------------------------------------------------------------

_VAD_PARAMETERS = st.fixed_dictionaries(
    {},
    optional={
        "threshold": st.floats(0.0, 1.0),
        "negThreshold": st.floats(0.0, 1.0),
        "minSpeechDurationMs": st.integers(0, 60_000),
        "maxSpeechDurationS": st.floats(1.0, 3600.0),
        "minSilenceDurationMs": st.integers(0, 60_000),
        "speechPadMs": st.integers(0, 10_000),
    },
)
_DECODING = st.fixed_dictionaries(
    {},
    optional={
        "mode": st.sampled_from(["batched", "sequential"]),
        "batchSize": st.integers(1, 64),
        "vad": st.booleans(),
        "vadParameters": _VAD_PARAMETERS,
        "beamSize": st.integers(1, 16),
        "temperatures": st.lists(st.sampled_from([0.0, 0.2, 0.25, 0.4, 0.5, 0.8, 1.0]), min_size=1, max_size=4).map(
            sorted
        ),
        "conditionOnPreviousText": st.booleans(),
    },
)
_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["tiny.en", "base.EN", "small", "large-v3"]),
        "language": st.sampled_from(["en", "EN", "de", "haw"]),
        "task": st.sampled_from(["transcribe", "translate"]),
        "wordTimestamps": st.booleans(),
        "initialPrompt": st.text(max_size=40),
        "hotwords": st.text(max_size=40),
        "device": st.sampled_from(["auto", "cpu", "cuda"]),
        "computeType": st.sampled_from(["int8", "float16", "int8_float16"]),
        "formats": st.lists(st.sampled_from(["json", "txt", "srt", "vtt"]), unique=True, max_size=4),
        "decoding": _DECODING,
    },
)


@hypothesis_settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(options=_OPTIONS)
def test_what_the_api_admits_the_worker_loads_as_given(options: dict[str, Any], tmp_path: Path) -> None:
    try:
        task = make_task(**options)
    except ValidationError:
        reject()  # not admitted: nothing to check
    if model_problem(task.spec.model or DEFAULT_MODEL, task.spec.language, task.spec.task) is not None:
        reject()  # the operator ends such a task before any pod (an English-only default model asked to translate)
    try:
        loaded = load_as_worker(task, tmp_path)
    except WorkerError as exc:
        pytest.fail(f"the API admits {options} but the worker refuses it: {exc.message}")
    spec, decoding = task.spec, options.get("decoding", {})
    assert loaded.model == (spec.model or DEFAULT_MODEL)
    assert loaded.language == (spec.language.lower() if spec.language else None)
    assert loaded.transcription.task == (spec.task.value if spec.task else "transcribe")
    assert loaded.transcription.word_timestamps is bool(spec.word_timestamps)
    assert loaded.transcription.initial_prompt == ((spec.initial_prompt or "").strip() or None)
    assert loaded.transcription.hotwords == ((spec.hotwords or "").strip() or None)
    assert loaded.device == (spec.device.value if spec.device else "auto")
    assert loaded.compute_type == spec.compute_type
    assert list(loaded.output_uris) == [f for f in FORMATS if f in output_uris(spec)]
    d = loaded.decoding
    assert d.mode == decoding.get("mode", "batched")
    assert d.batch_size == decoding.get("batchSize", DEFAULT_BATCH_SIZE)
    assert d.vad is decoding.get("vad", True)
    assert d.beam_size == decoding.get("beamSize", DEFAULT_BEAM_SIZE)
    ladder = SEQUENTIAL_TEMPERATURES if d.mode == "sequential" else BATCHED_TEMPERATURES
    assert d.temperatures == tuple(decoding.get("temperatures", ladder))
    assert d.condition_on_previous_text is decoding.get("conditionOnPreviousText", d.mode == "sequential")
    vad_parameters = spec.decoding.vad_parameters if spec.decoding else None
    assert dict(d.vad_parameters) == (vad_parameters.worker_json() if vad_parameters else {})


@pytest.mark.parametrize(("language", "code"), [("en-US", "en"), ("pt_BR", "pt"), ("zh-Hant", "zh"), ("de", "de")])
def test_a_language_with_a_region_reaches_the_worker_as_its_language(tmp_path: Path, language: str, code: str) -> None:
    """The API admits subtags (en-US, pt_BR); Whisper knows only the language: the worker keeps the primary code."""
    assert load_as_worker(make_task(language=language, model="tiny"), tmp_path).language == code
