"""ParsedByVersion: one parse per object and resourceVersion, only what ``keep`` accepts, dropped when forgotten."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scribe_operator.runtime.parsecache import ParsedByVersion

KEY = ("media", "a")


class CountingParse:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, body: Mapping[str, Any]) -> dict[str, Any]:
        self.calls += 1
        return {"parsed": dict(body)}


def _body(version: str | None, spec: str = "x") -> dict[str, Any]:
    meta = {"name": "a", "namespace": "media", **({"resourceVersion": version} if version else {})}
    return {"metadata": meta, "spec": spec}


def test_the_same_resource_version_is_parsed_once() -> None:
    parse = CountingParse()
    cache = ParsedByVersion(parse)
    first = cache.parse(KEY, _body("7"))
    assert cache.parse(KEY, _body("7")) is first and parse.calls == 1
    newer = cache.parse(KEY, _body("8", spec="y"))
    assert parse.calls == 2 and newer["parsed"]["spec"] == "y" and len(cache) == 1  # the old parse is replaced
    assert cache.parse(("media", "b"), _body("8")) is not newer and parse.calls == 3  # by key, not by version alone


def test_a_body_without_a_resource_version_is_parsed_every_time() -> None:
    parse = CountingParse()
    cache = ParsedByVersion(parse)
    cache.parse(KEY, _body(None))
    cache.parse(KEY, _body(None))
    assert parse.calls == 2 and len(cache) == 0


def test_what_keep_refuses_is_not_kept_and_replaces_an_older_parse() -> None:
    parse = CountingParse()
    cache = ParsedByVersion(parse, keep=lambda parsed: parsed["parsed"]["spec"] != "done")
    cache.parse(KEY, _body("1"))
    assert len(cache) == 1
    cache.parse(KEY, _body("2", spec="done"))
    cache.parse(KEY, _body("2", spec="done"))
    assert parse.calls == 3 and len(cache) == 0


def test_a_forgotten_object_is_parsed_again() -> None:
    parse = CountingParse()
    cache = ParsedByVersion(parse)
    cache.parse(KEY, _body("1"))
    cache.forget(KEY)
    cache.parse(KEY, _body("1"))
    assert parse.calls == 2
