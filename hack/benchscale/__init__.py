"""`make bench-scale N=1000`: N instant TranscriptionTasks against N Jobs, side by side on one API server.

Pods run on kwok nodes (sigs.k8s.io/kwok, hack/versions.env): kwok plays the kubelet of a few simulated Nodes (tainted,
so only the benchmark's pods land there) and moves each pod Pending -> Running -> Succeeded, or Failed with a chosen
exit code and termination message, without a process. So the benchmark measures the controllers, not the machine.

Phases, one after the other on the same API server: ``tasks`` (N tasks reconciled by the operator), ``jobs`` (N Jobs
reconciled by kube-controller-manager at its default client QPS), ``jobs-qps100`` (the same at QPS 100/150), ``mix``
(N tasks with a scripted failure mix: the retry path), ``restart`` (the operator restarted holding the finished
tasks). docs/performance.md says what each number means.

Requests per item and latencies come from the API server's audit log (.cluster/logs/audit.log, Metadata level): the
operator and kwok run as users of their own, the Job controller as its service account. CPU seconds come from
/proc/<pid>/stat of the operator and of kube-controller-manager. Results: a table on stdout, JSON in .cluster/bench/,
and with ``--docs`` merged into docs/performance-results.json and drawn as docs/performance.png.

The modules, in the order a run uses them:

- ``cli``: the command line and the exit status.
- ``names``: the users the audit log tells apart, the kwok nodes' names, selector and taint, the failure mix's names.
- ``workload``: the items (task and Job manifests, the failure mix) and the kwok stages that play their pods.
- ``cluster``: what a run starts, checks and removes (audit log, kwok, namespaces, leftovers of earlier runs, the
  operator process).
- ``apiserver``: readiness, and a watch that survives an API server still initialising (bounded retries).
- ``phases``: the phases, each created and watched to terminal, then measured.
- ``measure``: the audit log, /proc CPU and RSS, latencies.
- ``report``: the printed table, profile summaries, the JSON results and the chart.
- ``waits``: progress lines and bounded waits.
"""

from __future__ import annotations

import sys

from benchscale.names import REPO

for _path in (REPO / "tests" / "cluster", REPO):  # localcluster (the local cluster's tooling), tests.support
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from benchscale.cli import main  # noqa: E402

__all__ = ["main"]
