"""Keep presigned URLs (and their signatures) out of the worker's logs and termination message.

The worker registers the presigned URLs of its attempt (:func:`register_secrets`, from its environment) before it
does anything else; every line it writes goes through :func:`scrub`, the shared rule
(``scribe_contract.redact.scrub``) applied with those registered values.
"""

from __future__ import annotations

from scribe_contract import redact

_registered: list[str] = []


def register_secrets(*secrets: str) -> None:
    """Remember values (the presigned URLs) that :func:`scrub` must always replace."""
    _registered.extend(s for s in secrets if s and s not in _registered)


def registered_secrets() -> tuple[str, ...]:
    """The values registered so far."""
    return tuple(_registered)


def scrub(text: str) -> str:
    """``text`` with every registered secret redacted and every query string removed."""
    return redact.scrub(text, _registered)
