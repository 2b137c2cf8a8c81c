"""The attempt's whole configuration (:class:`Config`), read and validated by :func:`load` from the environment.

The inputs and outputs (presigned URLs and their ``s3://`` names), the model source, the transcription and decoding
options, the device, timeouts, progress and where the termination message goes. Any invalid value is an
``InvalidConfiguration`` failure naming the variable, raised before the model is loaded or any audio is downloaded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scribe_contract.env import (
    ATTEMPT,
    COMPUTE_TYPE,
    CPU_THREADS,
    DEVICE,
    HTTP_TIMEOUT_SECONDS,
    INPUT_URI,
    INPUT_URL,
    OUTPUT_URIS,
    OUTPUT_URLS,
    PROGRESS_DIR,
    PROGRESS_INTERVAL_SECONDS,
    SECRET_VARIABLES,
    TASK_NAME,
    TERMINATION_MESSAGE_PATH,
    TMPDIR,
)
from scribe_contract.options import (
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_PROGRESS_INTERVAL,
    DEFAULT_TERMINATION_PATH,
    DEVICES,
    FORMATS,
)

from scribe_worker.config import values
from scribe_worker.config.decoding import DecodingOptions, read_decoding
from scribe_worker.config.modelsource import ModelLocation, read_model_source
from scribe_worker.config.transcription import Transcription, read_transcription

_COMPUTE_TYPE = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass(frozen=True)
class Config:
    input_url: str  # secret: presigned GET
    input_uri: str  # s3://bucket/key, for messages
    output_urls: Mapping[str, str]  # format -> presigned PUT (secret), in upload order (json last)
    output_uris: Mapping[str, str]  # format -> s3://bucket/key
    model_source: ModelLocation
    transcription: Transcription
    decoding: DecodingOptions
    device: str
    compute_type: str | None  # None: per device (int8 on CPU, float16 on CUDA)
    cpu_threads: int
    http_timeout: float
    progress_interval: float
    progress_dir: Path | None  # None: progress goes to the log only
    termination_path: Path
    tmpdir: Path | None

    @property
    def model(self) -> str:
        return self.model_source.name

    @property
    def model_dir(self) -> Path | None:
        return self.model_source.dir

    @property
    def language(self) -> str | None:
        return self.transcription.language

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.input_url, *self.output_urls.values(), *self.model_source.urls.values())


def _formats(name: str, mapping: Mapping[str, Any]) -> None:
    unknown = sorted(set(mapping) - set(FORMATS))
    if unknown:
        raise values.invalid(f"{name} has unknown formats {unknown}; known: {sorted(FORMATS)}")
    if "json" not in mapping:
        raise values.invalid(f"{name} must include the json format")
    for fmt, value in mapping.items():
        if not isinstance(value, str) or not value:
            raise values.invalid(f"{name}[{fmt!r}] must be a non-empty string")


def termination_path(env: Mapping[str, str]) -> Path:
    """Where to write the termination message; readable even when the rest of the config is invalid."""
    return Path(values.get(env, TERMINATION_MESSAGE_PATH) or DEFAULT_TERMINATION_PATH)


def log_context(env: Mapping[str, str]) -> dict[str, Any]:
    """Fields added to every log line; optional, never an error."""
    attempt = values.get(env, ATTEMPT)
    return {
        "attempt": int(attempt) if attempt.isdigit() else (attempt or None),
        "task": values.get(env, TASK_NAME) or None,
        "pod": values.get(env, "HOSTNAME") or None,
    }


def load(env: Mapping[str, str]) -> Config:
    """Parse and validate the environment; raises WorkerError(InvalidConfiguration) on any problem."""
    input_url = values.presigned_url(INPUT_URL, values.required(env, INPUT_URL))
    input_uri = values.s3_uri(INPUT_URI, values.required(env, INPUT_URI))

    urls = values.json_object(env, OUTPUT_URLS, what="format to URL")
    _formats(OUTPUT_URLS, urls)
    for fmt, url in urls.items():
        values.presigned_url(f"{OUTPUT_URLS}[{fmt!r}]", url)
    uris = values.json_object(env, OUTPUT_URIS, what="format to s3:// URI")
    _formats(OUTPUT_URIS, uris)
    if set(uris) != set(urls):
        raise values.invalid(f"{OUTPUT_URIS} formats {sorted(uris)} differ from {OUTPUT_URLS} formats {sorted(urls)}")
    for fmt, uri in uris.items():
        values.s3_uri(f"{OUTPUT_URIS}[{fmt!r}]", uri)
    ordered = [fmt for fmt in FORMATS if fmt in urls]

    source = read_model_source(env)
    transcription = read_transcription(env, source.name)
    decoding = read_decoding(env)

    raw_timeout = values.get(env, HTTP_TIMEOUT_SECONDS)
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_HTTP_TIMEOUT
    except ValueError:
        raise values.invalid(f"{HTTP_TIMEOUT_SECONDS}={raw_timeout!r} is not a number") from None
    if not 0 < timeout < math.inf:
        raise values.invalid(f"{HTTP_TIMEOUT_SECONDS}={raw_timeout!r} must be a positive number")

    compute_type = values.get(env, COMPUTE_TYPE).lower() or None
    if compute_type is not None and not _COMPUTE_TYPE.match(compute_type):
        raise values.invalid(f"{COMPUTE_TYPE}={compute_type!r} is not a compute type (e.g. int8, float16, float32)")

    raw_threads = values.get(env, CPU_THREADS) or "0"
    if not raw_threads.isdigit() or int(raw_threads) > 1024:
        raise values.invalid(f"{CPU_THREADS}={raw_threads!r} must be a non-negative integer (0 = auto)")

    progress = values.optional_number(env, PROGRESS_INTERVAL_SECONDS, 0.0, 86_400.0)

    return Config(
        input_url=input_url,
        input_uri=input_uri,
        output_urls={fmt: urls[fmt] for fmt in ordered},
        output_uris={fmt: uris[fmt] for fmt in ordered},
        model_source=source,
        transcription=transcription,
        decoding=decoding,
        device=values.choice(env, DEVICE, DEVICES, "auto"),
        compute_type=compute_type,
        cpu_threads=int(raw_threads),
        http_timeout=timeout,
        progress_interval=DEFAULT_PROGRESS_INTERVAL if progress is None else progress,
        progress_dir=values.directory(env, PROGRESS_DIR),
        termination_path=termination_path(env),
        tmpdir=values.directory(env, TMPDIR),
    )


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Every presigned URL in ``env``, best effort, so they can be scrubbed even if ``load`` fails."""
    found: list[str] = []
    for name in SECRET_VARIABLES:
        raw = values.get(env, name)
        found.append(raw)
        try:
            parsed = json.loads(raw) if raw.startswith("{") else {}
        except json.JSONDecodeError:
            parsed = {}
        if isinstance(parsed, dict):
            found.extend(v for v in parsed.values() if isinstance(v, str))
    return tuple(v for v in found if v)
