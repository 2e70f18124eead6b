"""Which wall times a cron schedule matches, and which instants it fires at.

``CronSchedule.next_wall_time`` is a carry search: it checks fields from the most
significant (year) down and, at the first field that does not match, jumps that field to
its next allowed value and resets the less significant ones (overflowing into the more
significant field when none is left). It never steps minute by minute, so even a yearly
schedule costs a handful of iterations. ``CronSchedule.fire_after`` turns matching wall
times into instants following the DST rules of ``asyncz.triggers.cron``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from asyncz.triggers._timezones import ONE_SECOND, localize, repeated_span
from asyncz.triggers.cron.fields import DayOfMonthField, ValueField

MAX_YEAR = 2999  # searching stops here: a schedule with no match before it is finished


@dataclass(frozen=True)
class CronSchedule:
    """Parsed fields. ``day_of_week`` uses Python's numbering (0 = Monday). With
    ``day_or`` (POSIX crontab, both day fields restricted) a day matches when its day of
    month *or* its weekday matches; otherwise all day fields must match."""

    year: ValueField
    month: ValueField
    day: DayOfMonthField
    week: ValueField
    day_of_week: ValueField
    hour: ValueField
    minute: ValueField
    second: ValueField
    day_or: bool = False

    # ---------------------------------------------------------------- instants
    def fire_after(self, after: datetime, tz: tzinfo) -> datetime | None:
        """The first fire instant (UTC) strictly after the aware instant ``after``."""
        local = after.astimezone(tz)
        wall = datetime(local.year, local.month, local.day, local.hour, local.minute, local.second)
        match = self.next_wall_time(wall + ONE_SECOND)
        # Zone transitions fall on whole seconds, so ``wall`` (rounded down) is repeated
        # exactly when ``local`` is.
        span = repeated_span(wall, tz)
        if span is not None and match is not None and match < span[1]:
            # ``after`` lies in a repeated (fall-back) period and so does the next match.
            if not local.fold:
                return localize(match, tz).first
            if self.hour.full:
                return localize(match, tz).second
            match = self.next_wall_time(span[1])
        elif span is not None and not local.fold and self.hour.full:
            # Done with the first occurrence; sub-daily schedules also fire in the second.
            repeat = self.next_wall_time(span[0])
            if repeat is not None and repeat < span[1]:
                return localize(repeat, tz).second
        return None if match is None else localize(match, tz).first

    # ---------------------------------------------------------------- wall times
    def next_wall_time(self, start: datetime) -> datetime | None:
        """The first naive wall time >= ``start`` (whole seconds) that matches every field.

        A unit that runs out of allowed values overflows (hour 24, minute 60, ...) and the
        next round carries it into the more significant unit."""
        year, month, day = start.year, start.month, start.day
        hour, minute, second = start.hour, start.minute, start.second
        while year <= MAX_YEAR:
            found = self.year.next(year)
            if found is None:
                return None
            if found != year:
                year, month, day, hour, minute, second = found, 1, 1, 0, 0, 0
            found = self.month.next(month)
            if found is None:
                year, month, day, hour, minute, second = year + 1, 1, 1, 0, 0, 0
                continue
            if found != month:
                month, day, hour, minute, second = found, 1, 0, 0, 0
            found = self.next_day(year, month, day)
            if found is None:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
                day, hour, minute, second = 1, 0, 0, 0
                continue
            if found != day:
                day, hour, minute, second = found, 0, 0, 0
            found = self.hour.next(hour)
            if found is None:
                day, hour, minute, second = day + 1, 0, 0, 0
                continue
            if found != hour:
                hour, minute, second = found, 0, 0
            found = self.minute.next(minute)
            if found is None:
                hour, minute, second = hour + 1, 0, 0
                continue
            if found != minute:
                minute, second = found, 0
            found = self.second.next(second)
            if found is None:
                minute, second = minute + 1, 0
                continue
            return datetime(year, month, day, hour, minute, found)
        return None

    def next_day(self, year: int, month: int, day: int) -> int | None:
        """The first day >= ``day`` of ``year``-``month`` matching the day fields."""
        first_weekday, length = calendar.monthrange(year, month)
        if day > length:
            return None
        candidates: Iterable[int]
        if self.day_or:
            by_weekday = {
                candidate
                for candidate in range(day, length + 1)
                if (first_weekday + candidate - 1) % 7 in self.day_of_week
            }
            candidates = sorted(self.day.days(year, month) | by_weekday)
        elif self.day.full:
            candidates = range(day, length + 1)
        else:
            candidates = sorted(self.day.days(year, month))
        for candidate in candidates:
            if candidate >= day and self._day_allowed(year, month, candidate, first_weekday):
                return candidate
        return None

    def _day_allowed(self, year: int, month: int, day: int, first_weekday: int) -> bool:
        if not self.week.full and date(year, month, day).isocalendar().week not in self.week:
            return False
        if self.day_or or self.day_of_week.full:
            return True
        return (first_weekday + day - 1) % 7 in self.day_of_week
