"""HTTP plumbing shared by download and upload: the client, and S3 error details for messages."""

from __future__ import annotations

import html
import re

import httpx

MAX_ERROR_BODY = 64 * 1024
# S3 error bodies are small, flat XML documents; two regular expressions read them without an XML parser.
_CODE = re.compile(r"<Code>\s*([A-Za-z0-9._-]{1,100})\s*</Code>")
_MESSAGE = re.compile(r"<Message>([^<]{0,2000})</Message>")


def client(timeout: float) -> httpx.Client:
    """A client with ``timeout`` for connect, read, write and pool; no redirects (S3 doesn't need them).

    ``trust_env`` stays on: HTTPS_PROXY/NO_PROXY and SSL_CERT_FILE/SSL_CERT_DIR are honoured.
    """
    return httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False)


def s3_error(body: bytes) -> tuple[str, str]:
    """``(Code, Message)`` from an S3 XML error body; empty strings when it isn't one."""
    text = body[:MAX_ERROR_BODY].decode("utf-8", errors="replace")
    code = _CODE.search(text)
    message = _MESSAGE.search(text)
    return (code.group(1) if code else "", " ".join(html.unescape(message.group(1)).split()) if message else "")


def describe_status(status: int, body: bytes) -> str:
    """E.g. ``HTTP 404 NoSuchBucket (The specified bucket does not exist)``."""
    code, message = s3_error(body)
    text = f"HTTP {status}"
    if code:
        text += f" {code}"
    if message:
        text += f" ({message[:300]})"
    elif not code:
        reason = httpx.codes.get_reason_phrase(status)
        if reason:
            text += f" {reason}"
    return text


def describe_transport_error(exc: httpx.TransportError, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g}s ({type(exc).__name__})"
    detail = str(exc) or repr(exc.__cause__ or exc.__context__ or "")
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
