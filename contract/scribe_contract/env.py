"""The worker's environment: every variable the operator sets on an attempt's pod and the worker reads.

Each name is spelled once, here; ``VARIABLES`` documents each one (type, default, meaning; docs/worker.md has the
same table). A variable that is unset or empty takes its documented default. The ``secret`` ones carry presigned
URLs: the operator passes them only through the attempt's Secret (``secretKeyRef``), never in the pod spec, and
the worker never logs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scribe_contract.options import (
    BATCH_SIZE_BOUNDS,
    BEAM_SIZE_BOUNDS,
    DECODING_MODES,
    DEFAULT_BATCH_SIZE,
    DEFAULT_BEAM_SIZE,
    DEFAULT_COMPRESSION_RATIO_THRESHOLD,
    DEFAULT_DECODING,
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_LOG_PROB_THRESHOLD,
    DEFAULT_MODEL,
    DEFAULT_NO_SPEECH_THRESHOLD,
    DEFAULT_PROGRESS_INTERVAL,
    DEFAULT_TERMINATION_PATH,
    DEFAULT_WINDOW_SECONDS,
    DEVICES,
    MAX_PROMPT_CHARS,
    VAD_FIELDS,
    WHISPER_TASKS,
    WINDOW_SECONDS_BOUNDS,
    Bounds,
)

INPUT_URL: Final = "SCRIBE_INPUT_URL"
INPUT_URI: Final = "SCRIBE_INPUT_URI"
OUTPUT_URLS: Final = "SCRIBE_OUTPUT_URLS"
OUTPUT_URIS: Final = "SCRIBE_OUTPUT_URIS"
LANGUAGE: Final = "SCRIBE_LANGUAGE"
WHISPER_TASK: Final = "SCRIBE_WHISPER_TASK"
WORD_TIMESTAMPS: Final = "SCRIBE_WORD_TIMESTAMPS"
INITIAL_PROMPT: Final = "SCRIBE_INITIAL_PROMPT"
HOTWORDS: Final = "SCRIBE_HOTWORDS"
MODEL: Final = "SCRIBE_MODEL"
MODEL_DIR: Final = "SCRIBE_MODEL_DIR"
MODEL_URLS: Final = "SCRIBE_MODEL_URLS"
MODEL_URI: Final = "SCRIBE_MODEL_URI"
MODEL_CACHE_DIR: Final = "SCRIBE_MODEL_CACHE_DIR"
DEVICE: Final = "SCRIBE_DEVICE"
COMPUTE_TYPE: Final = "SCRIBE_COMPUTE_TYPE"
CPU_THREADS: Final = "SCRIBE_CPU_THREADS"
DECODING: Final = "SCRIBE_DECODING"
BATCH_SIZE: Final = "SCRIBE_BATCH_SIZE"
VAD: Final = "SCRIBE_VAD"
VAD_PARAMETERS: Final = "SCRIBE_VAD_PARAMETERS"
BEAM_SIZE: Final = "SCRIBE_BEAM_SIZE"
TEMPERATURES: Final = "SCRIBE_TEMPERATURES"
COMPRESSION_RATIO_THRESHOLD: Final = "SCRIBE_COMPRESSION_RATIO_THRESHOLD"
LOG_PROB_THRESHOLD: Final = "SCRIBE_LOG_PROB_THRESHOLD"
NO_SPEECH_THRESHOLD: Final = "SCRIBE_NO_SPEECH_THRESHOLD"
CONDITION_ON_PREVIOUS_TEXT: Final = "SCRIBE_CONDITION_ON_PREVIOUS_TEXT"
WINDOW_SECONDS: Final = "SCRIBE_WINDOW_SECONDS"
PROGRESS_INTERVAL_SECONDS: Final = "SCRIBE_PROGRESS_INTERVAL_SECONDS"
PROGRESS_DIR: Final = "SCRIBE_PROGRESS_DIR"
HTTP_TIMEOUT_SECONDS: Final = "SCRIBE_HTTP_TIMEOUT_SECONDS"
TERMINATION_MESSAGE_PATH: Final = "SCRIBE_TERMINATION_MESSAGE_PATH"
TMPDIR: Final = "SCRIBE_TMPDIR"
ATTEMPT: Final = "SCRIBE_ATTEMPT"
TASK_NAME: Final = "SCRIBE_TASK"


@dataclass(frozen=True)
class Variable:
    """One environment variable of the worker's contract, as documented in docs/worker.md."""

    name: str
    type: str
    default: str
    meaning: str
    secret: bool = False


def _one_of(choices: tuple[str, ...]) -> str:
    return " | ".join(choices)


def _within(kind: str, bounds: Bounds[int] | Bounds[float]) -> str:
    return f"{kind} {bounds.low:g}..{bounds.high:g}"


def _number(value: float) -> str:
    return f"{value:g}"


