"""The transcription engine: a small interface and its faster-whisper implementation.

faster-whisper (and with it ctranslate2, av, onnxruntime) is imported lazily, only when a
:class:`FasterWhisperEngine` is loaded, so the rest of the package imports without it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from scribe_worker.errors import WorkerError
from scribe_worker.taxonomy import Reason
from scribe_worker.transcript import Segment, Transcript

SAMPLE_RATE = 16_000


class Engine(Protocol):
    def transcribe(self, audio: Path, language: str | None, *, label: str = "the input") -> Transcript:
        """Transcribe the audio file at ``audio``; ``language`` None means auto-detect.

        ``label`` names the input in error messages (its s3:// URI).

        Raises WorkerError with InvalidAudio when the file cannot be decoded or holds no audio, and
        with TranscriptionFailed for any other engine failure.
        """
        ...


def _describe(exc: BaseException, path: Path, label: str) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {str(text).replace(str(path), label)}"


class FasterWhisperEngine:
    """faster-whisper on CPU, loaded from a local CTranslate2 model directory (never downloads)."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name

    @classmethod
    def load(cls, model_dir: Path, name: str, *, compute_type: str, cpu_threads: int) -> FasterWhisperEngine:
        """Load the model; a model that cannot be loaded is an InvalidConfiguration (retrying won't help)."""
        os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: we only ever pass a local directory
        from faster_whisper import WhisperModel  # noqa: PLC0415  (lazy: heavy, engine-only)

        try:
            model = WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except MemoryError:
            raise
        except Exception as exc:
            raise WorkerError(
                Reason.INVALID_CONFIGURATION,
                f"cannot load model {name!r} from {model_dir} with compute type {compute_type!r}: "
                f"{type(exc).__name__}: {exc}",
            ) from exc
        return cls(model, name)

    def check_language(self, language: str | None) -> None:
        """Reject a language the model cannot transcribe (e.g. ``de`` with an English-only model)."""
        if language is None:
            return
        supported: list[str] = list(self._model.supported_languages)
        if language not in supported:
            hint = " (it is English-only; use a multilingual model)" if supported == ["en"] else ""
            raise WorkerError(
                Reason.INVALID_CONFIGURATION,
                f"model {self.name!r} does not support language {language!r}{hint}",
            )

    def transcribe(self, audio: Path, language: str | None, *, label: str = "the input") -> Transcript:
        from faster_whisper import decode_audio  # noqa: PLC0415  (lazy: heavy, engine-only)

        self.check_language(language)
        try:
            samples = decode_audio(str(audio), sampling_rate=SAMPLE_RATE)
        except MemoryError:
            raise
        except Exception as exc:
            raise WorkerError(
                Reason.INVALID_AUDIO, f"cannot decode {label} as audio: {_describe(exc, audio, label)}"
            ) from exc
        if samples.size == 0:
            raise WorkerError(Reason.INVALID_AUDIO, f"{label} contains no audio samples")
        try:
            raw_segments, info = self._model.transcribe(samples, language=language)
            segments = tuple(
                Segment(id=i, start=float(s.start), end=float(s.end), text=str(s.text).strip())
                for i, s in enumerate(raw_segments)
            )
        except MemoryError:
            raise
        except Exception as exc:
            raise WorkerError(
                Reason.TRANSCRIPTION_FAILED, f"transcription engine failed: {_describe(exc, audio, label)}"
            ) from exc
        return Transcript(
            language=str(info.language),
            language_probability=float(info.language_probability),
            duration=float(info.duration),
            segments=segments,
        )
