from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from asyncz.triggers import IntervalTrigger
from core.triggers._helpers import NEW_YORK, fires, seconds_between, utc, walls


def test_fires_on_the_grid_from_start_at() -> None:
    trigger = IntervalTrigger(minutes=15, start_at=utc(2026, 1, 1, 9))
    assert fires(trigger, utc(2026, 1, 1), 3) == [
        utc(2026, 1, 1, 9),
        utc(2026, 1, 1, 9, 15),
        utc(2026, 1, 1, 9, 30),
    ]


def test_start_at_in_the_past_gives_the_first_grid_point_at_or_after_now() -> None:
    trigger = IntervalTrigger(hours=1, start_at=utc(2026, 1, 1, 0, 10))
    assert trigger.get_next_trigger_time(UTC, None, utc(2026, 1, 3, 5, 0)) == utc(2026, 1, 3, 5, 10)
    assert trigger.get_next_trigger_time(UTC, None, utc(2026, 1, 3, 5, 10)) == utc(
        2026, 1, 3, 5, 10
    )


def test_without_start_at_the_first_fire_is_one_interval_after_creation_and_stays_put() -> None:
    before = datetime.now(UTC)
    trigger = IntervalTrigger(seconds=30)
    after = datetime.now(UTC)
    assert before + timedelta(seconds=30) <= trigger.start_at <= after + timedelta(seconds=30)
    assert trigger.get_next_trigger_time(UTC, None, after) == trigger.start_at
    restored = IntervalTrigger.__new__(IntervalTrigger)
    restored.__setstate__(trigger.__getstate__())
    assert restored.start_at == trigger.start_at  # the grid survives a restart


def test_next_fire_follows_the_grid_even_from_a_late_or_jittered_previous_time() -> None:
    trigger = IntervalTrigger(seconds=10, start_at=utc(2026, 1, 1))
    previous = utc(2026, 1, 1, 0, 0, 20) + timedelta(seconds=3.5)
    assert trigger.get_next_trigger_time(UTC, previous, None) == utc(2026, 1, 1, 0, 0, 30)


def test_end_at_is_inclusive() -> None:
    trigger = IntervalTrigger(hours=1, start_at=utc(2026, 1, 1), end_at=utc(2026, 1, 1, 2))
    assert fires(trigger, utc(2025, 1, 1), 10) == [
        utc(2026, 1, 1),
        utc(2026, 1, 1, 1),
        utc(2026, 1, 1, 2),
    ]
    assert trigger.get_next_trigger_time(UTC, None, utc(2026, 1, 1, 2, 0, 1)) is None


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # spring forward: 01:30 EST, then 03:30 EDT (one elapsed hour later)
        ("2026-03-08 00:30", ["00:30:00-0500", "01:30:00-0500", "03:30:00-0400", "04:30:00-0400"]),
        # fall back: 01:30 EDT and 01:30 EST both happen
        ("2026-11-01 00:30", ["00:30:00-0400", "01:30:00-0400", "01:30:00-0500", "02:30:00-0500"]),
    ],
)
def test_hourly_interval_is_elapsed_time_across_dst(start: str, expected: list[str]) -> None:
    trigger = IntervalTrigger(hours=1, start_at=start, timezone="America/New_York")
    times = fires(trigger, utc(2026, 1, 1), 4)
    assert [wall[11:] for wall in walls(times, NEW_YORK)] == expected
    assert seconds_between(times) == [3600.0] * 3


def test_fractional_and_combined_durations() -> None:
    trigger = IntervalTrigger(minutes=1, seconds=0.25, start_at=utc(2026, 1, 1))
    assert trigger.interval == timedelta(seconds=60.25)
    assert trigger.interval_seconds == 60.25
    assert seconds_between(fires(trigger, utc(2026, 1, 1), 4)) == [60.25] * 3
    assert IntervalTrigger(weeks=1, days=1).interval == timedelta(days=8)


@pytest.mark.parametrize(
    "kwargs", [{}, {"seconds": 0}, {"hours": -1}, {"minutes": 1, "seconds": -60}]
)
def test_zero_or_negative_interval_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive interval"):
        IntervalTrigger(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["5", True, float("inf"), None])
def test_non_numeric_durations_are_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="seconds must be"):
        IntervalTrigger(seconds=value)  # type: ignore[arg-type]


def test_end_before_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="end_at .* is before start_at"):
        IntervalTrigger(seconds=1, start_at=utc(2026, 1, 2), end_at=utc(2026, 1, 1))


def test_str_and_repr() -> None:
    trigger = IntervalTrigger(seconds=5, start_at="2026-01-01 00:00:00+00:00")
    assert str(trigger) == "interval[0:00:05]"
    assert repr(trigger) == (
        "<IntervalTrigger (interval=datetime.timedelta(seconds=5), "
        "start_at='2026-01-01 00:00:00+00:00', timezone='UTC')>"
    )


def test_fire_times_are_reported_in_the_trigger_zone() -> None:
    trigger = IntervalTrigger(hours=2, start_at="2026-07-01 09:00", timezone="America/New_York")
    first = trigger.get_next_trigger_time(UTC, None, utc(2026, 1, 1))
    assert first is not None
    assert str(first) == "2026-07-01 09:00:00-04:00"
