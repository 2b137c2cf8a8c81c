"""Failure classification: how an attempt ended -> reason, retryable, message.

Precedence for a terminated pod (design section 5): the worker's JSON termination message first, then the
worker's exit code (taxonomy), then what the pod itself says (deadline, OOM kill, eviction/deletion, exit
code 137), else WorkerCrashed. ``spec.retryPolicy.rules`` are applied last (:func:`apply_rules`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

from scribe_contract.redact import scrub
from scribe_contract.taxonomy import BY_EXIT_CODE, BY_REASON, TAXONOMY, Reason, Source
from scribe_contract.termination import parse_termination_message

from scribe_operator.kinds.task.api.retry import RetryRule, RuleAction
from scribe_operator.kinds.task.core.observed import InputProbe, LaunchError, ObservedPod

POD_EXIT_CODES: Final = {e.exit_code: e.reason for e in TAXONOMY if e.source is Source.POD and e.exit_code is not None}
"""Exit codes with a pod-level meaning (137: killed, taken as OOMKilled)."""

WAITING_REASONS: Final = {
    "ErrImagePull": Reason.IMAGE_PULL_BACK_OFF,
    "ImagePullBackOff": Reason.IMAGE_PULL_BACK_OFF,
    "InvalidImageName": Reason.IMAGE_PULL_BACK_OFF,
    "ErrImageNeverPull": Reason.IMAGE_PULL_BACK_OFF,
    "CreateContainerConfigError": Reason.CREATE_CONTAINER_CONFIG_ERROR,
    "CreateContainerError": Reason.CREATE_CONTAINER_CONFIG_ERROR,
}
"""Container waiting reasons of a pod stuck pending, and the failure reason they become."""

PROBE_REASONS: Final = {
    "not_found": Reason.INPUT_NOT_FOUND,
    "forbidden": Reason.INPUT_FORBIDDEN,
    "error": Reason.DOWNLOAD_FAILED,
}
"""A failed input probe fails the attempt about to start with this reason."""


@dataclass(frozen=True)
class AttemptOutcome:
    """How an attempt ended."""

    reason: str
    retryable: bool
    message: str
    exit_code: int | None = None


def default_retryable(reason: str) -> bool:
    """The taxonomy's default for ``reason``; reasons it does not know are retried."""
    try:
        return BY_REASON[Reason(reason)].retryable
    except ValueError:
        return True


def failure(reason: str, message: str, exit_code: int | None = None) -> AttemptOutcome:
    """An outcome with the taxonomy's retryable default."""
    return AttemptOutcome(str(reason), default_retryable(reason), message, exit_code)


def classify_terminated(pod: ObservedPod) -> AttemptOutcome:
    """Classify a pod that ended without success."""
    code = pod.exit_code
    raw = pod.termination_message
    tm = parse_termination_message(raw)
    if tm is not None and tm.reason is not None and tm.reason != Reason.COMPLETED:
        retryable = tm.retryable if tm.retryable is not None else default_retryable(tm.reason)
        return AttemptOutcome(tm.reason, retryable, tm.message or _describe(tm.reason, code), code)
    detail = (tm.message if tm is not None else raw) or None
    if code is not None and code != 0 and code in BY_EXIT_CODE:
        reason = BY_EXIT_CODE[code].reason
        return failure(reason, detail or _describe(reason, code), code)
    if pod.pod_reason == "DeadlineExceeded":
        return failure(Reason.DEADLINE_EXCEEDED, _pod_detail(pod, "pod ran past its activeDeadlineSeconds"), code)
    if pod.terminated_reason == "OOMKilled":
        return failure(
            Reason.OOM_KILLED,
            f"the worker exceeded its memory limit and was OOM-killed (pod {pod.name}, exit code {code})",
            code,
        )
    if pod.disruption is not None:  # removed by the control plane: its node is gone, evicted, preempted
        return failure(Reason.POD_LOST, _join(f"pod {pod.name}", pod.disruption), code)
    if pod.pod_reason is not None or pod.deleting:
        return failure(Reason.POD_LOST, _pod_detail(pod, "pod was deleted before the worker finished"), code)
    if code is not None and code in POD_EXIT_CODES:
        reason = POD_EXIT_CODES[code]
        return failure(reason, f"{_describe(reason, code)} (container reason {pod.terminated_reason})", code)
    crash = f"worker exited with code {code} without a termination message"
    if code is None:
        crash = "pod failed without a container exit code"
    return failure(Reason.WORKER_CRASHED, f"{crash}: {detail}" if detail else crash, code)


