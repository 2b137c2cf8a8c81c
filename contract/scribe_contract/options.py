"""The worker's transcription options: their choices, defaults and limits, shared by both sides.

The worker enforces these when it reads its environment; the operator's API models validate a task's fields
against the same values, so what the API server admits the worker accepts, and the documented defaults (the
worker applies them to every variable the operator leaves unset) are written once.
"""

from __future__ import annotations

from typing import Final, Generic, NamedTuple, TypeVar

N = TypeVar("N", int, float)


class Bounds(NamedTuple, Generic[N]):
    """The smallest and the largest value a number may take (both allowed)."""

    low: N
    high: N


FORMATS: Final = ("txt", "srt", "vtt", "json")
"""The output formats, in upload order: json last, so its presence marks a complete result."""
WHISPER_TASKS: Final = ("transcribe", "translate")
DEVICES: Final = ("auto", "cpu", "cuda")
DECODING_MODES: Final = ("batched", "sequential")

DEFAULT_MODEL: Final = "tiny.en"
"""The model the worker loads when no model is named (the one baked into the default worker image)."""
DEFAULT_TERMINATION_PATH: Final = "/dev/termination-log"
"""Where the worker writes its termination message (the Kubernetes default ``terminationMessagePath``)."""
DEFAULT_HTTP_TIMEOUT: Final = 30.0
DEFAULT_DECODING: Final = "batched"  # chosen from `make bench` (docs/worker.md, "Decoding modes")
DEFAULT_BATCH_SIZE: Final = 8
DEFAULT_BEAM_SIZE: Final = 5
SEQUENTIAL_TEMPERATURES: Final = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's fallback ladder
BATCHED_TEMPERATURES: Final = (0.0,)  # the batched pipeline has no fallback: one temperature
DEFAULT_COMPRESSION_RATIO_THRESHOLD: Final = 2.4
DEFAULT_LOG_PROB_THRESHOLD: Final = -1.0
DEFAULT_NO_SPEECH_THRESHOLD: Final = 0.6
DEFAULT_WINDOW_SECONDS: Final = 240.0  # one batch of 8 x 30 s chunks; memory grows with it (docs/worker.md)
DEFAULT_PROGRESS_INTERVAL: Final = 10.0

MAX_PROMPT_CHARS: Final = 1000
BATCH_SIZE_BOUNDS: Final = Bounds(1, 64)
BEAM_SIZE_BOUNDS: Final = Bounds(1, 16)
WINDOW_SECONDS_BOUNDS: Final = Bounds(30.0, 7200.0)
VAD_FIELDS: Final[dict[str, tuple[type, float, float]]] = {
    "threshold": (float, 0.0, 1.0),
    "neg_threshold": (float, 0.0, 1.0),
    "min_speech_duration_ms": (int, 0, 60_000),
    "max_speech_duration_s": (float, 1.0, 3600.0),
    "min_silence_duration_ms": (int, 0, 60_000),
    "speech_pad_ms": (int, 0, 10_000),
}
"""VAD parameter -> (type, minimum, maximum): faster-whisper's VadOptions fields the worker accepts."""


def english_only(model: str) -> bool:
    """Whether a model *name* says it is English-only (Whisper's ``*.en`` models: tiny.en, base.en, ...)."""
    return model.lower().endswith(".en")
