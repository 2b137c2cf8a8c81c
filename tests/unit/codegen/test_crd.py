"""The generated CRD: checked in and current, structural, and consistent with the models."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml
from pydantic import BaseModel, Field
from scribe_operator.api.kind import KindApi
from scribe_operator.api.meta import to_json
from scribe_operator.api.schema import SchemaError, structural
from scribe_operator.codegen.crd import build_crd, openapi_schema, render_crd
from scribe_operator.kinds.batch.api.crd import BATCH_API
from scribe_operator.kinds.task.api.crd import TASK_API
from scribe_operator.kinds.task.api.resources import cel_name
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.transcription import DECODING_RULES, ENGLISH_ONLY_RULES

ROOT = Path(__file__).resolve().parents[3]


KINDS = pytest.mark.parametrize("api", [TASK_API, BATCH_API], ids=["task", "batch"])
"""The structural and CEL-cost checks hold for both CRDs."""


@KINDS
def test_checked_in_crd_is_current(api: KindApi) -> None:
    path = ROOT / api.crd_path
    assert path.exists(), f"{api.crd_path} is missing: run `make manifests`"
    assert path.read_text() == render_crd(api), f"{api.crd_path} is out of date: run `make manifests`"


@KINDS
def test_rendered_yaml_round_trips(api: KindApi) -> None:
    assert yaml.safe_load(render_crd(api)) == build_crd(api)


def task_schema() -> dict[str, Any]:
    return openapi_schema(TASK_API)


def nodes(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with its path."""
    yield path, node
    for name, sub in node.get("properties", {}).items():
        yield from nodes(sub, f"{path}.{name}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from nodes(node[key], f"{path}[]")


@KINDS
def test_schema_is_structural(api: KindApi) -> None:
    for path, node in nodes(openapi_schema(api)):
        int_or_string = node.get("x-kubernetes-int-or-string") is True
        assert "type" in node or int_or_string, f"{path} has no type"
        assert "$ref" not in node and "title" not in node and "uniqueItems" not in node, path
        assert "anyOf" not in node or int_or_string, f"{path}: anyOf only for int-or-string"
        assert not ("properties" in node and "additionalProperties" in node), path
        assert node.get("additionalProperties", {}) is not False, path
        if node.get("type") == "object" and path.startswith(".spec"):
            assert "properties" in node or "additionalProperties" in node, f"{path} would be pruned"


@KINDS
def test_every_spec_string_list_and_map_is_bounded(api: KindApi) -> None:
    """CEL cost estimation of ``self == oldSelf`` needs bounds (the API server rejects costly rules)."""
    for path, node in nodes(openapi_schema(api)["properties"]["spec"], ".spec"):
        if node.get("type") == "string" and "enum" not in node:
            assert "maxLength" in node, f"{path} has no maxLength"
        if node.get("type") == "array":
            assert "maxItems" in node, f"{path} has no maxItems"
        if isinstance(node.get("additionalProperties"), dict):
            assert "maxProperties" in node, f"{path} has no maxProperties"


def test_cel_messages_name_their_field() -> None:
    rules = [(p, r) for p, n in nodes(task_schema()) for r in n.get("x-kubernetes-validations", ())]
    assert {r["rule"] for _, r in rules} >= {"self == oldSelf"}
    # backoff, rules[], requests <= limits (cpu, memory, gpu), tolerations[] (3), spec; decoding, English-only, model
    assert len(rules) == 9 + len(DECODING_RULES) + len(ENGLISH_ONLY_RULES) + 1
    for path, rule in rules:
        field = path.rsplit(".", 1)[-1].removesuffix("[]")
        assert field in rule["message"], (path, rule)
    spec_rules = task_schema()["properties"]["spec"]["x-kubernetes-validations"]
    assert spec_rules == [
        {"rule": "self == oldSelf", "message": "spec is immutable; create a new TranscriptionTask"},
        *(r.to_schema() for r in ENGLISH_ONLY_RULES),
    ]


def test_pod_rules_guard_the_task_and_the_batch_template_alike() -> None:
    """requests <= limits (every resource a ResourceList names; an extended resource's request equal to its limit)
    and the toleration rules are checked at admission, for a task and for a batch's template, not only when the pod
    is created. Property names are spelled as CEL escapes them."""
    task = task_schema()["properties"]["spec"]["properties"]
    template = openapi_schema(BATCH_API)["properties"]["spec"]["properties"]["template"]["properties"]
    for spec in (task, template):
        rules = spec["resources"]["x-kubernetes-validations"]
        assert [r["message"] for r in rules] == [
            *(
                f"resources.requests.{name} must be less than or equal to resources.limits.{name}"
                for name in ("cpu", "memory")
            ),
            "resources.requests.nvidia.com/gpu must equal resources.limits.nvidia.com/gpu when both are set "
            "(an extended resource cannot be overcommitted)",
        ]
        assert "quantity(" in rules[0]["rule"] and "self.limits.nvidia__dot__com__slash__gpu" in rules[2]["rule"]
        assert set(spec["resources"]["properties"]["requests"]["properties"]) == {"cpu", "memory", "nvidia.com/gpu"}
        tolerations = spec["worker"]["properties"]["tolerations"]["items"]["x-kubernetes-validations"]
        assert len(tolerations) == 3


@pytest.mark.parametrize(
    ("name", "escaped"),
    [("cpu", "cpu"), ("nvidia.com/gpu", "nvidia__dot__com__slash__gpu"), ("a__b-c", "a__underscores__b__dash__c")],
)
def test_property_names_are_escaped_as_cel_spells_them(name: str, escaped: str) -> None:
    assert cel_name(name) == escaped


def test_status_has_no_defaults_and_conditions_are_a_map() -> None:
    status = task_schema()["properties"]["status"]
    assert not [p for p, n in nodes(status) if "default" in n]
    conditions = status["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map" and conditions["x-kubernetes-list-map-keys"] == ["type"]


def test_crd_shape() -> None:
    crd = build_crd(TASK_API)
    assert crd["metadata"]["name"] == "transcriptiontasks.scribe.dev"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"], names["categories"]) == (
        "TranscriptionTask",
        "transcriptiontasks",
        ["tt"],
        ["scribe"],
    )
    (version,) = crd["spec"]["versions"]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    columns = [(c["name"].upper(), c["jsonPath"]) for c in version["additionalPrinterColumns"]]
    assert columns == [
        ("PHASE", ".status.phase"),
        ("ATTEMPTS", ".status.attempt"),
        ("REASON", ".status.reason"),
        ("RETRY-AT", ".status.retryAt"),
        ("PROGRESS", ".status.progress.summary"),
        ("AGE", ".metadata.creationTimestamp"),
    ]


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """The API server's defaulting, enough for this schema: defaults of absent properties, recursively."""
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for name, sub in schema.get("properties", {}).items():
        if name not in out and "default" in sub:
            out[name] = copy.deepcopy(sub["default"])
        if name in out:
            out[name] = apply_defaults(sub, out[name])
    return out


def is_within(part: Any, whole: Any) -> bool:
    """Every key of ``part`` (recursively) has the same value in ``whole``."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(k in whole and is_within(v, whole[k]) for k, v in part.items())
    return bool(part == whole)


def test_crd_defaults_agree_with_the_models() -> None:
    minimal = {"input": "s3://a12/k.wav"}
    defaulted = apply_defaults(task_schema()["properties"]["spec"], minimal)
    assert set(defaulted) == {"input", "formats", "retryPolicy", "priority", "timeouts", "cache"}
    assert set(defaulted["retryPolicy"]["backoff"]) == {"initialSeconds", "factor", "maxSeconds", "jitter"}
    model = TranscriptionTaskSpec.model_validate(minimal)
    assert is_within(defaulted, to_json(model))
    assert TranscriptionTaskSpec.model_validate(defaulted) == model


@pytest.mark.parametrize(
    ("uri", "ok"), [("s3://audio/a.wav", True), ("s3://audio/", False), ("s3://Au/x", False), ("s3://a.b-c/x/y", True)]
)
def test_crd_pattern_agrees_with_the_model(uri: str, ok: bool) -> None:
    pattern = task_schema()["properties"]["spec"]["properties"]["input"]["pattern"]
    assert bool(re.search(pattern, uri)) is ok
    try:
        TranscriptionTaskSpec.model_validate({"input": uri})
        accepted = True
    except ValueError:
        accepted = False
    assert accepted is ok


class Union(BaseModel):
    value: int | str


class Exclusive(BaseModel):
    value: Annotated[int, Field(gt=0)]


class Closed(BaseModel):
    value: dict[str, int]


@pytest.mark.parametrize("model", [Union, Exclusive])
def test_converter_refuses_what_it_cannot_express(model: type[BaseModel]) -> None:
    with pytest.raises(SchemaError):
        structural(model.model_json_schema())


def test_converter_handles_maps() -> None:
    assert structural(Closed.model_json_schema())["properties"]["value"] == {
        "additionalProperties": {"type": "integer"},
        "type": "object",
    }
