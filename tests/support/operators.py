"""Operator processes a test starts for itself (marker ``local_operator``): the same ``Operator`` the e2e session
uses (tests/e2e/conftest.py), but watching only the test's own namespace and with the settings the test needs
(a short pod-lost grace, a low memory cap, ...).

A test that uses one must not also request the session ``operator`` fixture: then its namespace is not in the session
operator's SCRIBE_NAMESPACES, and this process is the only reconciler of its tasks.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import EXTERNAL, ExternalOperator, Operator, _free_port

StartOperator = Callable[..., Operator]


@contextmanager
def own_operators(namespace: str, log_dir: Path) -> Iterator[StartOperator]:
    """Yield ``start(**settings)``: starts an operator watching ``namespace`` (``SCRIBE_*`` settings as keyword
    arguments, e.g. ``SCRIBE_POD_LOST_GRACE_SECONDS="10"``) and returns it; every one is stopped afterwards."""
    if EXTERNAL:
        ExternalOperator().require_local()  # fails, saying why
    started: list[Operator] = []

    def start(**settings: str) -> Operator:
        env = dict(os.environ)
        env.setdefault("SCRIBE_S3_ADDRESSING_STYLE", "path")
        env.setdefault("SCRIBE_LOG_FORMAT", "text")
        env.update(
            SCRIBE_NAMESPACES=namespace,
            SCRIBE_HEALTH_PORT=str(_free_port()),
            SCRIBE_METRICS_PORT=str(_free_port()),
            PYTHONUNBUFFERED="1",
            **settings,
        )
        op = Operator(log_dir / f"operator-{len(started) + 1}.log", env)
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
