"""The operator's settings: one model of grouped sections, read from ``SCRIBE_*`` environment variables.

Every setting is declared once, in its section (:mod:`.sections`), with its default. The reference tables in
docs/operator.md and docs/batches.md and the ``settings`` of the chart's values and schema are generated from this
model (:mod:`.reference`).

S3 credentials are deliberately not settings: boto3's default chain finds them (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, a web-identity token from IRSA / workload identity, instance profiles, ...).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scribe_operator.kinds.batch.core.settings import BatchSettings
from scribe_operator.kinds.task.core.settings import CoreSettings
from scribe_operator.runtime.settings.section import Section
from scribe_operator.runtime.settings.sections import (
    BatchSection,
    BreakerSection,
    CapacitySection,
    LeaderElectionSection,
    NotificationSection,
    OperatorSection,
    S3Section,
    TaskDefaultsSection,
    TaskSection,
    WorkerSection,
)


class SettingsError(ValueError):
    """The environment holds a setting the operator cannot use; the message names its variable."""


class OperatorSettings(BaseModel):
    """Everything the operator can be told, by section. :meth:`from_environ` reads it; tests build it directly."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    operator: OperatorSection = Field(default_factory=OperatorSection)
    s3: S3Section = Field(default_factory=S3Section)
    leader_election: LeaderElectionSection = Field(default_factory=LeaderElectionSection)
    worker: WorkerSection = Field(default_factory=WorkerSection)
    defaults: TaskDefaultsSection = Field(default_factory=TaskDefaultsSection)
    task: TaskSection = Field(default_factory=TaskSection)
    capacity: CapacitySection = Field(default_factory=CapacitySection)
    breaker: BreakerSection = Field(default_factory=BreakerSection)
    notification: NotificationSection = Field(default_factory=NotificationSection)
    batch: BatchSection = Field(default_factory=BatchSection)

    @classmethod
    def sections(cls) -> Iterator[tuple[str, type[Section]]]:
        """(attribute, section class) of every section, in reference order."""
        for name, info in cls.model_fields.items():
            assert isinstance(info.annotation, type) and issubclass(info.annotation, Section)
            yield name, info.annotation

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any] | None = None) -> OperatorSettings:
        """The settings in ``environ`` (default: this process's environment; names are not case-sensitive), the
        defaults for what it does not set. Raises :class:`SettingsError` naming each variable it cannot use."""
        upper = {str(k).upper(): v for k, v in (os.environ if environ is None else environ).items()}
        raw = {name: section.from_environ(upper) for name, section in cls.sections()}
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise SettingsError(_explain(exc, dict(cls.sections()))) from None

    def core(self) -> CoreSettings:
        """The decision core's settings of a task: the task section's fields by name (each is the core's field of
        that name), and what the other sections add."""
        return CoreSettings(
            **self.task.model_dump(),
            capacity=self.capacity.limits(),
            default_model=self.defaults.model,
            notification=self.notification.core(),
            transcript_defaults=self.transcript_defaults(),
        )

    def batch_core(self) -> BatchSettings:
        """The decision core's settings of a batch."""
        return BatchSettings(**self.batch.model_dump(), notification=self.notification.core())

    def transcript_defaults(self) -> tuple[tuple[str, str], ...]:
        """The defaults that shape a transcript, for the result cache's options hash: a change of any of them (a new
        worker image, another default model) makes earlier results misses."""
        d = self.defaults
        values = {
            "workerImage": self.worker.image,
            "defaultModel": d.model,
            "defaultModelClaim": d.model_claim,
            "defaultModelSubPath": d.model_sub_path,
            "defaultModelS3Prefix": d.model_s3_prefix,
            "defaultDevice": d.device,
            "defaultComputeType": d.compute_type,
        }
        return tuple((k, v) for k, v in values.items() if v)


def _explain(exc: ValidationError, sections: dict[str, type[Section]]) -> str:
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        where = "settings"
        if len(loc) >= 1 and loc[0] in sections:
            section = sections[str(loc[0])]
            where = section.env_name(str(loc[1])) if len(loc) >= 2 else f"{section.ENV_PREFIX}*"
        lines.append(f"{where}: {error['msg']}")
    return "invalid operator settings: " + "; ".join(lines)
