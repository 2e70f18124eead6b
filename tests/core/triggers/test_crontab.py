"""CronTrigger.from_crontab: POSIX crontab semantics."""

from __future__ import annotations

from datetime import UTC

import pytest

from asyncz.triggers import CronTrigger
from core.triggers._helpers import fires, utc

NOW = utc(2026, 1, 1)  # a Thursday


def days(expression: str, count: int = 4) -> list[str]:
    return [
        fire.strftime("%a %m-%d %H:%M:%S")
        for fire in fires(CronTrigger.from_crontab(expression), NOW, count)
    ]


@pytest.mark.parametrize("expression", ["0 9 * * 0", "0 9 * * 7", "0 9 * * sun", "0 9 * * SUN"])
def test_sunday_is_0_and_7(expression: str) -> None:
    assert days(expression, 2) == ["Sun 01-04 09:00:00", "Sun 01-11 09:00:00"]


def test_weekdays_are_1_to_5() -> None:
    assert days("0 9 * * 1-5", 6) == [
        "Thu 01-01 09:00:00",
        "Fri 01-02 09:00:00",
        "Mon 01-05 09:00:00",
        "Tue 01-06 09:00:00",
        "Wed 01-07 09:00:00",
        "Thu 01-08 09:00:00",
    ]
    assert days("0 9 * * mon-fri", 6) == days("0 9 * * 1-5", 6)


def test_weekday_ranges_ending_on_sunday() -> None:
    assert days("0 0 * * 5-7", 3) == [
        "Fri 01-02 00:00:00",
        "Sat 01-03 00:00:00",
        "Sun 01-04 00:00:00",
    ]
    assert days("0 0 * * fri-sun", 3) == days("0 0 * * 5-7", 3)
    # */3 over 0-6 is Sunday, Wednesday, Saturday
    assert days("0 0 * * */3", 3) == [
        "Sat 01-03 00:00:00",
        "Sun 01-04 00:00:00",
        "Wed 01-07 00:00:00",
    ]


def test_both_day_fields_restricted_means_either_matches() -> None:
    # POSIX: the 13th of every month OR every Friday.
    assert days("0 0 13 * 5", 6) == [
        "Fri 01-02 00:00:00",
        "Fri 01-09 00:00:00",
        "Tue 01-13 00:00:00",
        "Fri 01-16 00:00:00",
        "Fri 01-23 00:00:00",
        "Fri 01-30 00:00:00",
    ]


def test_one_day_field_restricted_means_only_that_one() -> None:
    assert days("0 0 13 * *", 2) == ["Tue 01-13 00:00:00", "Fri 02-13 00:00:00"]
    assert days("0 0 * * 5", 2) == ["Fri 01-02 00:00:00", "Fri 01-09 00:00:00"]
    # a step over every day is unrestricted too
    assert days("0 0 */1 * 5", 2) == ["Fri 01-02 00:00:00", "Fri 01-09 00:00:00"]


def test_or_rule_respects_the_month_field() -> None:
    assert days("0 0 1 feb mon", 3) == [
        "Sun 02-01 00:00:00",
        "Mon 02-02 00:00:00",
        "Mon 02-09 00:00:00",
    ]


@pytest.mark.parametrize(
    ("macro", "expected"),
    [
        ("@yearly", ["Fri 01-01 00:00:00"]),
        ("@annually", ["Fri 01-01 00:00:00"]),
        ("@monthly", ["Sun 02-01 00:00:00"]),
        ("@weekly", ["Sun 01-04 00:00:00"]),
        ("@daily", ["Fri 01-02 00:00:00"]),
        ("@midnight", ["Fri 01-02 00:00:00"]),
        ("@hourly", ["Thu 01-01 01:00:00"]),
    ],
)
def test_macros(macro: str, expected: list[str]) -> None:
    trigger = CronTrigger.from_crontab(macro)
    fire = trigger.get_next_trigger_time(UTC, utc(2026, 1, 1), None)
    assert fire is not None
    assert [fire.strftime("%a %m-%d %H:%M:%S")] == expected


def test_six_fields_start_with_seconds() -> None:
    assert days("*/20 30 9 * * *", 4) == [
        "Thu 01-01 09:30:00",
        "Thu 01-01 09:30:20",
        "Thu 01-01 09:30:40",
        "Fri 01-02 09:30:00",
    ]


def test_last_day_of_month() -> None:
    assert days("0 12 L * *", 3) == [
        "Sat 01-31 12:00:00",
        "Sat 02-28 12:00:00",
        "Tue 03-31 12:00:00",
    ]
    assert days("0 12 1,L * *", 3) == [
        "Thu 01-01 12:00:00",
        "Sat 01-31 12:00:00",
        "Sun 02-01 12:00:00",
    ]


def test_month_names_and_steps() -> None:
    assert days("0 0 1 jan,jul *", 2) == ["Thu 01-01 00:00:00", "Wed 07-01 00:00:00"]
    assert days("15 */6 * * *", 3) == [
        "Thu 01-01 00:15:00",
        "Thu 01-01 06:15:00",
        "Thu 01-01 12:15:00",
    ]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", r"has 4 fields; expected 5 .* or 6"),
        ("* * * * * * *", r"has 7 fields"),
        ("60 * * * *", r"minute field '60' is invalid: 60 is out of range 0-59"),
        ("* 24 * * *", r"hour field '24' is invalid"),
        ("* * 0 * *", r"day-of-month field '0' is invalid: 0 is out of range 1-31"),
        ("* * * 13 *", r"month field '13' is invalid"),
        ("* * * * 8", r"day-of-week field '8' is invalid: 8 is out of range 0-7"),
        ("* * * * mon-", r"day-of-week field 'mon-' is invalid: cannot parse"),
        ("* * * * fun", r"day-of-week field 'fun' is invalid: 'fun' is not a number"),
        ("61 * * * * *", r"second field '61' is invalid"),
        ("@reboot", r"unknown macro"),
        ("*/0 * * * *", r"minute field '\*/0' is invalid: step"),
    ],
)
def test_errors_name_the_field_and_the_reason(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CronTrigger.from_crontab(expression)


def test_non_string_expression_is_rejected() -> None:
    with pytest.raises(ValueError, match="crontab expression must be a string"):
        CronTrigger.from_crontab(5)  # type: ignore[arg-type]


def test_str_repr_and_options() -> None:
    trigger = CronTrigger.from_crontab("  0  9 * *   MON-FRI ", "Europe/London", jitter=5)
    assert str(trigger) == "cron[crontab='0 9 * * mon-fri']"
    assert repr(trigger) == (
        "<CronTrigger (crontab='0 9 * * mon-fri', timezone='Europe/London', jitter=5)>"
    )
    bounded = CronTrigger.from_crontab("@daily", start_at="2026-02-01", end_at="2026-02-02")
    assert [str(fire) for fire in fires(bounded, NOW, 5)] == [
        "2026-02-01 00:00:00+00:00",
        "2026-02-02 00:00:00+00:00",
    ]
