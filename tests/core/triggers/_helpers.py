"""Shared helpers for the trigger tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from asyncz.triggers.base import BaseTrigger

NEW_YORK = ZoneInfo("America/New_York")
LISBON = ZoneInfo("Europe/Lisbon")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")


def fires(
    trigger: BaseTrigger, now: datetime, count: int, previous: datetime | None = None
) -> list[datetime]:
    """The first ``count`` fire times at/after ``now`` (fewer if the trigger finishes)."""
    result: list[datetime] = []
    while len(result) < count:
        fire = trigger.get_next_trigger_time(trigger.timezone, previous, now)
        if fire is None:
            break
        assert previous is None or fire > previous, f"{fire} does not follow {previous}"
        result.append(fire)
        previous = fire
    return result


def fires_until(trigger: BaseTrigger, now: datetime, end: datetime) -> list[datetime]:
    """All fire times in ``[now, end)``."""
    result: list[datetime] = []
    previous: datetime | None = None
    while True:
        fire = trigger.get_next_trigger_time(trigger.timezone, previous, now)
        if fire is None or fire >= end:
            return result
        assert previous is None or fire > previous, f"{fire} does not follow {previous}"
        result.append(fire)
        previous = fire


def walls(times: list[datetime], tz: tzinfo) -> list[str]:
    """Local wall times with their offset, e.g. '2026-03-08 03:00-04:00'."""
    return [time.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S%z") for time in times]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def seconds_between(times: list[datetime]) -> list[float]:
    return [(b - a) / timedelta(seconds=1) for a, b in zip(times, times[1:], strict=False)]
