"""Presigned URLs never reach a log line or a termination message."""

from __future__ import annotations

from scribe_contract.redact import REDACTED, redact_url
from scribe_worker.redact import register_secrets, scrub

URL = (
    "http://127.0.0.1:9000/audio/a%20b.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=minioadmin%2F20250101%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20250101T000000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
)


def test_redact_url_keeps_scheme_host_and_path_only() -> None:
    assert redact_url(URL) == "http://127.0.0.1:9000/audio/a%20b.wav"
    assert redact_url("https://user:pw@s3.example.com/b/k?x=1#frag") == "https://s3.example.com/b/k"


def test_scrub_removes_any_query_string() -> None:
    text = scrub(f'GET {URL} failed; "url": "{URL}"')
    assert "X-Amz" not in text
    assert "0f1e2d3c" not in text
    assert f"http://127.0.0.1:9000/audio/a%20b.wav?{REDACTED}" in text


def test_scrub_removes_loose_signing_parameters() -> None:
    text = scrub("target /b/k?X-Amz-Signature=abc&X-Amz-Credential=xyz Signature=foo")
    assert "abc" not in text
    assert "xyz" not in text
    assert "foo" not in text


def test_registered_secrets_are_replaced_even_when_mangled_context() -> None:
    secret = "https://s3.example.com/b/k.json?token=opaque-secret-value"
    register_secrets(secret)
    assert "opaque-secret-value" not in scrub(f"<{secret}>")


def test_scrub_keeps_json_intact() -> None:
    text = scrub('{"a": "see http://h/p?q=1", "b": "s3://bucket/key"}')
    assert text == '{"a": "see http://h/p?REDACTED", "b": "s3://bucket/key"}'
