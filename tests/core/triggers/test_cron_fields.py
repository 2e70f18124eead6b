"""CronTrigger's keyword fields (APScheduler 3 semantics)."""

from __future__ import annotations

import time
from datetime import UTC

import pytest

from asyncz.triggers import CronTrigger
from core.triggers._helpers import fires, utc

NOW = utc(2026, 1, 1)  # a Thursday


def first(trigger: CronTrigger, count: int = 3) -> list[str]:
    return [str(fire) for fire in fires(trigger, NOW, count)]


def test_hour_alone_fires_daily_at_that_hour() -> None:
    trigger = CronTrigger(hour=3)
    assert trigger.fields == {
        "year": "*",
        "month": "*",
        "day": "*",
        "week": "*",
        "day_of_week": "*",
        "hour": "3",
        "minute": "0",
        "second": "0",
    }
    assert first(trigger) == [
        "2026-01-01 03:00:00+00:00",
        "2026-01-02 03:00:00+00:00",
        "2026-01-03 03:00:00+00:00",
    ]


def test_month_alone_fires_on_its_first_day_at_midnight() -> None:
    assert first(CronTrigger(month="jun"), 2) == [
        "2026-06-01 00:00:00+00:00",
        "2027-06-01 00:00:00+00:00",
    ]


def test_no_fields_fires_every_second() -> None:
    assert first(CronTrigger(), 3) == [
        "2026-01-01 00:00:00+00:00",
        "2026-01-01 00:00:01+00:00",
        "2026-01-01 00:00:02+00:00",
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"minute": "*/20"}, ["00:00", "00:20", "00:40", "01:00"]),
        ({"minute": "10-40/15"}, ["00:10", "00:25", "00:40", "01:10"]),
        ({"minute": "50/5"}, ["00:50", "00:55", "01:50", "01:55"]),
        ({"minute": "5,1, 30"}, ["00:01", "00:05", "00:30", "01:01"]),
        ({"hour": "22-23", "minute": 0}, ["22:00", "23:00", "22:00", "23:00"]),
        ({"hour": 5, "minute": 7, "second": "*/30"}, ["05:07", "05:07", "05:07", "05:07"]),
    ],
)
def test_time_field_forms(kwargs: dict[str, object], expected: list[str]) -> None:
    times = fires(CronTrigger(**kwargs), NOW, 4)  # type: ignore[arg-type]
    assert [fire.strftime("%H:%M") for fire in times] == expected


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"day_of_week": "mon-fri", "hour": 9}, ["01-01", "01-02", "01-05", "01-06"]),
        ({"day_of_week": "0", "hour": 9}, ["01-05", "01-12", "01-19", "01-26"]),  # 0 = Monday
        ({"day_of_week": "6"}, ["01-04", "01-11", "01-18", "01-25"]),  # 6 = Sunday
        ({"day_of_week": "sat,sun"}, ["01-03", "01-04", "01-10", "01-11"]),
        ({"day": "last"}, ["01-31", "02-28", "03-31", "04-30"]),
        ({"day": "1st mon"}, ["01-05", "02-02", "03-02", "04-06"]),
        ({"day": "last fri"}, ["01-30", "02-27", "03-27", "04-24"]),
        ({"day": "5th fri"}, ["01-30", "05-29", "07-31", "10-30"]),
        ({"day": "1,15,last"}, ["01-01", "01-15", "01-31", "02-01"]),
        ({"day": 31}, ["01-31", "03-31", "05-31", "07-31"]),
        ({"month": "feb-mar", "day": "*/10"}, ["02-01", "02-11", "02-21", "03-01"]),
        ({"week": 2, "day_of_week": "wed"}, ["01-07", "01-13", "01-12", "01-10"]),  # yearly
        ({"day": 13, "day_of_week": "fri"}, ["02-13", "03-13", "11-13", "08-13"]),  # AND
    ],
)
def test_day_field_forms(kwargs: dict[str, object], expected: list[str]) -> None:
    times = fires(CronTrigger(**kwargs), NOW, 4)  # type: ignore[arg-type]
    assert [fire.strftime("%m-%d") for fire in times] == expected


def test_week_is_the_iso_week() -> None:
    times = fires(CronTrigger(week=1, day_of_week="mon"), NOW, 3)
    # 2026-12-28 is a Monday in ISO week 53 of 2026; week 1 of 2027 starts on 2027-01-04.
    assert [fire.date().isoformat() for fire in times] == ["2027-01-04", "2028-01-03", "2029-01-01"]
    assert all(fire.isocalendar().week == 1 for fire in times)


