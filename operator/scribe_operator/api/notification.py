"""Completion notifications: where a task's (or a batch template's) webhook goes, and its delivery state.

The operator POSTs a CloudEvents 1.0 event (structured mode, JSON) when the task reaches Succeeded or Dead, signed
with HMAC-SHA256 under a key the user keeps in a Secret of the task's namespace (docs/notifications.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import Field

from scribe_operator.api.base import ApiModel
from scribe_operator.api.patterns import DNS1123_SUBDOMAIN

SECRET_KEY_PATTERN: Final = r"^[-._a-zA-Z0-9]+$"
WEBHOOK_URL_PATTERN: Final = r"^https?://[^\s/?#]+[^\s]*$"


class SecretKeyRef(ApiModel):
    """A key of a Secret in the task's namespace."""

    name: str = Field(max_length=253, pattern=DNS1123_SUBDOMAIN, description="The Secret's name.")
    key: str = Field("key", max_length=253, pattern=SECRET_KEY_PATTERN, description="The key within it.")


class Notification(ApiModel):
    """A webhook told when the task ends (Succeeded or Dead)."""

    url: str = Field(
        max_length=2048,
        pattern=WEBHOOK_URL_PATTERN,
        description=(
            "The receiver: an https:// URL (plain http:// only when the operator allows it, "
            "SCRIBE_NOTIFICATION_ALLOW_HTTP). It gets a CloudEvents 1.0 JSON POST."
        ),
    )
    secret_ref: SecretKeyRef = Field(
        description=(
            "The HMAC-SHA256 signing key: a key of a Secret in the task's namespace. The signature of the body is "
            "sent as X-Scribe-Signature: sha256=<hex>."
        )
    )


class DeliveryState(StrEnum):
    """Where a notification's delivery is."""

    PENDING = "Pending"
    DELIVERED = "Delivered"
    FAILED = "Failed"


class NotificationStatus(ApiModel):
    """The delivery of the notification of the task's last ending."""

    id: str = Field(description="The event's id and Idempotency-Key: <task uid>/<phase>/<attempt>.")
    state: DeliveryState = Field(description="Pending (being tried), Delivered, or Failed (tries used up).")
    tries: int = Field(0, ge=0, description="POSTs made so far.")
    last_try_at: datetime | None = Field(None, description="When the last POST was made.")
    next_try_at: datetime | None = Field(None, description="While Pending: when the next POST is due.")
    message: str | None = Field(None, description="How the last try went (HTTP status, error).")
