"""The TranscriptionTask's spec: what to transcribe, where the transcripts go, how to transcribe and retry."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Protocol, Self, TypeVar

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.constants import DAY
from scribe_operator.api.notification import Notification
from scribe_operator.api.s3 import INPUT_URI_PATTERN, MAX_URI_LENGTH, OUTPUT_URI_PATTERN
from scribe_operator.kinds.task.api.resources import Resources
from scribe_operator.kinds.task.api.retry import RetryPolicy
from scribe_operator.kinds.task.api.transcription import (
    COMPUTE_TYPE_PATTERN,
    ENGLISH_ONLY_RULES,
    Decoding,
    Device,
    ModelSource,
    WhisperTask,
    model_problem,
)
from scribe_operator.kinds.task.api.worker import WorkerSpec

LANGUAGE_PATTERN: Final = r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{1,8})?$"
MODEL_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
MAX_PRIORITY: Final = 1_000_000


class Format(StrEnum):
    """An output format; json is always written, as the completion marker."""

    JSON = "json"
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"


class Timeouts(ApiModel):
    """Per-attempt time limits."""

    attempt_seconds: int | None = Field(
        None,
        ge=1,
        le=7 * DAY,
        description=(
            "How long one attempt may run. When omitted, estimated from the input's size "
            "(operator settings: overhead + seconds per MiB, clamped)."
        ),
    )
    pending_seconds: int = Field(
        300,
        ge=1,
        le=DAY,
        description=(
            "How long an attempt's pod may stay unstarted (unschedulable, image pull) before the attempt fails."
        ),
    )
    stall_seconds: int | None = Field(
        None,
        ge=0,
        le=DAY,
        description=(
            "End a running attempt as Stalled (retryable) when its reported progress has not moved for this long; "
            "0: never. When omitted, the operator's default (SCRIBE_STALL_TIMEOUT_SECONDS). Counted from the "
            "worker's first progress report, so model loading and the download do not count."
        ),
    )


def _unique_formats(formats: list[Format]) -> list[Format]:
    seen: set[Format] = set()
    for fmt in formats:
        if fmt in seen:
            raise ValueError(f"formats: {fmt.value} is listed twice")
        seen.add(fmt)
    return formats


_ModelOptionsT = TypeVar("_ModelOptionsT", bound="_ModelOptions")
SPEC_IMMUTABLE = CelRule("self == oldSelf", "spec is immutable; create a new TranscriptionTask")


class TranscriptionTaskSpec(ApiModel):
    """What to transcribe, where to put the results, and how to retry. Immutable once created."""

    model_config = ConfigDict(json_schema_extra=validations(SPEC_IMMUTABLE, *ENGLISH_ONLY_RULES))

    input: str = Field(
        max_length=MAX_URI_LENGTH,
        pattern=INPUT_URI_PATTERN,
        description="The audio object to transcribe: s3://bucket/key.",
    )
    output: str | None = Field(
        None,
        max_length=MAX_URI_LENGTH,
        pattern=OUTPUT_URI_PATTERN,
        description=(
            "Prefix the transcripts are written under: s3://bucket/prefix/ (ends with /). "
            "Default: the input's bucket, prefix <input key without extension>.transcript/."
        ),
    )
    language: str | None = Field(
        None,
        max_length=16,
        pattern=LANGUAGE_PATTERN,
        description="Spoken language as an ISO 639 code (e.g. en); detected automatically when omitted.",
    )
    model: str | None = Field(
        None,
        max_length=253,
        pattern=MODEL_PATTERN,
        description=(
            "Transcription model (e.g. tiny.en, small); the operator's default (SCRIBE_DEFAULT_MODEL), else the "
            "worker's (tiny.en), when omitted. Models named *.en are English-only."
        ),
    )
    model_source: ModelSource | None = Field(
        None,
        description=(
            "Where the model comes from: a PersistentVolumeClaim or an S3 prefix. Omitted: the operator's default "
            "source; {}: the model baked into the worker image."
        ),
    )
    task: WhisperTask | None = Field(
        None, description="transcribe (default): text in the spoken language; translate: English text."
    )
    word_timestamps: bool | None = Field(
        None, description="Per-word start, end and probability in the json output (and word cues in vtt)."
    )
    initial_prompt: str | None = Field(
        None, min_length=1, max_length=1000, description="Text that primes the first window (names, spelling, style)."
    )
    hotwords: str | None = Field(None, min_length=1, max_length=1000, description="Words or phrases to favour.")
    decoding: Decoding | None = Field(None, description="Decoding mode and its knobs; the worker's defaults apply.")
    device: Device | None = Field(
        None, description="auto, cpu or cuda; the operator's default (SCRIBE_DEFAULT_DEVICE), else auto."
    )
    compute_type: str | None = Field(
        None,
        max_length=32,
        pattern=COMPUTE_TYPE_PATTERN,
        description="CTranslate2 compute type (int8, float16, int8_float16, float32, ...); default per device.",
    )
    formats: Annotated[list[Format], AfterValidator(_unique_formats)] = Field(
        default_factory=lambda: [Format.JSON, Format.TXT],
        max_length=len(Format),
        json_schema_extra={"default": [Format.JSON.value, Format.TXT.value], "x-kubernetes-list-type": "set"},
        description=(
            "Output formats, each at most once. json is always written (it marks completion), whether listed or not."
        ),
    )
    retry_policy: RetryPolicy = Field(
        default_factory=RetryPolicy, json_schema_extra={"default": {}}, description="Retries and backoff."
    )
    priority: int = Field(
        0,
        ge=-MAX_PRIORITY,
        le=MAX_PRIORITY,
        description=(
            "Order among tasks waiting for a free attempt slot when the operator limits running attempts "
            "(phase Queued): higher first; equal priorities start in creation order."
        ),
    )
    timeouts: Timeouts = Field(
        default_factory=Timeouts, json_schema_extra={"default": {}}, description="Per-attempt time limits."
    )
    resources: Resources = Field(default_factory=Resources, description="Worker container resources.")
    worker: WorkerSpec = Field(default_factory=WorkerSpec, description="Worker pod placement and identity.")
    notification: Notification | None = Field(
        None, description="A webhook told when the task reaches Succeeded or Dead (docs/notifications.md)."
    )
    cache: bool = Field(
        True,
        description=(
            "Reuse a result already at the output: when a complete transcript of the same input version (ETag and "
            "size) made with the same options is there, the task succeeds with reason CacheHit and no pod. false: "
            "always transcribe. The operator's SCRIBE_RESULT_CACHE=false turns reuse off for every task."
        ),
    )

    @model_validator(mode="after")
    def _model_can(self) -> Self:
        return check_model(self)


class _ModelOptions(Protocol):
    model: str | None
    language: str | None
    task: WhisperTask | None


def check_model(spec: _ModelOptionsT) -> _ModelOptionsT:
    """Reject what an English-only model cannot do (the CEL rules ENGLISH_ONLY_RULES, in Python)."""
    problem = model_problem(spec.model, spec.language, spec.task)
    if problem is not None:
        raise ValueError(problem)
    return spec
