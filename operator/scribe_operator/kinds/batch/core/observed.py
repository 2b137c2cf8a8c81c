"""A batch's child TranscriptionTask as last seen: the batch decision core's view of it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scribe_operator.api.constants import GROUP
from scribe_operator.kinds.batch.api.names import BATCH_KIND, LABEL_BATCH_INDEX
from scribe_operator.kinds.task.api.status import TERMINAL_PHASES, Phase


@dataclass(frozen=True, kw_only=True)
class ObservedChild:
    """One child task: which input it is (``index``), which batch owns it, and where the task is."""

    name: str
    index: int
    owner_uid: str | None = None
    phase: Phase | None = None
    reason: str | None = None
    message: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    attempt: int = 0
    deleting: bool = False

    @property
    def terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @classmethod
    def from_task(cls, task: Mapping[str, Any]) -> ObservedChild | None:
        """Observe a raw TranscriptionTask; None unless it carries a valid batch-index label."""
        meta = _map(task.get("metadata"))
        status = _map(task.get("status"))
        try:
            index = int(str(_map(meta.get("labels")).get(LABEL_BATCH_INDEX)))
        except ValueError:
            return None
        if index < 0:
            return None
        owner = owner_batch(task)
        try:
            phase: Phase | None = Phase(str(status.get("phase")))
        except ValueError:
            phase = None
        outputs = _map(status.get("outputs"))
        attempt = status.get("attempt")
        return cls(
            name=str(meta.get("name") or ""),
            index=index,
            owner_uid=owner[1] if owner else None,
            phase=phase,
            reason=_str(status.get("reason")),
            message=_str(status.get("message")),
            outputs={str(k): str(v) for k, v in outputs.items() if isinstance(v, str)},
            attempt=attempt if isinstance(attempt, int) else 0,
            deleting=meta.get("deletionTimestamp") is not None,
        )


def owner_batch(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(name, uid) of the TranscriptionBatch that owns ``obj``, from its ownerReferences."""
    for raw in _map(obj.get("metadata")).get("ownerReferences") or ():
        ref = _map(raw)
        if ref.get("kind") == BATCH_KIND and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/"):
            return str(ref.get("name") or ""), str(ref.get("uid") or "")
    return None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
