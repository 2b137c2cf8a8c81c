"""The worker's whole configuration, read from environment variables (see docs/worker.md).

Every variable the worker reads is named once here, in ``VARIABLES`` (name, type, default, meaning), and
parsed and validated by :func:`load`. Any invalid value is an ``InvalidConfiguration`` failure naming the
variable, raised before the model is loaded or any audio is downloaded. The operator sets these variables on
the attempt's pod; a variable that is unset (or empty) takes its documented default.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scribe_worker import models
from scribe_worker.errors import WorkerError
from scribe_worker.taxonomy import Reason

# --- variable names --------------------------------------------------------------------------------------------
INPUT_URL = "SCRIBE_INPUT_URL"
INPUT_URI = "SCRIBE_INPUT_URI"
OUTPUT_URLS = "SCRIBE_OUTPUT_URLS"
OUTPUT_URIS = "SCRIBE_OUTPUT_URIS"
LANGUAGE = "SCRIBE_LANGUAGE"
WHISPER_TASK = "SCRIBE_WHISPER_TASK"
WORD_TIMESTAMPS = "SCRIBE_WORD_TIMESTAMPS"
INITIAL_PROMPT = "SCRIBE_INITIAL_PROMPT"
HOTWORDS = "SCRIBE_HOTWORDS"
MODEL = "SCRIBE_MODEL"
MODEL_DIR = "SCRIBE_MODEL_DIR"
MODEL_URLS = "SCRIBE_MODEL_URLS"
MODEL_URI = "SCRIBE_MODEL_URI"
MODEL_CACHE_DIR = "SCRIBE_MODEL_CACHE_DIR"
DEVICE = "SCRIBE_DEVICE"
COMPUTE_TYPE = "SCRIBE_COMPUTE_TYPE"
CPU_THREADS = "SCRIBE_CPU_THREADS"
DECODING = "SCRIBE_DECODING"
BATCH_SIZE = "SCRIBE_BATCH_SIZE"
VAD = "SCRIBE_VAD"
VAD_PARAMETERS = "SCRIBE_VAD_PARAMETERS"
BEAM_SIZE = "SCRIBE_BEAM_SIZE"
TEMPERATURES = "SCRIBE_TEMPERATURES"
COMPRESSION_RATIO_THRESHOLD = "SCRIBE_COMPRESSION_RATIO_THRESHOLD"
LOG_PROB_THRESHOLD = "SCRIBE_LOG_PROB_THRESHOLD"
NO_SPEECH_THRESHOLD = "SCRIBE_NO_SPEECH_THRESHOLD"
CONDITION_ON_PREVIOUS_TEXT = "SCRIBE_CONDITION_ON_PREVIOUS_TEXT"
WINDOW_SECONDS = "SCRIBE_WINDOW_SECONDS"
PROGRESS_INTERVAL_SECONDS = "SCRIBE_PROGRESS_INTERVAL_SECONDS"
PROGRESS_DIR = "SCRIBE_PROGRESS_DIR"
HTTP_TIMEOUT_SECONDS = "SCRIBE_HTTP_TIMEOUT_SECONDS"
TERMINATION_MESSAGE_PATH = "SCRIBE_TERMINATION_MESSAGE_PATH"
TMPDIR = "SCRIBE_TMPDIR"
ATTEMPT = "SCRIBE_ATTEMPT"
TASK = "SCRIBE_TASK"

# --- defaults and limits ---------------------------------------------------------------------------------------
FORMATS = ("txt", "srt", "vtt", "json")  # also the upload order: json last, so it marks a complete result
WHISPER_TASKS = ("transcribe", "translate")
DEVICES = ("auto", "cpu", "cuda")
DECODING_MODES = ("batched", "sequential")
DEFAULT_MODEL = "tiny.en"
DEFAULT_TERMINATION_PATH = Path("/dev/termination-log")
DEFAULT_HTTP_TIMEOUT = 30.0
DEFAULT_DECODING = "batched"  # chosen from `make bench` (docs/worker.md, "Decoding modes")
DEFAULT_BATCH_SIZE = 8
DEFAULT_BEAM_SIZE = 5
SEQUENTIAL_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's fallback ladder
BATCHED_TEMPERATURES = (0.0,)  # the batched pipeline has no fallback: one temperature
DEFAULT_COMPRESSION_RATIO_THRESHOLD = 2.4
DEFAULT_LOG_PROB_THRESHOLD = -1.0
DEFAULT_NO_SPEECH_THRESHOLD = 0.6
DEFAULT_WINDOW_SECONDS = 240.0  # one batch of 8 x 30 s chunks; memory grows with it (docs/worker.md)
DEFAULT_PROGRESS_INTERVAL = 10.0
MAX_PROMPT_CHARS = 1000
MAX_BATCH_SIZE = 64
MAX_BEAM_SIZE = 16
MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS = 30.0, 7200.0
# VAD parameter -> (type, minimum, maximum); faster-whisper's VadOptions fields.
VAD_FIELDS: dict[str, tuple[type, float, float]] = {
    "threshold": (float, 0.0, 1.0),
    "neg_threshold": (float, 0.0, 1.0),
    "min_speech_duration_ms": (int, 0, 60_000),
    "max_speech_duration_s": (float, 1.0, 3600.0),
    "min_silence_duration_ms": (int, 0, 60_000),
    "speech_pad_ms": (int, 0, 10_000),
}

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_COMPUTE_TYPE = re.compile(r"^[a-z0-9_]{1,32}$")
_MODEL_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_AUTO_LANGUAGE = {"", "auto"}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Variable:
    """One environment variable of the worker's contract, as documented in docs/worker.md."""

    name: str
    type: str
    default: str
    meaning: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable(INPUT_URL, "URL", "required", "presigned GET URL of the input audio", secret=True),
    Variable(INPUT_URI, "s3:// URI", "required", "the input's s3://bucket/key, for logs and messages"),
    Variable(OUTPUT_URLS, "JSON object", "required", "format -> presigned PUT URL; json required", secret=True),
    Variable(OUTPUT_URIS, "JSON object", "required", "format -> s3:// URI, the formats of SCRIBE_OUTPUT_URLS"),
    Variable(LANGUAGE, "language code", "auto", "the spoken language; auto: detect it"),
    Variable(WHISPER_TASK, "transcribe | translate", "transcribe", "translate: an English transcript of any language"),
    Variable(WORD_TIMESTAMPS, "boolean", "false", "per-word start, end and probability in json (and vtt)"),
    Variable(INITIAL_PROMPT, "string", "none", f"text that primes the first window (<= {MAX_PROMPT_CHARS} chars)"),
    Variable(HOTWORDS, "string", "none", f"words or phrases to favour (<= {MAX_PROMPT_CHARS} chars)"),
    Variable(MODEL, "model name", DEFAULT_MODEL, "the model's name; *.en models are English-only"),
    Variable(MODEL_DIR, "directory", "none", "a local model directory (e.g. a read-only PVC mount)"),
    Variable(MODEL_URLS, "JSON object", "none", "model file name -> presigned GET URL (model from S3)", secret=True),
    Variable(MODEL_URI, "s3:// URI", "none", "the S3 prefix SCRIBE_MODEL_URLS point into; required with them"),
    Variable(MODEL_CACHE_DIR, "directory", "a temp dir", "where a model from S3 is fetched to (an emptyDir)"),
    Variable(DEVICE, "auto | cpu | cuda", "auto", "auto: CUDA when a CUDA device is visible, else CPU"),
    Variable(COMPUTE_TYPE, "compute type", "per device", "int8 on CPU, float16 on CUDA; or int8_float16, ..."),
    Variable(CPU_THREADS, "integer >= 0", "0", "inference threads on CPU; 0: CTranslate2 decides"),
    Variable(DECODING, "batched | sequential", DEFAULT_DECODING, "batched: faster-whisper's batched pipeline"),
    Variable(BATCH_SIZE, f"integer 1..{MAX_BATCH_SIZE}", str(DEFAULT_BATCH_SIZE), "batched only: chunks per batch"),
    Variable(VAD, "boolean", "true", "skip non-speech with Silero VAD; batched decoding needs it"),
    Variable(VAD_PARAMETERS, "JSON object", "{}", f"VAD tuning, keys among {', '.join(VAD_FIELDS)}"),
    Variable(BEAM_SIZE, f"integer 1..{MAX_BEAM_SIZE}", str(DEFAULT_BEAM_SIZE), "beam search width; 1: greedy"),
    Variable(TEMPERATURES, "comma-separated numbers 0..1", "per mode", "the fallback ladder (sequential only)"),
    Variable(COMPRESSION_RATIO_THRESHOLD, "number > 0", "2.4", "fall back when the text compresses more"),
    Variable(LOG_PROB_THRESHOLD, "number <= 0", "-1.0", "fall back when the average log probability is lower"),
    Variable(NO_SPEECH_THRESHOLD, "number 0..1", "0.6", "treat a window as silent above this no-speech probability"),
    Variable(CONDITION_ON_PREVIOUS_TEXT, "boolean", "per mode", "prompt each window with the text before it"),
    Variable(WINDOW_SECONDS, "number 30..7200", "240", "audio decoded and transcribed per window (bounds memory)"),
    Variable(PROGRESS_INTERVAL_SECONDS, "number >= 0", "10", "at most one progress report per interval"),
    Variable(PROGRESS_DIR, "directory", "none", "token, ca.crt, namespace, name: report progress on the own pod"),
    Variable(HTTP_TIMEOUT_SECONDS, "number > 0", "30", "connect/read/write timeout per HTTP request"),
    Variable(TERMINATION_MESSAGE_PATH, "path", str(DEFAULT_TERMINATION_PATH), "where the termination message goes"),
    Variable(TMPDIR, "directory", "system temp dir", "where the input (and a fetched model) are written"),
    Variable(ATTEMPT, "integer", "none", "added to every log line"),
    Variable(TASK, "namespace/name", "none", "the TranscriptionTask, added to every log line"),
)
SECRET_VARIABLES = tuple(v.name for v in VARIABLES if v.secret)


