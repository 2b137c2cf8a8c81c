"""API models: defaults, validation (errors name the field), parsing that never raises, helpers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from scribe_operator.api.meta import to_json
from scribe_operator.api.parse import ValidationProblem
from scribe_operator.api.quantity import format_mebibytes, memory_bytes, parse_quantity
from scribe_operator.api.s3 import parse_s3_uri, strip_extension
from scribe_operator.kinds.task.api.model import TranscriptionTask
from scribe_operator.kinds.task.api.names import label_value, pod_name, secret_name
from scribe_operator.kinds.task.api.outputs import effective_formats, output_prefix, output_uris
from scribe_operator.kinds.task.api.parse import parse_spec, parse_status, parse_task
from scribe_operator.kinds.task.api.spec import Format, TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase, TaskStatus

INPUT = "s3://audio/talks/interview-42.wav"


def spec(**fields: Any) -> dict[str, Any]:
    return {"input": INPUT, **fields}


def problem(body: dict[str, Any]) -> ValidationProblem:
    result = parse_spec(body)
    assert isinstance(result, ValidationProblem), f"expected a problem, got {result!r}"
    return result


def test_defaults() -> None:
    s = TranscriptionTaskSpec.model_validate(spec())
    assert s.formats == [Format.JSON, Format.TXT]
    assert (s.retry_policy.max_retries, s.retry_policy.max_attempts) == (3, 4)
    b = s.retry_policy.backoff
    assert (b.initial_seconds, b.factor, b.max_seconds, b.jitter) == (10, 2.0, 600, 0.2)
    assert s.retry_policy.rules == []
    assert (s.timeouts.attempt_seconds, s.timeouts.pending_seconds) == (None, 300)
    assert s.output is None and s.language is None and s.model is None


def test_camel_and_snake_case_are_both_accepted() -> None:
    camel = TranscriptionTaskSpec.model_validate(spec(retryPolicy={"maxRetries": 1}))
    snake = TranscriptionTaskSpec.model_validate(spec(retry_policy={"max_retries": 1}))
    assert camel == snake
    assert to_json(camel)["retryPolicy"]["maxRetries"] == 1


@pytest.mark.parametrize(
    ("uri", "accepted"),
    [
        ("s3://audio/a.wav", True),
        ("s3://my.bucket-1/dir/sub/file name.mp3", True),
        ("s3://abc/x", True),
        ("s3://" + "b" * 63 + "/k", True),
        ("", False),
        ("audio/a.wav", False),
        ("http://audio/a.wav", False),
        ("s3://audio", False),
        ("s3://audio/", False),
        ("s3://audio/dir/", False),
        ("s3://Audio/a.wav", False),
        ("s3://ab/a.wav", False),
        ("s3://-audio/a.wav", False),
        ("s3://audio-/a.wav", False),
        ("s3://au_dio/a.wav", False),
        ("s3://" + "b" * 64 + "/k", False),
    ],
)
def test_the_input_is_an_s3_object_uri_and_a_bad_one_names_the_field(uri: str, accepted: bool) -> None:
    if accepted:
        assert isinstance(parse_spec(spec(input=uri)), TranscriptionTaskSpec)
    else:
        p = problem(spec(input=uri))
        assert p.fields == ("spec.input",) and p.message.startswith("spec.input:")


def test_input_is_required() -> None:
    assert problem({}).fields == ("spec.input",)


@pytest.mark.parametrize("uri", ["s3://out/", "s3://out/a/b/"])
def test_good_outputs(uri: str) -> None:
    assert isinstance(parse_spec(spec(output=uri)), TranscriptionTaskSpec)


@pytest.mark.parametrize("uri", ["s3://out", "s3://out/prefix", "file:///tmp/"])
def test_bad_outputs(uri: str) -> None:
    assert problem(spec(output=uri)).fields == ("spec.output",)


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [
        (
            spec(retryPolicy={"backoff": {"factor": 0.5}}),
            "spec.retryPolicy.backoff.factor",
            "greater than or equal to 1",
        ),
        (spec(retryPolicy={"backoff": {"initialSeconds": 0}}), "spec.retryPolicy.backoff.initialSeconds", ""),
        (spec(retryPolicy={"backoff": {"jitter": 1.5}}), "spec.retryPolicy.backoff.jitter", ""),
        (
            spec(retryPolicy={"backoff": {"initialSeconds": 60, "maxSeconds": 30}}),
            "spec.retryPolicy.backoff",
            "retryPolicy.backoff.maxSeconds must be greater than or equal to retryPolicy.backoff.initialSeconds",
        ),
        (spec(retryPolicy={"maxRetries": 101}), "spec.retryPolicy.maxRetries", ""),
        (spec(retryPolicy={"maxRetries": -1}), "spec.retryPolicy.maxRetries", ""),
        (spec(formats=["json", "docx"]), "spec.formats[1]", "'json', 'txt', 'srt' or 'vtt'"),
        (spec(formats=["txt", "txt"]), "spec.formats", "formats: txt is listed twice"),
        (spec(retryPolicy={"rules": [{"action": "Retry"}]}), "spec.retryPolicy.rules[0]", "exitCodes or reasons"),
        (
            spec(retryPolicy={"rules": [{"reasons": [], "exitCodes": [], "action": "Fail"}]}),
            "spec.retryPolicy.rules[0]",
            "",
        ),
        (
            spec(retryPolicy={"rules": [{"exitCodes": [0], "action": "Fail"}]}),
            "spec.retryPolicy.rules[0].exitCodes[0]",
            "",
        ),
        (
            spec(retryPolicy={"rules": [{"reasons": ["Completed"], "action": "Fail"}]}),
            "spec.retryPolicy.rules[0].reasons[0]",
            "",
        ),
        (
            spec(retryPolicy={"rules": [{"reasons": ["Nope"], "action": "Fail"}]}),
            "spec.retryPolicy.rules[0].reasons[0]",
            "",
        ),
        (
            spec(retryPolicy={"rules": [{"reasons": ["PodLost"], "action": "Maybe"}]}),
            "spec.retryPolicy.rules[0].action",
            "",
        ),
        (spec(timeouts={"pendingSeconds": 0}), "spec.timeouts.pendingSeconds", ""),
        (spec(timeouts={"attemptSeconds": 0}), "spec.timeouts.attemptSeconds", ""),
        (spec(resources={"limits": {"memory": "lots"}}), "spec.resources.limits.memory", ""),
        (spec(resources={"requests": {"cpu": "-1"}}), "spec.resources.requests.cpu", ""),
        (spec(language="english please"), "spec.language", ""),
        (spec(worker={"serviceAccountName": "Not_Valid"}), "spec.worker.serviceAccountName", ""),
        (spec(worker={"tolerations": [{"operator": "Sometimes"}]}), "spec.worker.tolerations[0].operator", ""),
        (
            spec(resources={"requests": {"memory": "4Gi"}, "limits": {"memory": "1Gi"}}),
            "spec.resources",
            "resources.requests.memory must be less than or equal to resources.limits.memory (4Gi > 1Gi)",
        ),
        (
            spec(resources={"requests": {"cpu": 2}, "limits": {"cpu": "1500m"}}),
            "spec.resources",
            "resources.requests.cpu must be less than or equal to resources.limits.cpu (2 > 1500m)",
        ),
        (spec(worker={"nodeSelector": {"gpu": "yes please"}}), "spec.worker.nodeSelector.gpu", ""),
        (
            spec(worker={"tolerations": [{"key": "Bad Key", "operator": "Exists"}]}),
            "spec.worker.tolerations[0].key",
            "",
        ),
        (spec(worker={"tolerations": [{"key": "k", "value": "-x"}]}), "spec.worker.tolerations[0].value", ""),
        (
            spec(resources={"requests": {"nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": 2}}),
            "spec.resources",
            "resources.requests.nvidia.com/gpu must equal resources.limits.nvidia.com/gpu when both are set",
        ),
        (
            spec(worker={"tolerations": [{"value": "gpu"}]}),
            "spec.worker.tolerations[0]",
            "operator must be Exists when key is empty",
        ),
        (
            spec(worker={"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]}),
            "spec.worker.tolerations[0]",
            "value must be empty when operator is Exists",
        ),
        (
            spec(worker={"tolerations": [{"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5}]}),
            "spec.worker.tolerations[0]",
            "tolerationSeconds is only allowed with effect NoExecute",
        ),
    ],
)
def test_invalid_specs_name_the_field(body: dict[str, Any], field: str, text: str) -> None:
    p = problem(body)
    assert field in p.fields, p
    assert f"{field}:" in p.message and text in p.message


def test_valid_rules_and_resources() -> None:
    s = TranscriptionTaskSpec.model_validate(
        spec(
            retryPolicy={"rules": [{"exitCodes": [30], "reasons": ["OOMKilled"], "action": "Fail"}]},
            resources={"requests": {"cpu": 0.5, "memory": "512Mi"}, "limits": {"cpu": 1, "memory": "2Gi"}},
            worker={"nodeSelector": {"gpu": "true"}, "tolerations": [{"key": "k", "operator": "Exists"}]},
            language="en",
            model="Systran/faster-whisper-tiny.en",
        )
    )
    rule = s.retry_policy.rules[0]
    assert rule.matches(30, "UploadFailed") and rule.matches(None, "OOMKilled") and not rule.matches(None, "PodLost")
    assert (s.resources.requests.cpu, s.resources.limits.cpu) == ("0.5", "1")


@pytest.mark.parametrize(
    "resources",
    [
        {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "1024Mi"}},  # equal
        {"requests": {"cpu": "4"}, "limits": {"memory": "1Gi"}},  # no resource in both
        {"requests": {"memory": "1G"}, "limits": {"memory": "1Gi"}},  # 10^9 < 2^30
        {"limits": {"nvidia.com/gpu": 1}},  # an extended resource in limits only: the request defaults to it
        {"requests": {"nvidia.com/gpu": 1}},  # or in requests only: the operator sets the limit to it
        {"requests": {"nvidia.com/gpu": 2}, "limits": {"nvidia.com/gpu": 2}},
    ],
)
def test_requests_within_limits_are_accepted(resources: dict[str, Any]) -> None:
    assert isinstance(parse_spec(spec(resources=resources)), TranscriptionTaskSpec)


def test_status_is_tolerant() -> None:
    status = parse_status(
        {
            "phase": "Running",
            "attempt": 2,
            "somethingNew": {"x": 1},
            "attempts": [
                {"attempt": 1, "reason": "UploadFailed", "extra": True},
                {"attempt": "two?"},
                {"attempt": 2, "pod": "t-a2"},
            ],
            "failureCounts": {"UploadFailed": "many"},
            "retryAt": "not a time",
        }
    )
    assert status.phase is Phase.RUNNING and status.attempt == 2
    assert [r.attempt for r in status.attempts] == [1, 2]
    assert status.failure_counts == {} and status.retry_at is None


@pytest.mark.parametrize("raw", [None, "garbage", [], {"phase": "Exploded"}, {"attempt": -3}])
def test_bad_status_never_raises(raw: Any) -> None:
    assert isinstance(parse_status(raw), TaskStatus)


class Body(Mapping[str, Any]):
    """A read-only mapping like kopf's Body."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_parse_task_from_a_mapping() -> None:
    obj = Body(
        {
            "apiVersion": "scribe.dev/v1alpha1",
            "kind": "TranscriptionTask",
            "metadata": {"name": "t", "uid": "u", "generation": 1, "labels": {"a": "b"}},
            "spec": Body({"input": INPUT, "formats": ("json", "vtt")}),
            "status": {"phase": "Retrying", "attempt": 1, "retryAt": "2025-01-01T00:00:00Z"},
        }
    )
    task = parse_task(obj)
    assert isinstance(task, TranscriptionTask)
    assert task.metadata.name == "t" and task.spec.formats == [Format.JSON, Format.VTT]
    assert task.status.phase is Phase.RETRYING and task.status.retry_at is not None


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({}, "spec"),
        ({"spec": "nope"}, "spec"),
        ({"spec": {"input": "nope"}}, "spec.input"),
        ({"spec": {"input": INPUT}, "metadata": {"generation": "x"}}, "metadata.generation"),
    ],
)
def test_parse_task_reports_problems(obj: dict[str, Any], field: str) -> None:
    result = parse_task(obj)
    assert isinstance(result, ValidationProblem) and field in result.fields


