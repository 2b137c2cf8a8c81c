"""Turn a pydantic JSON schema into a Kubernetes structural OpenAPI v3 schema.

Pydantic emits JSON Schema (2020-12): ``$ref``/``$defs``, ``anyOf [X, null]`` for optionals and titles.
A CRD needs a structural schema: everything inlined, ``nullable: true`` instead of the null branch, and no
keywords the API server rejects. Anything this module cannot translate faithfully raises ``SchemaError``
rather than producing a schema that silently validates differently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

DROPPED: Final = frozenset({"title", "examples"})
FORBIDDEN: Final = frozenset(
    {"exclusiveMinimum", "exclusiveMaximum", "uniqueItems", "const", "propertyNames", "oneOf", "allOf", "not"}
)
INT_OR_STRING: Final = "x-kubernetes-int-or-string"


class SchemaError(ValueError):
    """The pydantic schema uses something a structural CRD schema cannot express."""


def structural(schema: Mapping[str, Any], *, defaults: bool = True) -> dict[str, Any]:
    """The structural equivalent of the pydantic ``schema``; ``defaults=False`` drops every default."""
    return _convert(schema, schema.get("$defs", {}), defaults, "")


def _convert(node: Mapping[str, Any], defs: Mapping[str, Any], defaults: bool, path: str) -> dict[str, Any]:
    node = _resolve(node, defs, path)
    if "anyOf" in node and not node.get(INT_OR_STRING):
        node = _optional(node, defs, path)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED or key == "$defs" or (key == "default" and (not defaults or value is None)):
            continue
        if key in FORBIDDEN or key == "$ref":
            raise SchemaError(f"{path or '<root>'}: {key} is not allowed in a structural schema")
        if key == "properties":
            out[key] = {name: _convert(sub, defs, defaults, f"{path}.{name}") for name, sub in value.items()}
        elif key == "items" or (key == "additionalProperties" and isinstance(value, Mapping)):
            out[key] = _convert(value, defs, defaults, f"{path}[]")
        elif key == "additionalProperties" and value is not True:
            raise SchemaError(f"{path}: additionalProperties: {value!r} is not allowed")
        elif key == "additionalProperties":
            continue
        elif key == "description":
            out[key] = " ".join(str(value).split())
        else:
            out[key] = value
    if "type" not in out and not out.get(INT_OR_STRING):
        raise SchemaError(f"{path or '<root>'}: every node of a structural schema needs a type")
    return {key: out[key] for key in sorted(out)}


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    """Inline a ``$ref``; keywords next to the ``$ref`` (description, default) win over the target's."""
    ref = node.get("$ref")
    if ref is None:
        return node
    name = str(ref).removeprefix("#/$defs/")
    if name not in defs:
        raise SchemaError(f"{path}: unresolvable $ref {ref}")
    siblings = {k: v for k, v in node.items() if k != "$ref"}
    return {**_resolve(defs[name], defs, path), **siblings}


def _optional(node: Mapping[str, Any], defs: Mapping[str, Any], path: str) -> dict[str, Any]:
    """``anyOf: [X, {type: null}]`` -> X with ``nullable: true``; other unions are not structural."""
    branches = node["anyOf"]
    present = [b for b in branches if b.get("type") != "null"]
    if len(present) != 1 or len(branches) != 2:
        raise SchemaError(f"{path}: only Optional[X] unions can be expressed (got anyOf {branches!r})")
    rest = {k: v for k, v in node.items() if k != "anyOf"}
    return {**_resolve(present[0], defs, path), **rest, "nullable": True}
