"""Every setting of the operator's settings model has a chart value, in values.yaml and values.schema.json, that
reaches the operator's environment: the chart is rendered with each setting's example value and the rendered
environment is read back through the operator's own parsing (:meth:`OperatorSettings.from_environ`). The list of
settings is the model's, so a setting added without its chart value fails here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml
from scribe_operator.runtime.settings import OperatorSettings, Section
from scribe_operator.runtime.settings.section import extra

from tests.unit.chart.rendering import CHART, env_of, operator_container, render

Setting = tuple[str, type[Section], str]  # (section attribute, section, field)


def all_settings() -> Iterator[Setting]:
    for attr, section in OperatorSettings.sections():
        for name in section.model_fields:
            yield attr, section, name


def example(section: type[Section], name: str) -> Any:
    examples = section.model_fields[name].examples
    assert examples, f"{section.__name__}.{name} has no example"
    return examples[0]


def chart_example(section: type[Section], name: str) -> Any:
    return extra(section.model_fields[name]).get("chart_example", example(section, name))


def groups() -> list[list[Setting]]:
    """The settings in as few renders as their examples allow together (some exclude each other)."""
    out: list[list[Setting]] = []
    for setting in all_settings():
        for group in out:
            together = {s[1].env_name(s[2]): example(s[1], s[2]) for s in [*group, setting]}
            try:
                OperatorSettings.from_environ(together)
            except ValueError:
                continue
            group.append(setting)
            break
        else:
            out.append([setting])
    return out


def lookup(tree: dict[str, Any], path: str, *, schema: bool = False) -> Any:
    """The value (or, with ``schema``, the schema node) at the dotted ``path``."""
    node: Any = tree
    for part in path.split("."):
        if schema:
            node = node.get("properties", {})
        assert isinstance(node, dict) and part in node, f"{path}: no {part!r}"
        node = node[part]
    return node


def test_every_setting_is_a_chart_value_with_a_schema() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    for _, section, name in all_settings():
        path = section.chart_value(name)
        lookup(values, path)
        assert "type" in lookup(schema, path, schema=True), path


def test_every_setting_reaches_the_operators_environment(helm: str) -> None:
    checked = 0
    for group in groups():
        values = {f"{s.chart_value(n)}:json": json.dumps(chart_example(s, n)) for _, s, n in group}
        env = env_of(operator_container(render(values)))
        settings = OperatorSettings.from_environ({k: v for k, v in env.items() if isinstance(v, str)})
        for attr, section, name in group:
            assert any(v in env for v in section.env_names(name)), f"{section.chart_value(name)} sets no variable"
            want, got = example(section, name), getattr(getattr(settings, attr), name)
            assert got == want or (isinstance(want, str) and want in str(got)), (section.chart_value(name), got, want)
            checked += 1
    assert checked == sum(1 for _ in all_settings())
    assert len(groups()) <= 3


def test_the_lease_can_live_in_another_namespace_with_its_role(helm: str) -> None:
    docs = render({"leaderElection.enabled": "true", "leaderElection.namespace": "ops"})
    env = env_of(operator_container(docs))
    assert env["SCRIBE_LEADER_ELECTION_NAMESPACE"] == "ops"
    lease_rbac = [
        d for d in docs if d["kind"] in ("Role", "RoleBinding") and "leader-election" in d["metadata"]["name"]
    ]
    assert sorted(d["kind"] for d in lease_rbac) == ["Role", "RoleBinding"]
    assert {d["metadata"]["namespace"] for d in lease_rbac} == {"ops"}
    default = env_of(operator_container(render({"leaderElection.enabled": "true"})))
    assert default["SCRIBE_LEADER_ELECTION_NAMESPACE"] == "scribe-system"


def test_the_charts_defaults_are_the_operators_unless_the_reference_says_otherwise(helm: str) -> None:
    """A chart value that sets a variable by default (a port, the pull policy) gives the operator's own default:
    the only differences are those the settings reference states ("the chart: ...")."""
    env = env_of(operator_container(render()))
    rendered = OperatorSettings.from_environ({k: v for k, v in env.items() if isinstance(v, str)})
    defaults = OperatorSettings()
    for attr, section, name in all_settings():
        stated = str(extra(section.model_fields[name]).get("default_doc", ""))
        if "the chart:" in stated:
            continue
        got, want = getattr(getattr(rendered, attr), name), getattr(getattr(defaults, attr), name)
        assert got == want, (section.env_name(name), got, want)
