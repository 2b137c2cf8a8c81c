"""The faster-whisper engine with the bundled tiny.en model, in process (no S3 needed)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from scribe_worker import models
from scribe_worker.engine import FasterWhisperEngine
from scribe_worker.errors import WorkerError
from scribe_worker.taxonomy import Reason

from tests.fixtures.speech import recognised


@pytest.fixture(scope="module")
def engine() -> FasterWhisperEngine:
    model_dir = models.resolve("tiny.en", None)
    return FasterWhisperEngine.load(model_dir, "tiny.en", compute_type="int8", cpu_threads=0)


def test_recovers_the_spoken_words(engine: FasterWhisperEngine, fox_wav: Path) -> None:
    transcript = engine.transcribe(fox_wav, None)
    assert len(recognised(transcript.text)) >= 5, transcript.text
    assert transcript.language == "en"
    assert 3.0 < transcript.duration < 6.0
    assert transcript.segments
    assert [s.id for s in transcript.segments] == list(range(len(transcript.segments)))
    for segment in transcript.segments:
        assert 0.0 <= segment.start <= segment.end <= transcript.duration + 0.5
        assert segment.text == segment.text.strip()


def invalid_inputs(directory: Path, fox_wav: Path) -> dict[str, Path]:
    files = {
        "empty": b"",
        "random": random.Random(1234).randbytes(64 * 1024),
        "text": b"this is a text file, not audio\n" * 200,
        "wav-header-only": fox_wav.read_bytes()[:44],
    }
    paths = {}
    for name, data in files.items():
        paths[name] = directory / name
        paths[name].write_bytes(data)
    return paths


@pytest.mark.parametrize("name", ["empty", "random", "text", "wav-header-only"])
def test_undecodable_input_is_invalid_audio(
    engine: FasterWhisperEngine, fox_wav: Path, tmp_path: Path, name: str
) -> None:
    path = invalid_inputs(tmp_path, fox_wav)[name]
    with pytest.raises(WorkerError) as caught:
        engine.transcribe(path, None, label="s3://audio/broken")
    assert caught.value.reason is Reason.INVALID_AUDIO
    assert "s3://audio/broken" in caught.value.message
    assert str(tmp_path) not in caught.value.message


def test_english_only_model_rejects_other_languages(engine: FasterWhisperEngine, fox_wav: Path) -> None:
    with pytest.raises(WorkerError) as caught:
        engine.transcribe(fox_wav, "de")
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert "English-only" in caught.value.message
    engine.check_language("en")


def test_broken_model_is_invalid_configuration(tmp_path: Path) -> None:
    for name in models.REQUIRED_FILES:
        (tmp_path / name).write_text("{}")
    with pytest.raises(WorkerError) as caught:
        FasterWhisperEngine.load(tmp_path, "broken", compute_type="int8", cpu_threads=1)
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert "cannot load model 'broken'" in caught.value.message
