"""Generated parts of the user docs: the field reference (from the CRD schema) and the failure taxonomy.

``docs/api.md`` and ``docs/failure-taxonomy.md`` are hand-written around marked sections::

    <!-- BEGIN GENERATED: fields -->  ...  <!-- END GENERATED: fields -->

``python -m scribe_operator.kinds.task.api.docs [--check] [ROOT]`` rewrites those sections (``make manifests``);
with ``--check`` it only reports drift. A unit test runs the check.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from scribe_worker.taxonomy import TAXONOMY, Reason, Source

from scribe_operator.kinds.task.api.crd import openapi_schema

API_DOC: Final = "docs/api.md"
TAXONOMY_DOC: Final = "docs/failure-taxonomy.md"


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


def _table(header: list[str], rows: Iterator[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fields_reference() -> str:
    """Markdown tables of every spec and status field."""
    props = openapi_schema()["properties"]
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


SECTIONS: Final = {API_DOC: {"fields": fields_reference}, TAXONOMY_DOC: {"taxonomy": taxonomy_table}}


def fill(text: str, name: str, content: str) -> str:
    """``text`` with the generated section ``name`` replaced by ``content``; ValueError if it has none."""
    pattern = re.compile(rf"(<!-- BEGIN GENERATED: {name} -->\n).*?(<!-- END GENERATED: {name} -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no generated section {name!r}")
    return pattern.sub(lambda m: m.group(1) + content + m.group(2), text)


def render(root: Path) -> dict[Path, str]:
    """Every generated doc file's up-to-date text."""
    out = {}
    for doc, sections in SECTIONS.items():
        path = root / doc
        text = path.read_text()
        for name, make in sections.items():
            text = fill(text, name, make())
        out[path] = text
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    parser.add_argument("root", nargs="?", default=".", type=Path)
    args = parser.parse_args(argv)
    stale = [path for path, text in render(args.root).items() if path.read_text() != text]
    if args.check:
        for path in stale:
            print(f"{path} is out of date: run `make manifests`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in render(args.root).items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
