"""Deterministic names of the objects a task owns, so a replayed create meets AlreadyExists.

Attempt ``N`` of task ``T`` runs in pod ``T-aN`` with its presigned URLs in secret ``T-aN-urls``. Long task
names (up to 253 characters) are shortened to a stable prefix plus a hash, so every name and the task label
value stay within 63 characters (valid as label values and DNS-1123 labels' length).
"""

from __future__ import annotations

import hashlib
from typing import Final

from scribe_operator.api.constants import MAX_RETRIES_LIMIT

MAX_LENGTH: Final = 63
_LONGEST_SUFFIX: Final = f"-a{MAX_RETRIES_LIMIT + 1}-urls"
_HASH_LENGTH: Final = 8


def shorten(name: str, budget: int) -> str:
    if len(name) <= budget:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{name[: budget - _HASH_LENGTH - 1].rstrip('-.')}-{digest}"


def base_name(task_name: str) -> str:
    """The task name, or a stable shortening of it, leaving room for the longest attempt suffix."""
    return shorten(task_name, MAX_LENGTH - len(_LONGEST_SUFFIX))


def pod_name(task_name: str, attempt: int) -> str:
    """Name of attempt ``attempt``'s pod: ``<task>-a<attempt>``."""
    return f"{base_name(task_name)}-a{attempt}"


def secret_name(task_name: str, attempt: int) -> str:
    """Name of attempt ``attempt``'s secret of presigned URLs: ``<task>-a<attempt>-urls``."""
    return f"{pod_name(task_name, attempt)}-urls"


def label_value(task_name: str) -> str:
    """Value of the ``scribe.dev/task`` label: the task name, shortened with a hash beyond 63 characters."""
    return shorten(task_name, MAX_LENGTH)
