"""High availability: two operator replicas with leader election; the leader is killed mid-run.

The standby must take over within 15 s, every task must finish, and no attempt may get two pods. The replicas
are processes these tests start (marker ``local_operator``); they watch only this test's namespace.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.resources.coordination_v1 import Lease

from tests.support.operators import operator_env
from tests.support.s3 import Buckets
from tests.support.tasks import create_task, describe, pod_names, status_of, task_manifest, wait_for_phase
from tests.support.wait import wait_for

pytestmark = pytest.mark.local_operator
LEASE = "scribe-operator-ha-test"
TAKEOVER_LIMIT = 15.0


class Replica:
    """One operator replica: a process with leader election on, its log in a file."""

    def __init__(self, namespace: str, log_dir: Path, n: int) -> None:
        self.name = f"replica-{n}"
        self.log = log_dir / f"{self.name}.log"
        env = operator_env(
            namespace,
            HOSTNAME=self.name,
            SCRIBE_LEADER_ELECTION="true",
            SCRIBE_LEADER_ELECTION_NAMESPACE=namespace,
            SCRIBE_LEADER_ELECTION_LEASE=LEASE,
            SCRIBE_S3_ADDRESSING_STYLE="path",
            SCRIBE_LOG_FORMAT="text",
        )
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "scribe_operator"], env=env, stdout=out, stderr=out)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def replicas(namespace: str, crd: str, tmp_path: Path) -> Iterator[list[Replica]]:
    started = [Replica(namespace, tmp_path, n) for n in (1, 2)]
    try:
        yield started
    finally:
        for replica in started:
            replica.kill()


def _holder(kube: Client, namespace: str) -> str | None:
    spec = kube.get(Lease, LEASE, namespace=namespace).spec
    return spec.holderIdentity if spec is not None else None


def test_standby_takes_over_when_the_leader_is_killed_mid_run(
    kube: Client, namespace: str, replicas: list[Replica], buckets: Buckets, long_wav: Path
) -> None:
    leader = wait_for("a leader", lambda: _holder(kube, namespace), timeout=60)
    active = next(r for r in replicas if leader.startswith(f"{r.name}_"))
    standby = next(r for r in replicas if r is not active)

    uri = buckets.with_file(long_wav, "long.wav")
    names = [f"ha-{i}" for i in range(3)]
    for name in names:
        create_task(kube, task_manifest(name, uri, cache=False), namespace)  # each runs
    wait_for("an attempt pod running", lambda: any(pod_names(kube, n, namespace) for n in names), timeout=60)

    active.kill()  # mid-run: attempts are in flight
    killed_at = time.monotonic()
    wait_for(
        "the standby to take over",
        lambda: (holder := _holder(kube, namespace)) is not None and holder.startswith(f"{standby.name}_"),
        timeout=30,
        interval=0.1,
    )
    took = time.monotonic() - killed_at
    assert took <= TAKEOVER_LIMIT, f"the standby took {took:.1f}s to take over"
    assert "became leader" in standby.log.read_text()

    for name in names:
        task = wait_for_phase(kube, name, namespace, "Succeeded", timeout=240)
        status = task["status"]
        pods = pod_names(kube, name, namespace)
        assert len(pods) == len(set(pods)) == status["attempt"], describe(task)
        assert [a["attempt"] for a in status["attempts"]] == list(range(1, status["attempt"] + 1)), describe(task)
        assert status_of(kube, name, namespace)["phase"] == "Succeeded"
