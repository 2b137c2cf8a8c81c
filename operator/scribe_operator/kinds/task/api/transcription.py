"""The transcription options of a TranscriptionTask (and a batch's template): what to produce, how to decode,
on which device, and where the model comes from.

Every field is optional: an omitted field sets no worker variable, so the worker's documented default (or the
operator's default, for the model and the device) applies. The constraints mirror the worker's own checks
(``scribe_contract.options``), so what the API server admits the worker accepts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Self

from pydantic import ConfigDict, Field, model_validator
from scribe_contract import options as worker_options

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.patterns import DNS1123_SUBDOMAIN
from scribe_operator.api.s3 import MAX_URI_LENGTH, OUTPUT_URI_PATTERN

SUB_PATH_PATTERN: Final = r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$"
COMPUTE_TYPE_PATTERN: Final = r"^[a-z0-9_]{1,32}$"


class WhisperTask(StrEnum):
    """transcribe: text in the spoken language; translate: an English transcript of any language."""

    TRANSCRIBE = "transcribe"
    TRANSLATE = "translate"


class DecodingMode(StrEnum):
    """batched: faster-whisper's batched pipeline (VAD chunks decoded together); sequential: its classic decoder."""

    BATCHED = "batched"
    SEQUENTIAL = "sequential"


class Device(StrEnum):
    """auto: CUDA when the worker sees a CUDA device, else CPU."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


def _vad_bounds(name: str) -> dict[str, Any]:
    _, low, high = worker_options.VAD_FIELDS[name]
    return {"ge": low, "le": high}


class VadParameters(ApiModel):
    """Silero VAD tuning (faster-whisper's VadOptions); omitted keys keep faster-whisper's defaults."""

    threshold: float | None = Field(None, **_vad_bounds("threshold"), description="Speech probability threshold.")
    neg_threshold: float | None = Field(
        None, **_vad_bounds("neg_threshold"), description="Probability below which speech ends."
    )
    min_speech_duration_ms: int | None = Field(
        None, **_vad_bounds("min_speech_duration_ms"), description="Shorter speech is dropped."
    )
    max_speech_duration_s: float | None = Field(
        None, **_vad_bounds("max_speech_duration_s"), description="Longer speech is split (sequential decoding only)."
    )
    min_silence_duration_ms: int | None = Field(
        None, **_vad_bounds("min_silence_duration_ms"), description="Silence this long ends a speech chunk."
    )
    speech_pad_ms: int | None = Field(None, **_vad_bounds("speech_pad_ms"), description="Padding around speech.")

    def worker_json(self) -> dict[str, float]:
        """The worker's SCRIBE_VAD_PARAMETERS object (faster-whisper's snake_case names)."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items()}


DECODING_RULES: Final = (
    CelRule(
        "!has(self.mode) || self.mode == 'batched' || !has(self.batchSize)",
        "decoding.batchSize needs decoding.mode batched",
    ),
    CelRule(
        "(has(self.mode) && self.mode == 'sequential') || !has(self.vad) || self.vad",
        "decoding.vad false needs decoding.mode sequential: batched decoding cuts the audio at VAD speech",
    ),
    CelRule(
        "(has(self.mode) && self.mode == 'sequential') || !has(self.temperatures) || size(self.temperatures) <= 1",
        "decoding.temperatures with a fallback ladder (more than one) needs decoding.mode sequential",
    ),
    CelRule(
        "(has(self.mode) && self.mode == 'sequential') || !has(self.conditionOnPreviousText)"
        " || !self.conditionOnPreviousText",
        "decoding.conditionOnPreviousText true needs decoding.mode sequential",
    ),
    CelRule(
        "(has(self.mode) && self.mode == 'sequential') || !has(self.vadParameters)"
        " || !has(self.vadParameters.maxSpeechDurationS)",
        "decoding.vadParameters.maxSpeechDurationS needs decoding.mode sequential (batched uses 30 s chunks)",
    ),
    CelRule(
        "!has(self.vad) || self.vad || !has(self.vadParameters)",
        "decoding.vadParameters needs decoding.vad true",
    ),
    CelRule(
        "!has(self.temperatures) || self.temperatures.isSorted()",
        "decoding.temperatures must be in increasing order",
    ),
)