VARIABLES: Final[tuple[Variable, ...]] = (
    Variable(INPUT_URL, "URL", "required", "presigned GET URL of the input audio", secret=True),
    Variable(INPUT_URI, "s3:// URI", "required", "the input's s3://bucket/key, for logs and messages"),
    Variable(OUTPUT_URLS, "JSON object", "required", "format -> presigned PUT URL; json required", secret=True),
    Variable(OUTPUT_URIS, "JSON object", "required", "format -> s3:// URI, the formats of SCRIBE_OUTPUT_URLS"),
    Variable(LANGUAGE, "language code", "auto", "the spoken language; auto: detect it"),
    Variable(WHISPER_TASK, _one_of(WHISPER_TASKS), WHISPER_TASKS[0],
             "translate: an English transcript of any language"),
    Variable(WORD_TIMESTAMPS, "boolean", "false", "per-word start, end and probability in json (and vtt)"),
    Variable(INITIAL_PROMPT, "string", "none", f"text that primes the first window (<= {MAX_PROMPT_CHARS} chars)"),
    Variable(HOTWORDS, "string", "none", f"words or phrases to favour (<= {MAX_PROMPT_CHARS} chars)"),
    Variable(MODEL, "model name", DEFAULT_MODEL, "the model's name; *.en models are English-only"),
    Variable(MODEL_DIR, "directory", "none", "a local model directory (e.g. a read-only PVC mount)"),
    Variable(MODEL_URLS, "JSON object", "none", "model file name -> presigned GET URL (model from S3)", secret=True),
    Variable(MODEL_URI, "s3:// URI", "none", "the S3 prefix SCRIBE_MODEL_URLS point into; required with them"),
    Variable(MODEL_CACHE_DIR, "directory", "a temp dir", "where a model from S3 is fetched to (an emptyDir)"),
    Variable(DEVICE, _one_of(DEVICES), DEVICES[0], "auto: CUDA when a CUDA device is visible, else CPU"),
    Variable(COMPUTE_TYPE, "compute type", "per device", "int8 on CPU, float16 on CUDA; or int8_float16, ..."),
    Variable(CPU_THREADS, "integer >= 0", "0", "inference threads on CPU; 0: CTranslate2 decides"),
    Variable(DECODING, _one_of(DECODING_MODES), DEFAULT_DECODING, "batched: faster-whisper's batched pipeline"),
    Variable(BATCH_SIZE, _within("integer", BATCH_SIZE_BOUNDS), str(DEFAULT_BATCH_SIZE),
             "batched only: chunks per batch"),
    Variable(VAD, "boolean", "true", "skip non-speech with Silero VAD; batched decoding needs it"),
    Variable(VAD_PARAMETERS, "JSON object", "{}", f"VAD tuning, keys among {', '.join(VAD_FIELDS)}"),
    Variable(BEAM_SIZE, _within("integer", BEAM_SIZE_BOUNDS), str(DEFAULT_BEAM_SIZE), "beam search width; 1: greedy"),
    Variable(TEMPERATURES, "comma-separated numbers 0..1", "per mode", "the fallback ladder (sequential only)"),
    Variable(COMPRESSION_RATIO_THRESHOLD, "number > 0", _number(DEFAULT_COMPRESSION_RATIO_THRESHOLD),
             "fall back when the text compresses more"),
    Variable(LOG_PROB_THRESHOLD, "number <= 0", _number(DEFAULT_LOG_PROB_THRESHOLD),
             "fall back when the average log probability is lower"),
    Variable(NO_SPEECH_THRESHOLD, "number 0..1", _number(DEFAULT_NO_SPEECH_THRESHOLD),
             "treat a window as silent above this no-speech probability"),
    Variable(CONDITION_ON_PREVIOUS_TEXT, "boolean", "per mode", "prompt each window with the text before it"),
    Variable(WINDOW_SECONDS, _within("number", WINDOW_SECONDS_BOUNDS), _number(DEFAULT_WINDOW_SECONDS),
             "audio decoded and transcribed per window (bounds memory)"),
    Variable(PROGRESS_INTERVAL_SECONDS, "number >= 0", _number(DEFAULT_PROGRESS_INTERVAL),
             "at most one progress report per interval"),
    Variable(PROGRESS_DIR, "directory", "none", "token, ca.crt, namespace, name: report progress on the own pod"),
    Variable(HTTP_TIMEOUT_SECONDS, "number > 0", _number(DEFAULT_HTTP_TIMEOUT),
             "connect/read/write timeout per HTTP request"),
    Variable(TERMINATION_MESSAGE_PATH, "path", DEFAULT_TERMINATION_PATH, "where the termination message goes"),
    Variable(TMPDIR, "directory", "system temp dir", "where the input (and a fetched model) are written"),
    Variable(ATTEMPT, "integer", "none", "added to every log line"),
    Variable(TASK_NAME, "name", "none", "the TranscriptionTask's name, added to every log line"),
)  # fmt: skip
SECRET_VARIABLES: Final = tuple(v.name for v in VARIABLES if v.secret)
"""The variables that hold presigned URLs (credentials)."""