def test_parse_task_never_raises_on_hostile_objects() -> None:
    class Hostile(dict[str, Any]):
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("boom")

    result = parse_task(Hostile())
    assert isinstance(result, ValidationProblem) and "boom" in result.message


@pytest.mark.parametrize(
    ("input_uri", "prefix"),
    [
        ("s3://audio/talks/interview-42.wav", "s3://audio/talks/interview-42.transcript/"),
        ("s3://audio/interview.tar.gz", "s3://audio/interview.tar.transcript/"),
        ("s3://audio/no-extension", "s3://audio/no-extension.transcript/"),
        ("s3://audio/dir.v2/file", "s3://audio/dir.v2/file.transcript/"),
        ("s3://audio/a//b.wav", "s3://audio/a//b.transcript/"),
        ("s3://audio/.hidden", "s3://audio/.hidden.transcript/"),
    ],
)
def test_default_output_prefix(input_uri: str, prefix: str) -> None:
    assert output_prefix(TranscriptionTaskSpec.model_validate({"input": input_uri})) == prefix


def test_explicit_output_prefix_and_effective_formats() -> None:
    s = TranscriptionTaskSpec.model_validate(spec(output="s3://out/x/", formats=["vtt", "srt"]))
    assert output_prefix(s) == "s3://out/x/"
    assert effective_formats(s) == (Format.JSON, Format.VTT, Format.SRT)
    assert output_uris(s) == {
        "json": "s3://out/x/transcript.json",
        "vtt": "s3://out/x/transcript.vtt",
        "srt": "s3://out/x/transcript.srt",
    }
    assert effective_formats(TranscriptionTaskSpec.model_validate(spec(formats=[]))) == (Format.JSON,)
    assert effective_formats(TranscriptionTaskSpec.model_validate(spec(formats=["txt", "json"]))) == (
        Format.JSON,
        Format.TXT,
    )


