"""The TranscriptionTask API (``scribe.dev/v1alpha1``): spec and status as pydantic models.

These models are the single source of truth: the CRD's OpenAPI schema, its defaults and its field
documentation (``kubectl explain``) are generated from them (:mod:`scribe_operator.kinds.task.api.crd`).
JSON uses camelCase (``retryPolicy``); Python uses snake_case (``retry_policy``); both are accepted.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, NamedTuple, Protocol, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator
from scribe_worker.taxonomy import Reason

from scribe_operator.api.base import ApiModel
from scribe_operator.api.cel import CelRule, validations
from scribe_operator.api.constants import API_VERSION, KIND, MAX_RETRIES_LIMIT
from scribe_operator.api.notification import Notification, NotificationStatus
from scribe_operator.api.quantity import Quantity, parse_quantity
from scribe_operator.api.s3 import INPUT_URI_PATTERN, MAX_URI_LENGTH, OUTPUT_URI_PATTERN
from scribe_operator.kinds.task.api.transcription import (
    COMPUTE_TYPE_PATTERN,
    ENGLISH_ONLY_RULES,
    Decoding,
    Device,
    ModelSource,
    WhisperTask,
    model_problem,
)

DNS1123_SUBDOMAIN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LANGUAGE_PATTERN: Final = r"^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{1,8})?$"
MODEL_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
_LABEL_NAME: Final = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LABEL_VALUE_PATTERN: Final = rf"^({_LABEL_NAME})?$"
"""A label value as the Pod API validates it (nodeSelector values, toleration values): empty, or up to 63
alphanumerics, '-', '_', '.', beginning and ending alphanumeric."""
_DNS_PREFIX: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/"
TOLERATION_KEY_PATTERN: Final = rf"^(({_DNS_PREFIX})?{_LABEL_NAME})?$"
"""A toleration key: empty, or a label key (an optional DNS-subdomain prefix and ``/``, then a name of up to 63
characters)."""
DAY: Final = 86_400
MAX_PRIORITY: Final = 1_000_000


class Format(StrEnum):
    """An output format; json is always written, as the completion marker."""

    JSON = "json"
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"


class Phase(StrEnum):
    """Where a task is in its life; Succeeded and Dead are terminal."""

    PENDING = "Pending"
    QUEUED = "Queued"
    RUNNING = "Running"
    RETRYING = "Retrying"
    SUCCEEDED = "Succeeded"
    DEAD = "Dead"


TERMINAL_PHASES: Final = frozenset({Phase.SUCCEEDED, Phase.DEAD})


class RuleAction(StrEnum):
    """What a matching retry rule does with a failed attempt."""

    RETRY = "Retry"
    FAIL = "Fail"


NON_MATCHABLE_REASONS: Final = frozenset({Reason.COMPLETED, Reason.CACHE_HIT, Reason.RETRIES_EXHAUSTED})
"""Reasons that never end an attempt as a failure, so a retry rule cannot name them."""
MATCHABLE_REASONS: Final = tuple(r for r in Reason if r not in NON_MATCHABLE_REASONS)


def _matchable(reason: Reason) -> Reason:
    if reason in NON_MATCHABLE_REASONS:
        raise ValueError(f"retryPolicy.rules[].reasons: {reason.value} is not an attempt failure reason")
    return reason


MatchableReason = Annotated[
    Reason,
    AfterValidator(_matchable),
    WithJsonSchema({"type": "string", "enum": [r.value for r in MATCHABLE_REASONS]}),
]
ExitCode = Annotated[int, Field(ge=1, le=255)]


# --- spec -----------------------------------------------------------------------------------------------

BACKOFF_ORDER = CelRule(
    "!has(self.maxSeconds) || !has(self.initialSeconds) || self.maxSeconds >= self.initialSeconds",
    "retryPolicy.backoff.maxSeconds must be greater than or equal to retryPolicy.backoff.initialSeconds",
)


class Backoff(ApiModel):
    """Exponential backoff between attempts (see docs/api.md for the exact formula)."""

    model_config = ConfigDict(json_schema_extra=validations(BACKOFF_ORDER))

    initial_seconds: int = Field(10, ge=1, le=DAY, description="Delay before the second attempt, in seconds.")
    factor: float = Field(2.0, ge=1.0, le=10.0, description="Each further delay is the previous one times this.")
    max_seconds: int = Field(
        600, ge=1, le=DAY, description="Upper bound of any delay, in seconds; at least initialSeconds."
    )
    jitter: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description=(
            "Fraction by which delays are shortened, per task: each task's delays are scaled by a fixed "
            "factor in (1 - jitter, 1], derived from its uid, so tasks that fail together spread out."
        ),
    )

    @model_validator(mode="after")
    def _max_not_below_initial(self) -> Self:
        if self.max_seconds < self.initial_seconds:
            raise ValueError(BACKOFF_ORDER.message)
        return self


RULE_HAS_MATCHER = CelRule(
    "(has(self.exitCodes) && size(self.exitCodes) > 0) || (has(self.reasons) && size(self.reasons) > 0)",
    "retryPolicy.rules[]: a rule must list exitCodes or reasons (or both)",
)


class RetryRule(ApiModel):
    """Overrides whether a failed attempt is retried. Matches if the attempt's exit code is in exitCodes
    or its reason is in reasons; the first matching rule wins."""

    model_config = ConfigDict(json_schema_extra=validations(RULE_HAS_MATCHER))

    exit_codes: list[ExitCode] = Field(
        default_factory=list, max_length=32, description="Worker exit codes (1-255) this rule matches."
    )
    reasons: list[MatchableReason] = Field(
        default_factory=list, max_length=32, description="Failure reasons this rule matches."
    )
    action: RuleAction = Field(description="Retry: retry while attempts remain. Fail: go Dead at once.")

    @model_validator(mode="after")
    def _has_matcher(self) -> Self:
        if not self.exit_codes and not self.reasons:
            raise ValueError(RULE_HAS_MATCHER.message)
        return self

    def matches(self, exit_code: int | None, reason: str) -> bool:
        """Whether this rule applies to an attempt that ended with ``exit_code`` and ``reason``."""
        return (exit_code is not None and exit_code in self.exit_codes) or reason in self.reasons


class RetryPolicy(ApiModel):
    """How many times a task is retried, how long to wait in between, and which failures to retry."""

    max_retries: int = Field(
        3, ge=0, le=MAX_RETRIES_LIMIT, description="Retries after the first attempt: attempts = maxRetries + 1."
    )
    backoff: Backoff = Field(
        default_factory=Backoff, json_schema_extra={"default": {}}, description="Delay between attempts."
    )
    rules: list[RetryRule] = Field(
        default_factory=list,
        max_length=32,
        description=("Overrides of the failure taxonomy's retryable defaults, checked in order; the first match wins."),
    )

    @property
    def max_attempts(self) -> int:
        return self.max_retries + 1


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


class ResourceList(ApiModel):
    """CPU and memory quantities."""

    cpu: Quantity | None = Field(None, description="CPU, e.g. 500m or 2.")
    memory: Quantity | None = Field(None, description="Memory, e.g. 512Mi or 2Gi.")
    gpu: int | None = Field(
        None,
        alias="nvidia.com/gpu",
        ge=0,
        le=64,
        description="NVIDIA GPUs (the device plugin's nvidia.com/gpu); set in limits, or in requests and limits alike.",
    )


def cel_name(name: str) -> str:
    """A property name as CEL spells it: the API server escapes ``__``, ``.``, ``-`` and ``/`` in property names
    (``nvidia.com/gpu`` -> ``nvidia__dot__com__slash__gpu``)."""
    escapes = (("__", "__underscores__"), (".", "__dot__"), ("-", "__dash__"), ("/", "__slash__"))
    for plain, escaped in escapes:
        name = name.replace(plain, escaped)
    return name


class ResourceRule(NamedTuple):
    """The Pod API's rule for one resource of a ResourceList: ``field`` is its Python name, ``name`` its JSON name.
    Extended resources (domain-prefixed names such as ``nvidia.com/gpu``) cannot be overcommitted: a request set next
    to a limit must equal it (a request alone becomes the limit too). Other resources: a request may not exceed the
    limit."""

    field: str
    name: str

    @property
    def extended(self) -> bool:
        return "/" in self.name

    @property
    def cel(self) -> CelRule:
        key = cel_name(self.name)
        request, limit = f"self.requests.{key}", f"self.limits.{key}"
        both = f"has(self.requests) && has({request}) && has(self.limits) && has({limit})"
        if self.extended:
            return CelRule(
                f"!({both}) || {limit} == {request}",
                f"resources.requests.{self.name} must equal resources.limits.{self.name} when both are set "
                "(an extended resource cannot be overcommitted)",
            )
        quantities = " && ".join(f"{q} != null && isQuantity(string({q}))" for q in (request, limit))
        compare = f"quantity(string({request})).compareTo(quantity(string({limit}))) <= 0"
        return CelRule(
            f"!({both} && {quantities}) || {compare}",
            f"resources.requests.{self.name} must be less than or equal to resources.limits.{self.name}",
        )

    def violated(self, requests: ResourceList, limits: ResourceList) -> str | None:
        """The rule's message (with the values) if ``requests`` and ``limits`` break it, else None."""
        request, limit = getattr(requests, self.field), getattr(limits, self.field)
        if request is None or limit is None:
            return None
        if self.extended:
            return None if limit == request else f"{self.cel.message} ({request} vs {limit})"
        if parse_quantity(str(request)) <= parse_quantity(str(limit)):
            return None
        return f"{self.cel.message} ({request} > {limit})"


