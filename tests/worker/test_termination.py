"""The termination message: fields, exit codes and the 4096-byte limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scribe_contract.taxonomy import BY_REASON, Reason, Source
from scribe_contract.termination import MAX_BYTES
from scribe_worker import termination
from scribe_worker.termination import AttemptResult

WORKER_REASONS = [e.reason for e in BY_REASON.values() if e.source is Source.WORKER]


def test_success_message() -> None:
    outcome = AttemptResult(
        Reason.COMPLETED,
        "done",
        outputs={"json": "s3://o/t.json"},
        duration_seconds=2.78469,
        language="en",
    )
    assert json.loads(termination.render(outcome)) == {
        "reason": "Completed",
        "retryable": False,
        "message": "done",
        "exitCode": 0,
        "outputs": {"json": "s3://o/t.json"},
        "durationSeconds": 2.785,
        "language": "en",
    }


@pytest.mark.parametrize("reason", WORKER_REASONS)
def test_every_worker_reason_has_its_exit_code_and_retryability(reason: Reason) -> None:
    document = json.loads(termination.render(AttemptResult(reason, "x")))
    assert document["exitCode"] == BY_REASON[reason].exit_code
    assert document["retryable"] == BY_REASON[reason].retryable
    assert set(document) == {"reason", "retryable", "message", "exitCode"}


@pytest.mark.parametrize("unit", ["a", "ü", "€", "😀", '"', "\n"])
def test_long_messages_are_truncated_to_fit(unit: str) -> None:
    outcome = AttemptResult(Reason.UPLOAD_FAILED, unit * 10_000, duration_seconds=1.0, language="en")
    data = termination.render(outcome)
    assert len(data) <= MAX_BYTES
    assert len(data) > MAX_BYTES - 16  # it uses the room it has
    document = json.loads(data)
    assert document["message"].endswith("…")
    assert document["reason"] == "UploadFailed"
    assert document["language"] == "en"


def test_huge_outputs_are_dropped_before_the_message_vanishes() -> None:
    outputs = {fmt: "s3://b/" + "k" * 1100 for fmt in ("json", "txt", "srt", "vtt")}
    data = termination.render(AttemptResult(Reason.COMPLETED, "done", outputs=outputs))
    assert len(data) <= MAX_BYTES
    document = json.loads(data)
    assert "outputs" not in document
    assert document["message"] == "done"


def test_message_is_scrubbed() -> None:
    data = termination.render(AttemptResult(Reason.DOWNLOAD_FAILED, "GET http://h/b/k?X-Amz-Signature=abc failed"))
    assert b"abc" not in data


def test_write(tmp_path: Path) -> None:
    path = tmp_path / "termination-log"
    written = termination.write(path, AttemptResult(Reason.INVALID_AUDIO, "empty"))
    assert path.read_bytes() == written
