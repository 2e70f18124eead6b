from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from asyncz.triggers._timezones import (
    fixed_offset,
    localize,
    parse_datetime,
    parse_timezone,
    repeated_span,
    timezone_name,
)
from core.triggers._helpers import LORD_HOWE, NEW_YORK


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "UTC"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Z", "UTC"),
        ("America/New_York", "America/New_York"),
        ("+05:30", "+05:30"),
        ("-0800", "-08:00"),
        ("+02", "+02:00"),
        (NEW_YORK, "America/New_York"),
        (UTC, "UTC"),
        (timezone(timedelta(hours=-3, minutes=-30)), "-03:30"),
    ],
)
def test_timezones_are_parsed_and_named(value: object, name: str) -> None:
    tz = parse_timezone(value)  # type: ignore[arg-type]
    assert timezone_name(tz) == name
    assert timezone_name(parse_timezone(name)) == name


def test_fixed_offset_zone_has_the_given_offset() -> None:
    assert parse_timezone("+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)
    assert parse_timezone("-08:00").utcoffset(None) == timedelta(hours=-8)


@pytest.mark.parametrize("value", ["Mars/Olympus", "+25:00", "", 5])
def test_bad_timezones_are_rejected_with_help(value: object) -> None:
    with pytest.raises(ValueError, match="timezone"):
        parse_timezone(value)  # type: ignore[arg-type]


def test_naive_datetimes_are_wall_times_in_the_zone() -> None:
    parsed = parse_datetime(datetime(2026, 7, 1, 9, 30), NEW_YORK, what="run_at")
    assert parsed.astimezone(UTC) == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
    assert str(parsed) == "2026-07-01 09:30:00-04:00"


def test_strings_dates_and_aware_values() -> None:
    assert parse_datetime("2026-01-31", UTC, what="x") == datetime(2026, 1, 31, tzinfo=UTC)
    assert parse_datetime(date(2026, 1, 31), UTC, what="x") == datetime(2026, 1, 31, tzinfo=UTC)
    parsed = parse_datetime("2026-01-31 09:30:00.250000+01:00", NEW_YORK, what="x")
    assert parsed == datetime(2026, 1, 31, 8, 30, 0, 250000, tzinfo=UTC)
    assert str(parsed) == "2026-01-31 03:30:00.250000-05:00"
    assert parse_datetime("2026-01-31T09:30:00Z", UTC, what="x") == datetime(
        2026, 1, 31, 9, 30, tzinfo=UTC
    )


def test_bad_datetime_names_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"start_at='tomorrow' is not an ISO-8601"):
        parse_datetime("tomorrow", UTC, what="start_at")
    with pytest.raises(ValueError, match="end_at must be a datetime"):
        parse_datetime(12, UTC, what="end_at")  # type: ignore[arg-type]


def test_wall_time_in_a_gap_means_the_end_of_the_gap() -> None:
    # 02:30 does not exist in New York on 2026-03-08: clocks jump 02:00 EST -> 03:00 EDT.
    instants = localize(datetime(2026, 3, 8, 2, 30), NEW_YORK)
    assert instants.in_gap
    assert instants.first == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    parsed = parse_datetime("2026-03-08 02:30", NEW_YORK, what="run_at")
    assert parsed == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_repeated_wall_time_has_two_instants_and_fold_picks_the_second() -> None:
    instants = localize(datetime(2026, 11, 1, 1, 30), NEW_YORK)
    assert instants.first == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert instants.second == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert repeated_span(datetime(2026, 11, 1, 1, 30), NEW_YORK) == (
        datetime(2026, 11, 1, 1, 0),
        datetime(2026, 11, 1, 2, 0),
    )
    second = parse_datetime(datetime(2026, 11, 1, 1, 30, fold=1), NEW_YORK, what="x")
    assert second == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert str(second) == "2026-11-01 01:30:00-05:00"
    first = parse_datetime(datetime(2026, 11, 1, 1, 30), NEW_YORK, what="x")
    assert str(first) == "2026-11-01 01:30:00-04:00"


def test_half_hour_shift_spans() -> None:
    # Lord Howe falls back 02:00 -> 01:30 on 2026-04-05.
    assert repeated_span(datetime(2026, 4, 5, 1, 45), LORD_HOWE) == (
        datetime(2026, 4, 5, 1, 30),
        datetime(2026, 4, 5, 2, 0),
    )
    assert repeated_span(datetime(2026, 4, 5, 1, 15), LORD_HOWE) is None


def test_fixed_offset_keeps_the_instant_and_shows_the_wall_time() -> None:
    first = fixed_offset(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), NEW_YORK)
    second = fixed_offset(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), NEW_YORK)
    assert (first.hour, first.minute) == (second.hour, second.minute) == (1, 30)
    assert first < second  # would be False with a shared ZoneInfo (fold is ignored)
    assert second - first == timedelta(hours=1)
    assert fixed_offset(datetime(2026, 1, 1, tzinfo=UTC), UTC).tzinfo is UTC
