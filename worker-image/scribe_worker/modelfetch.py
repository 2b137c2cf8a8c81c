"""A model from S3: fetch each file with the presigned GET URL the operator signed, then verify the directory.

``SCRIBE_MODEL_URLS`` maps each file name (``model.bin``, ``config.json``, ``tokenizer.json``,
``vocabulary.txt``, ...) to its URL; the files land in ``SCRIBE_MODEL_CACHE_DIR`` (an emptyDir) or a temp
dir. This happens before the audio is downloaded, so a missing model costs no audio transfer:

- a file that is not there (404) or empty, or a directory that lacks a required file afterwards, is
  ``InvalidConfiguration`` (retrying will not conjure the model);
- a refused (403: the URL expired), failed (5xx, reset, timeout) or short download is ``DownloadFailed``
  (retryable; the next attempt gets fresh URLs).
"""

from __future__ import annotations

from pathlib import Path

import httpx
from scribe_contract.env import MODEL_URLS
from scribe_contract.taxonomy import Reason

from scribe_worker import models
from scribe_worker.config.modelsource import ModelLocation
from scribe_worker.download import download
from scribe_worker.errors import WorkerError

# What a download failure of a model file means (unlisted reasons keep theirs: DownloadFailed).
_REMAP = {
    Reason.INPUT_NOT_FOUND: Reason.INVALID_CONFIGURATION,
    Reason.INPUT_FORBIDDEN: Reason.DOWNLOAD_FAILED,
    Reason.INVALID_AUDIO: Reason.INVALID_CONFIGURATION,  # an empty file
}


def file_uri(source: ModelLocation, name: str) -> str:
    return f"{(source.uri or '').rstrip('/')}/{name}"


def fetch(client: httpx.Client, source: ModelLocation, dest: Path, *, timeout: float) -> int:
    """Download every file of ``source`` into ``dest``; returns the bytes fetched. Raises WorkerError."""
    total = 0
    for name, url in source.urls.items():
        target = dest / name
        partial = dest / f".{name}.part"
        try:
            total += download(
                client,
                url,
                partial,
                label=file_uri(source, name),
                timeout=timeout,
                noun="model file",
                url_variable=f"{MODEL_URLS}[{name!r}]",
            )
        except WorkerError as exc:
            partial.unlink(missing_ok=True)
            raise WorkerError(_REMAP.get(exc.reason, exc.reason), exc.message) from exc
        partial.replace(target)
    missing = models.missing_files(dest)
    if missing:
        raise WorkerError(
            Reason.INVALID_CONFIGURATION,
            f"model {source.name!r} from {source.uri} is incomplete: missing {', '.join(missing)}",
        )
    return total
