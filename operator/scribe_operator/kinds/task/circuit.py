"""The operator-wide circuit breaker at run time: the pure state machine (:mod:`.core.breaker`) kept
in memory, the failures fed to it, its probe, its metrics and the tasks it holds.

In memory on purpose: a restart starts it closed, which is safe because it opens again on the next failures. When
it opens, a timer fires after the cooldown: half-open, one probe (a HEAD of the input of a task it holds, through
:meth:`scribe_operator.kinds.task.storage.Storage.probe`). Any answer from the storage but an error (a 404 or 403 is an
answer) closes it and wakes the tasks it held; an error opens it for another cooldown.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from scribe_operator.api.meta import ObjectKey
from scribe_operator.kinds.task.core.breaker import TRIPPING_REASONS, Breaker, BreakerSettings
from scribe_operator.kinds.task.core.observed import CircuitHold, InputProbe
from scribe_operator.runtime.metrics import BREAKER_OPEN, BREAKER_OPENINGS, BREAKER_PROBES

log = logging.getLogger("scribe_operator.kinds.task.circuit")

MAX_REMEMBERED_INPUTS: Final = 16


class CircuitBreaker:
    def __init__(
        self,
        settings: BreakerSettings,
        probe: Callable[[str], Awaitable[InputProbe]],
        wake: Callable[[Iterable[ObjectKey]], None],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.state = Breaker(settings)
        self.probe, self.wake, self.clock = probe, wake, clock
        self.held: dict[ObjectKey, str] = {}  # tasks whose next attempt it holds -> their input, oldest first
        self.failed_inputs: dict[ObjectKey, str] = {}  # inputs of recent tripping failures: probed when nothing is held
        self._timer: asyncio.TimerHandle | None = None
        self._probing: asyncio.Task[None] | None = None
        BREAKER_OPEN.set(0)

    def hold(self, now: dt.datetime) -> CircuitHold | None:
        """The verdict for a reconcile at ``now`` (None: closed)."""
        return self.state.hold(now)

    def holding(self, key: ObjectKey, input_uri: str | None) -> None:
        """A reconcile left ``key`` held (``input_uri``) or not held (None)."""
        if input_uri is None:
            self.held.pop(key, None)
        else:
            self.held.setdefault(key, input_uri)

    def forget(self, key: ObjectKey) -> None:
        self.held.pop(key, None)
        self.failed_inputs.pop(key, None)

    def failed(self, now: dt.datetime, key: ObjectKey, reason: str, input_uri: str) -> None:
        """An attempt of ``key`` failed with ``reason`` (recorded in its status)."""
        if reason not in TRIPPING_REASONS:
            return
        self.failed_inputs.pop(key, None)
        self.failed_inputs[key] = input_uri
        while len(self.failed_inputs) > MAX_REMEMBERED_INPUTS:
            self.failed_inputs.pop(next(iter(self.failed_inputs)))
        before = self.state
        self.state = before.failed(now, f"{key[0]}/{key[1]}", reason)
        if before.closed and not self.state.closed:
            BREAKER_OPEN.set(1)
            BREAKER_OPENINGS.labels(reason).inc()
            log.warning(
                "circuit breaker opened: %s hit %d tasks within %gs; new attempts wait for a probe in %gs",
                reason, self.state.tasks, self.state.settings.window_seconds, self.state.settings.cooldown_seconds,
                extra={"reason": reason},
            )  # fmt: skip
            self._schedule(now)

    def _schedule(self, now: dt.datetime) -> None:
        probe_at = self.state.probe_at
        if probe_at is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (probe_at - now).total_seconds())
        self._timer = asyncio.get_running_loop().call_later(delay, self._start_probe)

    def _start_probe(self) -> None:
        self._timer = None
        now = self.clock()
        if not self.state.probe_due(now):
            self._schedule(now)
            return
        self.state = self.state.probe_started(now)
        self._probing = asyncio.ensure_future(self._probe())

    async def _probe(self) -> None:
        uri = next(iter(self.held.values()), None) or next(reversed(self.failed_inputs.values()), None)
        if uri is None:
            ok, detail = True, "nothing waits: closing"
        else:
            try:
                result = await self.probe(uri)
            except Exception as exc:  # Storage.probe never raises; a bug must not leave the breaker half-open
                result = InputProbe("error", message=str(exc))
            ok, detail = result.result != "error", result.message or result.result
        now = self.clock()
        self.state = self.state.probe_finished(now, ok)
        BREAKER_PROBES.labels("success" if ok else "failure").inc()
        if ok:
            BREAKER_OPEN.set(0)
            held, self.held = list(self.held), {}
            self.failed_inputs.clear()
            log.info("circuit breaker closed: the probe of %s succeeded; waking %d tasks", uri, len(held))
            self.wake(held)
        else:
            log.warning(
                "circuit breaker stays open: the probe of %s failed (%s); next probe in %gs",
                uri, detail, self.state.settings.cooldown_seconds,
            )  # fmt: skip
            self._schedule(now)

    def close(self) -> None:
        """Stop the timer and any probe (shutdown, tests)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._probing is not None:
            self._probing.cancel()
