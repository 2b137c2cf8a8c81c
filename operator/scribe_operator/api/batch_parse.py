"""Read TranscriptionBatch objects from the API server without ever raising (as :mod:`.parse` does for tasks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from .batch import BATCH_API_VERSION, BATCH_KIND, BatchStatus, TranscriptionBatch, TranscriptionBatchSpec
from .parse import ValidationProblem, _plain, _prune, problem_from
from .task import ObjectMeta


def parse_batch_spec(spec: Any) -> TranscriptionBatchSpec | ValidationProblem:
    if not isinstance(spec, Mapping):
        return ValidationProblem("spec: missing or not an object", ("spec",))
    try:
        return TranscriptionBatchSpec.model_validate(_plain(spec))
    except ValidationError as err:
        return problem_from(err, "spec")


def parse_batch_status(status: Any) -> BatchStatus:
    """The status, dropping fields (or list items) that do not validate; never raises."""
    data: dict[str, Any] = _plain(status) if isinstance(status, Mapping) else {}
    while True:
        try:
            return BatchStatus.model_validate(data)
        except ValidationError as err:
            pruned = _prune(data, [tuple(e["loc"]) for e in err.errors()])
            if pruned == data:
                return BatchStatus()
            data = pruned


def parse_batch(obj: Mapping[str, Any]) -> TranscriptionBatch | ValidationProblem:
    """A TranscriptionBatch from a raw object (dict, kopf body); a ValidationProblem if its spec is bad."""
    try:
        spec = parse_batch_spec(obj.get("spec"))
        if isinstance(spec, ValidationProblem):
            return spec
        meta_raw = obj.get("metadata")
        try:
            metadata = ObjectMeta.model_validate(_plain(meta_raw) if isinstance(meta_raw, Mapping) else {})
        except ValidationError as err:
            return problem_from(err, "metadata")
        return TranscriptionBatch(
            api_version=str(obj.get("apiVersion") or BATCH_API_VERSION),
            kind=str(obj.get("kind") or BATCH_KIND),
            metadata=metadata,
            spec=spec,
            status=parse_batch_status(obj.get("status")),
        )
    except Exception as err:  # the contract is "never raises"
        return ValidationProblem(f"cannot read object: {type(err).__name__}: {err}")
