"""The generated sections of the Markdown docs: each kind's field reference (from its CRD schema) and the failure
taxonomy.

The docs are hand-written around marked sections::

    <!-- BEGIN GENERATED: fields -->  ...  <!-- END GENERATED: fields -->

and only the text between a pair of markers is generated. A kind's spec and status fields go where its
:attr:`~scribe_operator.api.kind.KindApi.fields_doc` says; the failure taxonomy goes to
``docs/failure-taxonomy.md`` (:data:`TAXONOMY_SECTION`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Final

from scribe_contract.taxonomy import TAXONOMY, Reason, Source

from scribe_operator.api.kind import DocSection, KindApi
from scribe_operator.codegen.crd import openapi_schema

TAXONOMY_SECTION: Final = DocSection(doc="docs/failure-taxonomy.md", name="taxonomy")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _type(node: Mapping[str, Any]) -> str:
    if node.get("x-kubernetes-int-or-string"):
        return "int-or-string"
    kind = str(node.get("type", ""))
    if kind == "array":
        return f"[]{_type(node.get('items', {}))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), Mapping):
        return f"map[string]{_type(node['additionalProperties'])}"
    if node.get("format") == "date-time":
        return "date-time"
    return kind


def _validation(node: Mapping[str, Any], required: bool) -> str:
    parts = ["required"] if required else []
    if "enum" in node:
        parts.append("one of " + ", ".join(f"`{v}`" for v in node["enum"]))
    items = node.get("items", {})
    if "enum" in items:
        parts.append("items one of " + ", ".join(f"`{v}`" for v in items["enum"]))
    for key, label in (
        ("minimum", ">="),
        ("maximum", "<="),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("maxItems", "max items"),
        ("maxProperties", "max entries"),
    ):
        if key in node:
            parts.append(f"{label} {node[key]}")
    if "pattern" in node:
        parts.append(f"pattern `{node['pattern']}`")
    if node.get("x-kubernetes-list-type") == "set":
        parts.append("unique items")
    for rule in node.get("x-kubernetes-validations", ()):
        parts.append(f"CEL `{rule['rule']}` ({rule['message']})")
    return "; ".join(parts)


def _rows(node: Mapping[str, Any], path: str) -> Iterator[list[str]]:
    required = set(node.get("required", ()))
    for name, sub in node.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        default = f"`{_default(sub['default'])}`" if "default" in sub else ""
        yield [f"`{here}`", _type(sub), default, _validation(sub, name in required), sub.get("description", "")]
        yield from _rows(sub, here)
        if isinstance(sub.get("items"), Mapping):
            yield from _rows(sub["items"], f"{here}[]")


def _default(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return "{}" if value == {} else str(value)


def _table(header: list[str], rows: Iterable[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fields_reference(api: KindApi) -> str:
    """Markdown tables of every spec and status field of the kind."""
    props = openapi_schema(api)["properties"]
    spec_root = {"properties": {"spec": props["spec"]}, "required": ["spec"]}
    spec = _table(["field", "type", "default", "validation", "description"], _rows(spec_root, ""))
    status_rows = (row[:2] + row[4:] for row in _rows({"properties": {"status": props["status"]}}, ""))
    status = _table(["field", "type", "description"], status_rows)
    return f"### Spec\n\n{spec}\n### Status\n\n{status}"


def taxonomy_table() -> str:
    """Markdown table of the failure taxonomy."""
    origin = {Source.WORKER: "worker", Source.POD: "pod status", Source.OPERATOR: "operator"}
    rows = (
        [
            f"`{e.reason.value}`",
            origin[e.source],
            "" if e.exit_code is None else str(e.exit_code),
            _default_action(e.reason, e.retryable),
            e.description,
        ]
        for e in TAXONOMY
    )
    return _table(["reason", "detected by", "exit code", "default", "meaning"], rows)


def _default_action(reason: Reason, retryable: bool) -> str:
    if reason in (Reason.COMPLETED, Reason.CACHE_HIT):
        return "success"
    if reason is Reason.RETRIES_EXHAUSTED:
        return "terminal"
    return "retry" if retryable else "permanent"


def sections(kinds: Iterable[KindApi]) -> list[tuple[DocSection, Callable[[], str]]]:
    """Every generated section with what fills it: the kinds' field references, then the taxonomy."""
    out: list[tuple[DocSection, Callable[[], str]]] = [
        (api.fields_doc, partial(fields_reference, api)) for api in kinds
    ]
    out.append((TAXONOMY_SECTION, taxonomy_table))
    return out


def fill(text: str, name: str, content: str) -> str:
    """``text`` with the generated section ``name`` replaced by ``content``; ValueError if it has none."""
    pattern = re.compile(rf"(<!-- BEGIN GENERATED: {name} -->\n).*?(<!-- END GENERATED: {name} -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no generated section {name!r}")
    return pattern.sub(lambda m: m.group(1) + content + m.group(2), text)


def render_docs(root: Path, kinds: Iterable[KindApi]) -> dict[Path, str]:
    """Every doc file with generated sections, with its up-to-date text."""
    out: dict[Path, str] = {}
    for section, make in sections(kinds):
        path = root / section.doc
        out[path] = fill(out[path] if path in out else path.read_text(), section.name, make())
    return out
