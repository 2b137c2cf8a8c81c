"""The faster-whisper engine with the bundled tiny.en model, in process (no S3 needed)."""

from __future__ import annotations

import random
import wave
from pathlib import Path

import pytest
from scribe_contract.options import SEQUENTIAL_TEMPERATURES
from scribe_contract.taxonomy import Reason
from scribe_worker import device
from scribe_worker.config import DecodingOptions, Transcription
from scribe_worker.engine import FasterWhisperEngine
from scribe_worker.errors import WorkerError
from scribe_worker.progress import Progress, Reporter
from scribe_worker.transcript import Transcript

from tests.fixtures.speech import HARVARD, corpus_wav, recognised, word_error_rate
from tests.worker.modeldirs import bundled_tiny_en, fake_model_dir

SEQUENTIAL = DecodingOptions(mode="sequential", temperatures=SEQUENTIAL_TEMPERATURES, condition_on_previous_text=True)


@pytest.fixture(scope="module")
def engine() -> FasterWhisperEngine:
    return FasterWhisperEngine.load(bundled_tiny_en(), "tiny.en")


@pytest.fixture(scope="module")
def corpus() -> Path:
    return corpus_wav()


class Recorder:
    def __init__(self) -> None:
        self.reports: list[Progress] = []

    def send(self, progress: Progress) -> None:
        self.reports.append(progress)


def assert_ordered(transcript: Transcript) -> None:
    assert [s.id for s in transcript.segments] == list(range(len(transcript.segments)))
    previous_end = 0.0
    for segment in transcript.segments:
        assert segment.start <= segment.end <= transcript.duration
        assert segment.start >= previous_end - 0.5, (segment, previous_end)  # continuous, no jumps back
        previous_end = segment.end
        assert segment.text == segment.text.strip()


def test_device_auto_falls_back_to_the_cpu_here(engine: FasterWhisperEngine) -> None:
    assert device.cuda_device_count() == 0, "this test documents the CPU fallback; this host has a CUDA device"
    assert engine.placement == device.Placement("cpu", "int8")


@pytest.mark.parametrize("decoding", [DecodingOptions(), SEQUENTIAL], ids=["batched", "sequential"])
def test_recovers_the_spoken_words(fox_wav: Path, decoding: DecodingOptions) -> None:
    engine = FasterWhisperEngine.load(bundled_tiny_en(), "tiny.en", decoding=decoding)
    transcript = engine.transcribe(fox_wav, Transcription())
    assert len(recognised(transcript.text)) >= 5, transcript.text
    assert transcript.language == "en"
    assert 2.0 < transcript.duration < 6.0
    assert transcript.segments
    assert_ordered(transcript)
    assert all(s.words is None for s in transcript.segments)


def test_batched_with_vad_on_a_long_corpus_is_accurate(engine: FasterWhisperEngine, corpus: Path) -> None:
    transcript = engine.transcribe(corpus, Transcription())
    assert word_error_rate(". ".join(HARVARD), transcript.text) < 0.3, transcript.text
    assert len(transcript.segments) >= 10  # sentence-sized segments, not one per 30 s chunk
    assert_ordered(transcript)


def test_word_timestamps_are_present_and_ordered(engine: FasterWhisperEngine, fox_wav: Path) -> None:
    transcript = engine.transcribe(fox_wav, Transcription(word_timestamps=True))
    words = [w for s in transcript.segments for w in (s.words or ())]
    assert len(recognised(" ".join(w.text for w in words))) >= 5
    for segment in transcript.segments:
        assert segment.words
        for word in segment.words:
            assert segment.start - 0.01 <= word.start <= word.end <= segment.end + 0.01
            assert 0.0 <= word.probability <= 1.0
            assert word.text == word.text.strip()
    starts = [w.start for w in words]
    assert starts == sorted(starts)


