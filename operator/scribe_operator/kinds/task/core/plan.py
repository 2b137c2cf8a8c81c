"""A TaskPlan: the task core's output (a :class:`scribe_operator.kernel.plan.Plan`). The new status plus idempotent
actions, carried out by effects.

Carrying out a plan: run the actions in order, write ``status`` (if not None) to the status subresource,
set or remove the dead-letter label (if not None), and requeue after ``requeue_after`` seconds (if not None).

``ProbeInput`` and ``ProbeOutput`` ask for information rather than a change (:mod:`scribe_operator.kernel.replan`):
run the HEADs, then reconcile again
with ``plan.apply(task)`` and the results in ``Observed.input_probe`` and ``Observed.output_probe``;
``CheckCapacity`` likewise comes back as ``Observed.capacity``, and ``ConfirmPod`` (a GET of a pod the watch has not
shown) as ``Observed.pod_check``. A ``LaunchAttempt`` that fails (presigning, or the API server refusing its Secret
or Pod) likewise comes back as ``Observed.launch_error`` in an immediate second reconcile, and ``SendNotification``
as ``Observed.notification``. ``RecordResult`` writes the result cache's record (best effort, no answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from scribe_operator.api.constants import DEAD_LETTER_VALUE, LABEL_DEAD_LETTER
from scribe_operator.kernel.events import EmitEvent
from scribe_operator.kernel.notify import SendNotification
from scribe_operator.kernel.plan import DeleteObject, Plan
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.status import TaskStatus


class EventReason(StrEnum):
    """Reasons of the Kubernetes events the operator emits on a task."""

    ATTEMPT_LAUNCHED = "AttemptLaunched"
    ATTEMPT_ADOPTED = "AttemptAdopted"
    ATTEMPT_FAILED = "AttemptFailed"
    RETRY_SCHEDULED = "RetryScheduled"
    SUCCEEDED = "Succeeded"
    DEAD_LETTERED = "DeadLettered"
    REQUEUED = "Requeued"
    REQUEUE_IGNORED = "RequeueIgnored"
    QUEUED = "Queued"
    CIRCUIT_OPEN = "CircuitOpen"
    CACHE_HIT = "CacheHit"


@dataclass(frozen=True)
class ProbeInput:
    """HEAD the input object, then reconcile again with the result (``Observed.input_probe``)."""


@dataclass(frozen=True)
class ProbeOutput:
    """HEAD the output bucket, then reconcile again with the result (``Observed.output_probe``). ``lookup``: also
    read the result record at the task's output location and HEAD the outputs it lists (``InputProbe.stored``)."""

    lookup: bool = False


@dataclass(frozen=True)
class ConfirmPod:
    """The attempt's pod has not been seen for longer than the pod-lost grace: GET pod ``name`` from the API server,
    then reconcile again with the answer (``Observed.pod_check``). A watch that lags (a busy operator, a slow API
    server) is not a lost pod: only the API server's own 404 is."""

    name: str


@dataclass(frozen=True)
class RecordResult:
    """Attempt ``attempt`` succeeded: HEAD its outputs and write the result record beside them (input version
    ``input_etag``/``input_size``, options hash ``options``). Best effort: a record that cannot be written only
    means a later task will not reuse this result."""

    attempt: int
    input_etag: str
    input_size: int
    options: str


@dataclass(frozen=True)
class CheckCapacity:
    """Ask whether attempt ``attempt`` may start under the running-attempt limits (reserving a slot if so), then
    reconcile again with the answer (``Observed.capacity``). Only asked when limits are set."""

    attempt: int


@dataclass(frozen=True)
class LaunchAttempt:
    """Presign URLs into secret ``secret_name`` (valid ``url_ttl_seconds``) and create pod ``pod_name``.

    ``deadline_seconds`` is the pod's activeDeadlineSeconds. ``memory_limit`` is the worker's memory limit
    (spec, operator default, or raised after an OOMKilled attempt); ``None``: leave it unset.
    """

    attempt: int
    pod_name: str
    secret_name: str
    deadline_seconds: int
    url_ttl_seconds: int
    memory_limit: str | None


@dataclass(frozen=True)
class DeletePod(DeleteObject):
    kind: ClassVar[str] = "Pod"


@dataclass(frozen=True)
class DeleteSecret(DeleteObject):
    kind: ClassVar[str] = "Secret"


TaskAction = (
    ProbeInput
    | ProbeOutput
    | ConfirmPod
    | CheckCapacity
    | LaunchAttempt
    | DeletePod
    | DeleteSecret
    | EmitEvent
    | RecordResult
    | SendNotification
)


@dataclass(frozen=True)
class TaskPlan(Plan[TranscriptionTask, TaskStatus, TaskAction]):
    """What to do for one task now (:class:`scribe_operator.kernel.plan.Plan`), and its dead-letter label.
    ``requeue_after``: retryAt, pending timeout, deadline, pod-lost grace."""

    dead_letter_label: bool | None = None
    """True: set ``scribe.dev/dead-letter: "true"``; False: remove it; None: leave labels alone."""

    def apply(self, task: TranscriptionTask) -> TranscriptionTask:
        """``task`` as it will be once this plan's status and label are written (actions aside)."""
        task = super().apply(task)
        if self.dead_letter_label is None:
            return task
        labels = {k: v for k, v in task.metadata.labels.items() if k != LABEL_DEAD_LETTER}
        if self.dead_letter_label:
            labels[LABEL_DEAD_LETTER] = DEAD_LETTER_VALUE
        return task.model_copy(update={"metadata": task.metadata.model_copy(update={"labels": labels})})