class Decoding(ApiModel):
    """How the worker decodes; omitted fields take the worker's defaults (docs/worker.md, "Decoding modes")."""

    model_config = ConfigDict(json_schema_extra=validations(*DECODING_RULES))

    mode: DecodingMode | None = Field(
        None,
        description=f"batched or sequential; default {worker_options.DEFAULT_DECODING} (chosen from `make bench`).",
    )
    batch_size: int | None = Field(
        None,
        ge=worker_options.BATCH_SIZE_BOUNDS.low,
        le=worker_options.BATCH_SIZE_BOUNDS.high,
        description=f"Batched only: 30 s chunks decoded together (default {worker_options.DEFAULT_BATCH_SIZE}).",
    )
    vad: bool | None = Field(None, description="Skip non-speech with Silero VAD (default true; batched needs it).")
    vad_parameters: VadParameters | None = Field(None, description="VAD tuning.")
    beam_size: int | None = Field(
        None,
        ge=worker_options.BEAM_SIZE_BOUNDS.low,
        le=worker_options.BEAM_SIZE_BOUNDS.high,
        description=f"Beam search width; 1 is greedy (default {worker_options.DEFAULT_BEAM_SIZE}).",
    )
    temperatures: list[float] | None = Field(
        None,
        min_length=1,
        max_length=10,
        json_schema_extra={"items": {"type": "number", "minimum": 0, "maximum": 1}, "x-kubernetes-list-type": "set"},
        description=(
            "Sampling temperatures, increasing: the fallback ladder tried when a window's text compresses too well "
            "or is too improbable (sequential only; batched uses one). Default: 0.0 ... 1.0 sequential, 0.0 batched."
        ),
    )
    condition_on_previous_text: bool | None = Field(
        None,
        description="Prompt each window with the text before it (sequential only; default true there).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        batched = self.mode is not DecodingMode.SEQUENTIAL
        problems = [
            (self.mode is DecodingMode.SEQUENTIAL and self.batch_size is not None, 0),
            (batched and self.vad is False, 1),
            (batched and self.temperatures is not None and len(self.temperatures) > 1, 2),
            (batched and bool(self.condition_on_previous_text), 3),
            (batched and self.vad_parameters is not None and self.vad_parameters.max_speech_duration_s is not None, 4),
            (self.vad is False and self.vad_parameters is not None, 5),
            (self.temperatures is not None and self.temperatures != sorted(self.temperatures), 6),
        ]
        for bad, index in problems:
            if bad:
                raise ValueError(DECODING_RULES[index].message)
        if self.temperatures is not None:
            if any(not 0.0 <= t <= 1.0 for t in self.temperatures):
                raise ValueError("decoding.temperatures must be numbers from 0 to 1")
            if len(set(self.temperatures)) != len(self.temperatures):
                raise ValueError("decoding.temperatures must not repeat a temperature")
        return self


class PvcModel(ApiModel):
    """A model directory on a PersistentVolumeClaim in the task's namespace, mounted read-only."""

    claim_name: str = Field(max_length=253, pattern=DNS1123_SUBDOMAIN, description="The claim's name.")
    sub_path: str | None = Field(
        None,
        max_length=1024,
        pattern=SUB_PATH_PATTERN,
        description="Directory of the model files inside the volume (no .. segments); the volume's root when omitted.",
    )


class S3Model(ApiModel):
    """A model directory in S3: the operator signs a GET for every object directly under ``prefix``; the worker
    fetches them into an emptyDir before it downloads any audio."""

    prefix: str = Field(
        max_length=MAX_URI_LENGTH,
        pattern=OUTPUT_URI_PATTERN,
        description="s3://bucket/prefix/ (ends with /) holding model.bin, config.json, tokenizer.json, vocabulary.*.",
    )


MODEL_SOURCE_ONE = CelRule(
    "!(has(self.persistentVolumeClaim) && has(self.s3))",
    "modelSource: set at most one of persistentVolumeClaim and s3",
)


class ModelSource(ApiModel):
    """Where the worker loads the model from. Omitted: the operator's default source; ``{}``: the model baked into
    the worker image."""

    model_config = ConfigDict(json_schema_extra=validations(MODEL_SOURCE_ONE))

    persistent_volume_claim: PvcModel | None = Field(None, description="A model on a PVC, mounted read-only.")
    s3: S3Model | None = Field(None, description="A model in S3, fetched with presigned GETs into an emptyDir.")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if self.persistent_volume_claim is not None and self.s3 is not None:
            raise ValueError(MODEL_SOURCE_ONE.message)
        return self


# --- the English-only check, on the spec (and a batch's template) ------------------------------------------------

ENGLISH_ONLY_MODEL: Final = "has(self.model) && self.model.lowerAscii().endsWith('.en')"
ENGLISH_LANGUAGE: Final = (
    "!has(self.language) || self.language.lowerAscii() == 'en' || self.language.lowerAscii().startsWith('en-')"
    " || self.language.lowerAscii().startsWith('en_')"
)
ENGLISH_ONLY_TRANSLATE = CelRule(
    f"!({ENGLISH_ONLY_MODEL}) || !has(self.task) || self.task != 'translate'",
    "spec.task: translate needs a multilingual model; spec.model is English-only (*.en)",
)
ENGLISH_ONLY_LANGUAGE = CelRule(
    f"!({ENGLISH_ONLY_MODEL}) || ({ENGLISH_LANGUAGE})",
    "spec.language: spec.model is English-only (*.en) and transcribes only English; use a multilingual model",
)
ENGLISH_ONLY_RULES: Final = (ENGLISH_ONLY_TRANSLATE, ENGLISH_ONLY_LANGUAGE)


def is_english(language: str | None) -> bool:
    code = (language or "en").lower()
    return code == "en" or code.startswith(("en-", "en_"))


def model_problem(model: str | None, language: str | None, task: WhisperTask | None) -> str | None:
    """What an English-only ``model`` cannot do of what the spec asks (the message of the CEL rule), or None."""
    if model is None or not worker_options.english_only(model):
        return None
    if task is WhisperTask.TRANSLATE:
        return ENGLISH_ONLY_TRANSLATE.message
    if not is_english(language):
        return ENGLISH_ONLY_LANGUAGE.message
    return None
