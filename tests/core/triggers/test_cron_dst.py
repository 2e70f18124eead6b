"""The DST rules promised in asyncz.triggers.cron, on concrete transitions."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest

from asyncz.triggers import CronTrigger
from core.triggers._helpers import (
    KOLKATA,
    LONDON,
    LORD_HOWE,
    NEW_YORK,
    fires,
    fires_until,
    seconds_between,
    walls,
)

SANTIAGO = ZoneInfo("America/Santiago")


def local(
    tz: tzinfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz, fold=fold)


def crontab_walls(expression: str, tz: tzinfo, start: datetime, count: int) -> list[str]:
    trigger = CronTrigger.from_crontab(expression, tz)
    return walls(fires(trigger, start, count), tz)


# ---------------------------------------------------------------- rule 2: gaps
def test_daily_time_in_the_spring_gap_fires_at_the_end_of_the_gap() -> None:
    assert crontab_walls("30 2 * * *", NEW_YORK, local(NEW_YORK, 2026, 3, 7), 3) == [
        "2026-03-07 02:30:00-0500",
        "2026-03-08 03:00:00-0400",
        "2026-03-09 02:30:00-0400",
    ]


def test_several_matches_in_one_gap_collapse_into_one_fire() -> None:
    assert crontab_walls("*/15 2 * * *", NEW_YORK, local(NEW_YORK, 2026, 3, 8), 3) == [
        "2026-03-08 03:00:00-0400",
        "2026-03-09 02:00:00-0400",
        "2026-03-09 02:15:00-0400",
    ]
    # the gap's fire and a match at the gap's end are the same instant: fired once
    assert crontab_walls("0,30 2-3 * * *", NEW_YORK, local(NEW_YORK, 2026, 3, 8, 1), 3) == [
        "2026-03-08 03:00:00-0400",
        "2026-03-08 03:30:00-0400",
        "2026-03-09 02:00:00-0400",
    ]


def test_sub_daily_schedule_across_the_spring_gap() -> None:
    assert crontab_walls("*/30 * * * *", NEW_YORK, local(NEW_YORK, 2026, 3, 8, 1), 4) == [
        "2026-03-08 01:00:00-0500",
        "2026-03-08 01:30:00-0500",
        "2026-03-08 03:00:00-0400",
        "2026-03-08 03:30:00-0400",
    ]


def test_gap_at_midnight_keeps_the_day() -> None:
    # Santiago skips 00:00-01:00 on 2026-09-06.
    assert crontab_walls("0 0 * * *", SANTIAGO, local(SANTIAGO, 2026, 9, 5, 1), 3) == [
        "2026-09-06 01:00:00-0300",
        "2026-09-07 00:00:00-0300",
        "2026-09-08 00:00:00-0300",
    ]


def test_half_hour_gap() -> None:
    # Lord Howe skips 02:00-02:30 on 2026-10-04.
    assert crontab_walls("15 2 * * *", LORD_HOWE, local(LORD_HOWE, 2026, 10, 3, 3), 2) == [
        "2026-10-04 02:30:00+1100",
        "2026-10-05 02:15:00+1100",
    ]


# ---------------------------------------------------------------- rule 3: repeats
def test_repeated_time_fires_once_at_its_first_occurrence() -> None:
    assert crontab_walls("30 1 * * *", NEW_YORK, local(NEW_YORK, 2026, 10, 31, 12), 3) == [
        "2026-11-01 01:30:00-0400",
        "2026-11-02 01:30:00-0500",
        "2026-11-03 01:30:00-0500",
    ]
    assert crontab_walls("*/30 1 * * *", NEW_YORK, local(NEW_YORK, 2026, 11, 1), 3) == [
        "2026-11-01 01:00:00-0400",
        "2026-11-01 01:30:00-0400",
        "2026-11-02 01:00:00-0500",
    ]


def test_unrestricted_hour_follows_elapsed_time_through_the_repeat() -> None:
    assert crontab_walls("*/30 * * * *", NEW_YORK, local(NEW_YORK, 2026, 11, 1, 0, 30), 6) == [
        "2026-11-01 00:30:00-0400",
        "2026-11-01 01:00:00-0400",
        "2026-11-01 01:30:00-0400",
        "2026-11-01 01:00:00-0500",
        "2026-11-01 01:30:00-0500",
        "2026-11-01 02:00:00-0500",
    ]


def test_starting_inside_the_repeat() -> None:
    first_occurrence = local(NEW_YORK, 2026, 11, 1, 1, 45)
    second_occurrence = local(NEW_YORK, 2026, 11, 1, 1, 10, fold=1)
    assert crontab_walls("30 * * * *", NEW_YORK, first_occurrence, 2) == [
        "2026-11-01 01:30:00-0500",
        "2026-11-01 02:30:00-0500",
    ]
    assert crontab_walls("30 * * * *", NEW_YORK, second_occurrence, 1) == [
        "2026-11-01 01:30:00-0500"
    ]
    assert crontab_walls("*/20 1 * * *", NEW_YORK, first_occurrence, 1) == [
        "2026-11-02 01:00:00-0500"
    ]
    assert crontab_walls("*/20 1 * * *", NEW_YORK, second_occurrence, 1) == [
        "2026-11-02 01:00:00-0500"
    ]


def test_repeat_that_crosses_midnight() -> None:
    # Santiago repeats 23:00-24:00 on 2026-04-04.
    assert crontab_walls("*/30 * * * *", SANTIAGO, local(SANTIAGO, 2026, 4, 4, 22, 45), 5) == [
        "2026-04-04 23:00:00-0300",
        "2026-04-04 23:30:00-0300",
        "2026-04-04 23:00:00-0400",
        "2026-04-04 23:30:00-0400",
        "2026-04-05 00:00:00-0400",
    ]
    assert crontab_walls("0 23 * * *", SANTIAGO, local(SANTIAGO, 2026, 4, 4, 12), 2) == [
        "2026-04-04 23:00:00-0300",
        "2026-04-05 23:00:00-0400",
    ]


def test_half_hour_repeat() -> None:
    # Lord Howe repeats 01:30-02:00 on 2026-04-05.
    start = local(LORD_HOWE, 2026, 4, 5, 1, 20)
    assert crontab_walls("*/15 * * * *", LORD_HOWE, start, 5) == [
        "2026-04-05 01:30:00+1100",
        "2026-04-05 01:45:00+1100",
        "2026-04-05 01:30:00+1030",
        "2026-04-05 01:45:00+1030",
        "2026-04-05 02:00:00+1030",
    ]
    assert crontab_walls("45 1 * * *", LORD_HOWE, start, 2) == [
        "2026-04-05 01:45:00+1100",
        "2026-04-06 01:45:00+1030",
    ]


# ---------------------------------------------------------------- hourly = elapsed hours
@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (NEW_YORK, (2026, 3, 8), 23),
        (NEW_YORK, (2026, 11, 1), 25),
        (LONDON, (2026, 3, 29), 23),
        (LONDON, (2026, 10, 25), 25),
        (KOLKATA, (2026, 3, 8), 24),
    ],
)
def test_hourly_fires_once_per_elapsed_hour(
    tz: tzinfo, day: tuple[int, int, int], hours: int
) -> None:
    start = local(tz, day[0], day[1], day[2])
    end = local(tz, day[0], day[1], day[2] + 1)
    times = fires_until(CronTrigger.from_crontab("0 * * * *", tz), start, end)
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)  # not end - start: same-zone
    assert len(times) == hours == elapsed.total_seconds() / 3600  # arithmetic is wall time
    assert set(seconds_between(times)) == {3600.0}


# ---------------------------------------------------------------- others
def test_zone_without_dst_and_fixed_offsets() -> None:
    assert crontab_walls("0 9 * * *", KOLKATA, local(KOLKATA, 2026, 3, 8), 2) == [
        "2026-03-08 09:00:00+0530",
        "2026-03-09 09:00:00+0530",
    ]
    trigger = CronTrigger(hour=9, timezone="-03:30")
    fire = trigger.get_next_trigger_time(UTC, None, datetime(2026, 1, 1, tzinfo=UTC))
    assert str(fire) == "2026-01-01 09:00:00-03:30"


def test_fire_times_compare_correctly_inside_the_repeat() -> None:
    trigger = CronTrigger.from_crontab("30 * * * *", NEW_YORK)
    first, second = fires(trigger, local(NEW_YORK, 2026, 11, 1, 1), 2)
    assert (first.hour, second.hour) == (1, 1)
    assert first < second
    assert (second - first).total_seconds() == 3600
