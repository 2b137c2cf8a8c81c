"""The TranscriptionBatch API (``scribe.dev/v1alpha1``): a session of many inputs, one TranscriptionTask each.

Like :mod:`scribe_operator.kinds.task.api.model`, these models are the single source of truth: the CRD
(:mod:`scribe_operator.kinds.batch.api.crd`), its defaults and the field reference in docs/batches.md derive from them.
The pure helpers here fix the API contract around them: child names and labels, where each child writes its
transcripts, where the summary goes, which objects a prefix expands to, and the ``"0-3,7"`` index-set notation
of ``status.succeededIndexes`` / ``status.failedIndexes`` (as in a Kubernetes Indexed Job's completedIndexes).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Self

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.constants import GROUP, VERSION
from scribe_operator.api.notification import Notification, NotificationStatus
from scribe_operator.api.s3 import (
    BUCKET_PATTERN,
    INPUT_URI_PATTERN,
    MAX_URI_LENGTH,
    OUTPUT_URI_PATTERN,
    parse_s3_uri,
    strip_extension,
)
from scribe_operator.kinds.task.api.model import (
    DAY,
    Condition,
    Format,
    ObjectMeta,
    Resources,
    RetryPolicy,
    Timeouts,
    TranscriptionTaskSpec,
    WorkerSpec,
    check_model,
    to_json,
)
from scribe_operator.kinds.task.api.names import MAX_LENGTH, _shorten, label_value
from scribe_operator.kinds.task.api.transcription import ENGLISH_ONLY_RULES, Decoding, Device, ModelSource, WhisperTask

# --- names that make up the contract ----------------------------------------------------------------------

BATCH_KIND: Final = "TranscriptionBatch"
BATCH_LIST_KIND: Final = "TranscriptionBatchList"
BATCH_PLURAL: Final = "transcriptionbatches"
BATCH_SINGULAR: Final = "transcriptionbatch"
BATCH_SHORT_NAMES: Final = ("tb",)
BATCH_CATEGORIES: Final = ("scribe",)
BATCH_CRD_NAME: Final = f"{BATCH_PLURAL}.{GROUP}"
BATCH_API_VERSION: Final = f"{GROUP}/{VERSION}"

LABEL_BATCH: Final = f"{GROUP}/batch"
"""On a batch's child tasks: the batch's name (shortened with a hash beyond 63 characters)."""
LABEL_BATCH_INDEX: Final = f"{GROUP}/batch-index"
"""On a batch's child tasks: the index of the child's input in the batch's input list, 0-based, decimal."""

MAX_BATCH_INPUTS: Final = 1000
"""Most inputs one batch may have (listed, or found under the prefix): larger sessions are several batches."""
MAX_FAILED_LISTED: Final = 100
"""``status.failed`` lists at most this many failed inputs (the lowest indexes); the summary lists them all."""
SUMMARY_NAME: Final = "summary.json"
DEFAULT_PER_ITEM_SECONDS: Final = 600
DEFAULT_BUFFER_SECONDS: Final = 600
_MAX_STEM: Final = 64
_INDEX_DIGITS: Final = len(str(MAX_BATCH_INPUTS - 1))

PREFIX_URI_PATTERN: Final = rf"^s3://{BUCKET_PATTERN}/.*$"
"""A key prefix: ``s3://bucket/`` (everything), ``s3://bucket/calls/`` or ``s3://bucket/calls/2025-``."""


