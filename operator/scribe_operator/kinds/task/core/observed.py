"""What the effects layer observed, as plain immutable values: the decision core's only input besides the
task itself and the clock reading it is handed.

``ObservedPod.from_pod`` turns a raw Pod object (a dict from the API) into one; it is pure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from scribe_contract.progress import PROGRESS_ANNOTATION

from scribe_operator.api.constants import LABEL_ATTEMPT
from scribe_operator.kernel.notify import NotificationResult
from scribe_operator.kernel.raw import as_mapping, as_text, int_label, parse_time
from scribe_operator.kinds.task.api.result import ResultRecord

PodPhase = Literal["Pending", "Running", "Succeeded", "Failed", "Unknown"]
ProbeResult = Literal["ok", "not_found", "forbidden", "error"]
_PHASES: tuple[PodPhase, ...] = ("Pending", "Running", "Succeeded", "Failed", "Unknown")


@dataclass(frozen=True)
class PodProgress:
    """The worker's last progress report, from its pod's ``scribe.dev/progress`` annotation."""

    processed_seconds: float
    total_seconds: float | None = None
    at: datetime | None = None

    @classmethod
    def parse(cls, text: str | None) -> PodProgress | None:
        """``{"processedSeconds": 12.5, "totalSeconds": 60, "at": "..."}``; None when absent or malformed."""
        try:
            raw = json.loads(text) if text else None
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        processed, total = _seconds(raw.get("processedSeconds")), _seconds(raw.get("totalSeconds"))
        if processed is None:
            return None
        if total is not None:
            processed = min(processed, total)
        return cls(processed, total, parse_time(raw.get("at")))


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


@dataclass(frozen=True, kw_only=True)
class ObservedPod:
    """An attempt pod as last seen (keyword-only: many fields). Times are timezone-aware."""

    name: str
    attempt: int
    phase: PodPhase
    node: str | None = None
    created_at: datetime
    deleting: bool = False
    delete_by: datetime | None = None
    """While deleting: the pod's deletionTimestamp, the end of its grace period, by which a kubelet has killed it."""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    terminated_reason: str | None = None
    termination_message: str | None = None
    waiting_reason: str | None = None
    waiting_message: str | None = None
    pod_reason: str | None = None
    pod_message: str | None = None
    unschedulable_message: str | None = None
    disruption: str | None = None
    """The pod's ``DisruptionTarget`` condition, when the control plane is removing it (pod GC of a vanished node,
    taint eviction, the Eviction API, preemption): ``"<reason>: <message>"``."""
    progress: PodProgress | None = None
    """The worker's last progress report (annotation ``scribe.dev/progress``)."""

    @property
    def terminated(self) -> bool:
        """The pod has ended: Succeeded or Failed (final with restartPolicy Never), or it is being deleted and
        its worker has already stopped (some kubelets leave the phase Running until the object is gone)."""
        return self.phase in ("Succeeded", "Failed") or (self.deleting and self.finished_at is not None)

    def past_grace(self, now: datetime) -> bool:
        """Being deleted and past its grace period: a kubelet has killed its containers by now. One whose object
        stays (its node hung or vanished) runs nothing any more."""
        return self.delete_by is not None and now >= self.delete_by

    @property
    def started(self) -> bool:
        """The worker container has started (or the pod reports Running)."""
        return self.started_at is not None or self.phase == "Running"

    @classmethod
    def from_pod(cls, pod: Mapping[str, Any], container: str | None = None) -> ObservedPod | None:
        """Observe a raw Pod; ``None`` if it carries no valid attempt label or creation time.

        ``container`` names the worker container (default: the first container status).
        """
        meta = as_mapping(pod.get("metadata"))
        status = as_mapping(pod.get("status"))
        attempt = int_label(meta, LABEL_ATTEMPT)
        created = parse_time(meta.get("creationTimestamp"))
        if attempt is None or attempt < 1 or created is None:
            return None
        statuses = [as_mapping(s) for s in status.get("containerStatuses") or () if isinstance(s, Mapping)]
        cstatus = next((s for s in statuses if container is None or s.get("name") == container), {})
        state = as_mapping(cstatus.get("state"))
        running, terminated, waiting = (as_mapping(state.get(k)) for k in ("running", "terminated", "waiting"))
        phase = status.get("phase")
        exit_code = terminated.get("exitCode")
        return cls(
            name=str(meta.get("name", "")),
            attempt=attempt,
            phase=phase if phase in _PHASES else "Pending",
            created_at=created,
            node=as_text(as_mapping(pod.get("spec")).get("nodeName")),
            deleting=meta.get("deletionTimestamp") is not None,
            delete_by=parse_time(meta.get("deletionTimestamp")),
            started_at=parse_time(running.get("startedAt")) or parse_time(terminated.get("startedAt")),
            finished_at=parse_time(terminated.get("finishedAt")),
            exit_code=exit_code if isinstance(exit_code, int) else None,
            terminated_reason=as_text(terminated.get("reason")),
            termination_message=as_text(terminated.get("message")),
            waiting_reason=as_text(waiting.get("reason")),
            waiting_message=as_text(waiting.get("message")),
            pod_reason=as_text(status.get("reason")),
            pod_message=as_text(status.get("message")),
            unschedulable_message=_unschedulable(status),
            disruption=_disruption(status),
            progress=PodProgress.parse(as_text(as_mapping(meta.get("annotations")).get(PROGRESS_ANNOTATION))),
        )


