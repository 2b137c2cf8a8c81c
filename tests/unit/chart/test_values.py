"""The chart's values: every value documented in values.yaml and covered by values.schema.json, and bad values
refused naming the field.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from tests.unit.chart.rendering import (
    CHART,
    assert_schema_rejects,
)

# --- schema -----------------------------------------------------------------------------------------------------


def value_path(key: str) -> str:
    """Where a ``--set`` key (``a.b``, or ``a.b:json`` for ``--set-json``) stands in the values: ``/a/b``."""
    return "/" + key.removesuffix(":json").replace(".", "/")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("replicaCount", "0"),
        ("replicaCount", "two"),
        ("replicaCount:json", "1.5"),
        ("s3.addressingStyle", "sideways"),
        ("image.tag:json", "1.0"),
        ("image.pullPolicy", "Sometimes"),
        ("watchNamespaces", "{a,b,a}"),
        ("settings.logFormat", "xml"),
        ("settings.maxMemoryLimit", "lots"),
        ("settings.maxRunningAttempts:json", "-1"),
        ("settings.breakerCooldownSeconds", "soon"),
        ("crds.install", "maybe"),
    ],
)
def test_schema_rejects_a_bad_value_naming_its_field(helm: str, key: str, value: str) -> None:
    assert_schema_rejects({key: value}, value_path(key))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"watchNamespaces:json": '["Not_A_Namespace"]'}, "/watchNamespaces/0"),  # the item
        ({"networkPolicy.enabled": "true"}, "/networkPolicy/s3Cidrs"),  # what it needs
        ({"settings.maxAtemptSeconds": "10"}, "maxAtemptSeconds"),  # an unknown key is named, not its path
        ({"replicaCunt": "2"}, "replicaCunt"),
    ],
)
def test_schema_rejects_bad_values_naming_the_field_at_fault(helm: str, values: dict[str, str], field: str) -> None:
    assert_schema_rejects(values, field)


# Values whose default is a literal Kubernetes object, documented as a whole by the comment above them.
LITERAL_OBJECTS = {"podSecurityContext", "securityContext", "resources", "livenessProbe", "readinessProbe", "dns"}


def test_values_file_documents_every_value() -> None:
    """Every key in values.yaml has a comment right above it, except inside literal Kubernetes objects."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    parents: list[tuple[int, str]] = []  # (indent, key) of the enclosing keys
    for number, line in enumerate(lines, 1):
        match = re.match(r"^( *)([A-Za-z][\w.-]*):", line)
        if not match:
            continue
        indent, key = len(match.group(1)), match.group(2)
        parents = [(i, k) for i, k in parents if i < indent]
        inside_literal = any(k in LITERAL_OBJECTS for _, k in parents)
        grouping = line.rstrip().endswith(":") and key in ("image", "service", "serviceMonitor", "worker", "tests")
        if not inside_literal and not grouping:
            assert lines[number - 2].strip().startswith("#"), f"values.yaml:{number}: `{key}` has no comment above"
        parents.append((indent, key))


def test_schema_covers_every_value() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    def walk(node: Any, sub: dict[str, Any], path: str) -> None:
        if not isinstance(node, dict) or "properties" not in sub:
            return
        for key, value in node.items():
            assert key in sub["properties"], f"{path}.{key} is not in values.schema.json"
            walk(value, sub["properties"][key], f"{path}.{key}")

    walk(values, schema, "")