RESOURCE_RULES: Final = tuple(
    ResourceRule(field, info.alias or field) for field, info in ResourceList.model_fields.items()
)
"""One rule per resource a ResourceList names, generated from the model (its fields and their JSON names)."""


class Resources(ApiModel):
    """Compute resources of the worker container; operator defaults apply to what is omitted."""

    model_config = ConfigDict(json_schema_extra=validations(*(r.cel for r in RESOURCE_RULES)))

    requests: ResourceList = Field(default_factory=ResourceList, description="Resource requests.")
    limits: ResourceList = Field(
        default_factory=ResourceList,
        description="Resource limits. After an OOMKilled attempt the next attempt gets a raised memory limit.",
    )

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Self:
        for rule in RESOURCE_RULES:
            problem = rule.violated(self.requests, self.limits)
            if problem is not None:
                raise ValueError(problem)
        return self


def _given(field: str, *, text: bool = True) -> str:
    """CEL: ``field`` is present (and, for a string, not empty). A null is absent to ``has()``."""
    return f"has(self.{field})" + (f" && self.{field} != ''" if text else "")


EXISTS = "has(self.operator) && self.operator == 'Exists'"
TOLERATION_KEYLESS = CelRule(
    f"({_given('key')}) || ({EXISTS})",
    "worker.tolerations[]: operator must be Exists when key is empty (it then matches every taint)",
)
TOLERATION_EXISTS_VALUELESS = CelRule(
    f"!({EXISTS}) || !({_given('value')})", "worker.tolerations[]: value must be empty when operator is Exists"
)
TOLERATION_SECONDS_NO_EXECUTE = CelRule(
    f"!({_given('tolerationSeconds', text=False)}) || (has(self.effect) && self.effect == 'NoExecute')",
    "worker.tolerations[]: tolerationSeconds is only allowed with effect NoExecute",
)


