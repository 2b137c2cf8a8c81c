"""The parse of each object's body, kept for the resourceVersion it was parsed from.

An object is reconciled again with the same body (the same resourceVersion) on every event of its pods and on every
requeue; parsing the body into the API model each time is work the previous reconcile already did.
``ParsedByVersion.parse(key, body)`` returns the parse kept for ``key`` when the body's resourceVersion is the one it
was parsed from; otherwise it parses the body and keeps the result in place of the old one. A body without a
resourceVersion is parsed every time and nothing is kept for it.

Only what ``keep`` accepts is kept (e.g. not a finished task, which is rarely reconciled again), so the cache holds
the objects in flight, one parse each. The API models are values: callers change them only through copies
(``model_copy``, ``with_status``), never in place, so a kept parse is the body it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from scribe_operator.api.meta import ObjectKey

T = TypeVar("T")


def _always(_: object) -> bool:
    return True


class ParsedByVersion(Generic[T]):
    def __init__(self, parse: Callable[[Mapping[str, Any]], T], keep: Callable[[T], bool] = _always) -> None:
        self._parse, self._keep = parse, keep
        self._kept: dict[ObjectKey, tuple[str, T]] = {}

    def parse(self, key: ObjectKey, body: Mapping[str, Any]) -> T:
        """``body`` parsed, from the kept parse when it was parsed at the same resourceVersion."""
        version = str((body.get("metadata") or {}).get("resourceVersion") or "")
        kept = self._kept.get(key)
        if version and kept is not None and kept[0] == version:
            return kept[1]
        parsed = self._parse(body)
        if version and self._keep(parsed):
            self._kept[key] = (version, parsed)
        else:
            self._kept.pop(key, None)
        return parsed

    def forget(self, key: ObjectKey) -> None:
        """The object is gone: drop its parse."""
        self._kept.pop(key, None)

    def __len__(self) -> int:
        return len(self._kept)