@dataclass(frozen=True)
class Transcription:
    """What to produce: the language, transcribe or translate, word timestamps, prompting."""

    language: str | None = None  # None: detect
    task: str = "transcribe"
    word_timestamps: bool = False
    initial_prompt: str | None = None
    hotwords: str | None = None


@dataclass(frozen=True)
class Decoding:
    """How to decode: faster-whisper's batched pipeline or its sequential decoder, and their knobs."""

    mode: str = DEFAULT_DECODING
    batch_size: int = DEFAULT_BATCH_SIZE
    vad: bool = True
    vad_parameters: Mapping[str, float] = field(default_factory=dict)
    beam_size: int = DEFAULT_BEAM_SIZE
    temperatures: tuple[float, ...] = BATCHED_TEMPERATURES
    compression_ratio_threshold: float = DEFAULT_COMPRESSION_RATIO_THRESHOLD
    log_prob_threshold: float = DEFAULT_LOG_PROB_THRESHOLD
    no_speech_threshold: float = DEFAULT_NO_SPEECH_THRESHOLD
    condition_on_previous_text: bool = False
    window_seconds: float = DEFAULT_WINDOW_SECONDS


@dataclass(frozen=True)
class ModelSource:
    """Where the model comes from: a local directory (``dir``) or S3 (``urls``, fetched into ``cache_dir``)."""

    name: str
    dir: Path | None = None  # a local directory: baked into the image, or a mounted volume
    uri: str | None = None  # s3:// prefix, for messages (S3 only)
    urls: Mapping[str, str] = field(default_factory=dict)  # file name -> presigned GET (secret; S3 only)
    cache_dir: Path | None = None  # S3 only; None: a temp dir removed after the attempt

    @property
    def from_s3(self) -> bool:
        return bool(self.urls)


