"""The operator's Prometheus metrics as the tests see them: the families runtime/metrics.py defines, and scrapes."""

from __future__ import annotations

import re
import urllib.request
from functools import cache
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

METRICS_SOURCE = Path(__file__).resolve().parents[2] / "operator" / "scribe_operator" / "runtime" / "metrics.py"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""(sample name, labels) -> value."""


@cache
def operator_metrics() -> dict[str, str]:
    """name -> type (counter, histogram, gauge) of every metric family runtime/metrics.py defines."""
    text = METRICS_SOURCE.read_text()
    found = re.findall(r'\b(Counter|Histogram|Gauge|GaugeMetricFamily|Summary|_namespace_counter)\(\s*"(\w+)"', text)
    kinds = {"_namespace_counter": "counter"}
    metrics = {name: kinds.get(kind) or kind.removesuffix("MetricFamily").lower() for kind, name in found}
    assert len(metrics) >= 10, f"found only {metrics} in {METRICS_SOURCE}"
    return metrics


def exported_series() -> set[str]:
    """The series names a scrape of the operator can show (histograms as _bucket, _sum and _count)."""
    names: set[str] = set()
    for name, kind in operator_metrics().items():
        names |= {f"{name}{s}" for s in ("_bucket", "_sum", "_count")} if kind == "histogram" else {name}
    return names


def parse_samples(text: str) -> Samples:
    """Every sample of a /metrics page."""
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[s.name, frozenset(s.labels.items())] = s.value
    return samples


def scrape(port: int | str) -> Samples:
    """Every sample of the operator's /metrics page on ``port`` (127.0.0.1)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return parse_samples(response.read().decode())
