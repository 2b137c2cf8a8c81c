"""Pods the operator did not create never reach it: the pod watch is selected on the API server.

An operator watching the test's namespace; 250 pods without the operator's labels are created there and each is
then modified by the scheduler (they name a node that does not exist, so they stay Pending, marked Unschedulable).
Then one pod labelled ``scribe.dev/task`` is created, after all of them. The operator's
``scribe_watch_events_total{resource="pods"}`` counts that pod's events and none of the 500 before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Pod
from scribe_operator.api.constants import LABEL_TASK

from tests.support.metrics import scrape
from tests.support.objects import RESTRICTED_CONTAINER, create, pod_manifest
from tests.support.operators import StartOperator, log_on_failure, own_operators
from tests.support.wait import wait_for

pytestmark = pytest.mark.local_operator

FOREIGN_PODS = 250
NOWHERE = {
    "nodeSelector": {"scribe.dev/test-node": "does-not-exist"},
    "container": {"securityContext": RESTRICTED_CONTAINER},
}
POD_EVENTS = ("scribe_watch_events_total", frozenset({("resource", "pods")}))


@pytest.fixture
def start_operator(namespace: str, crd: str, tmp_path: Path) -> Iterator[StartOperator]:
    with own_operators(namespace, tmp_path) as start:
        yield start


def _unschedulable(pod: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "PodScheduled" and c.get("status") == "False"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def test_a_burst_of_foreign_pods_sends_the_operator_no_event(
    kube: Client, namespace: str, start_operator: StartOperator
) -> None:
    op = start_operator()
    port = op.env["SCRIBE_METRICS_PORT"]
    with log_on_failure(op):
        before = wait_for("the pod watch counter", lambda: (s := scrape(port)).get(POD_EVENTS) is not None and s)
        before_count = before[POD_EVENTS]
        for i in range(FOREIGN_PODS):
            create(kube, pod_manifest(f"foreign-{i}", ["true"], **NOWHERE), namespace)
        wait_for(
            f"the scheduler to mark all {FOREIGN_PODS} foreign pods Unschedulable",
            lambda: sum(_unschedulable(p.to_dict()) for p in kube.list(Pod, namespace=namespace)) == FOREIGN_PODS,
            timeout=120,
            interval=1,
        )
        owned = pod_manifest("owned", ["true"], **NOWHERE)
        owned["metadata"]["labels"] = {LABEL_TASK: "no-such-task"}
        create(kube, owned, namespace)
        # the owned pod's events come after every foreign pod's on the same watch stream
        after = wait_for("the owned pod's event", lambda: (v := scrape(port)[POD_EVENTS]) > before_count and v)
        assert after - before_count <= 3, (
            f"the operator received {after - before_count:.0f} pod events for 1 owned pod created after "
            f"{FOREIGN_PODS} foreign ones: the pod watch is not selected on the server"
        )
