"""Delivering completion notifications: sign the CloudEvent (:func:`.core.notify.cloud_event`) with the key from the
user's Secret and POST it. Never raises: every outcome becomes a :class:`.core.notify.NotificationResult`, which the
core records (and retries) without touching the task's phase.

Headers: ``Content-Type: application/cloudevents+json``, ``Idempotency-Key`` (the event id), ``X-Scribe-Signature:
sha256=<hex HMAC-SHA256 of the body>``. The body holds s3:// URIs only, never a presigned URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx2

from scribe_operator.api.notification import Notification
from scribe_operator.kernel.notify import NotificationResult
from scribe_operator.runtime.kube.effects import KubeEffects

CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
SIGNATURE_HEADER = "X-Scribe-Signature"
NOTIFICATION_TIMEOUT_SECONDS = 10.0


def sign(key: bytes, body: bytes) -> str:
    """The X-Scribe-Signature value of ``body``."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class Notifier:
    def __init__(
        self, effects: KubeEffects, allow_http: bool = False, timeout: float = NOTIFICATION_TIMEOUT_SECONDS
    ) -> None:
        self.effects, self.allow_http, self.timeout = effects, allow_http, timeout

    async def send(
        self, namespace: str, target: Notification, key: str, event: Mapping[str, Any]
    ) -> NotificationResult:
        """POST ``event`` (notification ``key``) to ``target``, signed with its Secret's key from ``namespace``."""
        if urlsplit(target.url).scheme != "https" and not self.allow_http:
            return NotificationResult(
                key, False, "plain http:// is not allowed (SCRIBE_NOTIFICATION_ALLOW_HTTP=false)", retryable=False
            )
        ref = target.secret_ref
        secret = await self.effects.secret_value(namespace, ref.name, ref.key)
        if isinstance(secret, str):
            return NotificationResult(key, False, secret)
        body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": CONTENT_TYPE, "Idempotency-Key": key, SIGNATURE_HEADER: sign(secret, body)}
        try:
            async with httpx2.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(target.url, content=body, headers=headers)
        except httpx2.HTTPError as exc:
            return NotificationResult(key, False, f"POST failed: {type(exc).__name__}: {exc}")
        if response.is_success:
            return NotificationResult(key, True, f"HTTP {response.status_code}")
        return NotificationResult(key, False, f"HTTP {response.status_code}")
