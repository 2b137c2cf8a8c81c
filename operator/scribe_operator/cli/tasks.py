"""A TranscriptionTask as the plugin reads it: metadata, the raw spec, and the status through the API models.

The status is parsed with :func:`scribe_operator.kinds.task.api.parse.parse_status` (never raises: a field that does not
validate is dropped), so the plugin reads exactly what the operator writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scribe_contract.taxonomy import Reason

from scribe_operator.api.constants import DEAD_LETTER_VALUE, LABEL_DEAD_LETTER
from scribe_operator.api.parse import ValidationProblem
from scribe_operator.kernel.raw import parse_time
from scribe_operator.kinds.task.api.parse import parse_spec, parse_status
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import AttemptRecord, Phase, TaskStatus
from scribe_operator.kinds.task.core.conditions import FAILED


@dataclass(frozen=True)
class TaskView:
    raw: dict[str, Any]
    name: str
    namespace: str
    uid: str
    resource_version: str | None
    created: datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    spec: TranscriptionTaskSpec | None
    """None when the spec does not validate (the API server should have refused it)."""
    status: TaskStatus

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> TaskView:
        meta = raw.get("metadata") or {}
        spec = parse_spec(raw.get("spec"))
        return cls(
            raw=raw,
            name=str(meta.get("name", "")),
            namespace=str(meta.get("namespace", "")),
            uid=str(meta.get("uid", "")),
            resource_version=meta.get("resourceVersion"),
            created=parse_time(meta.get("creationTimestamp")),
            labels=dict(meta.get("labels") or {}),
            annotations=dict(meta.get("annotations") or {}),
            spec=None if isinstance(spec, ValidationProblem) else spec,
            status=parse_status(raw.get("status")),
        )

    @property
    def phase(self) -> str:
        return self.status.phase.value if self.status.phase else "Pending"

    @property
    def dead(self) -> bool:
        return self.status.phase is Phase.DEAD

    @property
    def dead_lettered(self) -> bool:
        """Carries the dead-letter label."""
        return self.labels.get(LABEL_DEAD_LETTER) == DEAD_LETTER_VALUE

    @property
    def dead_since(self) -> datetime | None:
        """When the task went Dead: ``status.finishedAt``, else the Failed condition's last transition."""
        if not self.dead:
            return None
        if self.status.finished_at is not None:
            return self.status.finished_at
        failed = next((c for c in self.status.conditions if c.type == FAILED and c.status == "True"), None)
        return failed.last_transition_time if failed is not None else None

    @property
    def last_failure(self) -> AttemptRecord | None:
        """The most recent attempt that ended without success."""
        return next(
            (r for r in reversed(self.status.attempts) if r.finished and r.reason and r.reason != Reason.COMPLETED),
            None,
        )

    @property
    def max_attempts(self) -> int | None:
        """maxRetries + 1: the attempts allowed from creation, and again from each requeue."""
        return self.spec.retry_policy.max_attempts if self.spec is not None else None
