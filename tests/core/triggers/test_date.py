from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from asyncz.triggers import DateTrigger
from core.triggers._helpers import NEW_YORK, utc


def test_fires_once_at_run_at() -> None:
    trigger = DateTrigger(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    first = trigger.get_next_trigger_time(UTC, None, utc(2026, 1, 1))
    assert first == utc(2026, 5, 1, 12)
    assert trigger.get_next_trigger_time(UTC, first, utc(2026, 5, 1, 12)) is None


def test_run_at_in_the_past_is_still_reported_for_misfire_handling() -> None:
    trigger = DateTrigger("2020-01-01 00:00:00+00:00")
    assert trigger.get_next_trigger_time(UTC, None, utc(2026, 1, 1)) == utc(2020, 1, 1)


def test_naive_and_string_run_at_are_wall_times_in_the_timezone() -> None:
    trigger = DateTrigger("2026-07-04 09:00", timezone="America/New_York")
    assert trigger.run_at == utc(2026, 7, 4, 13)
    assert trigger.timezone is NEW_YORK
    assert DateTrigger(datetime(2026, 7, 4, 9), timezone=NEW_YORK).run_at == utc(2026, 7, 4, 13)


def test_date_means_midnight() -> None:
    assert DateTrigger(date(2026, 7, 4), timezone="+02:00").run_at == utc(2026, 7, 3, 22)


def test_run_at_in_a_dst_gap_fires_at_the_end_of_the_gap() -> None:
    trigger = DateTrigger("2026-03-08 02:30", timezone="America/New_York")
    assert trigger.run_at == utc(2026, 3, 8, 7)
    assert str(trigger.run_at) == "2026-03-08 03:00:00-04:00"


def test_none_means_now() -> None:
    before = datetime.now(UTC)
    trigger = DateTrigger()
    assert before <= trigger.run_at <= datetime.now(UTC)
    assert trigger.timezone is UTC


def test_previous_fire_of_a_sibling_before_run_at_does_not_finish_it() -> None:
    # Inside an OrTrigger, previous_time is the combination's last fire.
    trigger = DateTrigger("2026-05-01 12:00:00+00:00")
    assert trigger.get_next_trigger_time(UTC, utc(2026, 5, 1), None) == utc(2026, 5, 1, 12)


def test_str_repr_and_state() -> None:
    trigger = DateTrigger("2026-01-01 00:00:00", timezone="UTC")
    assert str(trigger) == "date[2026-01-01 00:00:00+00:00]"
    assert repr(trigger) == "<DateTrigger (run_at='2026-01-01 00:00:00+00:00', timezone='UTC')>"
    assert trigger.__getstate__() == {
        "version": 1,
        "run_at": "2026-01-01T00:00:00+00:00",
        "timezone": "UTC",
    }


def test_bad_run_at() -> None:
    with pytest.raises(ValueError, match="run_at"):
        DateTrigger("next tuesday")
    with pytest.raises(ValueError, match="timezone"):
        DateTrigger(timezone="Nowhere/Land")


def test_run_at_keeps_microseconds() -> None:
    run_at = utc(2026, 1, 1) + timedelta(microseconds=7)
    assert DateTrigger(run_at).get_next_trigger_time(UTC, None) == run_at
