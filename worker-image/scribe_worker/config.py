"""The worker's whole configuration, read from environment variables (see docs/worker.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scribe_worker import models
from scribe_worker.errors import WorkerError
from scribe_worker.taxonomy import Reason

FORMATS = ("txt", "srt", "vtt", "json")  # also the upload order: json last, so it marks a complete result
DEFAULT_MODEL = "tiny.en"
DEFAULT_TERMINATION_PATH = Path("/dev/termination-log")
DEFAULT_HTTP_TIMEOUT = 30.0
DEFAULT_COMPUTE_TYPE = "int8"

_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_COMPUTE_TYPE = re.compile(r"^[a-z0-9_]{1,32}$")
_AUTO_LANGUAGE = {"", "auto"}


@dataclass(frozen=True)
class Config:
    input_url: str  # secret: presigned GET
    input_uri: str  # s3://bucket/key, for messages
    output_urls: Mapping[str, str]  # format -> presigned PUT (secret), in upload order (json last)
    output_uris: Mapping[str, str]  # format -> s3://bucket/key
    language: str | None  # None: auto-detect
    model: str
    model_dir: Path
    http_timeout: float
    termination_path: Path
    tmpdir: Path | None
    compute_type: str
    cpu_threads: int

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.input_url, *self.output_urls.values())


def _invalid(message: str) -> WorkerError:
    return WorkerError(Reason.INVALID_CONFIGURATION, message)


def _get(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _required(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if not value:
        raise _invalid(f"{name} is not set")
    return value


def _presigned_url(name: str, value: str) -> str:
    # Never echo the value: it is a credential.
    if not value.startswith(("https://", "http://")):
        raise _invalid(f"{name} must be an http(s) URL")
    return value


def _s3_uri(name: str, value: str) -> str:
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise _invalid(f"{name} must be an s3:// URI")
    return value


def _json_object(env: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = _required(env, name)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _invalid(f"{name} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict) or not value:
        raise _invalid(f"{name} must be a non-empty JSON object mapping format to URL")
    return value


def _formats(name: str, mapping: Mapping[str, Any]) -> None:
    unknown = sorted(set(mapping) - set(FORMATS))
    if unknown:
        raise _invalid(f"{name} has unknown formats {unknown}; known: {sorted(FORMATS)}")
    if "json" not in mapping:
        raise _invalid(f"{name} must include the json format")
    for fmt, value in mapping.items():
        if not isinstance(value, str) or not value:
            raise _invalid(f"{name}[{fmt!r}] must be a non-empty string")


def termination_path(env: Mapping[str, str]) -> Path:
    """Where to write the termination message; readable even when the rest of the config is invalid."""
    return Path(_get(env, "SCRIBE_TERMINATION_MESSAGE_PATH") or DEFAULT_TERMINATION_PATH)


def log_context(env: Mapping[str, str]) -> dict[str, Any]:
    """Fields added to every log line; optional, never an error."""
    attempt = _get(env, "SCRIBE_ATTEMPT")
    return {
        "attempt": int(attempt) if attempt.isdigit() else (attempt or None),
        "task": _get(env, "SCRIBE_TASK") or None,
        "pod": _get(env, "HOSTNAME") or None,
    }


def load(env: Mapping[str, str]) -> Config:
    """Parse and validate the environment; raises WorkerError(InvalidConfiguration) on any problem."""
    input_url = _presigned_url("SCRIBE_INPUT_URL", _required(env, "SCRIBE_INPUT_URL"))
    input_uri = _s3_uri("SCRIBE_INPUT_URI", _required(env, "SCRIBE_INPUT_URI"))

    urls = _json_object(env, "SCRIBE_OUTPUT_URLS")
    _formats("SCRIBE_OUTPUT_URLS", urls)
    for fmt, url in urls.items():
        _presigned_url(f"SCRIBE_OUTPUT_URLS[{fmt!r}]", url)
    uris = _json_object(env, "SCRIBE_OUTPUT_URIS")
    _formats("SCRIBE_OUTPUT_URIS", uris)
    if set(uris) != set(urls):
        raise _invalid(
            f"SCRIBE_OUTPUT_URIS formats {sorted(uris)} differ from SCRIBE_OUTPUT_URLS formats {sorted(urls)}"
        )
    for fmt, uri in uris.items():
        _s3_uri(f"SCRIBE_OUTPUT_URIS[{fmt!r}]", uri)
    ordered = [fmt for fmt in FORMATS if fmt in urls]

    language: str | None = _get(env, "SCRIBE_LANGUAGE").lower()
    if language in _AUTO_LANGUAGE:
        language = None
    elif not _LANGUAGE.match(language or ""):
        raise _invalid(f"SCRIBE_LANGUAGE={language!r} is not a language code (e.g. en, de, haw)")

    model = _get(env, "SCRIBE_MODEL") or DEFAULT_MODEL
    if not _MODEL_NAME.match(model):
        raise _invalid(f"SCRIBE_MODEL={model!r} is not a valid model name")
    explicit_dir = _get(env, "SCRIBE_MODEL_DIR")
    try:
        model_dir = models.resolve(model, Path(explicit_dir) if explicit_dir else None)
    except models.ModelNotFound as exc:
        raise _invalid(str(exc)) from None

    raw_timeout = _get(env, "SCRIBE_HTTP_TIMEOUT_SECONDS")
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_HTTP_TIMEOUT
    except ValueError:
        raise _invalid(f"SCRIBE_HTTP_TIMEOUT_SECONDS={raw_timeout!r} is not a number") from None
    if not 0 < timeout < float("inf"):
        raise _invalid(f"SCRIBE_HTTP_TIMEOUT_SECONDS={raw_timeout!r} must be a positive number")

    compute_type = _get(env, "SCRIBE_COMPUTE_TYPE") or DEFAULT_COMPUTE_TYPE
    if not _COMPUTE_TYPE.match(compute_type):
        raise _invalid(f"SCRIBE_COMPUTE_TYPE={compute_type!r} is not a compute type (e.g. int8, float32)")

    raw_threads = _get(env, "SCRIBE_CPU_THREADS") or "0"
    if not raw_threads.isdigit():
        raise _invalid(f"SCRIBE_CPU_THREADS={raw_threads!r} must be a non-negative integer (0 = auto)")

    tmpdir = _get(env, "SCRIBE_TMPDIR")
    if tmpdir and not Path(tmpdir).is_dir():
        raise _invalid(f"SCRIBE_TMPDIR={tmpdir} is not a directory")

    return Config(
        input_url=input_url,
        input_uri=input_uri,
        output_urls={fmt: urls[fmt] for fmt in ordered},
        output_uris={fmt: uris[fmt] for fmt in ordered},
        language=language,
        model=model,
        model_dir=model_dir,
        http_timeout=timeout,
        termination_path=termination_path(env),
        tmpdir=Path(tmpdir) if tmpdir else None,
        compute_type=compute_type,
        cpu_threads=int(raw_threads),
    )


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """Every presigned URL in ``env``, best effort, so they can be scrubbed even if ``load`` fails."""
    found = [_get(env, "SCRIBE_INPUT_URL")]
    raw = _get(env, "SCRIBE_OUTPUT_URLS")
    found.append(raw)
    try:
        parsed = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        parsed = {}
    if isinstance(parsed, dict):
        found.extend(v for v in parsed.values() if isinstance(v, str))
    return tuple(v for v in found if v)
