"""The chart's optional monitoring: the PrometheusRule (alerts) and the Grafana dashboard ConfigMap.

Rendered offline with `helm template`; the alerts are also checked by `promtool check rules` and unit-tested with
`promtool test rules` on synthetic series (tests/unit/chart/prometheus/alerts_test.yaml). Every metric an alert or a
dashboard panel names must be one the operator exports (operator/scribe_operator/runtime/metrics.py).

Needs `helm` and `promtool`: on PATH (`source .cluster/env`) or in ~/.cache/scribe-operator/bin (`make binaries`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.metrics import exported_series, operator_metrics
from tests.unit.chart.rendering import (
    CHART,
    NAMESPACE,
    RELEASE,
    ROOT,
    assert_lint_passes,
    assert_schema_rejects,
    of_kind,
    one,
    render,
)

DASHBOARD_FILE = CHART / "dashboards" / "scribe-operator.json"
ALERTS_TEST = Path(__file__).parent / "prometheus" / "alerts_test.yaml"
JOB = f"{RELEASE}-scribe-operator-metrics"
ALERTS = {
    "ScribeDeadLetterGrowing",
    "ScribeAttemptFailureRateHigh",
    "ScribeTasksStuckRetrying",
    "ScribeCircuitBreakerOpen",
    "ScribeOperatorAbsent",
}
STATE_ALERTS = {"ScribeCircuitBreakerOpen", "ScribeOperatorAbsent"}  # on/off conditions: no $value to show
PR, GD = "monitoring.prometheusRule", "monitoring.grafanaDashboard"
ON = {f"{PR}.enabled": "true", f"{GD}.enabled": "true"}
PROMQL_WORDS = {
    "sum", "rate", "increase", "histogram_quantile", "absent", "by", "without", "le", "on", "ignoring", "and", "or",
    "unless", "bool", "max", "min", "avg", "count", "topk", "humanize",
}  # fmt: skip
SYNTHETIC = {"up"}  # series Prometheus makes itself for every scrape target


def metric_names(expr: str) -> set[str]:
    """Identifiers in a PromQL expression that name series (not functions, keywords, labels or durations)."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_matchers = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_grouping = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_matchers)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_grouping)
    idents = set(re.findall(r"[A-Za-z_:][\w:]*", without_ranges))
    return {i for i in idents if i not in PROMQL_WORDS and not i.startswith("__")}


