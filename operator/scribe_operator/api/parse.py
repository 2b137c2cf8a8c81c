"""Read the operator's API objects from the API server without ever raising (every kind's parser is built from
these).

The operator must not crash on odd data. A bad spec (which the CRD schema should already have rejected)
yields a :class:`ValidationProblem` naming the fields. Status is the operator's own: unknown status fields
are ignored, and a status field that no longer validates is dropped (the operator rewrites status anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from scribe_operator.api.meta import ObjectMeta

SpecModelT = TypeVar("SpecModelT", bound=BaseModel)
StatusModelT = TypeVar("StatusModelT", bound=BaseModel)
ObjectModelT = TypeVar("ObjectModelT", bound=BaseModel)


@dataclass(frozen=True)
class ValidationProblem:
    """Why an object could not be understood; ``fields`` are dotted JSON paths (``spec.retryPolicy``)."""

    message: str
    fields: tuple[str, ...] = ()


def _plain(value: Any) -> Any:
    """Deep-copy mappings/sequences (e.g. kopf's Body views) into dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def _path(prefix: str, loc: tuple[int | str, ...]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.lstrip(".")


def problem_from(err: ValidationError, prefix: str = "") -> ValidationProblem:
    """A readable, field-naming summary of a pydantic error: ``spec.input: String should match ...``."""
    fields, lines = [], []
    for e in err.errors(include_url=False):
        path = _path(prefix, tuple(e["loc"])) or "<root>"
        fields.append(path)
        lines.append(f"{path}: {e['msg']}")
    return ValidationProblem("; ".join(lines), tuple(dict.fromkeys(fields)))


def validate_spec(model: type[SpecModelT], spec: Any) -> SpecModelT | ValidationProblem:
    """Validate a spec mapping as ``model``; a field-naming ValidationProblem when it does not validate."""
    if not isinstance(spec, Mapping):
        return ValidationProblem("spec: missing or not an object", ("spec",))
    try:
        return model.model_validate(_plain(spec))
    except ValidationError as err:
        return problem_from(err, "spec")


def validate_status(model: type[StatusModelT], status: Any) -> StatusModelT:
    """Validate a status mapping as ``model``, dropping what does not validate; never raises.

    A bad list item (one ``attempts[]`` entry) drops just that item; any other bad field drops the field.
    """
    data: dict[str, Any] = _plain(status) if isinstance(status, Mapping) else {}
    while True:
        try:
            return model.model_validate(data)
        except ValidationError as err:
            pruned = _prune(data, [tuple(e["loc"]) for e in err.errors()])
            if pruned == data:
                return model()
            data = pruned


def _prune(data: dict[str, Any], locs: list[tuple[int | str, ...]]) -> dict[str, Any]:
    """``data`` without the list items or top-level fields the error locations point into."""
    drop_fields: set[str] = set()
    drop_items: dict[str, set[int]] = {}
    for loc in locs:
        if not loc or not isinstance(loc[0], str):
            continue
        key = loc[0]
        if len(loc) > 1 and isinstance(loc[1], int) and isinstance(data.get(key), list):
            drop_items.setdefault(key, set()).add(loc[1])
        else:
            drop_fields.add(key)
    pruned = {k: v for k, v in data.items() if k not in drop_fields}
    for key, indexes in drop_items.items():
        if key in pruned:
            pruned[key] = [item for i, item in enumerate(pruned[key]) if i not in indexes]
    return pruned


def parse_object(
    obj: Mapping[str, Any],
    model: type[ObjectModelT],
    spec: Callable[[Any], BaseModel | ValidationProblem],
    status: Callable[[Any], BaseModel],
) -> ObjectModelT | ValidationProblem:
    """An API object (a task or a batch) from a raw object (dict, kopf body); a ValidationProblem if its spec or
    metadata is bad. Never raises."""
    try:
        parsed = spec(obj.get("spec"))
        if isinstance(parsed, ValidationProblem):
            return parsed
        meta_raw = obj.get("metadata")
        try:
            metadata = ObjectMeta.model_validate(_plain(meta_raw) if isinstance(meta_raw, Mapping) else {})
        except ValidationError as err:
            return problem_from(err, "metadata")
        return model(
            api_version=str(obj.get("apiVersion") or model.model_fields["api_version"].default),
            kind=str(obj.get("kind") or model.model_fields["kind"].default),
            metadata=metadata,
            spec=parsed,
            status=status(obj.get("status")),
        )
    except Exception as err:  # the contract is "never raises"
        return ValidationProblem(f"cannot read object: {type(err).__name__}: {err}")


@dataclass(frozen=True)
class ObjectReader(Generic[ObjectModelT, SpecModelT, StatusModelT]):
    """How the objects of one kind are read: its object, spec and status models. Never raises."""

    model: type[ObjectModelT]
    spec_model: type[SpecModelT]
    status_model: type[StatusModelT]

    def spec(self, spec: Any) -> SpecModelT | ValidationProblem:
        """The spec of a raw object; a field-naming ValidationProblem when it does not validate."""
        return validate_spec(self.spec_model, spec)

    def status(self, status: Any) -> StatusModelT:
        """The status of a raw object, dropping fields (or list items) that do not validate."""
        return validate_status(self.status_model, status)

    def object(self, obj: Mapping[str, Any]) -> ObjectModelT | ValidationProblem:
        """The object from a raw one (dict, kopf body); a ValidationProblem if its spec or metadata is bad."""
        return parse_object(obj, self.model, self.spec, self.status)
