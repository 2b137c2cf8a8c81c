"""Keep presigned URLs (and their signatures) out of messages: what counts as a credential in text.

The signature in a presigned URL's query string is a bearer credential. :func:`scrub` strips query strings from
anything URL-shaped, blanks well-known signing parameters that appear on their own, and replaces the given secret
values wherever they occur. The worker scrubs every log line and its termination message; the operator scrubs
text it copies into a task's status from elsewhere (e.g. an admission webhook's answer). Messages should not
carry URLs in the first place; this is the safety net.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit, urlunsplit

REDACTED: Final = "REDACTED"

# scheme://anything-up-to-the-query ? query ; stops at whitespace, quotes, backslashes and brackets so
# it never eats JSON structure or escapes.
_URL_WITH_QUERY: Final = re.compile(r"""(?i)\b([a-z][a-z0-9+.-]*://[^\s?#"'\\<>]*)\?[^\s#"'\\<>]*""")
# Signing parameters that may appear without their URL (e.g. a request target "/b/k?X-Amz-...").
_SIGNING_PARAM: Final = re.compile(
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


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every one of ``secrets`` redacted and every query string removed."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, redact_url(secret))
    text = _URL_WITH_QUERY.sub(lambda m: f"{m.group(1)}?{REDACTED}", text)
    return _SIGNING_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", text)
