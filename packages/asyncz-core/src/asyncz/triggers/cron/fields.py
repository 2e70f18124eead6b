"""Cron field expressions, parsed once into the set of values they allow.

Grammar of one field: comma-separated items, each one of ``*``, ``*/n``, ``a``, ``a-b``,
``a-b/n``, ``a/n`` (from ``a`` to the field's maximum, every ``n``), where ``a`` and ``b``
are numbers or, for months and weekdays, three-letter names. The day-of-month field also
takes ``last`` (or ``L``), ``1st mon`` .. ``5th sun`` and ``last fri``.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass

MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
WEEKDAY_NAMES = {
    name: number for number, name in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
}
_ITEM = re.compile(r"^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$")
_ORDINAL = re.compile(r"^(1st|2nd|3rd|4th|5th|last) ([a-z]{3})$")
_SEPARATOR = re.compile(r"\s*([-/,])\s*")
_ORDINALS = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": -1}


def normalize(value: object) -> str:
    """The canonical text of a field value (an int or a str expression)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected an int or a cron expression string, got {value!r}")
    text = _SEPARATOR.sub(r"\1", str(value).strip().lower())
    items = [" ".join(item.split()) for item in text.split(",")]
    if not all(items):
        raise ValueError("empty item in the comma list" if len(items) > 1 else "empty expression")
    return ",".join(items)


def parse_values(
    text: str, low: int, high: int, names: Mapping[str, int] | None = None
) -> set[int]:
    """The values ``low..high`` allowed by the normalized expression ``text``."""
    values: set[int] = set()
    for item in text.split(","):
        values.update(_parse_item(item, low, high, names or {}))
    return values


def _parse_item(item: str, low: int, high: int, names: Mapping[str, int]) -> range:
    match = _ITEM.match(item)
    if match is None:
        raise ValueError(f"cannot parse {item!r}")
    star, first_text, last_text, step_text = match.groups()
    step = int(step_text) if step_text is not None else 1
    if step < 1:
        raise ValueError(f"step in {item!r} must be at least 1")
    if star:
        return range(low, high + 1, step)
    first = _number(first_text, low, high, names)
    if last_text is not None:
        last = _number(last_text, low, high, names)
        if first > last:
            raise ValueError(f"range {item!r} starts after it ends")
    else:
        last = high if step_text is not None else first
    return range(first, last + 1, step)


def _number(text: str, low: int, high: int, names: Mapping[str, int]) -> int:
    if text.isdigit():
        value = int(text)
    elif text in names:
        value = names[text]
    else:
        known = f" (names: {', '.join(names)})" if names else ""
        raise ValueError(f"{text!r} is not a number{known}")
    if not low <= value <= high:
        raise ValueError(f"{value} is out of range {low}-{high}")
    return value


@dataclass(frozen=True)
class ValueField:
    """A field allowing a fixed, sorted set of values."""

    values: tuple[int, ...]
    full: bool  # allows every value of its range (an unrestricted field)

    @classmethod
    def parse(
        cls, text: str, low: int, high: int, names: Mapping[str, int] | None = None
    ) -> ValueField:
        values = parse_values(text, low, high, names)
        return cls(tuple(sorted(values)), len(values) == high - low + 1)

    def next(self, value: int) -> int | None:
        """The smallest allowed value >= ``value``."""
        index = bisect_left(self.values, value)
        return self.values[index] if index < len(self.values) else None

    def __contains__(self, value: int) -> bool:
        index = bisect_left(self.values, value)
        return index < len(self.values) and self.values[index] == value


@dataclass(frozen=True)
class DayOfMonthField:
    """Days of the month: plain numbers (1-31) plus ``last``, ``Nth wkd`` and ``last wkd``."""

    numbers: frozenset[int]
    last_day: bool
    weekday_positions: tuple[tuple[int, int], ...]  # (ordinal 1..5 or -1 for last, weekday)

    @property
    def full(self) -> bool:
        return len(self.numbers) == 31

    @classmethod
    def parse(cls, text: str) -> DayOfMonthField:
        numbers: set[int] = set()
        last_day = False
        positions: list[tuple[int, int]] = []
        for item in text.split(","):
            ordinal = _ORDINAL.match(item)
            if item in ("last", "l"):
                last_day = True
            elif ordinal is not None:
                position, weekday = ordinal.groups()
                if weekday not in WEEKDAY_NAMES:
                    raise ValueError(f"{weekday!r} in {item!r} is not a weekday (mon..sun)")
                positions.append((_ORDINALS[position], WEEKDAY_NAMES[weekday]))
            else:
                numbers.update(_parse_item(item, 1, 31, {}))
        return cls(frozenset(numbers), last_day, tuple(positions))

    def days(self, year: int, month: int) -> set[int]:
        """The days of ``year``-``month`` this field allows."""
        first_weekday, length = calendar.monthrange(year, month)
        days = {day for day in self.numbers if day <= length}
        if self.last_day:
            days.add(length)
        for ordinal, weekday in self.weekday_positions:
            first = 1 + (weekday - first_weekday) % 7
            if ordinal == -1:
                days.add(first + 7 * ((length - first) // 7))
            elif first + 7 * (ordinal - 1) <= length:
                days.add(first + 7 * (ordinal - 1))
        return days
