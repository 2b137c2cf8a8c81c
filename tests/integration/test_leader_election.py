"""Two operator replicas with leader election: one leads, the other waits; killing the leader hands over."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lightkube import Client
from lightkube.resources.coordination_v1 import Lease

from tests.support.wait import wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.local_operator]
LEASE = "scribe-operator-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Replica:
    def __init__(self, namespace: str, log_dir: Path, n: int) -> None:
        self.log = log_dir / f"replica-{n}.log"
        env = {
            **os.environ,
            "HOSTNAME": f"replica-{n}",
            "SCRIBE_NAMESPACES": namespace,
            "SCRIBE_LEADER_ELECTION": "true",
            "SCRIBE_LEADER_ELECTION_NAMESPACE": namespace,
            "SCRIBE_LEADER_ELECTION_LEASE": LEASE,
            "SCRIBE_LEADER_ELECTION_LEASE_SECONDS": "6",
            "SCRIBE_HEALTH_PORT": str(_free_port()),
            "SCRIBE_METRICS_PORT": str(_free_port()),
            "SCRIBE_LOG_FORMAT": "text",
        }
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "scribe_operator"], env=env, stdout=out, stderr=out)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def replicas(namespace: str) -> Iterator[list[Replica]]:
    with tempfile.TemporaryDirectory() as tmp:
        started = [Replica(namespace, Path(tmp), n) for n in (1, 2)]
        try:
            yield started
        finally:
            for r in started:
                r.stop()


def _holder(kube: Client, namespace: str) -> str | None:
    spec = kube.get(Lease, LEASE, namespace=namespace).spec
    return spec.holderIdentity if spec is not None else None


def test_one_replica_leads_and_a_standby_takes_over_when_it_is_killed(
    kube: Client, namespace: str, replicas: list[Replica]
) -> None:
    leader = wait_for("a leader", lambda: _holder(kube, namespace), timeout=60)
    index = 0 if leader.startswith("replica-1_") else 1
    replicas[index].proc.send_signal(signal.SIGKILL)
    replicas[index].proc.wait()
    killed_at = time.monotonic()
    successor = wait_for(
        "the standby to take over", lambda: (h := _holder(kube, namespace)) and h != leader and h, timeout=30
    )
    assert successor.startswith(f"replica-{2 - index}_")
    assert time.monotonic() - killed_at <= 15, "the standby must take over within 15 s"
    log = replicas[1 - index].log.read_text()
    assert "became leader" in log
