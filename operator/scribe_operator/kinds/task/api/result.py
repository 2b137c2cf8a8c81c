"""The result cache's two pieces of data: the hash of a task's transcript options, and the result record.

A successful attempt leaves a small JSON object beside its outputs, ``<output prefix>.scribe-result.json``: the
input's version (ETag and size, from the operator's preflight HEAD), the options hash and every output's ETag right
after the upload. A later task with the same output location finds it, and when the input is still that version,
its options hash is the same and every output still has its recorded ETag (nothing overwrote or deleted it), the
result is complete and current: the task succeeds with reason CacheHit and no pod.

The options hash covers every spec field except those listed in :data:`TRANSCRIPT_NEUTRAL` (where the input and the
outputs are, retries, scheduling and resources), plus the worker image and the operator's defaults that shape a
transcript. A new spec field is therefore part of the hash unless it is added to that list on purpose.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from scribe_operator.api.constants import API_VERSION
from scribe_operator.kinds.task.api.outputs import effective_formats, output_prefix
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec

RECORD_NAME: Final = ".scribe-result.json"
RECORD_KIND: Final = "TranscriptionResult"
TRANSCRIPT_NEUTRAL: Final = frozenset(
    {"input", "output", "retry_policy", "priority", "timeouts", "resources", "worker", "notification", "cache"}
)
"""Spec fields that do not change the transcript; every other field is hashed (worker.image is, on its own)."""


def options_hash(spec: TranscriptionTaskSpec, defaults: Mapping[str, str] | None = None) -> str:
    """``sha256:<hex>`` of what shapes the transcript: the spec's options (formats as written, json included), the
    worker image and the operator's ``defaults`` (default model, device, model source, worker image, ...)."""
    options = spec.model_dump(mode="json", exclude=set(TRANSCRIPT_NEUTRAL))
    options["formats"] = sorted(f.value for f in effective_formats(spec))
    document = {"options": options, "workerImage": spec.worker.image, "defaults": dict(defaults or {})}
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return f"sha256:{hashlib.sha256(encoded).hexdigest()}"


def record_uri(spec: TranscriptionTaskSpec) -> str:
    """Where the task's result record is: beside its outputs."""
    return f"{output_prefix(spec)}{RECORD_NAME}"


@dataclass(frozen=True)
class ResultRecord:
    """What a successful attempt recorded: the input version, the options hash, format -> (URI, ETag)."""

    input_uri: str
    input_etag: str
    input_size: int
    options: str
    outputs: Mapping[str, tuple[str, str]]

    def document(self, task: Mapping[str, str], attempt: int) -> dict[str, Any]:
        """The record's JSON; ``task`` (namespace, name, uid) and ``attempt`` say who wrote it."""
        return {
            "apiVersion": API_VERSION,
            "kind": RECORD_KIND,
            "input": {"uri": self.input_uri, "etag": self.input_etag, "size": self.input_size},
            "options": self.options,
            "outputs": {fmt: {"uri": uri, "etag": etag} for fmt, (uri, etag) in sorted(self.outputs.items())},
            "writtenBy": {**task, "attempt": attempt},
        }

    @classmethod
    def parse(cls, text: str | bytes) -> ResultRecord | None:
        """The record in ``text``; None unless it is a well-formed record of this API version."""
        try:
            raw = json.loads(text)
        except ValueError:
            return None
        if not isinstance(raw, dict) or raw.get("apiVersion") != API_VERSION or raw.get("kind") != RECORD_KIND:
            return None
        source, outputs = raw.get("input"), raw.get("outputs")
        if not isinstance(source, dict) or not isinstance(outputs, dict):
            return None
        uri, etag, size, options = source.get("uri"), source.get("etag"), source.get("size"), raw.get("options")
        if not (isinstance(uri, str) and isinstance(etag, str) and isinstance(options, str)):
            return None
        if isinstance(size, bool) or not isinstance(size, int):
            return None
        parsed: dict[str, tuple[str, str]] = {}
        for fmt, entry in outputs.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("uri"), str):
                return None
            if not isinstance(entry.get("etag"), str):
                return None
            parsed[str(fmt)] = (entry["uri"], entry["etag"])
        return cls(uri, etag, size, options, parsed)
