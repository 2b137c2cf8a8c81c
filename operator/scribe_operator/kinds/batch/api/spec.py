"""The TranscriptionBatch's spec: its inputs (a list or a prefix), where the transcripts go, the template of every
child task, the deadline and the parallelism."""

from __future__ import annotations

import copy
from typing import Annotated, Any, Final, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.constants import DAY
from scribe_operator.api.notification import Notification
from scribe_operator.api.s3 import BUCKET_PATTERN, INPUT_URI_PATTERN, MAX_URI_LENGTH, OUTPUT_URI_PATTERN
from scribe_operator.kinds.task.api.resources import Resources
from scribe_operator.kinds.task.api.retry import RetryPolicy
from scribe_operator.kinds.task.api.spec import Format, Timeouts, TranscriptionTaskSpec, check_model
from scribe_operator.kinds.task.api.transcription import ENGLISH_ONLY_RULES, Decoding, Device, ModelSource, WhisperTask
from scribe_operator.kinds.task.api.worker import WorkerSpec

MAX_BATCH_INPUTS: Final = 1000
"""Most inputs one batch may have (listed, or found under the prefix): larger sessions are several batches."""
DEFAULT_PER_ITEM_SECONDS: Final = 600
DEFAULT_BUFFER_SECONDS: Final = 600

PREFIX_URI_PATTERN: Final = rf"^s3://{BUCKET_PATTERN}/.*$"
"""A key prefix: ``s3://bucket/`` (everything), ``s3://bucket/calls/`` or ``s3://bucket/calls/2025-``."""


def _task_field(name: str) -> Any:
    """The TranscriptionTask spec's own field (type constraints, default, description), for the template."""
    return copy.deepcopy(TranscriptionTaskSpec.model_fields[name])


TEMPLATE_EXCLUDED: Final = frozenset({"input", "output"})
"""TranscriptionTask spec fields a batch template does not have: the batch sets them per child."""


class TaskTemplate(ApiModel):
    """The spec every child TranscriptionTask gets, except input and output (set per input)."""

    model_config = ConfigDict(json_schema_extra=validations(*ENGLISH_ONLY_RULES))

    language: str | None = _task_field("language")
    model: str | None = _task_field("model")
    model_source: ModelSource | None = _task_field("model_source")
    task: WhisperTask | None = _task_field("task")
    word_timestamps: bool | None = _task_field("word_timestamps")
    initial_prompt: str | None = _task_field("initial_prompt")
    hotwords: str | None = _task_field("hotwords")
    decoding: Decoding | None = _task_field("decoding")
    device: Device | None = _task_field("device")
    compute_type: str | None = _task_field("compute_type")
    formats: list[Format] = _task_field("formats")
    retry_policy: RetryPolicy = _task_field("retry_policy")
    priority: int = _task_field("priority")
    timeouts: Timeouts = _task_field("timeouts")
    resources: Resources = _task_field("resources")
    worker: WorkerSpec = _task_field("worker")
    notification: Notification | None = _task_field("notification")
    cache: bool = _task_field("cache")

    @model_validator(mode="after")
    def _model_can(self) -> Self:
        return check_model(self)


class BatchDeadline(ApiModel):
    """When the batch gives up on children that have not finished (the stuck-session monitor)."""

    seconds: int | None = Field(
        None,
        ge=1,
        le=30 * DAY,
        description=(
            "Seconds from the start of the batch after which unfinished children are ended; "
            "overrides the estimate (inputs x perItemSeconds + bufferSeconds)."
        ),
    )
    per_item_seconds: int = Field(
        DEFAULT_PER_ITEM_SECONDS,
        ge=1,
        le=DAY,
        description="Estimate of one input's time, for the deadline when seconds is omitted.",
    )
    buffer_seconds: int = Field(
        DEFAULT_BUFFER_SECONDS,
        ge=0,
        le=7 * DAY,
        description="Slack added to the estimate, for the deadline when seconds is omitted.",
    )

    def seconds_for(self, inputs: int) -> int:
        """The deadline of a batch of ``inputs`` inputs: the estimate, or the explicit override."""
        return self.seconds if self.seconds is not None else inputs * self.per_item_seconds + self.buffer_seconds


def _unique_inputs(inputs: list[str] | None) -> list[str] | None:
    seen: set[str] = set()
    for uri in inputs or ():
        if uri in seen:
            raise ValueError(f"inputs: {uri} is listed twice")
        seen.add(uri)
    return inputs


InputUri = Annotated[str, Field(max_length=MAX_URI_LENGTH, pattern=INPUT_URI_PATTERN)]

BATCH_SPEC_IMMUTABLE = CelRule("self == oldSelf", "spec is immutable; create a new TranscriptionBatch")
ONE_SOURCE = CelRule(
    "has(self.inputs) != has(self.inputPrefix)", "spec: exactly one of inputs and inputPrefix must be set"
)


class TranscriptionBatchSpec(ApiModel):
    """The inputs of a session and how to transcribe them. Immutable once created."""

    model_config = ConfigDict(json_schema_extra=validations(BATCH_SPEC_IMMUTABLE, ONE_SOURCE))

    inputs: Annotated[list[InputUri] | None, AfterValidator(_unique_inputs)] = Field(
        None,
        min_length=1,
        max_length=MAX_BATCH_INPUTS,
        json_schema_extra={"x-kubernetes-list-type": "set"},
        description="The audio objects to transcribe (s3://bucket/key), each at most once. Or inputPrefix.",
    )
    input_prefix: str | None = Field(
        None,
        max_length=MAX_URI_LENGTH,
        pattern=PREFIX_URI_PATTERN,
        description=(
            "Transcribe every object under this prefix (s3://bucket/prefix/), listed once when the batch starts "
            "into status.inputs. Keys ending in /, keys inside *.transcript/ folders and *.summary.json objects "
            "(the operator's own outputs) are skipped. Or inputs."
        ),
    )
    output_prefix: str | None = Field(
        None,
        max_length=MAX_URI_LENGTH,
        pattern=OUTPUT_URI_PATTERN,
        description=(
            "Prefix (ends with /) for the transcripts: child i writes under <outputPrefix><i>-<input name>/, the "
            "summary is <outputPrefix>summary.json. Default: each child's default, next to its input, and the "
            "summary next to the first input as <batch name>.summary.json."
        ),
    )
    template: TaskTemplate = Field(
        default_factory=TaskTemplate,
        json_schema_extra={"default": {}},
        description="The TranscriptionTask spec of every child (all fields but input and output).",
    )
    deadline: BatchDeadline = Field(
        default_factory=BatchDeadline,
        json_schema_extra={"default": {}},
        description="When unfinished children are ended and the batch finalizes.",
    )
    parallelism: int | None = Field(
        None,
        ge=1,
        le=MAX_BATCH_INPUTS,
        description="Most children unfinished at once; the rest wait to be created. Default: all at once.",
    )
    notification: Notification | None = Field(
        None,
        description=(
            "A webhook told once when the batch finalizes (its children each notify through template.notification); "
            "docs/notifications.md."
        ),
    )

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.inputs is None) == (self.input_prefix is None):
            raise ValueError(ONE_SOURCE.message)
        return self
