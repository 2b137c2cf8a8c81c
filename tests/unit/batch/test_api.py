"""The TranscriptionBatch API: models, the generated CRD (checked in and current), names, outputs, prefix expansion,
index sets, parsing, the observed child, the example manifest and the child manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from scribe_operator.api.parse import ValidationProblem
from scribe_operator.codegen.crd import build_crd, openapi_schema, render_crd
from scribe_operator.codegen.docs import render_docs
from scribe_operator.kinds.batch.api.crd import BATCH_API
from scribe_operator.kinds.batch.api.indexes import format_indexes, parse_indexes
from scribe_operator.kinds.batch.api.layout import child_output, child_spec, expands_to, summary_uri
from scribe_operator.kinds.batch.api.names import LABEL_BATCH, LABEL_BATCH_INDEX, child_name
from scribe_operator.kinds.batch.api.parse import parse_batch, parse_batch_status
from scribe_operator.kinds.batch.api.spec import (
    MAX_BATCH_INPUTS,
    TEMPLATE_EXCLUDED,
    BatchDeadline,
    TaskTemplate,
    TranscriptionBatchSpec,
)
from scribe_operator.kinds.batch.api.status import BatchStatus
from scribe_operator.kinds.batch.controller import child_manifest, prefix_filter
from scribe_operator.kinds.batch.core.observed import ObservedChild, owner_batch
from scribe_operator.kinds.batch.core.plan import CreateChild
from scribe_operator.kinds.task.api.crd import TASK_API
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import Phase

from tests.unit.batch.factories import T0, UID, make_batch
from tests.unit.codegen.test_crd import nodes

ROOT = Path(__file__).resolve().parents[3]


# --- the CRD ----------------------------------------------------------------------------------------------


def test_checked_in_batch_crd_is_current() -> None:
    path = ROOT / BATCH_API.crd_path
    assert path.exists(), f"{BATCH_API.crd_path} is missing: run `make manifests`"
    assert path.read_text() == render_crd(BATCH_API), f"{BATCH_API.crd_path} is out of date: run `make manifests`"
    assert yaml.safe_load(render_crd(BATCH_API)) == build_crd(BATCH_API)


def test_the_task_crd_is_still_generated_on_its_own() -> None:
    assert (ROOT / TASK_API.crd_path).read_text() == render_crd(TASK_API)
    assert yaml.safe_load(render_crd(TASK_API))["spec"]["names"]["kind"] == "TranscriptionTask"


def test_batch_status_has_no_defaults() -> None:
    """Structure and bounds of the batch schema are checked with the task's, in test_crd.py."""
    status = openapi_schema(BATCH_API)["properties"]["status"]
    assert not [p for p, n in nodes(status) if "default" in n]


def test_batch_crd_names_columns_and_rules() -> None:
    crd = build_crd(BATCH_API)
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"], names["categories"]) == (
        "TranscriptionBatch", "transcriptionbatches", ["tb"], ["scribe"]
    )  # fmt: skip
    version = crd["spec"]["versions"][0]
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Phase", "Total", "Succeeded", "Dead", "Deadline", "Age"
    ]  # fmt: skip
    assert version["subresources"] == {"status": {}}
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert {r["rule"] for r in spec["x-kubernetes-validations"]} == {
        "self == oldSelf",
        "has(self.inputs) != has(self.inputPrefix)",
    }
    assert spec["properties"]["inputs"]["maxItems"] == MAX_BATCH_INPUTS
    assert spec["properties"]["inputs"]["x-kubernetes-list-type"] == "set"


def test_the_template_is_the_task_spec_without_input_and_output() -> None:
    assert set(TaskTemplate.model_fields) == set(TranscriptionTaskSpec.model_fields) - TEMPLATE_EXCLUDED
    template = TaskTemplate.model_json_schema(by_alias=True)
    task = TranscriptionTaskSpec.model_json_schema(by_alias=True)
    for name, schema in template["properties"].items():
        assert schema == task["properties"][name], name
    with pytest.raises(ValidationError, match="listed twice"):
        TaskTemplate.model_validate({"formats": ["srt", "srt"]})


