"""Progress of a transcription: audio seconds transcribed of the total, reported at a bounded rate.

The engine calls a :class:`Reporter` as segments come out; the reporter keeps the value monotone, sends at
most one report per ``interval`` seconds (plus the first and the final one) through a :class:`Transport`,
and never lets a failing transport fail the attempt. Today the transport writes a JSON log line
(``msg: progress``); a transport that tells the operator (e.g. by patching the pod) plugs in the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from scribe_worker import logs


@dataclass(frozen=True)
class Progress:
    seconds: float  # audio seconds transcribed so far
    total: float | None  # the audio's length, when known
    final: bool = False  # the last report: the whole input is transcribed

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.seconds / self.total)


class Transport(Protocol):
    def send(self, progress: Progress) -> None:
        """Deliver one report; may raise (the reporter logs it and carries on)."""
        ...


class LogTransport:
    """Progress as JSON log lines: ``{"msg": "progress", "audioSeconds": ..., "totalSeconds": ..., "percent": ...}``."""

    def send(self, progress: Progress) -> None:
        fraction = progress.fraction
        logs.info(
            "progress",
            audioSeconds=round(progress.seconds, 3),
            totalSeconds=None if progress.total is None else round(progress.total, 3),
            percent=None if fraction is None else round(fraction * 100, 1),
            final=progress.final,
        )


class Reporter:
    """Rate-limited, monotone progress reports to every transport in ``transports``."""

    def __init__(
        self,
        transports: Sequence[Transport],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transports = tuple(transports)
        self._interval = interval
        self._clock = clock
        self._total: float | None = None
        self._seconds = 0.0
        self._last_sent: float | None = None  # clock time of the last report

    def start(self, total: float | None) -> None:
        """The audio's length, when known; sends the first report (0 of total)."""
        self._total = total
        self._send(final=False)

    def update(self, seconds: float) -> None:
        """``seconds`` of audio are transcribed; sent if the interval has passed since the last report."""
        if self._total is not None:
            seconds = min(seconds, self._total)
        if seconds <= self._seconds:
            return  # monotone: never report going backwards (or the same value twice)
        self._seconds = seconds
        now = self._clock()
        if self._last_sent is None or now - self._last_sent >= self._interval:
            self._send(final=False)

    def finish(self, total: float) -> None:
        """Everything is transcribed: the final report, whatever the interval, with the exact total."""
        self._total = total
        self._seconds = total
        self._send(final=True)

    def _send(self, *, final: bool) -> None:
        self._last_sent = self._clock()
        report = Progress(self._seconds, self._total, final)
        for transport in self._transports:
            try:
                transport.send(report)
            except Exception as exc:  # progress is best effort; the transcription goes on
                logs.warning("progress report failed", transport=type(transport).__name__, error=str(exc))
