"""The generated sections of docs/api.md, docs/batches.md and docs/failure-taxonomy.md are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from scribe_contract.taxonomy import TAXONOMY
from scribe_operator.codegen.docs import TAXONOMY_SECTION, fill, render_docs, sections
from scribe_operator.kinds.registry import APIS as KINDS

from tests.unit.codegen.test_crd import nodes

ROOT = Path(__file__).resolve().parents[3]


def test_generated_docs_are_current() -> None:
    rendered = render_docs(ROOT, KINDS)
    assert {path.relative_to(ROOT).as_posix() for path in rendered} == {
        "docs/api.md",
        "docs/batches.md",
        "docs/failure-taxonomy.md",
    }
    for path, text in rendered.items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is out of date: run `make manifests`"


def test_every_kind_has_its_own_fields_section_and_the_taxonomy_comes_last() -> None:
    wanted = [api.fields_doc for api in KINDS]
    assert [section for section, _ in sections(KINDS)] == [*wanted, TAXONOMY_SECTION]
    assert len(set(wanted)) == len(wanted)


def test_every_reason_is_documented() -> None:
    text = (ROOT / "docs/failure-taxonomy.md").read_text()
    for entry in TAXONOMY:
        assert f"`{entry.reason.value}`" in text


def test_fill_needs_the_markers() -> None:
    text = "a\n<!-- BEGIN GENERATED: x -->\nold\n<!-- END GENERATED: x -->\nb"
    assert fill(text, "x", "new\n") == "a\n<!-- BEGIN GENERATED: x -->\nnew\n<!-- END GENERATED: x -->\nb"
    with pytest.raises(ValueError, match="no generated section"):
        fill("nothing here", "x", "")


def test_every_task_table_column_maps_to_a_field_that_exists() -> None:
    """The task-table record that docs/failure-taxonomy.md maps lives on in fields the CRD really has."""
    text = (ROOT / "docs/failure-taxonomy.md").read_text()
    mapping = text.split("| task-table column |")[1].split("\n\n")[0]
    rows = [line for line in mapping.splitlines()[2:] if line.startswith("|")]
    columns = {row.split("|")[1].strip().strip("`") for row in rows}
    assert columns == {
        "status", "retries", "failure_reason", "last_error", "retry_at", "max_retries", "backoff_factor", "updated_at",
    }  # fmt: skip
    crd = yaml.safe_load((ROOT / "crds/scribe.dev_transcriptiontasks.yaml").read_text())
    paths = {path for path, _ in nodes(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"])}
    for row in rows:
        fields = re.findall(r"`((?:spec|status)\.[\w.\[\]]+)`", row)
        assert fields, row
        for field in fields:
            assert f".{field}" in paths, f"{field} is not in the CRD"


def test_every_task_table_failure_state_is_handled() -> None:
    text = (ROOT / "docs/failure-taxonomy.md").read_text()
    states = text.split("| task-table failure state |")[1].split("\n\n")[0].splitlines()[2:]
    assert [row.split("|")[1].strip().split(".")[0] for row in states] == [str(n) for n in range(1, 9)]
    reasons = {entry.reason.value for entry in TAXONOMY}
    for row in states[1:7]:  # the worker's and the operator's own failure states name their reasons
        assert set(re.findall(r"`([A-Z]\w+)`", row)) & reasons, row
