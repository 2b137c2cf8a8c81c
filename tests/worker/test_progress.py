"""The progress reporter: monotone, rate-limited, first and final reports always sent, transport failures harmless."""

from __future__ import annotations

import itertools
import json

import pytest
from scribe_worker import logs
from scribe_worker.progress import LogTransport, Progress, Reporter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.reports: list[Progress] = []

    def send(self, progress: Progress) -> None:
        self.reports.append(progress)


class Broken:
    def send(self, progress: Progress) -> None:
        raise ConnectionError("the API server is away")


def test_rate_limited_and_monotone() -> None:
    clock, recorder = Clock(), Recorder()
    reporter = Reporter([recorder], interval=10.0, clock=clock)
    reporter.start(600.0)
    for second in range(1, 301):  # one segment per second of audio, one wall-clock second each
        clock.now += 1.0
        reporter.update(float(second))
        reporter.update(float(second) - 0.5)  # a segment ending earlier never moves progress back
    reporter.finish(600.0)
    seconds = [p.seconds for p in recorder.reports]
    assert seconds[0] == 0.0 and recorder.reports[0].total == 600.0
    assert seconds == sorted(seconds) and len(set(seconds)) == len(seconds)
    assert len(recorder.reports) == 1 + 30 + 1  # first, one per 10 s, final
    sent_at = [0.0, *seconds[1:-1]]
    assert all(b - a >= 10.0 for a, b in itertools.pairwise(sent_at))
    assert recorder.reports[-1] == Progress(600.0, 600.0, final=True)
    assert recorder.reports[15].fraction == pytest.approx(150 / 600)


def test_capped_at_the_total_and_unknown_total() -> None:
    recorder = Recorder()
    reporter = Reporter([recorder], interval=0.0, clock=Clock())
    reporter.start(10.0)
    reporter.update(12.0)
    assert recorder.reports[-1].seconds == 10.0
    assert recorder.reports[-1].fraction == 1.0
    unknown = Reporter([recorder], interval=0.0, clock=Clock())
    unknown.start(None)
    unknown.update(3.0)
    assert recorder.reports[-1] == Progress(3.0, None)
    assert recorder.reports[-1].fraction is None


def test_a_failing_transport_never_stops_the_others(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure({})
    recorder = Recorder()
    reporter = Reporter([Broken(), recorder], interval=0.0, clock=Clock())
    reporter.start(5.0)
    reporter.finish(5.0)
    assert len(recorder.reports) == 2
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["msg"] for line in lines] == ["progress report failed"] * 2
    assert lines[0]["transport"] == "Broken"


def test_log_transport_writes_json_progress_lines(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure({"task": "media/a"})
    LogTransport().send(Progress(30.0, 120.0))
    LogTransport().send(Progress(120.0, 120.0, final=True))
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["msg"], x["audioSeconds"], x["totalSeconds"], x["percent"], x["final"]) for x in lines] == [
        ("progress", 30.0, 120.0, 25.0, False),
        ("progress", 120.0, 120.0, 100.0, True),
    ]
    assert lines[0]["task"] == "media/a"
