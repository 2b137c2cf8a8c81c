"""Backoff delays, attempt deadlines, URL lifetimes and memory escalation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scribe_operator.kinds.task.api.retry import Backoff
from scribe_operator.kinds.task.api.spec import TranscriptionTaskSpec
from scribe_operator.kinds.task.api.status import AttemptRecord
from scribe_operator.kinds.task.core.backoff import backoff_delay, base_delay, jitter_fraction
from scribe_operator.kinds.task.core.deadline import attempt_deadline, url_ttl
from scribe_operator.kinds.task.core.memory import memory_limit
from scribe_operator.kinds.task.core.settings import CoreSettings

from tests.unit.task.factories import MIB


def test_exponential_then_capped() -> None:
    b = Backoff(initial_seconds=10, factor=2.0, max_seconds=600, jitter=0)
    assert [backoff_delay(b, n, "uid") for n in range(1, 10)] == [10, 20, 40, 80, 160, 320, 600, 600, 600]


def test_factor_one_is_constant() -> None:
    b = Backoff(initial_seconds=7, factor=1.0, max_seconds=7, jitter=0)
    assert {base_delay(b, n) for n in range(1, 102)} == {7.0}


def test_huge_attempt_numbers_do_not_overflow() -> None:
    b = Backoff(initial_seconds=1, factor=10.0, max_seconds=86_400, jitter=0.5)
    assert backoff_delay(b, 10_000, "uid") <= 86_400


def test_jitter_is_per_task_and_only_shortens() -> None:
    b = Backoff(initial_seconds=100, factor=1.0, max_seconds=100, jitter=0.5)
    delays = {backoff_delay(b, 1, f"uid-{i}") for i in range(50)}
    assert len(delays) > 40 and all(50 < d <= 100 for d in delays)
    assert backoff_delay(b, 1, "same") == backoff_delay(b, 1, "same")


backoffs = st.builds(
    lambda initial, extra, factor, jitter: Backoff(
        initial_seconds=initial, max_seconds=initial + extra, factor=factor, jitter=jitter
    ),
    st.integers(1, 86_400 // 2),
    st.integers(0, 86_400 // 2),
    st.floats(1.0, 10.0),
    st.floats(0.0, 1.0),
)


@settings(max_examples=200, deadline=None)
@given(backoffs, st.text(max_size=40), st.integers(1, 200))
def test_backoff_is_monotone_and_capped(backoff: Backoff, uid: str, n: int) -> None:
    now, later = backoff_delay(backoff, n, uid), backoff_delay(backoff, n + 1, uid)
    assert 1.0 <= now <= later <= backoff.max_seconds
    assert now >= base_delay(backoff, n) * (1 - backoff.jitter) - 1e-9


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_jitter_fraction_is_in_range(uid: str) -> None:
    assert 0.0 <= jitter_fraction(uid) < 1.0


SPEC = TranscriptionTaskSpec.model_validate({"input": "s3://a12/k.wav"})
S = CoreSettings()


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (None, S.max_attempt_seconds),
        (0, 300),  # clamped up to the minimum
        (6 * MIB, 120 + 180),
        (10 * MIB, 120 + 300),
        (10 * MIB + 1, 421),  # rounded up
        (10_000 * MIB, S.max_attempt_seconds),
    ],
)
def test_estimated_deadline(size: int | None, expected: int) -> None:
    assert attempt_deadline(SPEC, size, S) == expected


def test_explicit_deadline_is_not_clamped() -> None:
    spec = TranscriptionTaskSpec.model_validate({"input": "s3://a12/k.wav", "timeouts": {"attemptSeconds": 5}})
    assert attempt_deadline(spec, 10**12, S) == 5


def test_url_ttl_covers_pending_deadline_and_grace() -> None:
    assert url_ttl(SPEC, 1000, S) == 300 + 1000 + 60 + 300
    assert url_ttl(SPEC, 10**9, S) == 7 * 86_400


def record(attempt: int, reason: str | None, memory: str | None) -> AttemptRecord:
    return AttemptRecord(attempt=attempt, reason=reason, memory_limit=memory)


@pytest.mark.parametrize(
    ("resources", "history", "expected"),
    [
        ({}, [], "2Gi"),
        ({"limits": {"memory": "1Gi"}}, [], "1Gi"),
        ({"requests": {"memory": "3Gi"}}, [], "3Gi"),  # the default limit never undercuts the request
        ({}, [record(1, "OOMKilled", "2Gi")], "4096Mi"),
        ({}, [record(1, "OOMKilled", "2Gi"), record(2, "UploadFailed", "4096Mi")], "4096Mi"),
        ({}, [record(1, "OOMKilled", "12Gi")], "16384Mi"),  # capped
        ({}, [record(1, "OOMKilled", "16Gi")], "16384Mi"),
        ({}, [record(1, "OOMKilled", None)], "4096Mi"),  # adopted attempt: the base limit is assumed
        ({}, [record(1, "PresignFailed", None)], "2Gi"),
        (
            {"limits": {"memory": "1000Mi"}},
            [record(1, "OOMKilled", "1000Mi"), record(2, "OOMKilled", "2000Mi")],
            "4000Mi",
        ),
    ],
)
def test_memory_limit(resources: dict[str, object], history: list[AttemptRecord], expected: str) -> None:
    spec = TranscriptionTaskSpec.model_validate({"input": "s3://a12/k.wav", "resources": resources})
    assert memory_limit(spec, history, S) == expected


def test_memory_limit_without_any_default() -> None:
    assert memory_limit(SPEC, [record(1, "OOMKilled", None)], CoreSettings(default_memory_limit=None)) is None