def test_windowed_decoding_gives_continuous_timestamps(corpus: Path) -> None:
    engine = FasterWhisperEngine.load(bundled_tiny_en(), "tiny.en", decoding=DecodingOptions(window_seconds=30))
    recorder = Recorder()
    transcript = engine.transcribe(
        corpus, Transcription(word_timestamps=True), progress=Reporter([recorder], interval=0.0)
    )
    with wave.open(str(corpus)) as reader:
        assert transcript.duration == pytest.approx(reader.getnframes() / reader.getframerate(), abs=0.01)
    assert_ordered(transcript)
    assert transcript.segments[-1].end > transcript.duration - 5  # the last window's speech, at its real time
    assert max(s.start for s in transcript.segments if s.start < 30) < 30
    assert any(60 < s.start < 90 for s in transcript.segments)  # the third window's segments, offset
    assert word_error_rate(". ".join(HARVARD), transcript.text) < 0.35, transcript.text
    starts = [w.start for s in transcript.segments for w in (s.words or ())]
    assert starts == sorted(starts)
    window_ends = [p.seconds for p in recorder.reports if not p.final]
    assert len(window_ends) >= 4


def test_progress_is_monotone_and_ends_with_the_duration(engine: FasterWhisperEngine, corpus: Path) -> None:
    recorder = Recorder()
    engine.transcribe(corpus, Transcription(), progress=Reporter([recorder], interval=0.0))
    seconds = [p.seconds for p in recorder.reports]
    assert seconds[0] == 0.0
    assert seconds == sorted(seconds)
    assert len(set(seconds)) == len(seconds)
    assert recorder.reports[-1].final
    assert [p.final for p in recorder.reports].count(True) == 1
    assert recorder.reports[0].total == pytest.approx(recorder.reports[-1].seconds, abs=0.05)


def test_silence_gives_an_empty_transcript(engine: FasterWhisperEngine, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as writer:
        writer.setparams((1, 2, 16000, 0, "NONE", "not compressed"))
        writer.writeframes(b"\0\0" * 16000 * 40)
    for decoding in (DecodingOptions(), DecodingOptions(mode="sequential")):
        transcript = FasterWhisperEngine(engine._model, "tiny.en", decoding).transcribe(path, Transcription())
        assert transcript.duration == pytest.approx(40.0)
        assert transcript.text == ""


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
        engine.transcribe(path, Transcription(), label="s3://audio/broken")
    assert caught.value.reason is Reason.INVALID_AUDIO
    assert "s3://audio/broken" in caught.value.message
    assert str(tmp_path) not in caught.value.message


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (Transcription(language="de"), "does not support language 'de' (it is English-only"),
        (Transcription(task="translate"), "SCRIBE_WHISPER_TASK=translate: model 'tiny.en' is English-only"),
    ],
)
def test_english_only_model_refuses_other_languages_and_translation(
    engine: FasterWhisperEngine, fox_wav: Path, options: Transcription, fragment: str
) -> None:
    with pytest.raises(WorkerError) as caught:
        engine.transcribe(fox_wav, options)
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert fragment in caught.value.message
    engine.check(Transcription(language="en"))


def test_a_model_named_without_en_is_still_known_english_only(fox_wav: Path) -> None:
    engine = FasterWhisperEngine.load(bundled_tiny_en(), "my-model")  # the name does not say it; the model does
    assert not engine.multilingual
    with pytest.raises(WorkerError, match="model 'my-model' is English-only and cannot translate"):
        engine.check(Transcription(task="translate"))


def test_broken_model_is_invalid_configuration(tmp_path: Path) -> None:
    fake_model_dir(tmp_path)
    with pytest.raises(WorkerError) as caught:
        FasterWhisperEngine.load(tmp_path, "broken", compute_type="int8", cpu_threads=1)
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert "cannot load model 'broken'" in caught.value.message
    assert "on cpu with compute type 'int8'" in caught.value.message


def test_unsupported_compute_type_is_invalid_configuration() -> None:
    with pytest.raises(WorkerError, match=r"SCRIBE_COMPUTE_TYPE='float16' is not supported on cpu here"):
        FasterWhisperEngine.load(bundled_tiny_en(), "tiny.en", device_name="cpu", compute_type="float16")
