"""What the batch decision core is handed: the batch's child TranscriptionTasks as last seen, and the answers to
what its plans asked (the inputPrefix's listing, the summary's write, the notification's POST). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from scribe_operator.api.constants import GROUP
from scribe_operator.kernel.notify import NotificationResult
from scribe_operator.kernel.raw import as_mapping, as_text, int_label
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
        meta = as_mapping(task.get("metadata"))
        status = as_mapping(task.get("status"))
        index = int_label(meta, LABEL_BATCH_INDEX)
        if index is None or index < 0:
            return None
        owner = owner_batch(task)
        try:
            phase: Phase | None = Phase(str(status.get("phase")))
        except ValueError:
            phase = None
        outputs = as_mapping(status.get("outputs"))
        attempt = status.get("attempt")
        return cls(
            name=str(meta.get("name") or ""),
            index=index,
            owner_uid=owner[1] if owner else None,
            phase=phase,
            reason=as_text(status.get("reason")),
            message=as_text(status.get("message")),
            outputs={str(k): str(v) for k, v in outputs.items() if isinstance(v, str)},
            attempt=attempt if isinstance(attempt, int) else 0,
            deleting=meta.get("deletionTimestamp") is not None,
        )


def owner_batch(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(name, uid) of the TranscriptionBatch that owns ``obj``, from its ownerReferences."""
    for raw in as_mapping(obj.get("metadata")).get("ownerReferences") or ():
        ref = as_mapping(raw)
        if ref.get("kind") == BATCH_KIND and str(ref.get("apiVersion", "")).startswith(f"{GROUP}/"):
            return str(ref.get("name") or ""), str(ref.get("uid") or "")
    return None


@dataclass(frozen=True)
class Expansion:
    """The result of listing the inputPrefix (asked for by ExpandPrefix)."""

    result: Literal["ok", "not_found", "error"]
    inputs: tuple[str, ...] = ()
    truncated: bool = False
    """More than MAX_BATCH_INPUTS objects were found (``inputs`` holds the first ones)."""
    message: str = ""


@dataclass(frozen=True)
class SummaryResult:
    """The result of writing the summary (asked for by WriteSummary): ``error`` None means written."""

    uri: str
    error: str | None = None


@dataclass(frozen=True)
class BatchObserved:
    """Everything observed for one batch in this reconcile pass: its children, and the answers to what the pass
    before asked (each answer is for the one pass after the question)."""

    children: tuple[ObservedChild, ...] = ()
    expansion: Expansion | None = None
    """The answer to ExpandPrefix."""
    summary: SummaryResult | None = None
    """The answer to WriteSummary."""
    notification: NotificationResult | None = None
    """The answer to SendNotification: how the POST went."""