def rule_of(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    rule = one(docs, "PrometheusRule")
    (group,) = rule["spec"]["groups"]
    return {r["alert"]: r for r in group["rules"]}


def dashboard_exprs(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) of every query of every panel (rows included)."""
    out: list[tuple[str, str]] = []
    panels = list(dashboard["panels"])
    while panels:
        panel = panels.pop(0)
        panels.extend(panel.get("panels", []))
        out += [(panel["title"], t["expr"]) for t in panel.get("targets", [])]
    return out


def alerts_doc_anchors() -> set[str]:
    """GitHub's anchors of the headings of docs/alerts.md."""
    headings = re.findall(r"^#+ (.+)$", (ROOT / "docs" / "alerts.md").read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


# --- off by default -----------------------------------------------------------------------------------------------


def test_monitoring_is_off_by_default(helm: str) -> None:
    docs = render()
    assert not of_kind(docs, "PrometheusRule")
    assert not of_kind(docs, "ConfigMap")


@pytest.mark.parametrize("values", [ON, {**ON, "watchNamespaces": "{media}", "replicaCount": "2"}], ids=["on", "ha"])
def test_helm_lint_passes_with_monitoring(helm: str, values: dict[str, str]) -> None:
    assert_lint_passes(values)


# --- the ServiceMonitor -------------------------------------------------------------------------------------------


def test_service_monitor_scrapes_the_metrics_service_keeping_the_task_namespace(helm: str) -> None:
    monitor = one(
        render({"metrics.serviceMonitor.enabled": "true", "metrics.serviceMonitor.interval": "15s"}), "ServiceMonitor"
    )
    assert monitor["metadata"]["namespace"] == NAMESPACE
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "metrics"
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint == {"port": "metrics", "path": "/metrics", "honorLabels": True, "interval": "15s"}
    renamed = one(
        render({"metrics.serviceMonitor.enabled": "true", "metrics.serviceMonitor.honorLabels": "false"}),
        "ServiceMonitor",
    )
    assert renamed["spec"]["endpoints"][0]["honorLabels"] is False


# --- the PrometheusRule -------------------------------------------------------------------------------------------


def test_prometheus_rule_has_the_five_alerts(helm: str) -> None:
    docs = render({**ON, f"{PR}.labels.release": "kube-prometheus-stack"})
    rule = one(docs, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["namespace"] == NAMESPACE
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE
    alerts = rule_of(docs)
    assert set(alerts) == ALERTS
    anchors = alerts_doc_anchors()
    for name, alert in alerts.items():
        assert alert["labels"]["severity"] in ("warning", "critical"), name
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"], name
        assert "{{ $value" in annotations["description"] or name in STATE_ALERTS, name
        url, _, anchor = annotations["runbook_url"].partition("#")
        assert url.endswith("/docs/alerts.md") and anchor == name.lower(), annotations["runbook_url"]
        assert anchor in anchors, f"docs/alerts.md has no section #{anchor}"
        assert f'job="{JOB}"' in alert["expr"], (name, alert["expr"])
    assert alerts["ScribeOperatorAbsent"]["labels"]["severity"] == "critical"
    assert "kubectl scribe dead" in alerts["ScribeDeadLetterGrowing"]["annotations"]["description"]


def test_alert_expressions_name_the_right_metrics(helm: str) -> None:
    alerts = rule_of(render(ON))
    expected = {
        "ScribeDeadLetterGrowing": {"scribe_dead_lettered_total"},
        "ScribeAttemptFailureRateHigh": {"scribe_attempt_failures_total", "scribe_attempts_started_total"},
        "ScribeTasksStuckRetrying": {"scribe_tasks"},
        "ScribeCircuitBreakerOpen": {"scribe_circuit_breaker_open"},
        "ScribeOperatorAbsent": {"up"},
    }
    for name, alert in alerts.items():
        assert metric_names(alert["expr"]) == expected[name], (name, alert["expr"])
        assert metric_names(alert["expr"]) <= exported_series() | SYNTHETIC
    assert "increase(scribe_dead_lettered_total" in alerts["ScribeDeadLetterGrowing"]["expr"]
    assert "[1h]" in alerts["ScribeDeadLetterGrowing"]["expr"]
    assert 'phase="Retrying"' in alerts["ScribeTasksStuckRetrying"]["expr"]
    ratio = alerts["ScribeAttemptFailureRateHigh"]["expr"]
    assert "[15m]" in ratio and re.search(r"/\s*\(sum\(rate\(scribe_attempts_started_total[^)]*\)\)\s*>\s*0\)", ratio)
    assert alerts["ScribeOperatorAbsent"]["expr"] == f'absent(up{{job="{JOB}"}} == 1)'
    assert alerts["ScribeCircuitBreakerOpen"]["expr"] == f'max(scribe_circuit_breaker_open{{job="{JOB}"}}) > 0'


def test_alert_thresholds_durations_and_labels_are_values(helm: str) -> None:
    docs = render(
        {
            **ON,
            f"{PR}.deadLetterGrowing.threshold": "20",
            f"{PR}.deadLetterGrowing.for": "0m",
            f"{PR}.attemptFailureRateHigh.threshold": "0.25",
            f"{PR}.attemptFailureRateHigh.for": "30m",
            f"{PR}.tasksStuckRetrying.threshold": "3",
            f"{PR}.tasksStuckRetrying.for": "2h",
            f"{PR}.circuitBreakerOpen.for": "2h",
            f"{PR}.circuitBreakerOpen.severity": "critical",
            f"{PR}.operatorAbsent.for": "5m",
            f"{PR}.operatorAbsent.severity": "page",
            f"{PR}.alertLabels.team": "audio",
            f"{PR}.job": "scribe",
            f"{PR}.runbookUrl": "https://wiki.example.com/scribe/",
        }
    )
    alerts = rule_of(docs)
    assert alerts["ScribeDeadLetterGrowing"]["expr"].endswith("> 20")
    assert alerts["ScribeDeadLetterGrowing"]["for"] == "0m"
    assert alerts["ScribeAttemptFailureRateHigh"]["expr"].endswith("> 0.25")
    assert alerts["ScribeAttemptFailureRateHigh"]["for"] == "30m"
    assert alerts["ScribeTasksStuckRetrying"]["expr"].endswith("> 3")
    assert alerts["ScribeTasksStuckRetrying"]["for"] == "2h"
    breaker = alerts["ScribeCircuitBreakerOpen"]
    assert (breaker["for"], breaker["labels"]["severity"]) == ("2h", "critical")
    absent = alerts["ScribeOperatorAbsent"]
    assert (absent["for"], absent["labels"]["severity"]) == ("5m", "page")
    for name, alert in alerts.items():
        assert alert["labels"]["team"] == "audio", name
        assert 'job="scribe"' in alert["expr"] and JOB not in alert["expr"], name
        assert alert["annotations"]["runbook_url"] == f"https://wiki.example.com/scribe#{name.lower()}"


def test_alerts_can_be_left_out_one_by_one(helm: str) -> None:
    docs = render({**ON, f"{PR}.tasksStuckRetrying.enabled": "false"})
    assert set(rule_of(docs)) == ALERTS - {"ScribeTasksStuckRetrying"}


# --- promtool -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promtool() -> str:
    cache_dir = Path(os.environ.get("SCRIBE_CACHE", Path.home() / ".cache" / "scribe-operator"))
    for candidate in (shutil.which("promtool"), cache_dir / "bin" / "promtool"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.fail(f"promtool not found on PATH nor in {cache_dir}/bin: run `make binaries` (builds it)")


def rules_file(path: Path, *, annotations: bool = True) -> Path:
    """The rendered PrometheusRule's groups as a Prometheus rule file (default values, release `scribe`)."""
    groups = one(render(ON), "PrometheusRule")["spec"]["groups"]
    if not annotations:
        strip = [{k: v for k, v in r.items() if k != "annotations"} for g in groups for r in g["rules"]]
        groups = [{**groups[0], "rules": strip}]
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def run_promtool(promtool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120, check=False, cwd=cwd)


def test_promtool_check_rules(helm: str, promtool: str, tmp_path: Path) -> None:
    rules = rules_file(tmp_path / "rules.yaml")
    proc = run_promtool(promtool, "check", "rules", str(rules), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in proc.stdout, proc.stdout


def test_promtool_unit_tests_of_the_alerts(helm: str, promtool: str, tmp_path: Path) -> None:
    """Each alert fires on synthetic series that should make it fire, and stays quiet on those that should not."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())["monitoring"]["prometheusRule"]
    # the thresholds alerts_test.yaml is written for
    assert (values["deadLetterGrowing"]["threshold"], values["deadLetterGrowing"]["for"]) == (5, "5m")
    assert (values["attemptFailureRateHigh"]["threshold"], values["attemptFailureRateHigh"]["for"]) == (0.5, "15m")
    assert (values["tasksStuckRetrying"]["threshold"], values["tasksStuckRetrying"]["for"]) == (0, "1h")
    assert values["circuitBreakerOpen"]["for"] == "30m"
    assert values["operatorAbsent"]["for"] == "10m"
    rules_file(tmp_path / "rules.yaml", annotations=False)
    shutil.copy(ALERTS_TEST, tmp_path / "alerts_test.yaml")
    tested = {t["alertname"] for g in yaml.safe_load(ALERTS_TEST.read_text())["tests"] for t in g["alert_rule_test"]}
    assert tested == ALERTS
    proc = run_promtool(promtool, "test", "rules", "alerts_test.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


# --- the Grafana dashboard ----------------------------------------------------------------------------------------


def test_dashboard_configmap(helm: str) -> None:
    docs = render({**ON, f"{GD}.annotations.grafana_folder": "Scribe"})
    configmap = one(docs, "ConfigMap")
    meta = configmap["metadata"]
    assert meta["namespace"] == NAMESPACE and meta["labels"]["grafana_dashboard"] == "1"
    assert meta["annotations"] == {"grafana_folder": "Scribe"}
    (key,) = configmap["data"]
    assert key.endswith(".json")
    assert json.loads(configmap["data"][key]) == json.loads(DASHBOARD_FILE.read_text())

    elsewhere = one(
        render(
            {
                **ON,
                f"{GD}.namespace": "monitoring",
                f"{GD}.sidecarLabel": "grafana.com/dashboard",
                f"{GD}.sidecarLabelValue": "scribe",
                f"{GD}.labels.team": "audio",
            }
        ),
        "ConfigMap",
    )
    assert elsewhere["metadata"]["namespace"] == "monitoring"
    assert elsewhere["metadata"]["labels"]["grafana.com/dashboard"] == "scribe"
    assert elsewhere["metadata"]["labels"]["team"] == "audio"
    assert "grafana_dashboard" not in elsewhere["metadata"]["labels"]


def test_dashboard_queries_only_metrics_the_operator_exports() -> None:
    dashboard = json.loads(DASHBOARD_FILE.read_text())
    assert dashboard["uid"] == "scribe-operator" and dashboard["title"]
    exprs = dashboard_exprs(dashboard)
    assert len(exprs) >= 10
    used: set[str] = set()
    for title, expr in exprs:
        names = metric_names(expr)
        assert names, f"panel {title!r}: no metric in {expr!r}"
        assert names <= exported_series(), f"panel {title!r} queries {names - exported_series()}, not exported"
        assert 'job=~"$job"' in expr, f"panel {title!r} ignores the job variable: {expr}"
        used |= names
    # every metric the operator exports is on the dashboard
    for name, kind in operator_metrics().items():
        assert (f"{name}_bucket" if kind == "histogram" else name) in used, f"{name} is on no panel"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    assert metric_names(variables["job"]["definition"].replace("label_values", "")) <= exported_series() | {"job"}


def test_dashboard_has_the_panels_the_docs_promise() -> None:
    dashboard = json.loads(DASHBOARD_FILE.read_text())
    by_title: dict[str, str] = {}
    for title, expr in dashboard_exprs(dashboard):
        by_title[title] = f"{by_title[title]} or {expr}" if title in by_title else expr
    wanted = {
        "Tasks by phase": "scribe_tasks",
        "Failures by reason": "scribe_attempt_failures_total",
        "Dead-lettered by reason (1h)": "scribe_dead_lettered_total",
        "Retries scheduled": "scribe_retries_scheduled_total",
        "Attempt duration p50 / p95": "scribe_attempt_duration_seconds_bucket",
        "Time to success p95": "scribe_task_time_to_success_seconds_bucket",
        "Reconcile latency p99": "scribe_reconcile_duration_seconds_bucket",
        "Reconcile errors": "scribe_reconcile_errors_total",
        "Kubernetes API requests": "scribe_kube_api_requests_total",
        "Attempts started and failed": "scribe_attempts_started_total",
    }
    for title, metric in wanted.items():
        assert title in by_title and metric in metric_names(by_title[title]), title
    docs = (ROOT / "docs" / "metrics.md").read_text()
    for title in wanted:
        assert f"| {title} |" in docs, f"docs/metrics.md does not describe the panel {title!r}"
    assert "histogram_quantile(0.99" in by_title["Reconcile latency p99"]
    assert "by (verb, resource)" in by_title["Kubernetes API requests"]


def test_dashboard_panels_do_not_overlap() -> None:
    panels = json.loads(DASHBOARD_FILE.read_text())["panels"]
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[x, y]!r}"
                cells[x, y] = panel["title"]


# --- docs and schema ----------------------------------------------------------------------------------------------


def test_every_operator_metric_is_documented() -> None:
    text = (ROOT / "docs" / "metrics.md").read_text()
    for name in operator_metrics():
        assert f"| `{name}` |" in text, f"{name} is not in docs/metrics.md's table"
    assert "(alerts.md)" in text


def test_metric_name_parser() -> None:
    expr = 'histogram_quantile(0.95, sum by (le) (rate(scribe_x_bucket{job=~"$job",a="b c"}[$__rate_interval])))'
    assert metric_names(expr) == {"scribe_x_bucket"}
    assert metric_names('sum(a_total{x="y"}) / (sum(rate(b_total[15m])) > 0) > 0.5') == {"a_total", "b_total"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({f"{PR}.enabled": "yes"}, "/monitoring/prometheusRule/enabled"),
        ({f"{PR}.deadLetterGrowing.for": "soon"}, "/monitoring/prometheusRule/deadLetterGrowing/for"),
        (
            {f"{PR}.attemptFailureRateHigh.threshold": "half"},
            "/monitoring/prometheusRule/attemptFailureRateHigh/threshold",
        ),
        ({f"{PR}.tasksStuckRetrying.threshold": "-1"}, "/monitoring/prometheusRule/tasksStuckRetrying/threshold"),
        ({f"{PR}.operatorAbsent.severity": "very bad"}, "/monitoring/prometheusRule/operatorAbsent/severity"),
        ({f"{PR}.operatorAbsent.threshold": "1"}, "threshold"),
        ({f"{PR}.runbookUrl": "docs/alerts.md"}, "/monitoring/prometheusRule/runbookUrl"),
        ({f"{GD}.sidecarLabelValue:json": "1"}, "/monitoring/grafanaDashboard/sidecarLabelValue"),
        ({"monitoring.grafanaDashbord.enabled": "true"}, "grafanaDashbord"),
    ],
)
def test_schema_rejects_bad_monitoring_values(helm: str, values: dict[str, str], field: str) -> None:
    assert_schema_rejects(values, field)
