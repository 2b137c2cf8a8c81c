"""The pure decision core: ``reconcile(task, observed, now, settings) -> Plan``. No I/O, no clock reads."""

from .backoff import backoff_delay, base_delay
from .classify import Outcome, apply_rules, classify_terminated, parse_termination_message
from .conditions import FAILED, READY
from .deadline import attempt_deadline, url_ttl
from .memory import memory_limit
from .observed import CapacityVerdict, CircuitHold, InputProbe, LaunchError, Observed, ObservedPod
from .plan import (
    Action,
    CheckCapacity,
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
