"""The pure decision core: ``reconcile(task, observed, now, settings) -> Plan``. No I/O, no clock reads."""

from scribe_operator.kinds.task.core.backoff import backoff_delay, base_delay
from scribe_operator.kinds.task.core.classify import (
    Outcome,
    apply_rules,
    classify_terminated,
    parse_termination_message,
)
from scribe_operator.kinds.task.core.conditions import FAILED, READY
from scribe_operator.kinds.task.core.deadline import attempt_deadline, url_ttl
from scribe_operator.kinds.task.core.memory import memory_limit
from scribe_operator.kinds.task.core.observed import (
    CapacityVerdict,
    CircuitHold,
    InputProbe,
    LaunchError,
    Observed,
    ObservedPod,
    PodCheck,
)
from scribe_operator.kinds.task.core.plan import (
    Action,
    CheckCapacity,
    ConfirmPod,
    DeletePod,
    DeleteSecret,
    EmitEvent,
    EventReason,
    LaunchAttempt,
    Plan,
    ProbeInput,
    ProbeOutput,
)
from scribe_operator.kinds.task.core.reconcile import reconcile
from scribe_operator.kinds.task.core.settings import CoreSettings

__all__ = [
    "FAILED",
    "READY",
    "Action",
    "CapacityVerdict",
    "CheckCapacity",
    "CircuitHold",
    "ConfirmPod",
    "CoreSettings",
    "DeletePod",
    "DeleteSecret",
    "EmitEvent",
    "EventReason",
    "InputProbe",
    "LaunchAttempt",
    "LaunchError",
    "Observed",
    "ObservedPod",
    "Outcome",
    "Plan",
    "PodCheck",
    "ProbeInput",
    "ProbeOutput",
    "apply_rules",
    "attempt_deadline",
    "backoff_delay",
    "base_delay",
    "classify_terminated",
    "memory_limit",
    "parse_termination_message",
    "reconcile",
    "url_ttl",
]