def classify_pending(pod: ObservedPod, pending_seconds: int) -> AttemptOutcome:
    """Classify a pod that did not start within ``pending_seconds``."""
    waited = f"pod {pod.name} did not start within {pending_seconds}s"
    mapped = WAITING_REASONS.get(pod.waiting_reason or "")
    if mapped is not None:
        return failure(mapped, _join(waited, pod.waiting_reason, pod.waiting_message))
    if pod.unschedulable_message is not None or pod.node is None:
        return failure(Reason.UNSCHEDULABLE, _join(waited, pod.unschedulable_message or "not scheduled"))
    stuck = pod.waiting_reason or "container not started"
    return failure(Reason.CREATE_CONTAINER_CONFIG_ERROR, _join(waited, stuck, pod.waiting_message))


def deadline_exceeded(pod: ObservedPod, deadline_seconds: int) -> AttemptOutcome:
    """The watchdog's verdict on a pod still running past its deadline."""
    return failure(Reason.DEADLINE_EXCEEDED, f"pod {pod.name} ran longer than its {deadline_seconds}s deadline")


def stalled(pod: ObservedPod, stall_seconds: int, processed: float, total: float | None) -> AttemptOutcome:
    """The stall watchdog's verdict on a pod whose progress has not moved for ``stall_seconds``."""
    of = f" of {total:g}" if total is not None else ""
    return failure(
        Reason.STALLED,
        f"pod {pod.name} reported no progress for {stall_seconds}s (stuck at {processed:g}{of} audio seconds)",
    )


def pod_lost(pod_name: str | None) -> AttemptOutcome:
    """No pod to be found for an attempt that was launched."""
    return failure(Reason.POD_LOST, f"pod {pod_name or '(unknown)'} disappeared before it finished")


def probe_failed(probe: InputProbe, input_uri: str) -> AttemptOutcome | None:
    """The outcome of a failed input probe; None if the probe succeeded."""
    reason = PROBE_REASONS.get(probe.result)
    if reason is None:
        return None
    detail = f": {probe.message}" if probe.message else ""
    return failure(reason, f"checking input {input_uri}: {BY_REASON[reason].description}{detail}")


def output_probe_failed(probe: InputProbe, prefix: str) -> AttemptOutcome | None:
    """The outcome of a failed check of the output bucket (it is missing, forbidden or unreachable); None if the
    check succeeded. No pod is started, so a bucket that appears later costs no transcription."""
    if probe.result == "ok":
        return None
    detail = f": {probe.message}" if probe.message else ""
    if probe.result == "forbidden":  # HeadBucket needs s3:ListBucket, which a PutObject-only identity lacks
        detail += " (the operator's credentials need s3:ListBucket on the output bucket)"
    return failure(Reason.OUTPUT_UNAVAILABLE, f"checking output {prefix}{detail}; no pod was started")


CREATE_REFUSALS: Final = {400: Reason.POD_INVALID, 422: Reason.POD_INVALID, 403: Reason.POD_FORBIDDEN}
"""HTTP status codes of a refused create of an attempt's Secret or Pod, and the failure reason they become: invalid
(a spec the Pod API rejects, a ValidatingAdmissionPolicy's denial: 422; an admission webhook's denial without a code:
400), or forbidden (a ResourceQuota, Pod Security admission, a webhook denying with 403, a missing service account).
Other errors (5xx, 429, timeouts) are the API server's trouble, not the attempt's: the reconcile is retried."""


def create_refused(attempt: int, kind: str, name: str, code: int, message: str) -> LaunchError | None:
    """The launch error of attempt ``attempt`` when the API server refused to create its ``kind`` ``name`` with
    HTTP ``code``; None when the error is not a refusal (retry the reconcile instead)."""
    reason = CREATE_REFUSALS.get(code)
    if reason is None:
        return None
    detail = scrub(message) if message else BY_REASON[reason].description  # a webhook may echo what it was sent
    return LaunchError(attempt, reason, f"the API server refused {kind} {name} (HTTP {code}): {detail}")


def launch_failed(error: LaunchError) -> AttemptOutcome:
    """The outcome of an attempt the effects layer could not launch."""
    return failure(error.reason, error.message or "the attempt could not be launched")


def apply_rules(outcome: AttemptOutcome, rules: Sequence[RetryRule]) -> AttemptOutcome:
    """``outcome`` with retryable overridden by the first matching rule, if any."""
    for rule in rules:
        if rule.matches(outcome.exit_code, outcome.reason):
            return replace(outcome, retryable=rule.action is RuleAction.RETRY)
    return outcome


def _describe(reason: str, code: int | None) -> str:
    try:
        text = BY_REASON[Reason(reason)].description
    except ValueError:
        text = reason
    return f"{text} (exit code {code})" if code is not None else text


def _join(*parts: str | None) -> str:
    return ": ".join(p for p in parts if p)


def _pod_detail(pod: ObservedPod, fallback: str) -> str:
    return _join(f"pod {pod.name}", _join(pod.pod_reason, pod.pod_message) or fallback)