class BatchPhase(StrEnum):
    """Where a batch is; Succeeded, CompletedWithFailures and Failed are terminal."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    COMPLETED_WITH_FAILURES = "CompletedWithFailures"
    FAILED = "Failed"


TERMINAL_BATCH_PHASES: Final = frozenset({BatchPhase.SUCCEEDED, BatchPhase.COMPLETED_WITH_FAILURES, BatchPhase.FAILED})


class BatchReason(StrEnum):
    """Machine-readable reasons a batch, or one of its inputs, ends with (besides the child task's own reason)."""

    ALL_SUCCEEDED = "AllSucceeded"
    CHILDREN_FAILED = "ChildrenFailed"
    BATCH_DEADLINE_EXCEEDED = "BatchDeadlineExceeded"
    CHILD_DELETED = "ChildDeleted"
    INVALID_INPUT = "InvalidInput"
    INPUT_PREFIX_EMPTY = "InputPrefixEmpty"
    INPUT_PREFIX_NOT_FOUND = "InputPrefixNotFound"
    INPUT_PREFIX_UNAVAILABLE = "InputPrefixUnavailable"
    TOO_MANY_INPUTS = "TooManyInputs"
    UNKNOWN = "Unknown"


# --- spec -------------------------------------------------------------------------------------------------


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
        """The deadline of a batch of ``inputs`` inputs: the seed's workflow_time, or the explicit override."""
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


# --- status -----------------------------------------------------------------------------------------------


class BatchCounts(ApiModel):
    """Inputs by where their child is; the counts always add up to total."""

    total: int = Field(0, ge=0, description="Inputs in the batch.")
    pending: int = Field(0, ge=0, description="Child not created yet, or not started (Pending, Queued).")
    running: int = Field(0, ge=0, description="Child Running.")
    retrying: int = Field(0, ge=0, description="Child Retrying (waiting for its next attempt).")
    succeeded: int = Field(0, ge=0, description="Child Succeeded.")
    dead: int = Field(
        0,
        ge=0,
        description="Ended without a transcript: child Dead, child deleted, invalid input, or ended by the deadline.",
    )


class FailedInput(ApiModel):
    """An input that ended without a transcript."""

    index: int = Field(ge=0, description="Index of the input (0-based).")
    input: str = Field(description="The input's s3:// URI.")
    task: str | None = Field(None, description="The child TranscriptionTask, if one was created.")
    reason: str = Field(
        description="The child's terminal reason (e.g. InvalidAudio, RetriesExhausted), or ChildDeleted, "
        "BatchDeadlineExceeded, InvalidInput."
    )
    message: str | None = Field(None, description="Human-readable detail.")


class BatchStatus(ApiModel):
    """Observed state, written by the operator only."""

    phase: BatchPhase | None = Field(None, description="Pending, Running, Succeeded, CompletedWithFailures or Failed.")
    reason: str | None = Field(None, description="Why the batch is in its phase (CamelCase), once it ended.")
    message: str | None = Field(None, description="Human-readable detail of reason.")
    inputs: list[str] | None = Field(
        None, description="The inputs found under spec.inputPrefix, listed once when the batch started."
    )
    counts: BatchCounts = Field(default_factory=BatchCounts, description="Inputs by where their child is.")
    created: int = Field(0, ge=0, description="Children created so far: those of indexes 0 to created-1.")
    succeeded_indexes: str | None = Field(None, description="Indexes of the inputs that succeeded, as ranges: 0-3,7.")
    failed_indexes: str | None = Field(
        None, description="Indexes of the inputs that ended without a transcript, as ranges: 4-6,8."
    )
    failed: list[FailedInput] = Field(
        default_factory=list, description="The failed inputs with the lowest indexes (at most 100), with reasons."
    )
    started_at: datetime | None = Field(None, description="When the batch started (its first children created).")
    deadline_at: datetime | None = Field(None, description="When unfinished children are ended.")
    finished_at: datetime | None = Field(None, description="When the batch reached its terminal phase.")
    summary: str | None = Field(None, description="The summary object (s3:// URI) once written.")
    notification: NotificationStatus | None = Field(
        None, description="The delivery of spec.notification's event for the batch's ending."
    )
    summary_attempts: int = Field(0, ge=0, description="Failed attempts to write the summary.")
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        description="Complete, Ready and SummaryWritten conditions.",
    )
    observed_generation: int | None = Field(None, description="metadata.generation last reconciled.")

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_BATCH_PHASES


class TranscriptionBatch(ApiModel):
    """A TranscriptionBatch object."""

    api_version: str = BATCH_API_VERSION
    kind: str = BATCH_KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: TranscriptionBatchSpec
    status: BatchStatus = Field(default_factory=BatchStatus)

    def with_status(self, status: BatchStatus) -> TranscriptionBatch:
        return self.model_copy(update={"status": status})

    def inputs(self) -> list[str] | None:
        """The fixed input list: spec.inputs, or the prefix's expansion once made; None before that."""
        return self.spec.inputs if self.spec.inputs is not None else self.status.inputs


