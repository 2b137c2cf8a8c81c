"""Operator processes the tests start: the session's (tests/e2e/conftest.py) and those a test starts for itself
(marker ``local_operator``), watching only the test's own namespace and with the settings the test needs (a short
pod-lost grace, a low memory cap, ...).

A test that uses its own must not also request the session ``operator`` fixture: then its namespace is not in the
session operator's SCRIBE_NAMESPACES, and this process is the only reconciler of its tasks.

``SCRIBE_E2E_EXTERNAL_OPERATOR=1``: the operator is already deployed in the cluster (e.g. by Helm) and no process is
started (:class:`ExternalOperator`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest

from tests.support.processes import free_port, terminate
from tests.support.wait import wait_for

REPO = Path(__file__).resolve().parents[2]
EXTERNAL = os.environ.get("SCRIBE_E2E_EXTERNAL_OPERATOR") == "1"
LOG_TAIL_LINES = 120
_NOISE = re.compile(r"Handler '[\w.]+' succeeded\.|GET /healthz")
"""kopf's per-event success lines and liveness probes, left out of the log tail shown on failure."""


PORT_TRIES = 3
"""Starts of an operator whose health or metrics port was taken before it could bind it."""


class _PortTaken(Exception):
    pass


class Operator:
    """The operator under test as a local process: ``start()``, ``kill()`` (SIGKILL), ``restart()``."""

    external = False

    def __init__(self, log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self.env = env
        self.health_port = int(env["SCRIBE_HEALTH_PORT"])
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start the process and wait until its liveness endpoint answers. A port another process took between
        choosing it and the operator binding it (``free_port`` can only pick one that was free) is chosen again, at
        most :data:`PORT_TRIES` times."""
        for tries_left in reversed(range(PORT_TRIES)):
            try:
                return self._start_once(timeout, port_retry=tries_left > 0)
            except _PortTaken:
                self.env.update(SCRIBE_HEALTH_PORT=str(free_port()), SCRIBE_METRICS_PORT=str(free_port()))
                self.health_port = int(self.env["SCRIBE_HEALTH_PORT"])

    def _start_once(self, timeout: float, port_retry: bool) -> None:
        assert not self.running, "the operator is already running"
        self.starts += 1
        self._log = self.log_path.open("ab")
        self._log.write(f"\n===== operator start #{self.starts} =====\n".encode())
        self._log.flush()
        since = self._log.tell()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scribe_operator"],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C to pytest is not also delivered to the operator
        )
        url = f"http://127.0.0.1:{self.health_port}/healthz"

        def healthy_or_exited() -> bool:
            if not self.running:
                return True
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)

        try:
            wait_for(f"the operator's liveness endpoint {url}", healthy_or_exited, timeout=timeout, interval=0.2)
        except AssertionError as exc:
            pytest.fail(f"{exc}\n{self.log_tail()}")
        if not self.running:
            if port_retry and "address already in use" in self.log_tail(since):
                self._close_log()
                raise _PortTaken
            pytest.fail(f"the operator exited with {self.returncode} while starting:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no last status write; as a node failure or OOM kill does it."""
        assert self.process is not None and self.running, "the operator is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._close_log()

    def restart(self) -> None:
        if self.running:
            self.kill()
        self.start()

    def stop(self) -> None:
        """Graceful stop (SIGTERM), SIGKILL if it does not exit in time."""
        if self.process is not None and self.running:
            terminate(self.process, grace=20)
        self._close_log()

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def require_local(self) -> None:
        """For tests that kill or restart the operator: a no-op here, a clear failure for an external operator."""

    def ensure_running(self) -> None:
        """Before a test: a crashed operator is a failure (with its log), not a silent restart."""
        if not self.running:
            pytest.fail(f"the operator is not running (exit code {self.returncode}):\n{self.log_tail()}")

    def log_offset(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(no operator log)"
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", errors="replace")
        tail = [line for line in text.splitlines() if not _NOISE.search(line)][-lines:]
        return f"--- operator log ({self.log_path}), last {len(tail)} lines ---\n" + "\n".join(tail)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


class ExternalOperator(Operator):
    """The operator runs in the cluster (SCRIBE_E2E_EXTERNAL_OPERATOR=1): nothing to start, nothing to kill."""

    external = True

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"), {"SCRIBE_HEALTH_PORT": "0"})

    @property
    def running(self) -> bool:
        return True

    def start(self, timeout: float = 60) -> None:
        return None

    def kill(self) -> None:
        pytest.fail(
            "SCRIBE_E2E_EXTERNAL_OPERATOR=1: the operator runs in the cluster and the tests cannot kill it; "
            'tests marked local_operator need the operator process the tests start (deselect: -m "not local_operator")',
            pytrace=False,
        )

    def restart(self) -> None:
        self.kill()

    def require_local(self) -> None:
        self.kill()

    def stop(self) -> None:
        return None

    def log_tail(self, since: int = 0, lines: int = LOG_TAIL_LINES) -> str:
        return "(the operator runs in the cluster: read its pod's logs)"


def operator_env(namespaces: str, **settings: str) -> dict[str, str]:
    """The environment of an operator process watching ``namespaces`` (comma-separated): this process's own, S3
    path-style addressing and text logs unless it says otherwise, free health and metrics ports, then ``settings``
    (``SCRIBE_*`` names; they win)."""
    env = dict(os.environ)
    env.setdefault("SCRIBE_S3_ADDRESSING_STYLE", "path")  # MinIO; a user's S3 may say otherwise
    env.setdefault("SCRIBE_LOG_FORMAT", "text")
    env.update(
        SCRIBE_NAMESPACES=namespaces,
        SCRIBE_HEALTH_PORT=str(free_port()),
        SCRIBE_METRICS_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


StartOperator = Callable[..., Operator]


@contextmanager
def own_operators(namespace: str, log_dir: Path) -> Iterator[StartOperator]:
    """Yield ``start(**settings)``: starts an operator watching ``namespace`` (``SCRIBE_*`` settings as keyword
    arguments, e.g. ``SCRIBE_POD_LOST_GRACE_SECONDS="10"``) and returns it; every one is stopped afterwards."""
    if EXTERNAL:
        ExternalOperator().require_local()  # fails, saying why
    started: list[Operator] = []

    def start(**settings: str) -> Operator:
        op = Operator(log_dir / f"operator-{len(started) + 1}.log", operator_env(namespace, **settings))
        started.append(op)
        op.start()
        return op

    try:
        yield start
    finally:
        for op in started:
            op.stop()


@contextmanager
def log_on_failure(op: Operator) -> Iterator[None]:
    """An assertion failing inside the block also shows what ``op`` logged (the session operator's log is added to
    failure reports by tests/e2e/conftest.py; a test's own operator's is not)."""
    since = op.log_offset()
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{op.log_tail(since=since)}") from None
