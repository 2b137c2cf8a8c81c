"""Keep presigned URLs (and their signatures) out of logs and termination messages.

The signature in a presigned URL's query string is a bearer credential. Every line the worker writes
goes through :func:`scrub`, which strips query strings from anything URL-shaped and blanks well-known
signing parameters that appear on their own. Steps should not put URLs in messages in the first
place; this is the safety net.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

REDACTED = "REDACTED"

# scheme://anything-up-to-the-query ? query ; stops at whitespace, quotes, backslashes and brackets so
# it never eats JSON structure or escapes.
_URL_WITH_QUERY = re.compile(r"""(?i)\b([a-z][a-z0-9+.-]*://[^\s?#"'\\<>]*)\?[^\s#"'\\<>]*""")
# Signing parameters that may appear without their URL (e.g. a request target "/b/k?X-Amz-...").
_SIGNING_PARAM = re.compile(
    r"""(?i)\b(X-Amz-[A-Za-z-]+|Signature|AWSAccessKeyId|Expires|x-amz-security-token)=[^&\s"'\\<>]*"""
)


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path`` of ``url``: no user info, no query string, no fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
    except ValueError:
        return REDACTED
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


_registered: list[str] = []


def register_secrets(*secrets: str) -> None:
    """Remember values (the presigned URLs) that :func:`scrub` must always replace."""
    _registered.extend(s for s in secrets if s and s not in _registered)


def scrub(text: str) -> str:
    """``text`` with every registered secret redacted and every query string removed."""
    for secret in _registered:
        if secret and secret in text:
            text = text.replace(secret, redact_url(secret))
    text = _URL_WITH_QUERY.sub(lambda m: f"{m.group(1)}?{REDACTED}", text)
    return _SIGNING_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