@dataclass(frozen=True)
class Config:
    input_url: str  # secret: presigned GET
    input_uri: str  # s3://bucket/key, for messages
    output_urls: Mapping[str, str]  # format -> presigned PUT (secret), in upload order (json last)
    output_uris: Mapping[str, str]  # format -> s3://bucket/key
    model_source: ModelSource
    transcription: Transcription
    decoding: Decoding
    device: str
    compute_type: str | None  # None: per device (int8 on CPU, float16 on CUDA)
    cpu_threads: int
    http_timeout: float
    progress_interval: float
    progress_dir: Path | None  # None: progress goes to the log only
    termination_path: Path
    tmpdir: Path | None

    @property
    def model(self) -> str:
        return self.model_source.name

    @property
    def model_dir(self) -> Path | None:
        return self.model_source.dir

    @property
    def language(self) -> str | None:
        return self.transcription.language

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.input_url, *self.output_urls.values(), *self.model_source.urls.values())


def english_only(model: str) -> bool:
    """Whether a model *name* says it is English-only (Whisper's ``*.en`` models: tiny.en, base.en, ...)."""
    return model.lower().endswith(".en")


# --- parsing helpers -------------------------------------------------------------------------------------------


def _invalid(message: str) -> WorkerError:
    return WorkerError(Reason.INVALID_CONFIGURATION, message)


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _required(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if not value:
        raise _invalid(f"{name} is not set")
    return value


def _presigned_url(name: str, value: str) -> str:
    # Never echo the value: it is a credential.
    if not value.startswith(("https://", "http://")):
        raise _invalid(f"{name} must be an http(s) URL")
    return value


def _s3_uri(name: str, value: str) -> str:
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise _invalid(f"{name} must be an s3:// URI")
    return value


def _json_object(env: Mapping[str, str], name: str, *, what: str) -> dict[str, Any]:
    raw = _required(env, name)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _invalid(f"{name} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict) or not value:
        raise _invalid(f"{name} must be a non-empty JSON object mapping {what}")
    return value


def _formats(name: str, mapping: Mapping[str, Any]) -> None:
    unknown = sorted(set(mapping) - set(FORMATS))
    if unknown:
        raise _invalid(f"{name} has unknown formats {unknown}; known: {sorted(FORMATS)}")
    if "json" not in mapping:
        raise _invalid(f"{name} must include the json format")
    for fmt, value in mapping.items():
        if not isinstance(value, str) or not value:
            raise _invalid(f"{name}[{fmt!r}] must be a non-empty string")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = _get(env, name).lower() or default
    if value not in choices:
        raise _invalid(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool | None:
    """True, False, or None when unset."""
    value = _get(env, name).lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _invalid(f"{name}={value!r} must be true or false")


def _int(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = _get(env, name)
    if not raw:
        return None
    if not re.fullmatch(r"[+-]?\d{1,9}", raw) or not low <= int(raw) <= high:
        raise _invalid(f"{name}={raw!r} must be an integer from {low} to {high}")
    return int(raw)


def _number(raw: str, name: str, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _invalid(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise _invalid(f"{name}={raw!r} must be a number from {low:g} to {high:g}")
    return value


def _float(env: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    raw = _get(env, name)
    return _number(raw, name, low, high) if raw else None


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = _get(env, name)
    if len(value) > MAX_PROMPT_CHARS:
        raise _invalid(f"{name} is {len(value)} characters long; at most {MAX_PROMPT_CHARS}")
    return value or None


def _temperatures(env: Mapping[str, str]) -> tuple[float, ...] | None:
    raw = _get(env, TEMPERATURES)
    if not raw:
        return None
    values = tuple(_number(part.strip(), TEMPERATURES, 0.0, 1.0) for part in raw.split(","))
    if list(values) != sorted(values) or len(set(values)) != len(values):
        raise _invalid(f"{TEMPERATURES}={raw!r} must list distinct temperatures in increasing order")
    return values


def _vad_parameters(env: Mapping[str, str]) -> dict[str, float]:
    if not _get(env, VAD_PARAMETERS):
        return {}
    raw = _json_object(env, VAD_PARAMETERS, what="VAD parameter to value")
    unknown = sorted(set(raw) - set(VAD_FIELDS))
    if unknown:
        raise _invalid(f"{VAD_PARAMETERS} has unknown keys {unknown}; known: {sorted(VAD_FIELDS)}")
    parsed: dict[str, float] = {}
    for key, value in raw.items():
        kind, low, high = VAD_FIELDS[key]
        ok_type = isinstance(value, int) if kind is int else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or not low <= value <= high:
            kind_name = "an integer" if kind is int else "a number"
            raise _invalid(f"{VAD_PARAMETERS}[{key!r}] must be {kind_name} from {low:g} to {high:g}")
        parsed[key] = kind(value)
    return parsed


def _directory(env: Mapping[str, str], name: str) -> Path | None:
    raw = _get(env, name)
    if raw and not Path(raw).is_dir():
        raise _invalid(f"{name}={raw} is not a directory")
    return Path(raw) if raw else None


# --- the sections ----------------------------------------------------------------------------------------------


def _transcription(env: Mapping[str, str], model: str) -> Transcription:
    language: str | None = _get(env, LANGUAGE).lower()
    if language in _AUTO_LANGUAGE:
        language = None
    elif not _LANGUAGE.match(language or ""):
        raise _invalid(f"{LANGUAGE}={language!r} is not a language code (e.g. en, de, haw)")
    task = _choice(env, WHISPER_TASK, WHISPER_TASKS, "transcribe")
    if english_only(model):
        check_model_supports(model, multilingual=False, language=language, task=task)
    return Transcription(
        language=language,
        task=task,
        word_timestamps=bool(_bool(env, WORD_TIMESTAMPS)),
        initial_prompt=_text(env, INITIAL_PROMPT),
        hotwords=_text(env, HOTWORDS),
    )


def check_model_supports(model: str, *, multilingual: bool, language: str | None, task: str) -> None:
    """Reject what an English-only model cannot do: another language (SCRIBE_LANGUAGE) or translate."""
    if multilingual:
        return
    if language not in (None, "en"):
        raise _invalid(
            f"{LANGUAGE}={language!r}: model {model!r} does not support language {language!r} "
            "(it is English-only; use a multilingual model)"
        )
    if task == "translate":
        raise _invalid(
            f"{WHISPER_TASK}=translate: model {model!r} is English-only and cannot translate; use a multilingual model"
        )


def _decoding(env: Mapping[str, str]) -> Decoding:
    mode = _choice(env, DECODING, DECODING_MODES, DEFAULT_DECODING)
    batch_size = _int(env, BATCH_SIZE, 1, MAX_BATCH_SIZE)
    vad = _bool(env, VAD)
    vad_parameters = _vad_parameters(env)
    temperatures = _temperatures(env)
    condition = _bool(env, CONDITION_ON_PREVIOUS_TEXT)
    if mode == "batched":
        # Options the batched pipeline cannot honour are refused, not silently ignored.
        if vad is False:
            raise _invalid(f"{VAD}=false needs {DECODING}=sequential: batched decoding cuts audio at VAD speech")
        if temperatures is not None and len(temperatures) > 1:
            raise _invalid(f"{TEMPERATURES} with a fallback ladder needs {DECODING}=sequential (batched uses one)")
        if condition:
            raise _invalid(f"{CONDITION_ON_PREVIOUS_TEXT}=true needs {DECODING}=sequential")
        if "max_speech_duration_s" in vad_parameters:
            raise _invalid(f"{VAD_PARAMETERS}['max_speech_duration_s'] needs {DECODING}=sequential (batched uses 30 s)")
    elif batch_size is not None:
        raise _invalid(f"{BATCH_SIZE} needs {DECODING}=batched")
    if not (vad if vad is not None else True) and vad_parameters:
        raise _invalid(f"{VAD_PARAMETERS} needs {VAD}=true")
    default_temperatures = BATCHED_TEMPERATURES if mode == "batched" else SEQUENTIAL_TEMPERATURES
    compression = _float(env, COMPRESSION_RATIO_THRESHOLD, 0.0, 100.0)
    if compression == 0.0:
        raise _invalid(f"{COMPRESSION_RATIO_THRESHOLD} must be greater than 0")
    log_prob = _float(env, LOG_PROB_THRESHOLD, -100.0, 0.0)
    no_speech = _float(env, NO_SPEECH_THRESHOLD, 0.0, 1.0)
    window = _float(env, WINDOW_SECONDS, MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS)
    return Decoding(
        mode=mode,
        batch_size=batch_size or DEFAULT_BATCH_SIZE,
        vad=True if vad is None else vad,
        vad_parameters=vad_parameters,
        beam_size=_int(env, BEAM_SIZE, 1, MAX_BEAM_SIZE) or DEFAULT_BEAM_SIZE,
        temperatures=temperatures or default_temperatures,
        compression_ratio_threshold=compression or DEFAULT_COMPRESSION_RATIO_THRESHOLD,
        log_prob_threshold=DEFAULT_LOG_PROB_THRESHOLD if log_prob is None else log_prob,
        no_speech_threshold=DEFAULT_NO_SPEECH_THRESHOLD if no_speech is None else no_speech,
        condition_on_previous_text=(mode == "sequential") if condition is None else condition,
        window_seconds=window or DEFAULT_WINDOW_SECONDS,
    )


def _model_source(env: Mapping[str, str]) -> ModelSource:
    model = _get(env, MODEL) or DEFAULT_MODEL
    if not _MODEL_NAME.match(model):
        raise _invalid(f"{MODEL}={model!r} is not a valid model name")
    explicit_dir = _get(env, MODEL_DIR)
    if _get(env, MODEL_URLS):
        if explicit_dir:
            raise _invalid(f"set one of {MODEL_DIR} and {MODEL_URLS}, not both")
        urls = _json_object(env, MODEL_URLS, what="model file name to presigned URL")
        for name, url in urls.items():
            if not _MODEL_FILE.match(name) or name.startswith("."):
                raise _invalid(f"{MODEL_URLS} has an invalid file name {name!r} (a plain file name, no path)")
            if not isinstance(url, str):
                raise _invalid(f"{MODEL_URLS}[{name!r}] must be a string")
            _presigned_url(f"{MODEL_URLS}[{name!r}]", url)
        missing = models.missing_names(urls)
        if missing:
            raise _invalid(f"{MODEL_URLS} lacks required model files: {', '.join(missing)}")
        uri = _s3_uri(MODEL_URI, _required(env, MODEL_URI))
        return ModelSource(model, uri=uri, urls=dict(urls), cache_dir=_directory(env, MODEL_CACHE_DIR))
    try:
        model_dir = models.resolve(model, Path(explicit_dir) if explicit_dir else None)
    except models.ModelNotFound as exc:
        raise _invalid(str(exc)) from None
    return ModelSource(model, dir=model_dir)


def termination_path(env: Mapping[str, str]) -> Path:
    """Where to write the termination message; readable even when the rest of the config is invalid."""
    return Path(_get(env, TERMINATION_MESSAGE_PATH) or DEFAULT_TERMINATION_PATH)


def log_context(env: Mapping[str, str]) -> dict[str, Any]:
    """Fields added to every log line; optional, never an error."""
    attempt = _get(env, ATTEMPT)
    return {
        "attempt": int(attempt) if attempt.isdigit() else (attempt or None),
        "task": _get(env, TASK) or None,
        "pod": _get(env, "HOSTNAME") or None,
    }


def load(env: Mapping[str, str]) -> Config:
    """Parse and validate the environment; raises WorkerError(InvalidConfiguration) on any problem."""
    input_url = _presigned_url(INPUT_URL, _required(env, INPUT_URL))
    input_uri = _s3_uri(INPUT_URI, _required(env, INPUT_URI))

    urls = _json_object(env, OUTPUT_URLS, what="format to URL")
    _formats(OUTPUT_URLS, urls)
    for fmt, url in urls.items():
        _presigned_url(f"{OUTPUT_URLS}[{fmt!r}]", url)
    uris = _json_object(env, OUTPUT_URIS, what="format to s3:// URI")
    _formats(OUTPUT_URIS, uris)
    if set(uris) != set(urls):
        raise _invalid(f"{OUTPUT_URIS} formats {sorted(uris)} differ from {OUTPUT_URLS} formats {sorted(urls)}")
    for fmt, uri in uris.items():
        _s3_uri(f"{OUTPUT_URIS}[{fmt!r}]", uri)
    ordered = [fmt for fmt in FORMATS if fmt in urls]

    source = _model_source(env)
    transcription = _transcription(env, source.name)
    decoding = _decoding(env)

    raw_timeout = _get(env, HTTP_TIMEOUT_SECONDS)
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_HTTP_TIMEOUT
    except ValueError:
        raise _invalid(f"{HTTP_TIMEOUT_SECONDS}={raw_timeout!r} is not a number") from None
    if not 0 < timeout < math.inf:
        raise _invalid(f"{HTTP_TIMEOUT_SECONDS}={raw_timeout!r} must be a positive number")

    compute_type = _get(env, COMPUTE_TYPE).lower() or None
    if compute_type is not None and not _COMPUTE_TYPE.match(compute_type):
        raise _invalid(f"{COMPUTE_TYPE}={compute_type!r} is not a compute type (e.g. int8, float16, float32)")

    raw_threads = _get(env, CPU_THREADS) or "0"
    if not raw_threads.isdigit() or int(raw_threads) > 1024:
        raise _invalid(f"{CPU_THREADS}={raw_threads!r} must be a non-negative integer (0 = auto)")

    progress = _float(env, PROGRESS_INTERVAL_SECONDS, 0.0, 86_400.0)

    return Config(
        input_url=input_url,
        input_uri=input_uri,
        output_urls={fmt: urls[fmt] for fmt in ordered},
        output_uris={fmt: uris[fmt] for fmt in ordered},
        model_source=source,
        transcription=transcription,
        decoding=decoding,
        device=_choice(env, DEVICE, DEVICES, "auto"),
        compute_type=compute_type,
        cpu_threads=int(raw_threads),
        http_timeout=timeout,
        progress_interval=DEFAULT_PROGRESS_INTERVAL if progress is None else progress,
        progress_dir=_directory(env, PROGRESS_DIR),
        termination_path=termination_path(env),
        tmpdir=_directory(env, TMPDIR),
    )


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Every presigned URL in ``env``, best effort, so they can be scrubbed even if ``load`` fails."""
    found: list[str] = []
    for name in SECRET_VARIABLES:
        raw = _get(env, name)
        found.append(raw)
        try:
            parsed = json.loads(raw) if raw.startswith("{") else {}
        except json.JSONDecodeError:
            parsed = {}
        if isinstance(parsed, dict):
            found.extend(v for v in parsed.values() if isinstance(v, str))
    return tuple(v for v in found if v)
