"""Time stamps, clipping and reading raw API objects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from scribe_operator.kernel.clip import clip, listing
from scribe_operator.kernel.clock import aware, ceil_stamp, iso, requeue_after, stamp
from scribe_operator.kernel.raw import as_mapping, as_text, parse_time

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(moments)
def test_stamps_are_whole_seconds_around_the_moment(moment: datetime) -> None:
    down, up = stamp(moment), ceil_stamp(moment)
    assert down.microsecond == up.microsecond == 0
    assert down <= moment <= up < down + timedelta(seconds=1.000001)
    assert stamp(down) == ceil_stamp(down) == down


def test_iso_is_rfc_3339_with_z_and_keeps_none() -> None:
    assert iso(T0) == "2026-01-01T12:00:00Z"
    assert iso(None) is None
    assert aware(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


def test_requeue_after_is_the_earliest_wake_up_never_negative() -> None:
    assert requeue_after([], T0) is None
    assert requeue_after([T0 + timedelta(seconds=30), T0 + timedelta(seconds=5)], T0) == 5.0
    assert requeue_after([T0 - timedelta(seconds=5)], T0) == 0.0


@given(st.text(max_size=40), st.integers(1, 30))
def test_a_clipped_text_fits_and_says_it_was_clipped(text: str, limit: int) -> None:
    clipped = clip(text, limit)
    assert len(clipped) <= limit
    assert clipped == text if len(text) <= limit else clipped.endswith("…") and text.startswith(clipped[:-1])


def test_a_listing_names_the_first_and_counts_the_rest() -> None:
    assert listing(["a", "b"]) == "a, b"
    assert listing([str(i) for i in range(12)], limit=3) == "0, 1, 2 and 9 more"


def test_raw_values_of_the_wrong_type_read_as_empty() -> None:
    assert as_mapping({"a": 1}) == {"a": 1} and as_mapping(["a"]) == {} and as_mapping(None) == {}
    assert as_text("x") == "x" and as_text("") is None and as_text(3) is None
    assert parse_time("2026-01-01T12:00:00Z") == T0
    assert parse_time("2026-01-01T12:00:00") == T0  # no zone: UTC
    assert parse_time(datetime(2026, 1, 1, 12)) == T0
    assert parse_time("yesterday") is None and parse_time(None) is None
