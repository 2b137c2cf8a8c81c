"""The sections of the operator's settings, each read from ``SCRIBE_*`` environment variables (see
:mod:`.section` for how a setting is declared and named).

Every setting is declared once, here, with its default; a default that a decision core needs is that core's own
(``CoreSettings.stall_timeout_seconds``, ``BreakerSettings.threshold``, ...), referred to rather than written again.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import model_validator

from scribe_operator.kernel.notify import NotificationSettings
from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.task.core.breaker import BreakerSettings
from scribe_operator.kinds.task.core.capacity import Limits
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.runtime.settings.section import Section, setting

DEFAULT_WORKER_IMAGE = "ghcr.io/scribe-operator/scribe-worker:0.1.0"

_QUANTITY = {"pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"}
_DNS_NAME = {"pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"}
_AT_LEAST_0 = {"minimum": 0}
_AT_LEAST_1 = {"minimum": 1}


class OperatorSection(Section):
    TITLE = "Watching and serving"

    namespaces: str = setting(
        "",
        "Comma-separated names of the namespaces to watch (names, not patterns); empty: all namespaces.",
        chart="watchNamespaces", example="media,podcasts", chart_example=["media", "podcasts"], default_doc="(all)",
    )  # fmt: skip
    health_port: int = setting(8080, "Port of the liveness endpoint, GET /healthz.", chart="healthPort", example=8081)
    metrics_port: int = setting(
        9090, "Port of the Prometheus metrics endpoint, GET /metrics (docs/metrics.md).", chart="metrics.port",
        example=9091,
    )  # fmt: skip
    log_format: Literal["json", "text"] = setting("json", "Log format: JSON lines or text.", example="text")

    @property
    def namespace_list(self) -> list[str]:
        return [n.strip() for n in self.namespaces.split(",") if n.strip()]


class S3Section(Section):
    TITLE = "S3"
    ENV_PREFIX = "SCRIBE_S3_"

    endpoint_url: str | None = setting(
        None,
        "S3 endpoint of the probes and presigning; workers must reach the same host.",
        env=("SCRIBE_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        chart="s3.endpoint", example="http://minio.storage:9000", default_doc="AWS S3 of the region",
    )  # fmt: skip
    region: str = setting(
        "us-east-1", "Region URLs are signed for.", env=("SCRIBE_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        chart="s3.region", example="eu-west-1",
    )  # fmt: skip
    addressing_style: Literal["path", "virtual", "auto"] = setting(
        "auto",
        "Bucket addressing in URLs: path (MinIO and most S3-compatible stores), virtual (AWS) or auto.",
        chart="s3.addressingStyle", example="path",
    )  # fmt: skip


class LeaderElectionSection(Section):
    TITLE = "Leader election"
    ENV_PREFIX = "SCRIBE_LEADER_ELECTION_"

    enabled: bool = setting(
        False, "Run several replicas: one leads (it holds a Lease), the others stand by.",
        env="SCRIBE_LEADER_ELECTION", chart="leaderElection.enabled", example=True,
    )  # fmt: skip
    namespace: str = setting(
        "", "Namespace of the Lease.", chart="leaderElection.namespace", example="ops",
        default_doc="the pod's own (the chart: the release's)",
    )  # fmt: skip
    lease: str = setting(
        "scribe-operator", "Name of the Lease.", chart="leaderElection.leaseName", example="scribe-ha",
        default_doc="`scribe-operator` (the chart: the release's full name)",
    )  # fmt: skip
    lease_seconds: float = setting(
        10.0, "A leader that has not renewed the Lease this long is replaced.", chart="leaderElection.leaseSeconds",
        example=15.0, chart_example=15,
    )  # fmt: skip


class WorkerSection(Section):
    TITLE = "Worker pods"
    ENV_PREFIX = "SCRIBE_WORKER_"

    image: str = setting(
        DEFAULT_WORKER_IMAGE, "Worker image of a task that names none.", chart="worker.image.repository",
        example="registry.example.com/scribe-worker",
        default_doc=f"`{DEFAULT_WORKER_IMAGE}` (the chart: its version's)",
    )  # fmt: skip
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = setting(
        "IfNotPresent", "Pull policy of worker pods.", chart="worker.image.pullPolicy", example="Always"
    )
    run_as_user: int = setting(
        65532, "UID worker containers run as (non-root).", example=1000, chart_schema=_AT_LEAST_1
    )
    service_account: str = setting(
        "scribe-worker",
        "ServiceAccount the operator creates in each namespace for worker pods; its token may only patch the "
        "progress annotation of the worker's own pod (ValidatingAdmissionPolicy scribe-worker-progress).",
        example="scribe-transcriber", chart_schema=_DNS_NAME,
    )  # fmt: skip
    progress_reporting: bool = setting(
        False,
        "Give workers the progress credential. Only with the chart's ValidatingAdmissionPolicy installed (the chart "
        "turns both on together): without it the worker account could patch any pod in its namespace.",
        env="SCRIBE_PROGRESS_REPORTING", example=True,
        default_doc="`false` (the chart: `workerProgressPolicy.install`)",
    )  # fmt: skip
    progress_interval_seconds: float | None = setting(
        None, "Workers report progress at most this often (the worker's SCRIBE_PROGRESS_INTERVAL_SECONDS).", ge=0,
        example=2.5, default_doc="the worker's (10)",
    )  # fmt: skip


class TaskDefaultsSection(Section):
    TITLE = "Defaults of a task that names none"
    ENV_PREFIX = "SCRIBE_DEFAULT_"

    model: str | None = setting(
        CoreSettings.default_model, "Model of a task that names none.", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        example="small", default_doc="the worker's (tiny.en)",
    )  # fmt: skip
    model_claim: str | None = setting(
        None,
        "PersistentVolumeClaim (in the task's namespace) holding the model of a task that names no modelSource, "
        "mounted read-only ...",
        example="whisper-models", chart_schema=_DNS_NAME, default_doc="none",
    )  # fmt: skip
    model_sub_path: str | None = setting(
        None, "... and the model's directory inside it.", example="small", default_doc="the volume's root"
    )
    model_s3_prefix: str | None = setting(
        None,
        "Or an S3 prefix (s3://bucket/prefix/) holding the model (one of the two): the operator signs GETs, workers "
        "fetch it to an emptyDir.",
        pattern=r"^s3://[^/]+/(.*/)?$", example="s3://models/small/", default_doc="none",
    )  # fmt: skip
    device: Literal["auto", "cpu", "cuda"] | None = setting(
        None, "Device of a task that names none.", example="cpu", default_doc="the worker's (auto)"
    )
    compute_type: str | None = setting(
        None, "Compute type of a task that names none.", pattern=r"^[a-z0-9_]{1,32}$", example="int8",
        default_doc="the worker's (per device: int8 on CPU, float16 on CUDA)",
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_model_source(self) -> Self:
        claim, sub_path, prefix = (self.env_name(n) for n in ("model_claim", "model_sub_path", "model_s3_prefix"))
        if self.model_claim and self.model_s3_prefix:
            raise ValueError(f"set at most one of {claim} and {prefix}")
        if self.model_sub_path and not self.model_claim:
            raise ValueError(f"{sub_path} needs {claim}")
        return self


_CORE = CoreSettings


class TaskSection(Section):
    """Each field is the decision core's field of the same name (:class:`CoreSettings`), whose default it has;
    :meth:`.OperatorSettings.core` passes them on by name."""

    TITLE = "Attempts"

    attempt_overhead_seconds: float = setting(
        _CORE.attempt_overhead_seconds,
        "An attempt's estimated deadline: this fixed part (image pull, model load, upload) ...",
        example=90.5, chart_schema=_AT_LEAST_0,
    )  # fmt: skip
    seconds_per_mib: float = setting(
        _CORE.seconds_per_mib, "... plus this many seconds per MiB of input (model and hardware dependent).",
        example=12.5, chart_schema=_AT_LEAST_0,
    )  # fmt: skip
    min_attempt_seconds: int = setting(
        _CORE.min_attempt_seconds,
        "Shortest estimated deadline (a task's spec.timeouts.attemptSeconds is not clamped).",
        example=120, chart_schema=_AT_LEAST_1,
    )  # fmt: skip
    max_attempt_seconds: int = setting(
        _CORE.max_attempt_seconds, "Longest estimated deadline; also the deadline when the input's size is unknown.",
        example=10_000_000, chart_schema=_AT_LEAST_1,
    )  # fmt: skip
    url_ttl_margin_seconds: int = setting(
        _CORE.url_ttl_margin_seconds,
        "Presigned URLs outlive an attempt's pending time, deadline and grace by this many seconds.",
        example=600, chart_schema=_AT_LEAST_0,
    )  # fmt: skip
    pod_lost_grace_seconds: float = setting(
        _CORE.pod_lost_grace_seconds,
        "A launched attempt whose pod the watch has not shown this long is PodLost if a GET of the pod answers 404 "
        "(a pod the GET finds is followed).",
        example=30.5, chart_schema=_AT_LEAST_0,
    )  # fmt: skip
    deadline_grace_seconds: float = setting(
        _CORE.deadline_grace_seconds, "A pod still running this long past its attempt deadline is stopped "
        "(DeadlineExceeded).", example=45.5, chart_schema=_AT_LEAST_0,
    )  # fmt: skip
    default_memory_limit: str | None = setting(
        _CORE.default_memory_limit,
        "Worker memory limit of a task that sets none; the base of the escalation after OOMKilled.",
        example="3Gi", chart_schema=_QUANTITY,
    )  # fmt: skip
    oom_memory_factor: float = setting(
        _CORE.oom_memory_factor, "After an OOMKilled attempt the next attempt's memory limit is the last one times "
        "this ...", example=1.5, chart_schema=_AT_LEAST_1,
    )  # fmt: skip
    max_memory_limit: str = setting(
        _CORE.max_memory_limit, "... but never more than this.", example="32Gi", chart_schema=_QUANTITY
    )
    stall_timeout_seconds: int = setting(
        _CORE.stall_timeout_seconds,
        "An attempt whose progress has not moved this long is ended as Stalled and retried; 0: never (a task's "
        "spec.timeouts.stallSeconds overrides it).",
        ge=0, example=600,
    )  # fmt: skip
    result_cache: bool = setting(
        _CORE.result_cache,
        "Reuse a complete result already at a task's output location (same input version, same options): the task "
        "succeeds with reason CacheHit and no pod, and each success records its result there. false: every task "
        "transcribes and no result records are written. A task opts out with spec.cache: false.",
        example=False,
    )  # fmt: skip


class CapacitySection(Section):
    TITLE = "Capacity"

    max_running_attempts: int = setting(
        Limits.total,
        "Most attempts running at once, operator-wide; over it, tasks wait in phase Queued. 0: unlimited.",
        ge=0, example=20,
    )  # fmt: skip
    max_running_attempts_per_namespace: int = setting(
        Limits.per_namespace, "Most attempts running at once in one namespace; 0: unlimited.", ge=0, example=4
    )
    concurrent_starts: int = setting(
        8,
        "Most new tasks being started at once (input check, presigned URLs, attempt Secret and Pod); the others wait "
        "their turn, in order. Tasks already started never wait, so a finished attempt is recorded promptly while a "
        "burst of new tasks is started (like kube-controller-manager's --concurrent-job-syncs).",
        ge=1, example=16,
    )  # fmt: skip

    def limits(self) -> Limits:
        return Limits(total=self.max_running_attempts, per_namespace=self.max_running_attempts_per_namespace)


class BreakerSection(Section):
    TITLE = "Circuit breaker"
    ENV_PREFIX = "SCRIBE_BREAKER_"

    threshold: int = setting(
        BreakerSettings.threshold,
        "Distinct tasks one infrastructure failure (DownloadFailed, UploadFailed, PresignFailed) must hit within the "
        "window to pause new attempts; 0: no breaker ...",
        ge=0, example=8,
    )  # fmt: skip
    window_seconds: float = setting(BreakerSettings.window_seconds, "... the window.", gt=0, example=90.5)
    cooldown_seconds: float = setting(
        BreakerSettings.cooldown_seconds,
        "Seconds the breaker stays open before it probes the storage (and again after a failed probe).",
        gt=0, example=12.5,
    )  # fmt: skip

    def core(self) -> BreakerSettings:
        return BreakerSettings(**self.model_dump())


class NotificationSection(Section):
    TITLE = "Notifications"
    ENV_PREFIX = "SCRIBE_NOTIFICATION_"

    allow_http: bool = setting(
        False, "Allow plain http:// notification URLs (for receivers inside a trusted network).", example=True
    )
    max_tries: int = setting(
        NotificationSettings.max_tries, "POSTs of one notification at most.", ge=1, le=100, example=3
    )
    backoff_seconds: float = setting(
        NotificationSettings.backoff_seconds,
        f"Delay before a notification's second try; doubling, up to {NotificationSettings.max_backoff_seconds:g} s.",
        gt=0, example=2.5,
    )  # fmt: skip

    def core(self) -> NotificationSettings:
        return NotificationSettings(max_tries=self.max_tries, backoff_seconds=self.backoff_seconds)


class BatchSection(Section):
    TITLE = "Batches"
    ENV_PREFIX = "SCRIBE_BATCH_"

    max_creates_per_pass: int = setting(
        BatchSettings.max_creates_per_pass,
        "Child tasks a batch creates per reconcile at most (the rest follow at once).", ge=1, example=20,
    )  # fmt: skip
    expansion_timeout_seconds: float = setting(
        BatchSettings.expansion_timeout_seconds,
        "How long after a batch's creation a failing inputPrefix listing is retried before the batch is Failed "
        "(InputPrefixUnavailable).",
        ge=0, example=300.5,
    )  # fmt: skip
    summary_retry_seconds: float = setting(
        BatchSettings.summary_retry_seconds,
        "Spacing of the retries of a failed summary write: the k-th retry comes k times this after the batch ended.",
        ge=1, example=10.5,
    )  # fmt: skip
    max_summary_attempts: int = setting(
        BatchSettings.max_summary_attempts, "Summary write attempts before giving up.", ge=1, example=3
    )
