"""The termination message on the wire: the worker's serializer and the operator's parser agree (round trip), the
serializer fits Kubernetes' 4096 bytes and scrubs credentials, and the parser takes any input without raising."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scribe_contract.taxonomy import BY_REASON, Reason, Source
from scribe_contract.termination import (
    MAX_BYTES,
    MAX_PARSED_BYTES,
    ContainerUsage,
    TerminationMessage,
    parse_termination_message,
    render_termination_message,
)

WORKER_REASONS = [e.reason for e in BY_REASON.values() if e.source is Source.WORKER]
SIGNED = "https://s3.example/b/k.wav?X-Amz-Signature=0123456789abcdef"


def worker_message(reason: Reason, message: str, **kw: Any) -> TerminationMessage:
    """A message as the worker fills it: reason, its retryable default and exit code."""
    entry = BY_REASON[reason]
    return TerminationMessage(str(reason), entry.retryable, message, entry.exit_code, **kw)


def test_the_wire_format_is_compact_ordered_json() -> None:
    message = worker_message(
        Reason.COMPLETED,
        "done",
        outputs={"json": "s3://o/t.json"},
        duration_seconds=2.78469,
        language="en",
        usage=ContainerUsage(cpu_seconds=1.5, peak_memory_bytes=1024),
    )
    assert render_termination_message(message) == (
        b'{"reason":"Completed","retryable":false,"message":"done","exitCode":0,"outputs":{"json":"s3://o/t.json"},'
        b'"durationSeconds":2.785,"language":"en","usage":{"cpuSeconds":1.5,"peakMemoryBytes":1024}}'
    )
    assert render_termination_message(worker_message(Reason.INVALID_AUDIO, "ü")) == (
        '{"reason":"InvalidAudio","retryable":false,"message":"ü","exitCode":20}'.encode()
    )


def test_unknown_usage_and_unset_fields_are_left_out() -> None:
    document = json.loads(render_termination_message(TerminationMessage(usage=ContainerUsage())))
    assert document == {"message": ""}


@pytest.mark.parametrize("reason", WORKER_REASONS)
def test_every_worker_reason_round_trips(reason: Reason) -> None:
    message = worker_message(reason, f"{reason} happened", usage=ContainerUsage(cpu_seconds=2.0))
    assert parse_termination_message(render_termination_message(message).decode()) == message


_S3_URI = st.from_regex(r"\As3://[a-z0-9-]{3,12}/[A-Za-z0-9/._ -]{1,40}\Z")
_MESSAGES = st.builds(
    TerminationMessage,
    reason=st.sampled_from([str(r) for r in Reason]) | st.none(),
    retryable=st.booleans() | st.none(),
    message=st.text(max_size=200).filter(lambda t: "://" not in t and "=" not in t),
    exit_code=st.sampled_from([e.exit_code for e in BY_REASON.values() if e.exit_code is not None]) | st.none(),
    outputs=st.dictionaries(st.sampled_from(["json", "txt", "srt", "vtt"]), _S3_URI, max_size=4),
    duration_seconds=st.none() | st.integers(0, 10**7).map(lambda ms: ms / 1000),
    language=st.none() | st.sampled_from(["en", "de", "haw"]),
    usage=st.none()
    | st.builds(
        ContainerUsage,
        cpu_seconds=st.none() | st.integers(0, 10**9).map(lambda ms: ms / 1000),
        peak_memory_bytes=st.none() | st.integers(0, 2**40),
    ),
)


@given(_MESSAGES)
def test_what_the_worker_renders_the_operator_parses_back(message: TerminationMessage) -> None:
    data = render_termination_message(message)
    assert len(data) <= MAX_BYTES
    parsed = parse_termination_message(data.decode())
    assert parsed is not None
    unknown_usage = message.usage is not None and not message.usage.known
    assert parsed == (replace(message, usage=None) if unknown_usage else message)
    assert parse_termination_message(data) == parsed  # bytes as well as text


@pytest.mark.parametrize("unit", ["a", "ü", "€", "😀", '"', "\n", "\\"])
def test_a_long_message_is_truncated_to_fit_and_still_parses(unit: str) -> None:
    data = render_termination_message(worker_message(Reason.UPLOAD_FAILED, unit * 10_000, language="en"))
    assert MAX_BYTES - 16 < len(data) <= MAX_BYTES
    parsed = parse_termination_message(data.decode())
    assert parsed is not None and parsed.message.endswith("…") and parsed.reason == "UploadFailed"
    assert parsed.exit_code == 30 and parsed.language == "en"


def test_huge_outputs_are_dropped_before_the_message_vanishes() -> None:
    outputs = {fmt: "s3://b/" + "k" * 1100 for fmt in ("json", "txt", "srt", "vtt")}
    data = render_termination_message(worker_message(Reason.COMPLETED, "done", outputs=outputs, language="en"))
    parsed = parse_termination_message(data.decode())
    assert len(data) <= MAX_BYTES and parsed is not None
    assert (parsed.outputs, parsed.language, parsed.message) == ({}, "en", "done")  # the outputs alone made room


def test_the_serializer_scrubs_signatures_and_the_given_secrets() -> None:
    secret = "https://s3.example/b/k.wav?opaque-token-without-a-known-name"
    data = render_termination_message(worker_message(Reason.DOWNLOAD_FAILED, f"GET {SIGNED} and {secret}"))
    assert b"0123456789abcdef" not in data
    data = render_termination_message(worker_message(Reason.DOWNLOAD_FAILED, f"x {secret} y"), secrets=[secret])
    assert b"opaque-token" not in data
    assert json.loads(data)["message"] == "x https://s3.example/b/k.wav y"


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "{",
        "null",
        '"just a string"',
        "[1, 2]",
        "42",
        "NaN",
        "PUT failed: 500",
        "\x00\xff",
        "[" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        "1" * 10_000,
        '{"reason": "' + "A" * (MAX_PARSED_BYTES + 1) + '"}',
        b"\xff\xfe\x00garbage",
    ],
)
def test_garbage_and_oversize_input_is_not_a_message(text: str | bytes | None) -> None:
    assert parse_termination_message(text) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"reason": "lowercase"}', TerminationMessage()),
        ('{"reason": "Has Space", "retryable": "yes", "exitCode": true}', TerminationMessage()),
        ('{"reason": 7, "message": 7, "exitCode": 1.5, "language": ""}', TerminationMessage()),
        ('{"outputs": {"json": "s3://a/b.json", "txt": 3, "srt": "http://x"}}', TerminationMessage(outputs={"json": "s3://a/b.json"})),
        ('{"outputs": ["s3://a/b.json"]}', TerminationMessage()),
        ('{"durationSeconds": -1, "usage": "lots"}', TerminationMessage()),
        ('{"usage": {"cpuSeconds": -1, "peakMemoryBytes": true}}', TerminationMessage()),
        ('{"usage": {"cpuSeconds": Infinity, "peakMemoryBytes": 1e3}}',
         TerminationMessage(usage=ContainerUsage(None, 1000))),
        ('{"reason": "FutureReason", "retryable": false, "extra": {"x": 1}}',
         TerminationMessage("FutureReason", False)),
    ],
)  # fmt: skip
def test_fields_of_the_wrong_shape_are_left_unset(raw: str, expected: TerminationMessage) -> None:
    assert parse_termination_message(raw) == expected


@given(st.text(max_size=300) | st.binary(max_size=300))
def test_the_parser_never_raises(text: str | bytes) -> None:
    parse_termination_message(text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=30,
    )
)
def test_the_parser_takes_any_json_document(document: object) -> None:
    for candidate in (document, {"reason": document, "usage": document, "outputs": document, "exitCode": document}):
        parsed = parse_termination_message(json.dumps(candidate))
        assert parsed is None or isinstance(parsed, TerminationMessage)
