"""The worker's termination message: the attempt's result filled in from the taxonomy (exit code, retryable),
rendered by the contract's serializer with the attempt's registered presigned URLs as its secrets, within the
4096-byte limit, and written to the termination path.

The serializer itself (wire format, truncation, dropping outputs, scrubbing) is the contract's and is tested in
tests/unit/contract/test_termination.py; these tests check what the worker adds to it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scribe_contract.taxonomy import BY_REASON, Reason, Source
from scribe_contract.termination import MAX_BYTES, ContainerUsage, TerminationMessage, render_termination_message
from scribe_worker import redact, termination
from scribe_worker.termination import AttemptResult

WORKER_REASONS = [e.reason for e in BY_REASON.values() if e.source is Source.WORKER]


def test_the_result_becomes_the_contract_message_with_every_field() -> None:
    known: dict[str, Any] = {"outputs": {"json": "s3://o/t.json"}, "duration_seconds": 2.78469, "language": "en",
                             "usage": ContainerUsage(cpu_seconds=1.5, peak_memory_bytes=1024)}  # fmt: skip
    result = AttemptResult(Reason.COMPLETED, "done", **known)
    assert result.termination_message() == TerminationMessage("Completed", False, "done", 0, **known)


@pytest.mark.parametrize("reason", WORKER_REASONS)
def test_every_worker_reason_has_its_exit_code_and_retryability(reason: Reason) -> None:
    document = json.loads(termination.render(AttemptResult(reason, "x")))
    assert document["exitCode"] == BY_REASON[reason].exit_code
    assert document["retryable"] == BY_REASON[reason].retryable
    assert set(document) == {"reason", "retryable", "message", "exitCode"}


def test_render_scrubs_the_registered_presigned_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact, "_registered", [])
    secret = "https://s3.example/b/k.wav?opaque-token-without-a-known-name"
    redact.register_secrets(secret)
    result = AttemptResult(Reason.DOWNLOAD_FAILED, f"GET {secret} failed; GET http://h/b/k?X-Amz-Signature=abc")
    data = termination.render(result)
    assert data == render_termination_message(result.termination_message(), secrets=[secret])
    assert b"opaque-token" not in data and b"abc" not in data


def test_render_fits_the_termination_message_limit() -> None:
    result = AttemptResult(Reason.UPLOAD_FAILED, "😀" * 10_000, duration_seconds=1.0, language="en")
    data = termination.render(result)
    assert MAX_BYTES - 16 < len(data) <= MAX_BYTES  # it uses the room it has
    assert json.loads(data)["message"].endswith("…")
    assert len(termination.render(result, limit=1024)) <= 1024


def test_write(tmp_path: Path) -> None:
    path = tmp_path / "termination-log"
    written = termination.write(path, AttemptResult(Reason.INVALID_AUDIO, "empty"))
    assert path.read_bytes() == written