# --- models -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({}, "exactly one of inputs and inputPrefix"),
        ({"inputs": ["s3://audio/a.wav"], "inputPrefix": "s3://audio/"}, "exactly one of inputs and inputPrefix"),
        ({"inputs": []}, "at least 1 item"),
        ({"inputs": ["s3://audio/a.wav", "s3://audio/a.wav"]}, "listed twice"),
        ({"inputs": ["s3://audio/folder/"]}, "pattern"),
        ({"inputs": [f"s3://audio/{i}.wav" for i in range(MAX_BATCH_INPUTS + 1)]}, "at most 1000"),
        ({"inputPrefix": "http://audio/"}, "pattern"),
        ({"inputPrefix": "s3://audio/", "outputPrefix": "s3://out/no-slash"}, "pattern"),
        ({"inputPrefix": "s3://audio/", "parallelism": 0}, "greater than or equal to 1"),
        ({"inputPrefix": "s3://audio/", "deadline": {"seconds": 0}}, "greater than or equal to 1"),
        ({"inputPrefix": "s3://audio/", "template": {"retryPolicy": {"maxRetries": -1}}}, "greater than or equal"),
    ],
)
def test_invalid_specs_are_rejected(spec: dict[str, Any], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        TranscriptionBatchSpec.model_validate(spec)


def test_deadline_is_per_item_times_inputs_plus_buffer_unless_overridden() -> None:
    assert BatchDeadline().seconds_for(3) == 3 * 600 + 600
    assert BatchDeadline(per_item_seconds=5, buffer_seconds=10).seconds_for(4) == 30
    assert BatchDeadline(seconds=7, per_item_seconds=5).seconds_for(1000) == 7


def test_child_names_fit_and_are_stable() -> None:
    assert child_name("calls", 0) == "calls-0"
    long = "a" * 253
    names = {child_name(long, i) for i in range(MAX_BATCH_INPUTS)}
    assert len(names) == MAX_BATCH_INPUTS and max(len(n) for n in names) <= 63
    assert child_name(long, 5) == child_name(long, 5) != child_name("a" * 252 + "b", 5)


def test_child_outputs_and_summary_location() -> None:
    spec = TranscriptionBatchSpec(inputs=["s3://audio/a/talk 1.wav"], output_prefix="s3://out/run/")
    assert child_output(spec, 0, "s3://audio/a/talk 1.wav") == "s3://out/run/0-talk-1/"
    assert child_output(spec, 3, "s3://audio/a/%%.wav") == "s3://out/run/3/"
    assert child_spec(spec, 0, "s3://audio/a/talk 1.wav").output == "s3://out/run/0-talk-1/"
    assert summary_uri("b", spec, None) == "s3://out/run/summary.json"
    bare = TranscriptionBatchSpec(inputs=["s3://audio/a/talk.wav"])
    assert child_output(bare, 0, "s3://audio/a/talk.wav") is None
    assert child_spec(bare, 0, "s3://audio/a/talk.wav").output is None  # the task default: next to the input
    assert summary_uri("b", bare, ["s3://audio/a/talk.wav"]) == "s3://audio/a/b.summary.json"
    assert summary_uri("b", bare, ["s3://audio/talk.wav"]) == "s3://audio/b.summary.json"
    assert summary_uri("b", TranscriptionBatchSpec(input_prefix="s3://audio/"), []) is None


def test_prefix_expansion_skips_folders_and_the_operators_own_outputs() -> None:
    assert expands_to("calls/a.wav")
    assert not expands_to("calls/")
    assert not expands_to("calls/a.transcript/transcript.json")
    assert not expands_to("calls/batch.summary.json")
    assert not expands_to("summary.json")
    assert not expands_to("calls/out/0-a/transcript.json", "s3://audio/calls/out/", "audio")
    assert expands_to("calls/out/a.wav", "s3://other/calls/out/", "audio")
    batch = make_batch(n=None, inputPrefix="s3://audio/calls/", outputPrefix="s3://audio/calls/out/")
    keep = prefix_filter(batch)
    assert keep("calls/a.wav") and not keep("calls/out/summary.json") and not keep("calls/out/x.wav")


@given(st.sets(st.integers(0, MAX_BATCH_INPUTS - 1)))
def test_index_sets_round_trip(indexes: set[int]) -> None:
    text = format_indexes(indexes)
    assert parse_indexes(text) == frozenset(indexes)
    assert (text is None) == (not indexes)


def test_index_set_notation() -> None:
    assert format_indexes([7, 0, 1, 2, 3, 9, 10]) == "0-3,7,9-10"
    assert parse_indexes("0-2,x,5,4000,8-6") == frozenset({0, 1, 2, 5})
    assert parse_indexes("0-9", limit=3) == frozenset({0, 1, 2})


# --- reading objects --------------------------------------------------------------------------------------


def test_parse_batch_never_raises() -> None:
    good = {"metadata": {"name": "b", "uid": "u"}, "spec": {"inputs": ["s3://audio/a.wav"]}, "status": {"bad": 1}}
    parsed = parse_batch(good)
    assert not isinstance(parsed, ValidationProblem) and parsed.inputs() == ["s3://audio/a.wav"]
    bad = parse_batch({"spec": {"inputs": "nope"}})
    assert isinstance(bad, ValidationProblem) and "spec.inputs" in bad.fields
    assert isinstance(parse_batch({"spec": None}), ValidationProblem)
    assert isinstance(parse_batch({"metadata": {"generation": "x"}, "spec": {"inputPrefix": "s3://a-b/"}}),
                      ValidationProblem)  # fmt: skip


def test_status_fields_that_do_not_validate_are_dropped() -> None:
    status = parse_batch_status(
        {"phase": "Weird", "created": 2, "failed": [{"index": 0, "input": "s3://a/b", "reason": "X"}, {"index": -1}]}
    )
    assert status.phase is None and status.created == 2
    assert [f.index for f in status.failed] == [0]
    assert parse_batch_status("nonsense") == BatchStatus()


def test_observed_child_from_a_task() -> None:
    task = {
        "metadata": {
            "name": "calls-2",
            "labels": {LABEL_BATCH: "calls", LABEL_BATCH_INDEX: "2"},
            "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "other"},
                {"apiVersion": "scribe.dev/v1alpha1", "kind": "TranscriptionBatch", "name": "calls", "uid": UID},
            ],
            "deletionTimestamp": "2025-01-01T12:00:00Z",
        },
        "status": {"phase": "Dead", "reason": "InvalidAudio", "message": "bad", "outputs": {"json": "s3://o/t"}},
    }
    observed = ObservedChild.from_task(task)
    assert observed == ObservedChild(
        name="calls-2", index=2, owner_uid=UID, phase=Phase.DEAD, reason="InvalidAudio", message="bad",
        outputs={"json": "s3://o/t"}, deleting=True,
    )  # fmt: skip
    assert owner_batch(task) == ("calls", UID)
    assert ObservedChild.from_task({"metadata": {"labels": {LABEL_BATCH_INDEX: "x"}}}) is None
    assert ObservedChild.from_task({"metadata": {"labels": {LABEL_BATCH_INDEX: "-1"}}}) is None
    odd = ObservedChild.from_task({"metadata": {"labels": {LABEL_BATCH_INDEX: "0"}}, "status": {"phase": "?"}})
    assert odd is not None and odd.phase is None and odd.owner_uid is None