class Toleration(ApiModel):
    """A pod toleration, as in the core/v1 Pod API (and its cross-field rules, which the API server checks only
    when the pod is created)."""

    model_config = ConfigDict(
        json_schema_extra=validations(TOLERATION_KEYLESS, TOLERATION_EXISTS_VALUELESS, TOLERATION_SECONDS_NO_EXECUTE)
    )

    key: str | None = Field(
        None,
        max_length=316,
        pattern=TOLERATION_KEY_PATTERN,
        description="Taint key; empty with operator Exists matches all.",
    )
    operator: Literal["Exists", "Equal"] | None = Field(None, description="Exists or Equal (default Equal).")
    value: str | None = Field(
        None, max_length=63, pattern=LABEL_VALUE_PATTERN, description="Taint value to match with operator Equal."
    )
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        None, description="Taint effect to match; empty matches all effects."
    )
    toleration_seconds: int | None = Field(None, description="For NoExecute: how long the pod stays bound.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        exists = self.operator == "Exists"
        if not self.key and not exists:
            raise ValueError(TOLERATION_KEYLESS.message)
        if exists and self.value:
            raise ValueError(TOLERATION_EXISTS_VALUELESS.message)
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError(TOLERATION_SECONDS_NO_EXECUTE.message)
        return self


class WorkerSpec(ApiModel):
    """Where and as what the worker pods run."""

    image: str | None = Field(
        None, min_length=1, max_length=512, description="Worker image; the operator's default when omitted."
    )
    node_selector: dict[str, Annotated[str, Field(max_length=63, pattern=LABEL_VALUE_PATTERN)]] = Field(
        default_factory=dict, max_length=64, description="Node labels the worker pod must match."
    )
    tolerations: list[Toleration] = Field(
        default_factory=list, max_length=32, description="Tolerations of the worker pod."
    )
    service_account_name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS1123_SUBDOMAIN,
        description=(
            "Service account of the worker pod; the operator's worker account (which may only report progress) "
            "when omitted. Progress is reported only under the operator's worker account."
        ),
    )
    runtime_class_name: str | None = Field(
        None,
        max_length=253,
        pattern=DNS1123_SUBDOMAIN,
        description="RuntimeClass of the worker pod (e.g. nvidia for GPU nodes); the cluster's default when omitted.",
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


# --- status ---------------------------------------------------------------------------------------------


class Usage(ApiModel):
    """What attempts cost: CPU and GPU time, and the highest memory use."""

    cpu_seconds: float | None = Field(
        None, ge=0, description="CPU seconds the worker container used, from its own cgroup; summed over attempts."
    )
    peak_memory_bytes: int | None = Field(
        None, ge=0, description="Peak memory of the worker container, from its cgroup; the highest of any attempt."
    )
    gpu_seconds: float | None = Field(
        None,
        ge=0,
        description=(
            "GPUs requested (nvidia.com/gpu) times the attempt's wall time, container start to end; summed over "
            "attempts. Omitted when no GPU was requested."
        ),
    )


class AttemptRecord(ApiModel):
    """One attempt: its pod and how it ended."""

    attempt: int = Field(ge=1, description="Attempt number, 1-based.")
    pod: str | None = Field(None, description="The attempt's pod; empty when it failed before a pod was made.")
    node: str | None = Field(None, description="Node the pod ran on.")
    created_at: datetime | None = Field(None, description="When the attempt was launched.")
    started_at: datetime | None = Field(None, description="When the worker container started.")
    finished_at: datetime | None = Field(None, description="When the attempt ended.")
    exit_code: int | None = Field(None, description="Worker container exit code.")
    reason: str | None = Field(None, description="How the attempt ended (failure taxonomy reason).")
    message: str | None = Field(None, description="Human-readable detail of how the attempt ended.")
    retryable: bool | None = Field(None, description="Whether the failure was retryable (after rules).")
    memory_limit: str | None = Field(None, description="Memory limit the attempt ran with.")
    deadline_seconds: int | None = Field(None, description="How long the attempt was allowed to run.")
    usage: Usage | None = Field(
        None, description="What the attempt cost, as its worker reported at the end (none if it was killed)."
    )

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


class AttemptProgress(ApiModel):
    """How far the running (or last) attempt's worker has got, from its progress reports."""

    attempt: int = Field(ge=1, description="The attempt the progress is of.")
    processed_seconds: float = Field(ge=0, description="Audio seconds transcribed so far.")
    total_seconds: float | None = Field(None, description="The audio's length in seconds, once the worker knows it.")
    percent: int | None = Field(None, ge=0, le=100, description="processedSeconds of totalSeconds, in percent.")
    summary: str = Field(description="What kubectl get shows in the PROGRESS column: 42% (or 12s while no total).")
    reported_at: datetime | None = Field(None, description="When the worker sent its last report (its clock).")
    heartbeat_time: datetime = Field(
        description="When the operator last saw the progress move; the stall watchdog counts from here."
    )

    @property
    def complete(self) -> bool:
        return self.total_seconds is not None and self.processed_seconds >= self.total_seconds


class Condition(ApiModel):
    """A standard Kubernetes condition."""

    type: str = Field(description="The condition's type; the types are listed under conditions.")
    status: Literal["True", "False", "Unknown"] = Field(description="True, False or Unknown.")
    reason: str | None = Field(None, description="CamelCase reason of the last transition.")
    message: str | None = Field(None, description="Human-readable detail.")
    last_transition_time: datetime | None = Field(None, description="When status last changed.")
    observed_generation: int | None = Field(None, description="metadata.generation this is based on.")


class RequeueOutcome(StrEnum):
    """What the operator did with a requeue request."""

    REQUEUED = "Requeued"
    IGNORED = "Ignored"


class RequeueRecord(ApiModel):
    """The last requeue request (annotation scribe.dev/requeue) the operator handled."""

    token: str = Field(
        description=(
            "The scribe.dev/requeue annotation's value (longer ones as sha256:<hex>). "
            "Only a different value is a new request."
        )
    )
    at: datetime | None = Field(None, description="When the operator handled the request.")
    reset_attempts: bool = Field(
        False,
        description="Whether scribe.dev/requeue-reset-attempts was true: attempt history and failure counts cleared.",
    )
    outcome: RequeueOutcome = Field(description="Requeued, or Ignored: the task was not Dead.")
    message: str | None = Field(None, description="Human-readable detail of the outcome.")


class TaskStatus(ApiModel):
    """Observed state, written by the operator only."""

    phase: Phase | None = Field(None, description="Pending, Queued, Running, Retrying, Succeeded or Dead.")
    attempt: int = Field(0, ge=0, description="Attempts started so far (the current try's number).")
    retry_at: datetime | None = Field(None, description="While Retrying: when the next attempt may start.")
    reason: str | None = Field(None, description="Last failure's or the terminal reason (CamelCase).")
    message: str | None = Field(None, description="Human-readable detail of reason.")
    attempts: list[AttemptRecord] = Field(
        default_factory=list, description="The most recent attempts (at most 20), oldest first."
    )
    failure_counts: dict[str, int] = Field(
        default_factory=dict, description="Failed attempts per reason, over all attempts."
    )
    outputs: dict[str, str] = Field(default_factory=dict, description="Once Succeeded: format -> s3:// URI.")
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        description=(
            "Ready (True once Succeeded) and Failed (True once Dead); Queued (True while waiting for a free "
            "attempt slot) and CircuitOpen (True while the circuit breaker holds the next attempt) once they apply."
        ),
    )
    observed_generation: int | None = Field(None, description="metadata.generation last reconciled.")
    input_size: int | None = Field(None, description="Size of the input in bytes, from the last probe.")
    input_etag: str | None = Field(None, description="ETag of the input (its version), from the last probe.")
    started_at: datetime | None = Field(None, description="When the first attempt was launched.")
    finished_at: datetime | None = Field(None, description="When the task reached Succeeded or Dead.")
    updated_at: datetime | None = Field(
        None, description="When the operator last changed this status (a phase, an attempt, a condition, progress)."
    )
    requeues: int = Field(0, ge=0, description="Times the task was requeued from Dead (scribe.dev/requeue).")
    attempt_base: int = Field(
        0,
        ge=0,
        description=(
            "Attempts made before the last requeue. Attempts are numbered on across requeues; since the last "
            "requeue the task may make attempts attemptBase+1 .. attemptBase+maxRetries+1."
        ),
    )
    requeue: RequeueRecord | None = Field(None, description="The last requeue request the operator handled.")
    progress: AttemptProgress | None = Field(
        None, description="While an attempt runs (and after it ends): the worker's last reported progress."
    )
    notification: NotificationStatus | None = Field(
        None, description="The delivery of spec.notification's event for the task's last ending."
    )
    usage: Usage | None = Field(
        None,
        description=(
            "What the task has cost so far, over all its attempts (also those no longer kept in attempts, and "
            "across requeues): cpuSeconds and gpuSeconds summed, peakMemoryBytes the highest."
        ),
    )

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @property
    def round_attempts(self) -> int:
        """Attempts started since the last requeue (since creation if never requeued)."""
        return max(0, self.attempt - self.attempt_base)

    def record(self, attempt: int) -> AttemptRecord | None:
        """The history entry of ``attempt``, if it is still kept."""
        return next((r for r in reversed(self.attempts) if r.attempt == attempt), None)


# --- the object ------------------------------------------------------------------------------------------


class ObjectMeta(ApiModel):
    """The parts of metadata the operator reads."""

    name: str = ""
    namespace: str | None = None
    uid: str = ""
    resource_version: str | None = None
    generation: int | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    creation_timestamp: datetime | None = None
    deletion_timestamp: datetime | None = None


class TranscriptionTask(ApiModel):
    """A TranscriptionTask object."""

    api_version: str = API_VERSION
    kind: str = KIND
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: TranscriptionTaskSpec
    status: TaskStatus = Field(default_factory=TaskStatus)

    def with_status(self, status: TaskStatus) -> TranscriptionTask:
        """A copy carrying ``status`` (e.g. a plan's new status, as if written)."""
        return self.model_copy(update={"status": status})


def to_json(model: BaseModel, *, nulls: bool = False) -> dict[str, Any]:
    """JSON-ready camelCase dict. ``nulls=True`` keeps ``None`` as null: a merge patch then clears them."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=not nulls)
