"""Talking to an API server that may not be ready yet: right after ``make cluster-up`` (or a restart of
kube-apiserver) it can answer 429 while a resource's storage initialises, and a watch then ends with an error status.

- ``wait_ready``: until ``/readyz`` answers ok (bounded; on timeout it names the checks that failed).
- ``wait_serving``: until a list of a resource in a namespace answers (the resource's storage is serving).
- ``watch_until``: a watch that is opened again when it ends with an error (an error status, a refused or dropped
  connection), from a fresh list, so every object is seen again and no change is missed. Retries are bounded: at most
  ``RetryBudget.attempts`` failures in a row, over at most ``RetryBudget.seconds``, and ``RetryBudget.total`` in all;
  each is logged with its reason, and giving up raises ``WatchFailed`` saying why.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from lightkube import AsyncClient, Client
from lightkube.core.exceptions import ApiError

from benchscale.waits import log, wait


class WatchFailed(RuntimeError):
    """A watch that kept failing past its retry budget; the message says what it watched and why it failed."""


def describe(exc: BaseException) -> str:
    """One line: the API server's status (code, reason, message) when it sent one, else the exception."""
    if isinstance(exc, ApiError) and exc.status is not None:
        return f"HTTP {exc.status.code} {exc.status.reason or ''}: {exc.status.message or ''}".strip()
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code} {exc.response.reason_phrase}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass
class RetryBudget:
    """How often, and for how long, a failing watch is opened again."""

    what: str
    attempts: int = 10
    """Failures in a row (no object seen in between)."""
    seconds: float = 120.0
    """From the first failure of a row to the last retry."""
    total: int = 30
    """Failures over the whole watch."""
    delay: float = 0.5
    """The first retry's wait; it doubles with each failure in a row, up to ``max_delay``."""
    max_delay: float = 8.0
    _row: list[str] = field(default_factory=list)
    _since: float = 0.0
    _failures: int = 0

    def progressed(self) -> None:
        """An object came: the next failure starts a new row."""
        self._row.clear()

    def failed(self, exc: BaseException, now: float | None = None) -> float:
        """Count a failure: the seconds to wait before retrying, or ``WatchFailed`` once the budget is spent."""
        now = time.monotonic() if now is None else now
        if not self._row:
            self._since = now
        self._row.append(describe(exc))
        self._failures += 1
        why = (
            f"{len(self._row)} failures in a row" if len(self._row) > self.attempts
            else f"failing for {now - self._since:.0f}s" if now - self._since > self.seconds
            else f"{self._failures} failures in all" if self._failures > self.total
            else ""
        )  # fmt: skip
        if why:
            raise WatchFailed(f"gave up watching {self.what}: {why}; last: {self._row[-1]}") from exc
        return float(min(self.max_delay, self.delay * 2 ** (len(self._row) - 1)))


class WatchEnded(Exception):
    """The watch's stream ended although the client reopens a watch the server closes cleanly."""


async def watch_until(
    client: AsyncClient,
    resource: Any,
    namespace: str,
    on_object: Callable[[Any], bool],
    *,
    budget: RetryBudget,
) -> None:
    """Feed every object of ``resource`` in ``namespace`` the watch shows to ``on_object`` until it returns True,
    opening the watch again on an error within ``budget`` (``WatchFailed`` past it)."""
    while True:
        try:
            async for _, obj in client.watch(resource, namespace=namespace):
                budget.progressed()
                if on_object(obj):
                    return
            raise WatchEnded("the watch's stream ended")
        except (httpx2.HTTPError, WatchEnded) as exc:  # ApiError (an error status) is an httpx2.HTTPStatusError
            delay = budget.failed(exc)
            log(f"watch of {budget.what} failed ({describe(exc)}); opening it again in {delay:.1f}s")
            await asyncio.sleep(delay)


def wait_ready(timeout: float = 120.0) -> None:
    """Until the API server KUBECONFIG names answers ``/readyz`` with ok; on timeout say which checks failed."""
    last = ["no answer yet"]

    def ready() -> bool:
        try:
            run = subprocess.run(
                ["kubectl", "get", "--raw", "/readyz?verbose"], capture_output=True, text=True, timeout=15, check=False
            )
        except subprocess.TimeoutExpired:
            last[0] = "kubectl get --raw /readyz did not answer in 15s"
            return False
        if run.returncode == 0:
            return True
        failed = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("[-]") or "rror" in line]
        last[0] = "; ".join(failed[:5]) or f"exit {run.returncode}"
        return False

    wait("the API server to be ready (/readyz)", ready, timeout, 1.0, last=lambda: last[0])


def wait_serving(kube: Client, resource: Any, namespace: str, timeout: float = 120.0) -> None:
    """Until a list of ``resource`` in ``namespace`` answers (not 429 while its storage initialises)."""
    last = ["no answer yet"]

    def serving() -> bool:
        try:
            list(kube.list(resource, namespace=namespace, chunk_size=1))
        except (httpx2.HTTPError, ApiError) as exc:
            last[0] = describe(exc)
            return False
        return True

    what = f"the API server to serve {getattr(resource, '__name__', resource)} in {namespace}"
    wait(what, serving, timeout, 1.0, last=lambda: last[0])
