"""The pure decision core: ``reconcile(task, observed, now, settings) -> Plan``. No I/O, no clock reads."""

from .backoff import backoff_delay, base_delay
from .classify import Outcome, apply_rules, classify_terminated, parse_termination_message
from .conditions import FAILED, READY
from .deadline import attempt_deadline, url_ttl
from .memory import memory_limit
from .observed import CapacityVerdict, CircuitHold, InputProbe, LaunchError, Observed, ObservedPod, PodCheck
from .plan import (
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
from .reconcile import reconcile
from .settings import CoreSettings

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
