"""Requeueing a dead-lettered task through the API: the ``scribe.dev/requeue`` annotation.

Level-triggered and idempotent, like ``kubectl rollout restart``'s annotation: the annotation's value is a *token*
(any string, e.g. an RFC 3339 time); a token the status has not recorded yet (``status.requeue.token``) is a new
request, handled exactly once:

* the task is **Dead**: it is requeued. Phase back to Pending (the next pass probes the input and launches the
  next attempt), the dead-letter label goes, and the task gets a fresh budget of ``maxRetries + 1`` attempts
  counted from here (``status.attemptBase``). Attempt numbers keep increasing across requeues, so a pod name
  ``<task>-a<N>`` is never reused, not even after a reset. With ``scribe.dev/requeue-reset-attempts: "true"``
  the attempt history, the failure counts (and with them the memory escalation after OOMKilled) and
  ``startedAt`` are cleared as well.
* any other phase: the request is ignored, recorded as such (so it is reported once, not on every pass) and
  never honoured later; requeueing the task once it is Dead takes a new token.

Pure: no I/O, no clock reads; the pass hands in ``now``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from scribe_operator.api.constants import ANNOTATION_REQUEUE, ANNOTATION_REQUEUE_RESET_ATTEMPTS
from scribe_operator.kernel.clip import clip
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.status import Phase, RequeueOutcome, RequeueRecord, TaskStatus

MAX_TOKEN_LENGTH: Final = 128
"""Tokens longer than this are recorded as ``sha256:<hex>`` (status stays small; comparison stays exact)."""
SHOWN_TOKEN_LENGTH: Final = 64


@dataclass(frozen=True)
class RequeueRequest:
    """A requeue request not handled yet."""

    token: str
    """The token as recorded in ``status.requeue.token``."""
    shown: str
    """The token as shown in messages (clipped)."""
    reset_attempts: bool


def token_key(value: str) -> str:
    """The recorded form of an annotation value: itself, or ``sha256:<hex>`` when long."""
    if len(value) <= MAX_TOKEN_LENGTH:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def requeue_request(task: TranscriptionTask) -> RequeueRequest | None:
    """The task's requeue request, if its annotation holds a token the status has not recorded yet."""
    annotations = task.metadata.annotations
    raw = (annotations.get(ANNOTATION_REQUEUE) or "").strip()
    if not raw:
        return None
    token = token_key(raw)
    last = task.status.requeue
    if last is not None and last.token == token:
        return None
    reset = (annotations.get(ANNOTATION_REQUEUE_RESET_ATTEMPTS) or "").strip().lower() == "true"
    return RequeueRequest(token, clip(raw, SHOWN_TOKEN_LENGTH), reset)


def requeued(status: TaskStatus, request: RequeueRequest, now: datetime, max_attempts: int) -> TaskStatus:
    """``status`` of a Dead task after honouring ``request``: Pending, with a fresh budget from here."""
    base = status.attempt
    message = f"requeued ({ANNOTATION_REQUEUE}={request.shown}): attempts {base + 1} to {base + max_attempts} allowed"
    if request.reset_attempts:
        message += "; attempt history and failure counts cleared"
    update: dict[str, object] = {
        "phase": Phase.PENDING,
        "reason": RequeueOutcome.REQUEUED.value,
        "message": message,
        "retry_at": None,
        "finished_at": None,
        "attempt_base": base,
        "requeues": status.requeues + 1,
        "requeue": RequeueRecord(
            token=request.token,
            at=now,
            reset_attempts=request.reset_attempts,
            outcome=RequeueOutcome.REQUEUED,
            message=message,
        ),
    }
    if request.reset_attempts:
        update.update(attempts=[], failure_counts={}, started_at=None)
    return status.model_copy(update=update)


def ignored(status: TaskStatus, request: RequeueRequest, now: datetime) -> tuple[TaskStatus, str]:
    """``status`` after recording ``request`` as ignored (the task is not Dead), and why."""
    phase = (status.phase or Phase.PENDING).value
    message = f"{ANNOTATION_REQUEUE}={request.shown} ignored: the task is {phase}; only Dead tasks are requeued"
    record = RequeueRecord(
        token=request.token,
        at=now,
        reset_attempts=request.reset_attempts,
        outcome=RequeueOutcome.IGNORED,
        message=message,
    )
    return status.model_copy(update={"requeue": record}), message
