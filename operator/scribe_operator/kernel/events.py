"""The Kubernetes events a plan records on its object (an ``EmitEvent`` action, carried out by the effects layer,
rate-limited there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EventType = Literal["Normal", "Warning"]


@dataclass(frozen=True)
class EmitEvent:
    """Record a Kubernetes event on the object reconciled."""

    type: EventType
    reason: str
    message: str