# --- names, outputs, summary, prefix expansion ------------------------------------------------------------


def child_name(batch: str, index: int) -> str:
    """The child task of input ``index``: ``<batch>-<index>``, the batch name shortened with a hash so that
    the child's name stays within 63 characters."""
    return f"{_shorten(batch, MAX_LENGTH - 1 - _INDEX_DIGITS)}-{index}"


def batch_label_value(batch: str) -> str:
    """The value of the ``scribe.dev/batch`` label on a batch's children."""
    return label_value(batch)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def child_output(spec: TranscriptionBatchSpec, index: int, input_uri: str) -> str | None:
    """Where child ``index`` writes: ``<outputPrefix><index>-<input file name without extension>/``, or None
    (the task's default, next to its input) when the batch has no outputPrefix."""
    if spec.output_prefix is None:
        return None
    _, key = parse_s3_uri(input_uri)
    stem = _UNSAFE.sub("-", strip_extension(key.rsplit("/", 1)[-1]))[:_MAX_STEM].strip("-.")
    return f"{spec.output_prefix}{index}-{stem}/" if stem else f"{spec.output_prefix}{index}/"


def child_spec(spec: TranscriptionBatchSpec, index: int, input_uri: str) -> TranscriptionTaskSpec:
    """The spec of child ``index``: the template plus its input and output. Raises pydantic's ValidationError
    when the result is not a valid TranscriptionTask spec (e.g. the output URI would be too long)."""
    body = to_json(spec.template)
    body["input"] = input_uri
    output = child_output(spec, index, input_uri)
    if output is not None:
        body["output"] = output
    return TranscriptionTaskSpec.model_validate(body)


def summary_uri(batch_name: str, spec: TranscriptionBatchSpec, inputs: list[str] | None) -> str | None:
    """``<outputPrefix>summary.json``; without outputPrefix ``<batch>.summary.json`` in the first input's folder;
    None when there is neither (a prefix that expanded to nothing)."""
    if spec.output_prefix is not None:
        return f"{spec.output_prefix}{SUMMARY_NAME}"
    if not inputs:
        return None
    bucket, key = parse_s3_uri(inputs[0])
    return f"s3://{bucket}/{key[: key.rfind('/') + 1]}{batch_name}.{SUMMARY_NAME}"


def expands_to(key: str, output_prefix: str | None = None, bucket: str = "") -> bool:
    """Whether object ``key`` (of ``bucket``) found under an inputPrefix becomes an input: not a folder marker,
    not one of the operator's own outputs (``*.transcript/`` folders, ``*.summary.json``, the batch's
    outputPrefix)."""
    if not key or key.endswith("/") or key.endswith(f".{SUMMARY_NAME}") or key == SUMMARY_NAME:
        return False
    if any(part.endswith(".transcript") for part in key.split("/")[:-1]):
        return False
    if output_prefix is not None:
        out_bucket, out_key = parse_s3_uri(output_prefix)
        if out_bucket == bucket and key.startswith(out_key):
            return False
    return True


# --- index sets: "0-3,7" ----------------------------------------------------------------------------------


def format_indexes(indexes: Iterable[int]) -> str | None:
    """``{0, 1, 2, 3, 7}`` -> ``"0-3,7"``; None for no indexes."""
    ordered = sorted(set(indexes))
    if not ordered:
        return None
    parts: list[str] = []
    start = prev = ordered[0]
    for i in [*ordered[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ",".join(parts)


def parse_indexes(text: str | None, limit: int = MAX_BATCH_INPUTS) -> frozenset[int]:
    """``"0-3,7"`` -> ``{0, 1, 2, 3, 7}``; malformed parts and indexes at or beyond ``limit`` are ignored."""
    out: set[int] = set()
    for part in (text or "").split(","):
        low, sep, high = part.strip().partition("-")
        try:
            first = int(low)
            last = int(high) if sep else first
        except ValueError:
            continue
        out.update(range(max(first, 0), min(last, limit - 1) + 1))
    return frozenset(out)
