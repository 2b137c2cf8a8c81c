"""The generated sections of docs/api.md and docs/failure-taxonomy.md are current."""

from __future__ import annotations

from pathlib import Path

import pytest
from scribe_operator.api.docs import fill, main, render
from scribe_worker.taxonomy import TAXONOMY

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current() -> None:
    for path, text in render(ROOT).items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is out of date: run `make manifests`"


def test_docs_check_passes() -> None:
    assert main(["--check", str(ROOT)]) == 0


def test_every_reason_is_documented() -> None:
    text = (ROOT / "docs/failure-taxonomy.md").read_text()
    for entry in TAXONOMY:
        assert f"`{entry.reason.value}`" in text


def test_fill_needs_the_markers() -> None:
    text = "a\n<!-- BEGIN GENERATED: x -->\nold\n<!-- END GENERATED: x -->\nb"
    assert fill(text, "x", "new\n") == "a\n<!-- BEGIN GENERATED: x -->\nnew\n<!-- END GENERATED: x -->\nb"
    with pytest.raises(ValueError, match="no generated section"):
        fill("nothing here", "x", "")