def test_child_manifest_is_owned_and_labelled() -> None:
    batch = make_batch(name="calls", n=1, template={"language": "en"})
    spec = child_spec(batch.spec, 0, "s3://audio/calls/call-0.wav")
    manifest = child_manifest(batch, CreateChild(0, "calls-0", spec))
    meta = manifest["metadata"]
    assert (manifest["apiVersion"], manifest["kind"], meta["name"], meta["namespace"]) == (
        "scribe.dev/v1alpha1", "TranscriptionTask", "calls-0", "media"
    )  # fmt: skip
    assert meta["labels"][LABEL_BATCH] == "calls" and meta["labels"][LABEL_BATCH_INDEX] == "0"
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "scribe.dev/v1alpha1", "kind": "TranscriptionBatch", "name": "calls", "uid": UID,
            "controller": True, "blockOwnerDeletion": True,
        }
    ]  # fmt: skip
    assert manifest["spec"]["input"] == "s3://audio/calls/call-0.wav" and manifest["spec"]["language"] == "en"
    assert TranscriptionTaskSpec.model_validate(manifest["spec"]) == spec
    assert ObservedChild.from_task(manifest) == ObservedChild(name="calls-0", index=0, owner_uid=UID)
    assert make_batch().metadata.creation_timestamp == T0


def test_the_example_manifest_is_a_valid_batch() -> None:
    docs = [d for d in yaml.safe_load_all((ROOT / "examples" / "batch.yaml").read_text()) if d]
    assert docs and all(d["kind"] == "TranscriptionBatch" for d in docs)
    for doc in docs:
        parsed = parse_batch(doc)
        assert not isinstance(parsed, ValidationProblem), parsed


def test_batch_docs_field_reference_is_current() -> None:
    path = ROOT / BATCH_API.fields_doc.doc
    text = path.read_text()
    assert render_docs(ROOT, [BATCH_API])[path] == text, "docs/batches.md is out of date: run `make manifests`"
    for reason in ("ChildDeleted", "BatchDeadlineExceeded", "InvalidInput", "InputPrefixEmpty", "TooManyInputs"):
        assert f"`{reason}`" in text, reason