@dataclass(frozen=True)
class StoredResult:
    """A result record found at the task's output location (``ProbeOutput(lookup=True)``), and the ETag each of the
    outputs it lists has now (None: gone)."""

    record: ResultRecord
    current: Mapping[str, str | None]


@dataclass(frozen=True)
class InputProbe:
    """The result of a HEAD on the input object (ProbeInput) or on the output bucket (ProbeOutput), made because a
    plan asked for it."""

    result: ProbeResult
    size_bytes: int | None = None
    message: str = ""
    etag: str | None = None
    """The input object's ETag (ProbeInput)."""
    stored: StoredResult | None = None
    """The result record at the output location, when ProbeOutput asked to look it up and one is there."""


@dataclass(frozen=True)
class LaunchError:
    """The effects layer could not carry out ``LaunchAttempt(attempt)``: presigning failed, or the API server refused
    the attempt's Secret or Pod (:func:`.classify.create_refused`)."""

    attempt: int
    reason: str
    message: str


@dataclass(frozen=True)
class CapacityVerdict:
    """Whether the task may start an attempt now under the running-attempt limits (asked for by CheckCapacity).

    ``reason`` (``OperatorCapacity`` or ``NamespaceCapacity``) and ``message`` (e.g. "3 of 3 attempts running
    operator-wide") say why not.
    """

    admitted: bool
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class CircuitHold:
    """The circuit breaker is open: no attempt may start. ``reason`` is the failure reason that opened it; look
    again at ``retry_at`` (the next probe), or earlier when the breaker closes."""

    reason: str
    message: str
    retry_at: datetime


@dataclass(frozen=True)
class PodCheck:
    """A GET of pod ``name``: ``pod`` is what the API server returned, None when it answered 404."""

    name: str
    pod: ObservedPod | None


@dataclass(frozen=True)
class Observed:
    """Everything observed for one task in this reconcile pass."""

    pods: tuple[ObservedPod, ...] = ()
    input_probe: InputProbe | None = None
    output_probe: InputProbe | None = None
    """The answer to ProbeOutput: whether the output bucket exists and the operator's credentials reach it."""
    launch_error: LaunchError | None = None
    capacity: CapacityVerdict | None = None
    """The answer to a CheckCapacity request; None: not asked (yet)."""
    circuit: CircuitHold | None = None
    """Set while the operator-wide circuit breaker is open (or half-open); None: closed."""
    notification: NotificationResult | None = None
    """The answer to SendNotification: how the POST went."""
    pod_check: PodCheck | None = None
    """The answer to ConfirmPod: the pod as the API server has it now, or that it does not exist."""


def _disruption(status: Mapping[str, Any]) -> str | None:
    for raw in status.get("conditions") or ():
        cond = as_mapping(raw)
        if cond.get("type") == "DisruptionTarget" and cond.get("status") == "True":
            reason, message = as_text(cond.get("reason")) or "DisruptionTarget", as_text(cond.get("message"))
            return f"{reason}: {message}" if message else reason
    return None


def _unschedulable(status: Mapping[str, Any]) -> str | None:
    for raw in status.get("conditions") or ():
        cond = as_mapping(raw)
        scheduled = cond.get("type") == "PodScheduled"
        if scheduled and cond.get("status") == "False" and cond.get("reason") == "Unschedulable":
            return as_text(cond.get("message")) or "Unschedulable"
    return None
