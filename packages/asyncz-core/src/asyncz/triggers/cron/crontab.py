"""POSIX crontab lines: ``minute hour day-of-month month day-of-week`` (or six fields with
seconds first), and the ``@daily``-style macros.

Differences from the keyword fields of ``CronTrigger``, all following POSIX cron:

* day of week 0 and 7 are Sunday, 1 is Monday (names ``sun``..``sat`` too);
* when both day fields are restricted, a day matches if *either* matches ("0 0 13 * 5"
  fires on every 13th and on every Friday). A field is restricted when it does not allow
  every value (so ``*`` and ``*/1`` are unrestricted);
* ``L`` in the day-of-month field is the month's last day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from asyncz.triggers.cron.fields import (
    MONTH_NAMES,
    DayOfMonthField,
    ValueField,
    normalize,
    parse_values,
)
from asyncz.triggers.cron.schedule import MAX_YEAR, CronSchedule

ANY_YEAR = ValueField.parse("*", 1970, MAX_YEAR)
ANY_WEEK = ValueField.parse("*", 1, 53)
FieldT = TypeVar("FieldT", ValueField, DayOfMonthField)

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
POSIX_WEEKDAYS = {
    name: number for number, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])
}
_FIELDS_5 = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELDS_6 = ("second", *_FIELDS_5)
_SUNDAY_AS_END = re.compile(r"-sun\b")


def normalize_crontab(expression: object) -> str:
    """The line with single spaces and lower case; ``ValueError`` if it is not a string."""
    if not isinstance(expression, str):
        raise ValueError(f"crontab expression must be a string, got {expression!r}")
    return " ".join(expression.lower().split())


@lru_cache(maxsize=256)
def parse_crontab(expression: str) -> CronSchedule:
    """The schedule of a normalized crontab line; ``ValueError`` naming the bad field.
    Schedules are immutable and shared between triggers with the same line."""
    line = MACROS.get(expression, expression)
    if line.startswith("@"):
        raise ValueError(f"crontab {expression!r}: unknown macro; use one of {', '.join(MACROS)}")
    texts = line.split()
    if len(texts) not in (5, 6):
        raise ValueError(
            f"crontab {expression!r} has {len(texts)} fields; expected 5 (minute hour "
            "day-of-month month day-of-week) or 6 (with seconds first)"
        )
    names = _FIELDS_6 if len(texts) == 6 else _FIELDS_5
    fields = dict(zip(names, texts, strict=True))
    fields.setdefault("second", "0")

    def parse(name: str, build: Callable[[str], FieldT]) -> FieldT:
        text = fields[name]
        try:
            if text == "?" and name in ("day-of-month", "day-of-week"):
                text = "*"
            return build(normalize(text))
        except ValueError as exc:
            raise ValueError(
                f"crontab {expression!r}: {name} field {text!r} is invalid: {exc}"
            ) from None

    day = parse("day-of-month", DayOfMonthField.parse)
    weekday = parse("day-of-week", _posix_weekdays)
    return CronSchedule(
        year=ANY_YEAR,
        month=parse("month", lambda text: ValueField.parse(text, 1, 12, MONTH_NAMES)),
        day=day,
        week=ANY_WEEK,
        day_of_week=weekday,
        hour=parse("hour", lambda text: ValueField.parse(text, 0, 23)),
        minute=parse("minute", lambda text: ValueField.parse(text, 0, 59)),
        second=parse("second", lambda text: ValueField.parse(text, 0, 59)),
        day_or=not day.full and not weekday.full,
    )


def _posix_weekdays(text: str) -> ValueField:
    """POSIX weekdays (0/7 = Sunday) as Python weekdays (0 = Monday)."""
    text = _SUNDAY_AS_END.sub("-7", text)  # "fri-sun" means Friday to Sunday
    weekdays = {(day - 1) % 7 for day in parse_values(text, 0, 7, POSIX_WEEKDAYS)}
    return ValueField(tuple(sorted(weekdays)), len(weekdays) == 7)
