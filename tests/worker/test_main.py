"""The entry point's classification of failures that escape the pipeline, and the engine's own mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scribe_contract.taxonomy import Reason
from scribe_worker import __main__ as entry
from scribe_worker import pipeline, termination
from scribe_worker.config import Config, DecodingOptions, Transcription
from scribe_worker.engine import FasterWhisperEngine
from scribe_worker.errors import WorkerError

from tests.worker.modeldirs import fake_model_dir

SIGNED = "http://127.0.0.1:9/b/k.wav?X-Amz-Signature=feedfacefeedfacefeedface"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    fake_model_dir(tmp_path)
    return {
        "SCRIBE_INPUT_URL": SIGNED,
        "SCRIBE_INPUT_URI": "s3://b/k.wav",
        "SCRIBE_OUTPUT_URLS": json.dumps({"json": SIGNED}),
        "SCRIBE_OUTPUT_URIS": json.dumps({"json": "s3://o/k.json"}),
        "SCRIBE_MODEL_DIR": str(tmp_path),
    }


def test_unexpected_errors_are_retryable_and_named(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    def explode(config: Config) -> termination.AttemptResult:
        raise KeyError(f"bug while handling {config.input_url}")

    monkeypatch.setattr(pipeline, "run", explode)
    outcome = entry._attempt(env)
    assert outcome.reason is Reason.TRANSCRIPTION_FAILED
    assert outcome.retryable
    assert outcome.exit_code == 21
    assert outcome.message.startswith("unexpected worker error: KeyError: ")
    rendered = termination.render(outcome).decode()
    assert "feedface" not in rendered
    assert "X-Amz-Signature=" not in rendered


def test_classified_errors_keep_their_reason(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    def refuse(config: Config) -> termination.AttemptResult:
        raise WorkerError(Reason.INPUT_FORBIDDEN, "no")

    monkeypatch.setattr(pipeline, "run", refuse)
    assert entry._attempt(env).reason is Reason.INPUT_FORBIDDEN


class _FailingModel:
    supported_languages = ("en",)

    def transcribe(self, audio: Any, **options: Any) -> Any:
        raise RuntimeError("CUDA failed, or anything else inside the engine")


def test_engine_failures_on_good_audio_are_transcription_failed(fox_wav: Path) -> None:
    engine = FasterWhisperEngine(_FailingModel(), "fake", DecodingOptions(mode="sequential"))
    with pytest.raises(WorkerError) as caught:
        engine.transcribe(fox_wav, Transcription(), label="s3://b/k.wav")
    assert caught.value.reason is Reason.TRANSCRIPTION_FAILED
    assert "RuntimeError: CUDA failed" in caught.value.message
