"""Parsing the worker's environment: defaults, validation, and that errors never echo a URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scribe_worker import config
from scribe_worker.errors import WorkerError
from scribe_worker.models import REQUIRED_FILES
from scribe_worker.taxonomy import Reason

GET = "https://s3.example.com/audio/a.wav?X-Amz-Signature=abcdef0123456789abcdef"
PUT = "https://s3.example.com/out/a.json?X-Amz-Signature=0123456789abcdef0123"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "model"
    directory.mkdir()
    for name in REQUIRED_FILES:
        (directory / name).write_text("{}")
    return directory


def env(model_dir: Path, **overrides: str) -> dict[str, str]:
    base = {
        "SCRIBE_INPUT_URL": GET,
        "SCRIBE_INPUT_URI": "s3://audio/a.wav",
        "SCRIBE_OUTPUT_URLS": json.dumps({"json": PUT, "txt": PUT + "1", "srt": PUT + "2"}),
        "SCRIBE_OUTPUT_URIS": json.dumps({"srt": "s3://out/a.srt", "json": "s3://out/a.json", "txt": "s3://out/a.txt"}),
        "SCRIBE_MODEL_DIR": str(model_dir),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v != "<unset>"}


def test_defaults(model_dir: Path) -> None:
    cfg = config.load(env(model_dir))
    assert cfg.language is None
    assert cfg.model == "tiny.en"
    assert cfg.model_dir == model_dir
    assert cfg.http_timeout == 30.0
    assert cfg.termination_path == Path("/dev/termination-log")
    assert cfg.tmpdir is None
    assert cfg.compute_type == "int8"
    assert cfg.cpu_threads == 0
    assert list(cfg.output_urls) == ["txt", "srt", "json"]  # upload order: json last
    assert list(cfg.output_uris) == ["txt", "srt", "json"]
    assert set(cfg.secrets) == {GET, PUT, PUT + "1", PUT + "2"}


def test_overrides(model_dir: Path, tmp_path: Path) -> None:
    cfg = config.load(
        env(
            model_dir,
            SCRIBE_LANGUAGE=" DE ",
            SCRIBE_MODEL="small",
            SCRIBE_HTTP_TIMEOUT_SECONDS="2.5",
            SCRIBE_TERMINATION_MESSAGE_PATH=str(tmp_path / "t"),
            SCRIBE_TMPDIR=str(tmp_path),
            SCRIBE_COMPUTE_TYPE="float32",
            SCRIBE_CPU_THREADS="3",
        )
    )
    assert (cfg.language, cfg.model, cfg.http_timeout) == ("de", "small", 2.5)
    assert (cfg.termination_path, cfg.tmpdir) == (tmp_path / "t", tmp_path)
    assert (cfg.compute_type, cfg.cpu_threads) == ("float32", 3)


@pytest.mark.parametrize("value", ["", "auto", "AUTO"])
def test_auto_language(model_dir: Path, value: str) -> None:
    assert config.load(env(model_dir, SCRIBE_LANGUAGE=value)).language is None


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"SCRIBE_INPUT_URL": "<unset>"}, "SCRIBE_INPUT_URL is not set"),
        ({"SCRIBE_INPUT_URL": "  "}, "SCRIBE_INPUT_URL is not set"),
        ({"SCRIBE_INPUT_URL": "s3://audio/a.wav"}, "SCRIBE_INPUT_URL must be an http(s) URL"),
        ({"SCRIBE_INPUT_URI": "<unset>"}, "SCRIBE_INPUT_URI is not set"),
        ({"SCRIBE_INPUT_URI": GET}, "SCRIBE_INPUT_URI must be an s3:// URI"),
        ({"SCRIBE_OUTPUT_URLS": "<unset>"}, "SCRIBE_OUTPUT_URLS is not set"),
        ({"SCRIBE_OUTPUT_URLS": "{not json"}, "SCRIBE_OUTPUT_URLS is not valid JSON"),
        ({"SCRIBE_OUTPUT_URLS": "[]"}, "must be a non-empty JSON object"),
        ({"SCRIBE_OUTPUT_URLS": json.dumps({"txt": PUT})}, "must include the json format"),
        ({"SCRIBE_OUTPUT_URLS": json.dumps({"json": PUT, "pdf": PUT})}, "unknown formats ['pdf']"),
        ({"SCRIBE_OUTPUT_URLS": json.dumps({"json": 3})}, "SCRIBE_OUTPUT_URLS['json'] must be a non-empty string"),
        ({"SCRIBE_OUTPUT_URLS": json.dumps({"json": "ftp://x/y"})}, "must be an http(s) URL"),
        ({"SCRIBE_OUTPUT_URIS": json.dumps({"json": "s3://out/a.json"})}, "differ from SCRIBE_OUTPUT_URLS"),
        (
            {"SCRIBE_OUTPUT_URIS": json.dumps({"json": PUT, "txt": "s3://o/t", "srt": "s3://o/s"})},
            "SCRIBE_OUTPUT_URIS['json'] must be an s3:// URI",
        ),
        ({"SCRIBE_LANGUAGE": "english"}, "is not a language code"),
        ({"SCRIBE_MODEL": "../etc"}, "is not a valid model name"),
        ({"SCRIBE_HTTP_TIMEOUT_SECONDS": "soon"}, "is not a number"),
        ({"SCRIBE_HTTP_TIMEOUT_SECONDS": "0"}, "must be a positive number"),
        ({"SCRIBE_HTTP_TIMEOUT_SECONDS": "nan"}, "must be a positive number"),
        ({"SCRIBE_CPU_THREADS": "-1"}, "must be a non-negative integer"),
        ({"SCRIBE_COMPUTE_TYPE": "int8; rm"}, "is not a compute type"),
        ({"SCRIBE_TMPDIR": "/nonexistent/dir"}, "is not a directory"),
        ({"SCRIBE_MODEL_DIR": "/nonexistent/model"}, "is not a faster-whisper model directory"),
    ],
)
def test_invalid(model_dir: Path, overrides: dict[str, str], fragment: str) -> None:
    with pytest.raises(WorkerError) as caught:
        config.load(env(model_dir, **overrides))
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert fragment in caught.value.message
    assert "X-Amz" not in caught.value.message


def test_model_not_installed_anywhere(model_dir: Path) -> None:
    with pytest.raises(WorkerError) as caught:
        config.load(env(model_dir, SCRIBE_MODEL_DIR="<unset>", SCRIBE_MODEL="large-v3"))
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert "model 'large-v3' is not installed locally" in caught.value.message
    assert "/models/large-v3" in caught.value.message


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