def test_s3_helpers() -> None:
    assert parse_s3_uri("s3://b12/k/e.y") == ("b12", "k/e.y")
    assert parse_s3_uri("s3://b12/k").uri == "s3://b12/k"
    with pytest.raises(ValueError, match="not an s3"):
        parse_s3_uri("https://b12/k")
    assert strip_extension("a/b.c/d.wav") == "a/b.c/d"


def test_names() -> None:
    assert (pod_name("talk", 3), secret_name("talk", 3), label_value("talk")) == ("talk-a3", "talk-a3-urls", "talk")
    long_a, long_b = "a" * 200, "a" * 199 + "b"
    for name in (long_a, long_b, "x" * 53, "x" * 54, "y." * 40 + "z"):
        assert len(secret_name(name, 101)) <= 63 and len(label_value(name)) <= 63
        assert pod_name(name, 1) == pod_name(name, 1)
        assert not label_value(name).endswith(("-", ".")) and label_value(name)[0].isalnum()
    assert pod_name(long_a, 1) != pod_name(long_b, 1) and label_value(long_a) != label_value(long_b)
    assert pod_name("x" * 53, 1) == "x" * 53 + "-a1"


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1), ("2Gi", 2 * 2**30), ("500m", 0.5), ("1e3", 1000), ("1E", 10**18), ("1.5Ki", 1536), (".5", 0.5)],
)
def test_quantities(text: str, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


def test_memory_helpers() -> None:
    assert memory_bytes("1Gi") == 2**30 and memory_bytes("500m") == 1 and memory_bytes("x") is None
    assert format_mebibytes(2**30) == "1024Mi" and format_mebibytes(2**30 + 1) == "1025Mi"
    with pytest.raises(ValueError, match="not a quantity"):
        parse_quantity("-1")


def test_to_json_keeps_nulls_only_when_asked() -> None:
    status = TaskStatus(phase=Phase.RUNNING)
    assert "retryAt" not in to_json(status)
    assert to_json(status, nulls=True)["retryAt"] is None
