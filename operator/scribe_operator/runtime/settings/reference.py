"""The settings reference, generated from the settings model (:mod:`.model`), so that no default or meaning is
written twice:

- the settings tables of docs/operator.md (every section but the batches') and docs/batches.md (the batches'),
  between ``<!-- BEGIN GENERATED: settings -->`` and ``<!-- END GENERATED: settings -->``;
- the chart's ``settings`` values (charts/scribe-operator/values.yaml, between ``# BEGIN GENERATED: settings``
  and ``# END GENERATED: settings``): one key per setting whose chart value is in ``settings``, null (the
  operator's default, given in brackets) by default;
- their schema (``properties.settings`` of values.schema.json): the setting's type (or null), its constraints,
  and what the chart checks beyond them.

``python -m scribe_operator.runtime.settings.reference [--check] [ROOT]`` (``make manifests``) writes them;
``--check`` writes nothing and exits 1 when a file differs. A unit test runs the check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from scribe_operator.runtime.settings.model import OperatorSettings
from scribe_operator.runtime.settings.section import CHART_SETTINGS, Section, extra
from scribe_operator.runtime.settings.sections import BatchSection

OPERATOR_DOC: Final = "docs/operator.md"
BATCH_DOC: Final = "docs/batches.md"
VALUES: Final = "charts/scribe-operator/values.yaml"
SCHEMA: Final = "charts/scribe-operator/values.schema.json"
SECTION: Final = "settings"
DECIMAL: Final = r"^[0-9]+(\.[0-9]+)?$"
WIDTH: Final = 120

Setting = tuple[type[Section], str]


def settings(*, batch: bool | None = None) -> Iterator[Setting]:
    """Every setting, section by section; only the batches' (``batch=True``) or all others (``False``)."""
    for _, section in OperatorSettings.sections():
        if batch is None or (section is BatchSection) == batch:
            for name in section.model_fields:
                yield section, name


def default_text(section: type[Section], name: str) -> str:
    """The default as the reference states it (Markdown)."""
    info = section.model_fields[name]
    stated = extra(info).get("default_doc")
    if stated:
        return str(stated)
    value = info.default
    if value is None:
        return "none"
    return f"`{_plain(value)}`"


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- docs -----------------------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table(*, batch: bool) -> str:
    """The Markdown tables of the settings: one per section."""
    out: list[str] = []
    current: type[Section] | None = None
    for section, name in settings(batch=batch):
        if section is not current:
            current = section
            if out:
                out.append("")
            if not batch:
                out += [f"**{section.TITLE}**", ""]
            out += ["| variable | chart value | default | meaning |", "|---|---|---|---|"]
        first, *others = section.env_names(name)
        variable = f"`{first}`" + (f" (or {', '.join(f'`{o}`' for o in others)})" if others else "")
        description = section.model_fields[name].description or ""
        row = (variable, f"`{section.chart_value(name)}`", default_text(section, name), _cell(description))
        out.append("| " + " | ".join(row) + " |")
    return "\n".join(out) + "\n"


def fill_markdown(text: str, content: str) -> str:
    """``text`` with its generated settings section replaced by ``content``; ValueError if it has none."""
    pattern = re.compile(rf"(<!-- BEGIN GENERATED: {SECTION} -->\n).*?(<!-- END GENERATED: {SECTION} -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"no generated section {SECTION!r}")
    return pattern.sub(lambda m: m.group(1) + content + m.group(2), text)


# --- chart values ---------------------------------------------------------------------------------------------------


def chart_settings() -> Iterator[tuple[str, Setting]]:
    """(key under ``settings``, setting) of every setting the chart's ``settings`` map sets."""
    prefix = f"{CHART_SETTINGS}."
    for section, name in settings():
        path = section.chart_value(name)
        if path.startswith(prefix):
            yield path.removeprefix(prefix), (section, name)


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=f"{indent}# -- ", subsequent_indent=f"{indent}# ")


def values_block() -> str:
    """The chart's ``settings`` map, with a comment per key (its meaning and, in brackets, the default)."""
    lines = [
        "# -- Operator settings (the SCRIBE_* environment; docs/operator.md, docs/batches.md). null: the operator's",
        "# built-in default, given in brackets.",
        f"{CHART_SETTINGS}:",
    ]
    for key, (section, name) in chart_settings():
        description = section.model_fields[name].description or ""
        default = default_text(section, name).replace("`", "")
        lines += [*_comment(f"{description} [{default}]", "  "), f"  {key}: null"]
    return "\n".join(lines) + "\n"


def fill_values(text: str, content: str) -> str:
    pattern = re.compile(rf"(^# BEGIN GENERATED: {SECTION}\n).*?(^# END GENERATED: {SECTION}$)", re.S | re.M)
    if not pattern.search(text):
        raise ValueError(f"no generated section {SECTION!r}")
    return pattern.sub(lambda m: m.group(1) + content + m.group(2), text)


# --- chart schema ---------------------------------------------------------------------------------------------------


def chart_property(section: type[Section], name: str) -> dict[str, Any]:
    """The schema of one ``settings`` value: the setting's type or null, its constraints, the chart's checks."""
    node = section.model_json_schema()["properties"][name]
    base = next(v for v in node.get("anyOf", [node]) if v.get("type") != "null")
    kind = base["type"]
    description = section.model_fields[name].description or ""
    out: dict[str, Any] = {}
    if kind == "number":
        out["type"] = ["number", "string", "null"]
        description += " A number (or a decimal string, as --set gives)."
        out["pattern"] = DECIMAL
    else:
        out["type"] = [kind, "null"]
    out["description"] = description
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern"):
        if key in base:
            out[key] = base[key]
    if "enum" in base:
        out["enum"] = [*base["enum"], None]
    out.update(extra(section.model_fields[name]).get("chart_schema", {}))
    return out


def schema_settings() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Operator settings (the SCRIBE_* environment); null: the operator's default.",
        "properties": {key: chart_property(*setting) for key, setting in chart_settings()},
        "additionalProperties": False,
    }


def fill_schema(text: str) -> str:
    schema = json.loads(text)
    schema["properties"][CHART_SETTINGS] = schema_settings()
    return json.dumps(schema, indent=2) + "\n"


# --- the files ------------------------------------------------------------------------------------------------------


def generated(root: Path) -> dict[Path, str]:
    """Every file with generated settings, with its up-to-date text."""
    return {
        root / OPERATOR_DOC: fill_markdown((root / OPERATOR_DOC).read_text(), settings_table(batch=False)),
        root / BATCH_DOC: fill_markdown((root / BATCH_DOC).read_text(), settings_table(batch=True)),
        root / VALUES: fill_values((root / VALUES).read_text(), values_block()),
        root / SCHEMA: fill_schema((root / SCHEMA).read_text()),
    }


def stale(root: Path) -> list[str]:
    return [
        f"{path} is out of date: run `make manifests`"
        for path, text in generated(root).items()
        if path.read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scribe_operator.runtime.settings.reference", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file drifted")
    parser.add_argument("root", nargs="?", default=".", type=Path)
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.root)
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    for path, text in generated(args.root).items():
        if path.read_text() != text:
            path.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
