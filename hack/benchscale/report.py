"""What a run leaves: the table on stdout, the profile summaries, the JSON results and the chart.

- ``table``: one column per phase, one row per number (docs/performance.md, "What each number means"), then the
  throughput and CPU ratios of tasks to Jobs, the restart, and notes (a failure mix not as scripted).
- ``profile_summary``: from py-spy's collapsed stacks, where the operator's event loop spent its busy time.
- ``merge_results``: a run's result into docs/performance-results.json (one entry per N); ``chart`` draws them all
  as docs/performance.png (throughput, and pod terminated -> status written, against N).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from benchscale.measure import Phase
from benchscale.names import OPERATOR_USER

Result = dict[str, Any]
"""A run, as scale-<N>.json and performance-results.json hold it."""


def _fmt(v: float | None, digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _per_item(p: Phase, value: float, digits: int) -> str:
    return _fmt(value / max(p.terminal, 1), digits)


def table(result: Result) -> str:
    phases = [Phase(**{k: v for k, v in p.items() if k != "per_s"}) for p in result["phases"]]
    cols = [p.name for p in phases]
    rows: list[tuple[str, list[str]]] = [
        ("controller", ["operator" if p.controller == OPERATOR_USER else "kube-controller-manager" for p in phases]),
        ("items terminal", [f"{p.terminal}/{p.n}" for p in phases]),
        ("outcomes", [",".join(f"{k}={v}" for k, v in sorted(p.outcomes.items())) for p in phases]),
        ("wall time to all terminal (s)", [_fmt(p.wall_s) for p in phases]),
        ("items/s", [_fmt(p.per_s, 2) for p in phases]),
        ("controller CPU ms per item", [_per_item(p, p.cpu_s * 1000, 1) for p in phases]),
        ("controller API requests per item", [_per_item(p, sum(p.requests.values()), 2) for p in phases]),
        ("  writes per item (with Events)", [_per_item(p, p.writes(), 2) for p in phases]),
        ("  writes per item (without Events)", [_per_item(p, p.writes(False), 2) for p in phases]),
        ("all API server requests per item", [_per_item(p, p.apiserver_requests, 1) for p in phases]),
    ]
    for metric, label in (
        ("create_to_pod_ms", "created -> pod created"),
        ("terminated_to_status_ms", "pod terminated -> status written"),
    ):
        for q in ("p50", "p99"):
            rows.append((f"{label} {q} (ms)", [_fmt(p.latency_ms.get(metric, {}).get(q), 0) for p in phases]))
    rows.append(("operator RSS after (MiB)", [_fmt(p.rss_mib) for p in phases]))
    for k in sorted({k for p in phases for k in p.requests}):
        rows.append((f"  {k} /item", [_per_item(p, p.requests.get(k, 0), 2) for p in phases]))
    width = max(len(r[0]) for r in rows) + 2
    colw = max(14, *(len(c) + 2 for c in cols), *(len(v) + 2 for _, vs in rows for v in vs))
    lines = [f"scale benchmark: N={result['n']}, kwok {result['kwok']}, {result['cores']} cores, {result['when']}"]
    lines.append("".ljust(width) + "".join(c.rjust(colw) for c in cols))
    lines += [label.ljust(width) + "".join(v.rjust(colw) for v in vs) for label, vs in rows]
    by = {p.name: p for p in phases}
    for jobs in ("jobs", "jobs-qps100"):
        if "tasks" in by and jobs in by and by[jobs].per_s:
            lines.append(f"throughput ratio tasks/{jobs}: {by['tasks'].per_s / by[jobs].per_s:.2f}")
            cpu_t = by["tasks"].cpu_s / max(by["tasks"].terminal, 1)
            cpu_j = by[jobs].cpu_s / max(by[jobs].terminal, 1)
            lines.append(f"CPU ratio per item tasks/{jobs}: {cpu_t / cpu_j:.2f}" if cpu_j else "")
    r = result.get("restart") or {}
    if r:
        lines.append(
            f"restart holding {r['finished_tasks']} finished tasks: idle after {_fmt(r['seconds_to_idle'], 2)} s, "
            f"writes {sum(r['writes'].values())} {r['writes'] or ''}, RSS {r['rss_mib_before']} MiB before, "
            f"{r['rss_mib_after']} MiB after"
        )
    lines += [f"note ({p.name}): {p.note}" for p in phases if p.note]
    return "\n".join(lines)


def profile_summary(path: Path, name: str, top: int = 20) -> str:
    """From py-spy's collapsed stacks: where the operator's event loop (its main thread) spent the time it was busy
    (not waiting in select), by the function a sample was in (self) and by every function on its stack (inclusive).
    Other threads (boto3 calls in the default executor, the metrics server) are summed separately."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = idle = threads = 0
    for line in path.read_text().splitlines() if path.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [
            f.split(" (")[0] + " (" + f.rsplit("(", 1)[-1].split(":")[0].rsplit("/", 1)[-1] + ")"
            for f in stack.split(";")
        ]
        n = int(count)
        if not frames[0].startswith("_run_module_as_main"):
            threads += n
            continue
        if frames[-1].split(" ")[0].endswith(".select"):
            idle += n
            continue
        busy += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    if not busy:
        return f"profile ({name}): no samples in {path}"
    lines = [
        f"profile ({name}): event loop busy {busy / 100:.0f} s, idle {idle / 100:.0f} s; other threads "
        f"{threads / 100:.0f} s sampled ({path}); shares of the busy time:",
        "  self:",
    ]
    lines += [f"    {n * 100 / busy:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("  inclusive:")
    lines += [f"    {n * 100 / busy:5.1f}%  {f}" for f, n in inclusive.most_common(top * 3) if n < busy * 0.99]
    return "\n".join(lines)


def merge_results(store: Path, result: Result) -> list[Result]:
    """Replace the entry with the same N in ``store`` by ``result`` (ordered by N); return every entry."""
    saved: list[Result] = json.loads(store.read_text()) if store.exists() else []
    saved = sorted([r for r in saved if r["n"] != result["n"]] + [result], key=lambda r: r["n"])
    store.write_text(json.dumps(saved, indent=1) + "\n")
    return saved


def chart(results: list[Result], out: Path) -> None:
    import matplotlib  # noqa: PLC0415 (only the chart needs it, and it is slow to import)

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt  # noqa: PLC0415

    results = sorted(results, key=lambda r: r["n"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels = {
        "tasks": "operator (tasks)",
        "jobs": "Job controller, QPS 20/30",
        "jobs-qps100": "Job controller, QPS 100/150",
    }
    for name, label in labels.items():
        pts = [(r["n"], p) for r in results for p in r["phases"] if p["name"] == name]
        if not pts:
            continue
        ns = [n for n, _ in pts]
        (line,) = left.plot(ns, [p["per_s"] for _, p in pts], marker="o", label=label)
        for q, style in (("p50", "-"), ("p99", "--")):
            got = [(p["latency_ms"].get("terminated_to_status_ms") or {}).get(q) for _, p in pts]
            if any(y is not None for y in got):
                ys = [float("nan") if y is None else y for y in got]
                right.plot(ns, ys, style, marker="o", color=line.get_color(), label=f"{label} {q}")
    left.set(xscale="log", xlabel="N items", ylabel="items/s to all terminal", title="Throughput")
    right.set(xscale="log", yscale="log", xlabel="N items", ylabel="ms", title="Pod terminated -> status written")
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("scribe-operator vs kube-controller-manager on kwok nodes (2 shared cores)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
