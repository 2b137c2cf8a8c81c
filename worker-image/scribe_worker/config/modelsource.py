"""Where the model comes from (``SCRIBE_MODEL``, ``SCRIBE_MODEL_DIR``, ``SCRIBE_MODEL_URLS``, ``SCRIBE_MODEL_URI``,
``SCRIBE_MODEL_CACHE_DIR``): a local directory, checked now, or S3 presigned URLs, checked for the required files
and fetched later (:mod:`scribe_worker.modelfetch`). Nothing is ever downloaded from the Hugging Face Hub.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from scribe_contract.env import MODEL, MODEL_CACHE_DIR, MODEL_DIR, MODEL_URI, MODEL_URLS
from scribe_contract.modelfiles import missing_names
from scribe_contract.options import DEFAULT_MODEL

from scribe_worker import models
from scribe_worker.config import values

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MODEL_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class ModelLocation:
    """Where the model comes from: a local directory (``dir``) or S3 (``urls``, fetched into ``cache_dir``)."""

    name: str
    dir: Path | None = None  # a local directory: baked into the image, or a mounted volume
    uri: str | None = None  # s3:// prefix, for messages (S3 only)
    urls: Mapping[str, str] = field(default_factory=dict)  # file name -> presigned GET (secret; S3 only)
    cache_dir: Path | None = None  # S3 only; None: a temp dir removed after the attempt

    @property
    def from_s3(self) -> bool:
        return bool(self.urls)


def read_model_source(env: Mapping[str, str]) -> ModelLocation:
    """The model's name and source; a local model must be installed, an S3 one must list every required file."""
    model = values.get(env, MODEL) or DEFAULT_MODEL
    if not _MODEL_NAME.match(model):
        raise values.invalid(f"{MODEL}={model!r} is not a valid model name")
    explicit_dir = values.get(env, MODEL_DIR)
    if values.get(env, MODEL_URLS):
        if explicit_dir:
            raise values.invalid(f"set one of {MODEL_DIR} and {MODEL_URLS}, not both")
        urls = values.json_object(env, MODEL_URLS, what="model file name to presigned URL")
        for name, url in urls.items():
            if not _MODEL_FILE.match(name) or name.startswith("."):
                raise values.invalid(f"{MODEL_URLS} has an invalid file name {name!r} (a plain file name, no path)")
            if not isinstance(url, str):
                raise values.invalid(f"{MODEL_URLS}[{name!r}] must be a string")
            values.presigned_url(f"{MODEL_URLS}[{name!r}]", url)
        missing = missing_names(urls)
        if missing:
            raise values.invalid(f"{MODEL_URLS} lacks required model files: {', '.join(missing)}")
        uri = values.s3_uri(MODEL_URI, values.required(env, MODEL_URI))
        return ModelLocation(model, uri=uri, urls=dict(urls), cache_dir=values.directory(env, MODEL_CACHE_DIR))
    try:
        model_dir = models.resolve(model, Path(explicit_dir) if explicit_dir else None)
    except models.ModelNotFound as exc:
        raise values.invalid(str(exc)) from None
    return ModelLocation(model, dir=model_dir)
