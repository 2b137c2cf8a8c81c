"""Parsing the worker's environment: defaults, validation, and that errors never echo a URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scribe_contract.env import VARIABLES
from scribe_contract.options import SEQUENTIAL_TEMPERATURES
from scribe_contract.taxonomy import Reason
from scribe_worker import config
from scribe_worker.errors import WorkerError

from tests.worker.modeldirs import fake_model_dir

GET = "https://s3.example.com/audio/a.wav?X-Amz-Signature=abcdef0123456789abcdef"
PUT = "https://s3.example.com/out/a.json?X-Amz-Signature=0123456789abcdef0123"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return fake_model_dir(tmp_path / "model")


def output_uris(**replaced: str) -> str:
    """SCRIBE_OUTPUT_URIS of the tests' attempt (srt, json and txt under s3://out/), the formats in ``replaced``
    given those values instead."""
    return json.dumps({"srt": "s3://out/a.srt", "json": "s3://out/a.json", "txt": "s3://out/a.txt", **replaced})


def env(model_dir: Path, **overrides: str) -> dict[str, str]:
    base = {
        "SCRIBE_INPUT_URL": GET,
        "SCRIBE_INPUT_URI": "s3://audio/a.wav",
        "SCRIBE_OUTPUT_URLS": json.dumps({"json": PUT, "txt": PUT + "1", "srt": PUT + "2"}),
        "SCRIBE_OUTPUT_URIS": output_uris(),
        "SCRIBE_MODEL_DIR": str(model_dir),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v != "<unset>"}


def refusal(environ: dict[str, str]) -> str:
    """The message of the configuration error ``config.load(environ)`` raises; it never echoes a presigned URL."""
    with pytest.raises(WorkerError) as caught:
        config.load(environ)
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert "X-Amz" not in caught.value.message
    return caught.value.message


def test_defaults(model_dir: Path) -> None:
    cfg = config.load(env(model_dir))
    assert cfg.language is None
    assert cfg.model == "tiny.en"
    assert cfg.model_dir == model_dir
    assert cfg.http_timeout == 30.0
    assert cfg.termination_path == Path("/dev/termination-log")
    assert cfg.tmpdir is None
    assert cfg.compute_type is None  # per device: int8 on CPU, float16 on CUDA
    assert cfg.device == "auto"
    assert cfg.cpu_threads == 0
    assert cfg.progress_interval == 10.0
    assert cfg.transcription == config.Transcription()
    assert cfg.decoding == config.DecodingOptions()
    assert (cfg.decoding.mode, cfg.decoding.batch_size, cfg.decoding.vad) == ("batched", 8, True)
    assert cfg.decoding.temperatures == (0.0,)
    assert cfg.decoding.window_seconds == 240.0
    assert not cfg.model_source.from_s3
    assert list(cfg.output_urls) == ["txt", "srt", "json"]  # upload order: json last
    assert list(cfg.output_uris) == ["txt", "srt", "json"]
    assert set(cfg.secrets) == {GET, PUT, PUT + "1", PUT + "2"}


def test_overrides(model_dir: Path, tmp_path: Path) -> None:
    cfg = config.load(
        env(
            model_dir,
            SCRIBE_LANGUAGE=" DE ",
            SCRIBE_MODEL="small",
            SCRIBE_DEVICE="CPU",
            SCRIBE_HTTP_TIMEOUT_SECONDS="2.5",
            SCRIBE_TERMINATION_MESSAGE_PATH=str(tmp_path / "t"),
            SCRIBE_TMPDIR=str(tmp_path),
            SCRIBE_COMPUTE_TYPE="float32",
            SCRIBE_CPU_THREADS="3",
        )
    )
    assert (cfg.language, cfg.model, cfg.http_timeout) == ("de", "small", 2.5)
    assert (cfg.termination_path, cfg.tmpdir) == (tmp_path / "t", tmp_path)
    assert (cfg.compute_type, cfg.cpu_threads, cfg.device) == ("float32", 3, "cpu")


@pytest.mark.parametrize("value", ["", "auto", "AUTO"])
def test_auto_language(model_dir: Path, value: str) -> None:
    assert config.load(env(model_dir, SCRIBE_LANGUAGE=value)).language is None


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("SCRIBE_INPUT_URL", "<unset>", "SCRIBE_INPUT_URL is not set"),
        ("SCRIBE_INPUT_URL", "  ", "SCRIBE_INPUT_URL is not set"),
        ("SCRIBE_INPUT_URL", "s3://audio/a.wav", "SCRIBE_INPUT_URL must be an http(s) URL"),
        ("SCRIBE_INPUT_URI", "<unset>", "SCRIBE_INPUT_URI is not set"),
        ("SCRIBE_INPUT_URI", GET, "SCRIBE_INPUT_URI must be an s3:// URI"),
        ("SCRIBE_OUTPUT_URLS", "<unset>", "SCRIBE_OUTPUT_URLS is not set"),
        ("SCRIBE_OUTPUT_URLS", "{not json", "SCRIBE_OUTPUT_URLS is not valid JSON"),
        ("SCRIBE_OUTPUT_URLS", "[]", "must be a non-empty JSON object"),
        ("SCRIBE_OUTPUT_URLS", json.dumps({"txt": PUT}), "must include the json format"),
        ("SCRIBE_OUTPUT_URLS", json.dumps({"json": PUT, "pdf": PUT}), "unknown formats ['pdf']"),
        ("SCRIBE_OUTPUT_URLS", json.dumps({"json": 3}), "SCRIBE_OUTPUT_URLS['json'] must be a non-empty string"),
        ("SCRIBE_OUTPUT_URLS", json.dumps({"json": "ftp://x/y"}), "must be an http(s) URL"),
        ("SCRIBE_OUTPUT_URIS", json.dumps({"json": "s3://out/a.json"}), "differ from SCRIBE_OUTPUT_URLS"),
        ("SCRIBE_OUTPUT_URIS", output_uris(json=PUT), "SCRIBE_OUTPUT_URIS['json'] must be an s3:// URI"),
        ("SCRIBE_LANGUAGE", "english", "is not a language code"),
        ("SCRIBE_MODEL", "../etc", "is not a valid model name"),
        ("SCRIBE_HTTP_TIMEOUT_SECONDS", "soon", "is not a number"),
        ("SCRIBE_HTTP_TIMEOUT_SECONDS", "0", "must be a positive number"),
        ("SCRIBE_HTTP_TIMEOUT_SECONDS", "nan", "must be a positive number"),
        ("SCRIBE_CPU_THREADS", "-1", "must be a non-negative integer"),
        ("SCRIBE_COMPUTE_TYPE", "int8; rm", "is not a compute type"),
        ("SCRIBE_TMPDIR", "/nonexistent/dir", "is not a directory"),
        ("SCRIBE_MODEL_DIR", "/nonexistent/model", "is not a faster-whisper model directory"),
        ("SCRIBE_WHISPER_TASK", "summarise", "SCRIBE_WHISPER_TASK='summarise' must be one of transcribe, translate"),
        ("SCRIBE_WORD_TIMESTAMPS", "maybe", "SCRIBE_WORD_TIMESTAMPS='maybe' must be true or false"),
        ("SCRIBE_INITIAL_PROMPT", "x" * 1001, "SCRIBE_INITIAL_PROMPT is 1001 characters long; at most 1000"),
        ("SCRIBE_HOTWORDS", "y" * 2000, "SCRIBE_HOTWORDS is 2000 characters long"),
        ("SCRIBE_DEVICE", "tpu", "SCRIBE_DEVICE='tpu' must be one of auto, cpu, cuda"),
        ("SCRIBE_DECODING", "parallel", "SCRIBE_DECODING='parallel' must be one of batched, sequential"),
        ("SCRIBE_BATCH_SIZE", "0", "SCRIBE_BATCH_SIZE='0' must be an integer from 1 to 64"),
        ("SCRIBE_BATCH_SIZE", "8.5", "SCRIBE_BATCH_SIZE='8.5' must be an integer from 1 to 64"),
        ("SCRIBE_BEAM_SIZE", "17", "SCRIBE_BEAM_SIZE='17' must be an integer from 1 to 16"),
        ("SCRIBE_VAD", "sometimes", "SCRIBE_VAD='sometimes' must be true or false"),
        ("SCRIBE_VAD", "false", "SCRIBE_VAD=false needs SCRIBE_DECODING=sequential"),
        ("SCRIBE_VAD_PARAMETERS", "[1]", "SCRIBE_VAD_PARAMETERS must be a non-empty JSON object"),
        ("SCRIBE_VAD_PARAMETERS", '{"thresh": 0.5}', "SCRIBE_VAD_PARAMETERS has unknown keys ['thresh']"),
        ("SCRIBE_VAD_PARAMETERS", '{"threshold": 2}', "['threshold'] must be a number from 0 to 1"),
        ("SCRIBE_VAD_PARAMETERS", '{"speech_pad_ms": 1.5}', "['speech_pad_ms'] must be an integer from 0 to 10000"),
        ("SCRIBE_VAD_PARAMETERS", '{"threshold": true}', "['threshold'] must be a number"),
        ("SCRIBE_VAD_PARAMETERS", '{"max_speech_duration_s": 20}', "needs SCRIBE_DECODING=sequential"),
        ("SCRIBE_TEMPERATURES", "0,0.5", "SCRIBE_TEMPERATURES with a fallback ladder needs SCRIBE_DECODING=sequential"),
        ("SCRIBE_TEMPERATURES", "0,hot", "SCRIBE_TEMPERATURES='hot' is not a number"),
        ("SCRIBE_TEMPERATURES", "1.5", "SCRIBE_TEMPERATURES='1.5' must be a number from 0 to 1"),
        ("SCRIBE_CONDITION_ON_PREVIOUS_TEXT", "true", "needs SCRIBE_DECODING=sequential"),
        ("SCRIBE_COMPRESSION_RATIO_THRESHOLD", "0", "SCRIBE_COMPRESSION_RATIO_THRESHOLD must be greater than 0"),
        ("SCRIBE_LOG_PROB_THRESHOLD", "0.5", "SCRIBE_LOG_PROB_THRESHOLD='0.5' must be a number from -100 to 0"),
        ("SCRIBE_NO_SPEECH_THRESHOLD", "inf", "SCRIBE_NO_SPEECH_THRESHOLD='inf' must be a number from 0 to 1"),
        ("SCRIBE_WINDOW_SECONDS", "10", "SCRIBE_WINDOW_SECONDS='10' must be a number from 30 to 7200"),
        ("SCRIBE_PROGRESS_INTERVAL_SECONDS", "-1", "SCRIBE_PROGRESS_INTERVAL_SECONDS='-1' must be a number"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(model_dir: Path, variable: str, value: str, fragment: str) -> None:
    """The refusal starts with the variable, then says what is wrong with its value (``fragment``)."""
    message = refusal(env(model_dir, **{variable: value}))
    assert message.startswith(variable) and fragment in message


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"SCRIBE_BATCH_SIZE": "4"}, "SCRIBE_BATCH_SIZE needs SCRIBE_DECODING=batched"),
        ({"SCRIBE_TEMPERATURES": "0.4,0.2"}, "must list distinct temperatures in increasing order"),
        (
            {"SCRIBE_VAD": "false", "SCRIBE_VAD_PARAMETERS": '{"threshold": 0.4}'},
            "SCRIBE_VAD_PARAMETERS needs SCRIBE_VAD=true",
        ),
    ],
)
def test_what_sequential_decoding_refuses(model_dir: Path, overrides: dict[str, str], fragment: str) -> None:
    assert fragment in refusal(env(model_dir, SCRIBE_DECODING="sequential", **overrides))


def test_model_not_installed_anywhere(model_dir: Path) -> None:
    message = refusal(env(model_dir, SCRIBE_MODEL_DIR="<unset>", SCRIBE_MODEL="large-v3"))
    assert "model 'large-v3' is not installed locally" in message
    assert "/models/large-v3" in message


def test_secret_values_even_from_broken_config() -> None:
    values = config.secret_values({"SCRIBE_INPUT_URL": GET, "SCRIBE_OUTPUT_URLS": json.dumps({"json": PUT, "pdf": 1})})
    assert GET in values
    assert PUT in values
    assert config.secret_values({"SCRIBE_OUTPUT_URLS": "{broken"}) == ("{broken",)


def test_log_context() -> None:
    assert config.log_context({"SCRIBE_ATTEMPT": "3", "SCRIBE_TASK": "media/a", "HOSTNAME": "a-a3"}) == {
        "attempt": 3,
        "task": "media/a",
        "pod": "a-a3",
    }
    assert config.log_context({}) == {"attempt": None, "task": None, "pod": None}


def test_transcription_options(model_dir: Path) -> None:
    cfg = config.load(
        env(
            model_dir,
            SCRIBE_MODEL="base",
            SCRIBE_WHISPER_TASK="Translate",
            SCRIBE_LANGUAGE="de",
            SCRIBE_WORD_TIMESTAMPS="yes",
            SCRIBE_INITIAL_PROMPT="  Glossary: Kubernetes, kopf.  ",
            SCRIBE_HOTWORDS="kopf",
        )
    )
    assert cfg.transcription == config.Transcription(
        language="de",
        task="translate",
        word_timestamps=True,
        initial_prompt="Glossary: Kubernetes, kopf.",
        hotwords="kopf",
    )


def test_sequential_decoding_options(model_dir: Path) -> None:
    sequential = config.load(env(model_dir, SCRIBE_DECODING="sequential")).decoding
    assert sequential.temperatures == SEQUENTIAL_TEMPERATURES
    assert sequential.condition_on_previous_text is True
    assert sequential.vad is True
    tuned = config.load(
        env(
            model_dir,
            SCRIBE_DECODING="sequential",
            SCRIBE_VAD="off",
            SCRIBE_BEAM_SIZE="1",
            SCRIBE_TEMPERATURES="0",
            SCRIBE_CONDITION_ON_PREVIOUS_TEXT="false",
            SCRIBE_COMPRESSION_RATIO_THRESHOLD="2.0",
            SCRIBE_LOG_PROB_THRESHOLD="-0.5",
            SCRIBE_NO_SPEECH_THRESHOLD="0.9",
            SCRIBE_WINDOW_SECONDS="60",
        )
    ).decoding
    assert tuned == config.DecodingOptions(
        mode="sequential",
        vad=False,
        beam_size=1,
        temperatures=(0.0,),
        condition_on_previous_text=False,
        compression_ratio_threshold=2.0,
        log_prob_threshold=-0.5,
        no_speech_threshold=0.9,
        window_seconds=60.0,
    )


def test_batched_decoding_options(model_dir: Path) -> None:
    batched = config.load(
        env(
            model_dir,
            SCRIBE_BATCH_SIZE="16",
            SCRIBE_TEMPERATURES="0.2",
            SCRIBE_CONDITION_ON_PREVIOUS_TEXT="false",
            SCRIBE_VAD_PARAMETERS='{"threshold": 0.4, "min_silence_duration_ms": 300}',
        )
    ).decoding
    assert (batched.mode, batched.batch_size, batched.temperatures) == ("batched", 16, (0.2,))
    assert batched.vad_parameters == {"threshold": 0.4, "min_silence_duration_ms": 300}
    assert isinstance(batched.vad_parameters["min_silence_duration_ms"], int)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"SCRIBE_WHISPER_TASK": "translate"}, "SCRIBE_WHISPER_TASK=translate: model 'tiny.en' is English-only"),
        ({"SCRIBE_LANGUAGE": "fr"}, "SCRIBE_LANGUAGE='fr': model 'tiny.en' does not support language 'fr'"),
        ({"SCRIBE_MODEL": "base.en", "SCRIBE_WHISPER_TASK": "translate"}, "model 'base.en' is English-only"),
    ],
)
def test_english_only_models_refuse_translation_and_other_languages(
    model_dir: Path, overrides: dict[str, str], fragment: str
) -> None:
    assert fragment in refusal(env(model_dir, **overrides))
    assert config.load(env(model_dir, SCRIBE_LANGUAGE="en")).language == "en"


def test_model_from_s3(model_dir: Path, tmp_path: Path) -> None:
    urls = {name: f"{GET}&f={name}" for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")}
    cfg = config.load(
        env(
            model_dir,
            SCRIBE_MODEL_DIR="<unset>",
            SCRIBE_MODEL="base.en",
            SCRIBE_MODEL_URLS=json.dumps(urls),
            SCRIBE_MODEL_URI="s3://models/base.en/",
            SCRIBE_MODEL_CACHE_DIR=str(tmp_path),
        )
    )
    assert cfg.model_source == config.ModelLocation(
        "base.en", uri="s3://models/base.en/", urls=urls, cache_dir=tmp_path
    )
    assert cfg.model_dir is None
    assert set(urls.values()) <= set(cfg.secrets)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({}, "set one of SCRIBE_MODEL_DIR and SCRIBE_MODEL_URLS, not both"),
        (
            {"SCRIBE_MODEL_DIR": "<unset>", "SCRIBE_MODEL_URI": "<unset>", "SCRIBE_MODEL_URLS": "{}"},
            "SCRIBE_MODEL_URLS must be a non-empty",
        ),
        ({"SCRIBE_MODEL_DIR": "<unset>", "SCRIBE_MODEL_URI": "<unset>"}, "SCRIBE_MODEL_URI is not set"),
        ({"SCRIBE_MODEL_DIR": "<unset>", "SCRIBE_MODEL_URI": "models/x"}, "SCRIBE_MODEL_URI must be an s3:// URI"),
        (
            {"SCRIBE_MODEL_DIR": "<unset>", "SCRIBE_MODEL_URLS": json.dumps({"model.bin": GET})},
            "SCRIBE_MODEL_URLS lacks required model files: config.json, tokenizer.json, vocabulary.*",
        ),
        (
            {"SCRIBE_MODEL_DIR": "<unset>", "SCRIBE_MODEL_URLS": json.dumps({"../model.bin": GET})},
            "SCRIBE_MODEL_URLS has an invalid file name '../model.bin'",
        ),
        (
            {"SCRIBE_MODEL_DIR": "<unset>", "SCRIBE_MODEL_URLS": json.dumps({"model.bin": "file:///etc/passwd"})},
            "SCRIBE_MODEL_URLS['model.bin'] must be an http(s) URL",
        ),
    ],
)
def test_invalid_model_from_s3(model_dir: Path, overrides: dict[str, str], fragment: str) -> None:
    urls = {name: GET for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")}
    base = {"SCRIBE_MODEL_URLS": json.dumps(urls), "SCRIBE_MODEL_URI": "s3://models/tiny.en/"}
    assert fragment in refusal(env(model_dir, **{**base, **overrides}))


def test_secret_values_include_model_urls() -> None:
    secret = GET + "&model"
    assert secret in config.secret_values({"SCRIBE_MODEL_URLS": json.dumps({"model.bin": secret})})


def test_every_variable_is_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "worker.md").read_text()
    undocumented = [v.name for v in VARIABLES if f"| `{v.name}` |" not in doc]
    assert undocumented == []
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names))
