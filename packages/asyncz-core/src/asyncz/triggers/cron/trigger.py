"""``CronTrigger``: fire when the wall clock matches cron fields (DST rules: see
``asyncz.triggers.cron``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any, ClassVar

from asyncz.triggers._timezones import (
    fixed_offset,
    format_datetime,
    parse_datetime,
    parse_timezone,
    timezone_name,
    to_utc,
    utc_now,
)
from asyncz.triggers.base import BaseTrigger, check_jitter, check_state_version
from asyncz.triggers.cron.crontab import normalize_crontab, parse_crontab
from asyncz.triggers.cron.fields import (
    MONTH_NAMES,
    WEEKDAY_NAMES,
    DayOfMonthField,
    ValueField,
    normalize,
)
from asyncz.triggers.cron.schedule import MAX_YEAR, CronSchedule

FIELD_NAMES = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
FIELD_DEFAULTS = {"month": "1", "day": "1", "hour": "0", "minute": "0", "second": "0"}
_RANGES = {
    "year": (1970, MAX_YEAR, None),
    "month": (1, 12, MONTH_NAMES),
    "week": (1, 53, None),
    "day_of_week": (0, 6, WEEKDAY_NAMES),
    "hour": (0, 23, None),
    "minute": (0, 59, None),
    "second": (0, 59, None),
}
_MICROSECOND = timedelta(microseconds=1)

DateLike = datetime | date | str
FieldValue = int | str | None


class CronTrigger(BaseTrigger):
    """Fires at the wall times (in ``timezone``) matching every field.

    Keyword fields follow APScheduler 3: ``day_of_week`` counts 0 = Monday .. 6 = Sunday
    (names ``mon``..``sun`` too), ``week`` is the ISO week, and fields left out default
    to their minimum when less significant than the least significant one given, to ``*``
    otherwise (``CronTrigger(hour=3)`` fires daily at 03:00:00). Use ``from_crontab`` for
    POSIX crontab lines. ``start_at`` and ``end_at`` bound the fire times (inclusive).
    """

    alias: ClassVar[str] = "cron"
    shareable: ClassVar[bool] = True

    def __init__(
        self,
        year: FieldValue = None,
        month: FieldValue = None,
        day: FieldValue = None,
        week: FieldValue = None,
        day_of_week: FieldValue = None,
        hour: FieldValue = None,
        minute: FieldValue = None,
        second: FieldValue = None,
        start_at: DateLike | None = None,
        end_at: DateLike | None = None,
        timezone: str | tzinfo | None = None,
        jitter: float | None = None,
    ) -> None:
        values = (year, month, day, week, day_of_week, hour, minute, second)
        given = {
            name: _normalize_field(name, value)
            for name, value in zip(FIELD_NAMES, values, strict=True)
            if value is not None
        }
        self._configure(
            given=given,
            crontab=None,
            start_at=start_at,
            end_at=end_at,
            timezone=timezone,
            jitter=jitter,
        )

    @classmethod
    def from_crontab(
        cls,
        expr: str,
        timezone: str | tzinfo | None = None,
        *,
        start_at: DateLike | None = None,
        end_at: DateLike | None = None,
        jitter: float | None = None,
    ) -> CronTrigger:
        """A trigger from a POSIX crontab line (see ``asyncz.triggers.cron.crontab``)."""
        trigger = cls.__new__(cls)
        trigger._configure(
            given={},
            crontab=normalize_crontab(expr),
            start_at=start_at,
            end_at=end_at,
            timezone=timezone,
            jitter=jitter,
        )
        return trigger

    def _configure(
        self,
        *,
        given: dict[str, str],
        crontab: str | None,
        start_at: DateLike | None,
        end_at: DateLike | None,
        timezone: str | tzinfo | None,
        jitter: float | None,
    ) -> None:
        self.crontab = crontab
        self.timezone = parse_timezone(timezone)
        self.jitter = check_jitter(jitter)
        self.start_at = _bound(start_at, self.timezone, "start_at")
        self.end_at = _bound(end_at, self.timezone, "end_at")
        if self.start_at is not None and self.end_at is not None and self.end_at < self.start_at:
            raise ValueError(
                f"CronTrigger end_at ({self.end_at}) is before start_at ({self.start_at}): "
                "it would never fire"
            )
        self._given = given
        if crontab is not None:
            self.fields: dict[str, str] = {}
            self.schedule = parse_crontab(crontab)
        else:
            self.fields = _complete_fields(given)
            self.schedule = _compile(self.fields)

    # ---------------------------------------------------------------- firing
    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        # The first fire is at/after ``now``; later ones strictly after ``previous_time``.
        if previous_time is not None:
            after = to_utc(previous_time, self.timezone)
        else:
            after = to_utc(now or utc_now(), self.timezone) - _MICROSECOND
        if self.start_at is not None and after < self.start_at:
            after = self.start_at - _MICROSECOND
        fire = self._fire_after(after)
        if fire is None:
            return None
        limit = self._fire_after(fire) if self.jitter else None
        jittered = self.apply_jitter(fire, limit) or fire
        return fixed_offset(jittered, self.timezone)

    def _fire_after(self, after: datetime) -> datetime | None:
        fire = self.schedule.fire_after(after, self.timezone)
        if fire is None or (self.end_at is not None and fire > self.end_at):
            return None
        return fire

    # ---------------------------------------------------------------- state
    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "fields": dict(self._given),
            "crontab": self.crontab,
            "timezone": timezone_name(self.timezone),
            "start_at": format_datetime(self.start_at),
            "end_at": format_datetime(self.end_at),
            "jitter": self.jitter,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = check_state_version("CronTrigger", state)
        try:
            fields, crontab = state["fields"], state["crontab"]
            options = {key: state[key] for key in ("start_at", "end_at", "timezone", "jitter")}
        except KeyError as exc:
            raise ValueError(f"CronTrigger state lacks {exc.args[0]!r}") from None
        if not isinstance(fields, dict) or not set(fields) <= set(FIELD_NAMES):
            raise ValueError(f"CronTrigger state has invalid fields {fields!r}")
        if crontab is not None:
            self._configure(given={}, crontab=normalize_crontab(crontab), **options)
        else:
            given = {
                name: _normalize_field(name, fields[name]) for name in FIELD_NAMES if name in fields
            }
            self._configure(given=given, crontab=None, **options)

    def _described(self) -> list[str]:
        if self.crontab is not None:
            return [f"crontab={self.crontab!r}"]
        return [f"{name}={self._given[name]!r}" for name in FIELD_NAMES if name in self._given]

    def __str__(self) -> str:
        return f"cron[{', '.join(self._described())}]"

    def __repr__(self) -> str:
        parts = self._described()
        if self.start_at is not None:
            parts.append(f"start_at='{self.start_at}'")
        if self.end_at is not None:
            parts.append(f"end_at='{self.end_at}'")
        parts.append(f"timezone={timezone_name(self.timezone)!r}")
        if self.jitter:
            parts.append(f"jitter={self.jitter}")
        return f"<CronTrigger ({', '.join(parts)})>"


def _normalize_field(name: str, value: object) -> str:
    try:
        text = normalize(value)
        _compile_field(name, text)
    except ValueError as exc:
        raise ValueError(f"CronTrigger {name}={value!r} is invalid: {exc}") from None
    return text


def _bound(value: DateLike | None, tz: tzinfo, what: str) -> datetime | None:
    return None if value is None else parse_datetime(value, tz, what=what)


def _complete_fields(given: dict[str, str]) -> dict[str, str]:
    """All eight fields: those given, then the defaults rule (see ``CronTrigger``)."""
    last_given = max((FIELD_NAMES.index(name) for name in given), default=len(FIELD_NAMES))
    return {
        name: given.get(name) or (FIELD_DEFAULTS.get(name, "*") if index > last_given else "*")
        for index, name in enumerate(FIELD_NAMES)
    }


@lru_cache(maxsize=512)
def _value_field(name: str, text: str) -> ValueField:
    """Parsed fields are immutable and shared between triggers with the same expression."""
    low, high, names = _RANGES[name]
    return ValueField.parse(text, low, high, names)


@lru_cache(maxsize=128)
def _day_field(text: str) -> DayOfMonthField:
    return DayOfMonthField.parse(text)


def _compile_field(name: str, text: str) -> ValueField | DayOfMonthField:
    return _day_field(text) if name == "day" else _value_field(name, text)


def _compile(fields: dict[str, str]) -> CronSchedule:
    return CronSchedule(
        year=_value_field("year", fields["year"]),
        month=_value_field("month", fields["month"]),
        day=_day_field(fields["day"]),
        week=_value_field("week", fields["week"]),
        day_of_week=_value_field("day_of_week", fields["day_of_week"]),
        hour=_value_field("hour", fields["hour"]),
        minute=_value_field("minute", fields["minute"]),
        second=_value_field("second", fields["second"]),
    )
