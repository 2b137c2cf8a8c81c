"""The transcription engine: windowed transcription (:class:`Engine`) and its faster-whisper decoder.

faster-whisper (and with it ctranslate2, av, onnxruntime) is imported lazily, only when a
:class:`FasterWhisperEngine` is loaded, so the rest of the package imports without it.

The engine transcribes window by window (:mod:`scribe_worker.audio`): each window is decoded from the
file, transcribed with faster-whisper's batched pipeline or its sequential decoder, and its segment and
word times are shifted by the window's offset, so the transcript is continuous and memory stays bounded
whatever the input's length. Progress (audio seconds done) is reported as segments come out.
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import gc
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scribe_contract.env import LANGUAGE
from scribe_contract.taxonomy import Reason

from scribe_worker import audio as audio_io
from scribe_worker import device
from scribe_worker.config.decoding import DecodingOptions
from scribe_worker.config.transcription import Transcription, check_model_supports
from scribe_worker.errors import WorkerError
from scribe_worker.progress import Reporter
from scribe_worker.transcript import Segment, Transcript, Word

SAMPLE_RATE = audio_io.SAMPLE_RATE
PROMPT_TAIL_CHARS = 800  # the previous text carried into the next window (Whisper keeps its last 223 tokens)
BATCHED_VAD_DEFAULTS = {"min_silence_duration_ms": 160}  # faster-whisper's own default for batched decoding


def _describe(exc: BaseException, path: Path, label: str) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {str(text).replace(str(path), label)}"


@dataclass
class _Run:
    """What one transcription accumulates across windows."""

    language: str | None
    language_probability: float = 1.0
    samples: int = 0
    text_tail: str = ""


class Engine(abc.ABC):
    """Transcribes a file window by window (bounded memory, continuous times, progress as segments come out);
    a subclass decodes one window."""

    decoding: DecodingOptions

    @abc.abstractmethod
    def check(self, options: Transcription) -> None:
        """Reject what the engine cannot do before any audio is read (raises WorkerError)."""

    def transcribe(
        self, audio: Path, options: Transcription, *, label: str = "the input", progress: Reporter | None = None
    ) -> Transcript:
        """Transcribe the audio file at ``audio`` as ``options`` ask (language None: detect it).

        ``label`` names the input in error messages (its s3:// URI); ``progress`` hears how far it got.

        Raises WorkerError with InvalidAudio when the file cannot be decoded or holds no audio, and
        with TranscriptionFailed for any other engine failure.
        """
        self.check(options)
        run = _Run(language=options.language)
        segments: list[Segment] = []
        if progress is not None:
            progress.start(audio_io.probe_duration(audio))
        try:
            for window in audio_io.windows(audio_io.chunks(audio), self.decoding.window_seconds):
                run.samples += len(window.samples)
                for segment in self._window(window, options, run, first_id=len(segments)):
                    segments.append(segment)
                    if progress is not None:
                        progress.update(segment.end)
                if segments:
                    run.text_tail = " ".join(s.text for s in segments[-20:])[-PROMPT_TAIL_CHARS:]
                if progress is not None:
                    progress.update(window.end)
                del window
                _release_memory()
        except audio_io.AudioError as exc:
            detail = _describe(exc, audio, label)
            raise WorkerError(Reason.INVALID_AUDIO, f"cannot decode {label} as audio: {detail}") from exc
        except (WorkerError, MemoryError):
            raise
        except Exception as exc:
            raise WorkerError(
                Reason.TRANSCRIPTION_FAILED, f"transcription engine failed: {_describe(exc, audio, label)}"
            ) from exc
        if run.samples == 0:
            raise WorkerError(Reason.INVALID_AUDIO, f"{label} contains no audio samples")
        duration = run.samples / SAMPLE_RATE
        if progress is not None:
            progress.finish(duration)
        return Transcript(
            language=run.language or "en",
            language_probability=run.language_probability,
            duration=duration,
            segments=tuple(segments),
            task=options.task,
        )

    def _window(self, window: audio_io.Window, options: Transcription, run: _Run, first_id: int) -> Iterator[Segment]:
        raw, info = self._decode(window.samples, options, run, first=window.start == 0)
        if run.language is None:  # detected on the first window, kept for the rest
            run.language = str(info.language)
            run.language_probability = float(info.language_probability)
        for n, segment in enumerate(raw):
            yield _shifted(segment, first_id + n, window)

    @abc.abstractmethod
    def _decode(self, samples: Any, options: Transcription, run: _Run, *, first: bool) -> tuple[Iterable[Any], Any]:
        """One window's raw segments (with ``start``, ``end``, ``text``, ``words``) and its language info."""


class FasterWhisperEngine(Engine):
    """faster-whisper, loaded from a local CTranslate2 model directory (never downloads)."""

    def __init__(
        self,
        model: Any,
        name: str,
        decoding: DecodingOptions | None = None,
        placement: device.Placement | None = None,
    ) -> None:
        self._model = model
        self.name = name
        self.decoding = decoding or DecodingOptions()
        self.placement = placement or device.Placement("cpu", "int8")
        self._batched: Any = None

    @classmethod
    def load(
        cls,
        model_dir: Path,
        name: str,
        *,
        device_name: str = "auto",
        compute_type: str | None = None,
        cpu_threads: int = 0,
        decoding: DecodingOptions | None = None,
    ) -> FasterWhisperEngine:
        """Load the model; a model that cannot be loaded is an InvalidConfiguration (retrying won't help)."""
        os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: we only ever pass a local directory
        from faster_whisper import WhisperModel  # noqa: PLC0415  (lazy: heavy, engine-only)

        placement = device.resolve(device_name, compute_type)
        try:
            model = WhisperModel(
                str(model_dir),
                device=placement.device,
                compute_type=placement.compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
        except MemoryError:
            raise
        except Exception as exc:
            raise WorkerError(
                Reason.INVALID_CONFIGURATION,
                f"cannot load model {name!r} from {model_dir} on {placement.device} with compute type "
                f"{placement.compute_type!r}: {type(exc).__name__}: {exc}",
            ) from exc
        return cls(model, name, decoding, placement)

    @property
    def multilingual(self) -> bool:
        return list(self._model.supported_languages) != ["en"]

    def check(self, options: Transcription) -> None:
        """Reject what the model cannot do (another language or translate with an English-only model)."""
        check_model_supports(self.name, multilingual=self.multilingual, language=options.language, task=options.task)
        if options.language is not None and options.language not in self._model.supported_languages:
            raise WorkerError(
                Reason.INVALID_CONFIGURATION,
                f"{LANGUAGE}={options.language!r}: model {self.name!r} does not support language {options.language!r}",
            )

    def _decode(self, samples: Any, options: Transcription, run: _Run, *, first: bool) -> tuple[Iterable[Any], Any]:
        d = self.decoding
        common: dict[str, Any] = {
            "language": run.language,
            "task": options.task,
            "beam_size": d.beam_size,
            "compression_ratio_threshold": d.compression_ratio_threshold,
            "log_prob_threshold": d.log_prob_threshold,
            "no_speech_threshold": d.no_speech_threshold,
            "word_timestamps": options.word_timestamps,
            "hotwords": options.hotwords,
        }
        if d.mode == "batched":
            if self._batched is None:
                from faster_whisper import BatchedInferencePipeline  # noqa: PLC0415  (lazy)

                self._batched = BatchedInferencePipeline(self._model)
            return self._batched.transcribe(  # type: ignore[no-any-return]
                samples,
                batch_size=d.batch_size,
                without_timestamps=False,  # timestamp tokens split each 30 s chunk into sentence-sized segments
                temperature=d.temperatures[0],
                initial_prompt=options.initial_prompt,  # batched: primes every chunk
                vad_filter=True,
                vad_parameters={**BATCHED_VAD_DEFAULTS, **d.vad_parameters},
                **common,
            )
        if first or not d.condition_on_previous_text:
            prompt = options.initial_prompt if first else None
        else:
            prompt = run.text_tail or None  # carry the context across the window boundary
        return self._model.transcribe(  # type: ignore[no-any-return]
            samples,
            temperature=list(d.temperatures),
            condition_on_previous_text=d.condition_on_previous_text,
            initial_prompt=prompt,
            vad_filter=d.vad,
            vad_parameters=dict(d.vad_parameters) or None,
            **common,
        )


def _release_memory() -> None:
    """Hand freed memory back to the OS between windows (glibc keeps it otherwise; RSS would creep up)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _clamp(value: float, window: audio_io.Window) -> float:
    return min(max(window.offset + float(value), window.offset), window.end)


def _shifted(segment: Any, segment_id: int, window: audio_io.Window) -> Segment:
    words = None
    if segment.words is not None:
        words = tuple(
            Word(
                start=_clamp(w.start, window),
                end=_clamp(w.end, window),
                text=str(w.word).strip(),
                probability=float(w.probability),
            )
            for w in segment.words
        )
    return Segment(
        id=segment_id,
        start=_clamp(segment.start, window),
        end=_clamp(segment.end, window),
        text=str(segment.text).strip(),
        words=words,
    )
