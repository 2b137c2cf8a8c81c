"""The command line: ``python hack/benchscale --n N [flags]`` (``make bench-scale N=...``); exit status 1 when a phase
left items not terminal or the failure mix did not come out as scripted."""

from __future__ import annotations

import argparse
import json
import os

from benchscale.names import REPO
from benchscale.phases import Bench, Options
from benchscale.report import chart, merge_results, table
from benchscale.waits import log

DESCRIPTION = "`make bench-scale N=1000`: N instant TranscriptionTasks against N Jobs, side by side on one API server."
STORE = REPO / "docs" / "performance-results.json"
CHART = REPO / "docs" / "performance.png"
FLAGS = {
    "--own-namespaces": "the operator watches only the benchmark's namespaces (the smoke test in `make test`)",
    "--skip-qps100": "no phase with kube-controller-manager at 100/150",
    "--tasks-only": "no Job phases (e.g. with --profile)",
    "--profile": "py-spy the operator during its phases (slows it)",
    "--docs": "merge the result into docs/performance-results.json and redraw docs/performance.png",
    "--chart-only": "only redraw docs/performance.png from the results",
}
"""The on/off flags, each with its help."""


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchscale", description=DESCRIPTION)
    parser.add_argument("--n", type=int, default=1000, help="items per phase (default 1000)")
    for flag, text in FLAGS.items():
        parser.add_argument(flag, action="store_true", help=text)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.chart_only:
        chart(json.loads(STORE.read_text()), CHART)
        return 0
    if not os.environ.get("KUBECONFIG"):
        raise SystemExit("KUBECONFIG is not set: run under `make bench-scale` (it sources .cluster/env)")
    options = Options(args.n, args.own_namespaces, args.skip_qps100, args.tasks_only, args.profile)
    bench = Bench(options)
    result = bench.run()
    (bench.dir / f"scale-{args.n}.json").write_text(json.dumps(result, indent=2))
    print(table(result), flush=True)
    if args.docs:
        chart(merge_results(STORE, result), CHART)
        log(f"wrote {STORE} and {CHART}")
    short = [p for p in result["phases"] if p["terminal"] < p["n"]]
    mix_note = next((p["note"] for p in result["phases"] if p["name"] == "mix" and p["note"]), "")
    if short or mix_note:
        log(f"incomplete: {[p['name'] for p in short]} {mix_note}")
        return 1
    return 0
