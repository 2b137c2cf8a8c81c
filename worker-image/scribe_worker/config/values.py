"""Readers of single environment values: each returns the parsed value or raises an ``InvalidConfiguration``
failure that names the variable (and never echoes a value that may be a credential).

A variable that is unset or empty (after stripping whitespace) counts as unset: the optional readers return None
for it, so the caller applies the documented default.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scribe_contract.options import MAX_PROMPT_CHARS
from scribe_contract.taxonomy import Reason

from scribe_worker.errors import WorkerError

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def invalid(message: str) -> WorkerError:
    """The failure for a missing or invalid variable."""
    return WorkerError(Reason.INVALID_CONFIGURATION, message)


def get(env: Mapping[str, str], name: str) -> str:
    """The variable's value, stripped; ``""`` when unset."""
    return env.get(name, "").strip()


def required(env: Mapping[str, str], name: str) -> str:
    value = get(env, name)
    if not value:
        raise invalid(f"{name} is not set")
    return value


def presigned_url(name: str, value: str) -> str:
    """``value`` if it is an http(s) URL; the message never echoes it: it is a credential."""
    if not value.startswith(("https://", "http://")):
        raise invalid(f"{name} must be an http(s) URL")
    return value


def s3_uri(name: str, value: str) -> str:
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise invalid(f"{name} must be an s3:// URI")
    return value


def json_object(env: Mapping[str, str], name: str, *, what: str) -> dict[str, Any]:
    """A required, non-empty JSON object mapping ``what``."""
    raw = required(env, name)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid(f"{name} is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(value, dict) or not value:
        raise invalid(f"{name} must be a non-empty JSON object mapping {what}")
    return value


def choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    """One of ``choices`` (case-insensitive), ``default`` when unset."""
    value = get(env, name).lower() or default
    if value not in choices:
        raise invalid(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def boolean(env: Mapping[str, str], name: str) -> bool | None:
    """True, False, or None when unset."""
    value = get(env, name).lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise invalid(f"{name}={value!r} must be true or false")


def integer(env: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    """An integer from ``low`` to ``high``, None when unset."""
    raw = get(env, name)
    if not raw:
        return None
    if not re.fullmatch(r"[+-]?\d{1,9}", raw) or not low <= int(raw) <= high:
        raise invalid(f"{name}={raw!r} must be an integer from {low} to {high}")
    return int(raw)


def number(raw: str, name: str, low: float, high: float) -> float:
    """``raw`` as a finite number from ``low`` to ``high``."""
    try:
        value = float(raw)
    except ValueError:
        raise invalid(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise invalid(f"{name}={raw!r} must be a number from {low:g} to {high:g}")
    return value


def optional_number(env: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    """A number from ``low`` to ``high``, None when unset."""
    raw = get(env, name)
    return number(raw, name, low, high) if raw else None


def text(env: Mapping[str, str], name: str) -> str | None:
    """Free text of at most ``MAX_PROMPT_CHARS`` characters, None when unset."""
    value = get(env, name)
    if len(value) > MAX_PROMPT_CHARS:
        raise invalid(f"{name} is {len(value)} characters long; at most {MAX_PROMPT_CHARS}")
    return value or None


def directory(env: Mapping[str, str], name: str) -> Path | None:
    """An existing directory, None when unset."""
    raw = get(env, name)
    if raw and not Path(raw).is_dir():
        raise invalid(f"{name}={raw} is not a directory")
    return Path(raw) if raw else None
