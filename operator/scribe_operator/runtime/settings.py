"""Operator settings: environment variables (prefix ``SCRIBE_``), documented in docs/operator.md.

S3 credentials are deliberately not settings: boto3's default chain finds them (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, a web-identity token from IRSA / workload identity, instance profiles, ...).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scribe_operator.kernel.notify import NotificationSettings
from scribe_operator.kinds.task.core.breaker import BreakerSettings
from scribe_operator.kinds.task.core.settings import CoreSettings

DEFAULT_WORKER_IMAGE = "ghcr.io/scribe-operator/scribe-worker:0.1.0"


class OperatorSettings(BaseSettings):
    """Everything the operator can be told, with its default."""

    model_config = SettingsConfigDict(env_prefix="SCRIBE_", extra="ignore")

    namespaces: str = Field("", description="Comma-separated namespaces to watch; empty: all namespaces.")
    worker_image: str = Field(DEFAULT_WORKER_IMAGE, description="Worker image when a task names none.")
    worker_image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    worker_run_as_user: int = Field(65532, description="UID of the worker container (non-root).")
    s3_endpoint_url: str | None = Field(
        None,
        validation_alias=AliasChoices("SCRIBE_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        description="S3 endpoint for HEAD and presigning; AWS when unset. Workers must reach the same host.",
    )
    s3_region: str = Field(
        "us-east-1",
        validation_alias=AliasChoices("SCRIBE_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="Region URLs are signed for.",
    )
    s3_addressing_style: Literal["path", "virtual", "auto"] = Field(
        "auto", description="path for MinIO and most S3-compatible stores; auto for AWS."
    )
    health_port: int = Field(8080, description="Liveness endpoint port (GET /healthz).")
    metrics_port: int = Field(9090, description="Prometheus metrics port (GET /metrics).")
    log_format: Literal["json", "text"] = "json"
    leader_election: bool = Field(False, description="Run several replicas: one leads (a Lease), the rest wait.")
    leader_election_namespace: str = Field("", description="Namespace of the Lease; default: the pod's own.")
    leader_election_lease: str = Field("scribe-operator", description="Name of the Lease.")
    leader_election_lease_seconds: float = Field(10.0, description="A leader silent this long is replaced.")

    attempt_overhead_seconds: float = 120.0
    seconds_per_mib: float = 30.0
    min_attempt_seconds: int = 300
    max_attempt_seconds: int = 6 * 3600
    url_ttl_margin_seconds: int = 300
    pod_lost_grace_seconds: float = 60.0
    deadline_grace_seconds: float = 60.0
    default_memory_limit: str | None = "2Gi"
    oom_memory_factor: float = 2.0
    max_memory_limit: str = "16Gi"
    max_running_attempts: int = Field(
        0, ge=0, description="Most attempts running at once, operator-wide; 0: unlimited. Over it tasks are Queued."
    )
    max_running_attempts_per_namespace: int = Field(
        0, ge=0, description="Most attempts running at once in one namespace; 0: unlimited."
    )
    breaker_threshold: int = Field(
        5, ge=0, description="Distinct tasks one infrastructure failure must hit to open the breaker; 0: no breaker."
    )
    breaker_window_seconds: float = Field(60.0, gt=0, description="... within this many seconds.")
    breaker_cooldown_seconds: float = Field(30.0, gt=0, description="Open this long before a probe (and again).")

    default_model: str | None = Field(
        None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description="Model when a task names none."
    )
    default_model_claim: str | None = Field(
        None, description="PersistentVolumeClaim (in the task's namespace) holding the model, when a task names none."
    )
    default_model_sub_path: str | None = Field(None, description="Directory of the model inside that claim.")
    default_model_s3_prefix: str | None = Field(
        None,
        pattern=r"^s3://[^/]+/(.*/)?$",
        description="s3://bucket/prefix/ holding the model, when a task names none.",
    )
    default_device: Literal["auto", "cpu", "cuda"] | None = Field(None, description="Device when a task names none.")
    default_compute_type: str | None = Field(
        None, pattern=r"^[a-z0-9_]{1,32}$", description="Compute type when a task names none."
    )
    worker_service_account: str = Field(
        "scribe-worker",
        description=(
            "Service account the operator creates in each namespace for worker pods; its token may only patch "
            "the progress annotation of the worker's own pod (ValidatingAdmissionPolicy scribe-worker-progress)."
        ),
    )
    progress_reporting: bool = Field(
        False,
        description=(
            "Give workers the progress credential. Only with the chart's ValidatingAdmissionPolicy installed (the "
            "chart turns both on together): without it the worker account could patch any pod in its namespace."
        ),
    )
    worker_progress_interval_seconds: float | None = Field(
        None, ge=0, description="SCRIBE_PROGRESS_INTERVAL_SECONDS of the workers; the worker's default (10) if unset."
    )
    stall_timeout_seconds: int = Field(
        900, ge=0, description="End an attempt whose progress has not moved this long as Stalled; 0: never."
    )

    result_cache: bool = Field(
        True,
        description=(
            "Reuse a complete result already at a task's output location (same input version and options): the task "
            "succeeds with reason CacheHit and no pod. false: every task transcribes and no result records are written."
        ),
    )

    notification_allow_http: bool = Field(
        False, description="Allow plain http:// notification URLs (for receivers inside a trusted network)."
    )
    notification_max_tries: int = Field(6, ge=1, le=100, description="POSTs of one notification at most.")
    notification_backoff_seconds: float = Field(
        5.0, gt=0, description="Delay before a notification's second try; doubling, up to 300 s."
    )

    @model_validator(mode="after")
    def _one_model_source(self) -> Self:
        if self.default_model_claim and self.default_model_s3_prefix:
            raise ValueError("set at most one of SCRIBE_DEFAULT_MODEL_CLAIM and SCRIBE_DEFAULT_MODEL_S3_PREFIX")
        if self.default_model_sub_path and not self.default_model_claim:
            raise ValueError("SCRIBE_DEFAULT_MODEL_SUB_PATH needs SCRIBE_DEFAULT_MODEL_CLAIM")
        return self

    @property
    def namespace_list(self) -> list[str]:
        return [n.strip() for n in self.namespaces.split(",") if n.strip()]

    def core(self) -> CoreSettings:
        return CoreSettings(
            attempt_overhead_seconds=self.attempt_overhead_seconds,
            seconds_per_mib=self.seconds_per_mib,
            min_attempt_seconds=self.min_attempt_seconds,
            max_attempt_seconds=self.max_attempt_seconds,
            url_ttl_margin_seconds=self.url_ttl_margin_seconds,
            pod_lost_grace_seconds=self.pod_lost_grace_seconds,
            deadline_grace_seconds=self.deadline_grace_seconds,
            default_memory_limit=self.default_memory_limit,
            oom_memory_factor=self.oom_memory_factor,
            max_memory_limit=self.max_memory_limit,
            max_running_attempts=self.max_running_attempts,
            max_running_attempts_per_namespace=self.max_running_attempts_per_namespace,
            default_model=self.default_model,
            stall_timeout_seconds=self.stall_timeout_seconds,
            result_cache=self.result_cache,
            notification=NotificationSettings(
                max_tries=self.notification_max_tries, backoff_seconds=self.notification_backoff_seconds
            ),
            transcript_defaults=self.transcript_defaults(),
        )

    def transcript_defaults(self) -> tuple[tuple[str, str], ...]:
        """The defaults that shape a transcript, for the result cache's options hash: a change of any of them (a new
        worker image, another default model) makes earlier results misses."""
        values = {
            "workerImage": self.worker_image,
            "defaultModel": self.default_model,
            "defaultModelClaim": self.default_model_claim,
            "defaultModelSubPath": self.default_model_sub_path,
            "defaultModelS3Prefix": self.default_model_s3_prefix,
            "defaultDevice": self.default_device,
            "defaultComputeType": self.default_compute_type,
        }
        return tuple((k, v) for k, v in values.items() if v)

    def breaker(self) -> BreakerSettings:
        return BreakerSettings(
            threshold=self.breaker_threshold,
            window_seconds=self.breaker_window_seconds,
            cooldown_seconds=self.breaker_cooldown_seconds,
        )