def test_year_field_and_the_end_of_search() -> None:
    assert first(CronTrigger(year="2027,2029"), 1) == ["2027-01-01 00:00:00+00:00"]
    assert CronTrigger(year=2025).get_next_trigger_time(UTC, None, NOW) is None
    last = CronTrigger(year=2999, month=12, day=31, hour=23, minute=59, second=59)
    assert first(last, 2) == ["2999-12-31 23:59:59+00:00"]


def test_impossible_dates_finish_quickly() -> None:
    started = time.perf_counter()
    assert CronTrigger(month=2, day=30).get_next_trigger_time(UTC, None, NOW) is None
    assert CronTrigger(month=6, week=1).get_next_trigger_time(UTC, None, NOW) is None
    assert time.perf_counter() - started < 1.0


def test_yearly_schedule_is_computed_in_well_under_a_millisecond() -> None:
    trigger = CronTrigger(month=1, day=1)
    started = time.perf_counter()
    previous = None
    for _ in range(500):
        previous = trigger.get_next_trigger_time(UTC, previous, NOW)
    assert previous == utc(2525, 1, 1)
    assert (time.perf_counter() - started) / 500 < 0.0005


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hour": 24}, r"hour=24 is invalid: 24 is out of range 0-23"),
        ({"minute": "*/0"}, r"minute='\*/0' is invalid: step .* at least 1"),
        ({"second": "61"}, r"second='61' is invalid"),
        ({"month": "foo"}, r"month='foo' is invalid: 'foo' is not a number \(names: jan"),
        ({"month": 0}, r"month=0 is invalid: 0 is out of range 1-12"),
        ({"day": 32}, r"day=32 is invalid"),
        ({"day": "6th mon"}, r"day='6th mon' is invalid"),
        ({"day": "last xyz"}, r"day='last xyz' is invalid: 'xyz' .* is not a weekday"),
        ({"day_of_week": 7}, r"day_of_week=7 is invalid: 7 is out of range 0-6"),
        ({"day_of_week": "sun-mon"}, r"day_of_week='sun-mon' is invalid: range .* starts after"),
        ({"week": 54}, r"week=54 is invalid"),
        ({"year": 1969}, r"year=1969 is invalid"),
        ({"hour": "1,,2"}, r"hour='1,,2' is invalid: empty item"),
        ({"hour": ""}, r"hour='' is invalid: empty expression"),
        ({"hour": 1.5}, r"hour=1.5 is invalid: expected an int or a cron expression"),
        ({"minute": "5-1"}, r"minute='5-1' is invalid: range '5-1' starts after it ends"),
        ({"minute": "a b"}, r"minute='a b' is invalid: cannot parse"),
    ],
)
def test_invalid_fields_name_the_field_and_the_value(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CronTrigger(**kwargs)  # type: ignore[arg-type]


def test_start_and_end_bound_the_fires() -> None:
    trigger = CronTrigger(hour=12, start_at="2026-03-01 12:00:00", end_at="2026-03-03 12:00:00")
    assert first(trigger, 5) == [
        "2026-03-01 12:00:00+00:00",
        "2026-03-02 12:00:00+00:00",
        "2026-03-03 12:00:00+00:00",
    ]
    with pytest.raises(ValueError, match="end_at .* is before start_at"):
        CronTrigger(hour=1, start_at="2026-01-02", end_at="2026-01-01")


def test_first_fire_may_be_now_itself() -> None:
    trigger = CronTrigger(minute="*/5")
    assert trigger.get_next_trigger_time(UTC, None, utc(2026, 1, 1, 10, 5)) == utc(
        2026, 1, 1, 10, 5
    )
    assert trigger.get_next_trigger_time(UTC, utc(2026, 1, 1, 10, 5), None) == utc(
        2026, 1, 1, 10, 10
    )


def test_str_and_repr() -> None:
    trigger = CronTrigger(hour=3, minute=0, timezone="Europe/Lisbon")
    assert str(trigger) == "cron[hour='3', minute='0']"
    assert repr(trigger) == "<CronTrigger (hour='3', minute='0', timezone='Europe/Lisbon')>"
    assert str(CronTrigger(day_of_week="MON - FRI")) == "cron[day_of_week='mon-fri']"
    assert str(CronTrigger(day=" Last  FRI, 1 ")) == "cron[day='last fri,1']"


def test_timezone_decides_the_wall_clock() -> None:
    trigger = CronTrigger(hour=9, timezone="Asia/Kolkata")
    assert trigger.get_next_trigger_time(UTC, None, NOW) == utc(2026, 1, 1, 3, 30)
    assert str(trigger.get_next_trigger_time(UTC, None, NOW)) == "2026-01-01 09:00:00+05:30"
