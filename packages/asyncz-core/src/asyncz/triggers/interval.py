"""Fire every N seconds of elapsed time."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, tzinfo
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

_MICROSECOND = timedelta(microseconds=1)

DateLike = datetime | date | str


class IntervalTrigger(BaseTrigger):
    """Fires on the grid ``start_at + k * interval`` (k = 0, 1, ...) up to ``end_at``
    (inclusive).

    The interval is elapsed time, computed in UTC: across a DST change an hourly trigger
    still fires every 3600 s, whatever the wall clock does. Without ``start_at`` the grid
    starts one interval after the trigger is created; that start is kept (and stored), so
    the grid does not drift when a scheduler restarts. When the first fire is asked for
    after ``start_at`` has passed, it is the first grid point at or after ``now``.
    """

    alias: ClassVar[str] = "interval"
    shareable: ClassVar[bool] = True
    __slots__ = ("end_at", "interval", "jitter", "start_at", "timezone")

    def __init__(
        self,
        weeks: float = 0,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
        start_at: DateLike | None = None,
        end_at: DateLike | None = None,
        timezone: str | tzinfo | None = None,
        jitter: float | None = None,
    ) -> None:
        parts = {"weeks": weeks, "days": days, "hours": hours, "minutes": minutes}
        parts["seconds"] = seconds
        for name, value in parts.items():
            if type(value) is int:  # the common case (and every default): nothing to check
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"IntervalTrigger {name} must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"IntervalTrigger {name} must be finite, got {value!r}")
        self.interval = timedelta(**parts)
        if self.interval <= timedelta(0):
            given = ", ".join(f"{name}={value}" for name, value in parts.items() if value)
            raise ValueError(
                f"IntervalTrigger needs a positive interval, got {given or 'no duration'} "
                f"({self.interval}); pass e.g. seconds=30 or hours=1"
            )
        self.timezone = parse_timezone(timezone)
        self.jitter = check_jitter(jitter)
        if start_at is None:
            self.start_at = fixed_offset(utc_now() + self.interval, self.timezone)
        else:
            self.start_at = parse_datetime(start_at, self.timezone, what="start_at")
        self.end_at = (
            None if end_at is None else parse_datetime(end_at, self.timezone, what="end_at")
        )
        if self.end_at is not None and self.end_at < self.start_at:
            raise ValueError(
                f"IntervalTrigger end_at ({self.end_at}) is before start_at ({self.start_at}): "
                "it would never fire"
            )

    @property
    def interval_seconds(self) -> float:
        return self.interval.total_seconds()

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        fire = self._grid_point_after(previous_time, now)
        if fire is None:
            return None
        following = fire + self.interval
        limit = following if self.end_at is None or following <= self.end_at else None
        jittered = self.apply_jitter(fire, limit)
        assert jittered is not None
        return fixed_offset(jittered, self.timezone)

    def _grid_point_after(
        self, previous_time: datetime | None, now: datetime | None
    ) -> datetime | None:
        """The first grid point after ``previous_time`` (a possibly jittered fire), or at/after
        ``now`` for the first fire."""
        step = self.interval // _MICROSECOND
        if previous_time is None:
            now = to_utc(now or utc_now(), self.timezone)
            since_start = (now - self.start_at) // _MICROSECOND
            steps = max(0, -(-since_start // step))  # ceiling: first point at or after now
        else:
            previous_time = to_utc(previous_time, self.timezone)
            since_start = (previous_time - self.start_at) // _MICROSECOND
            steps = max(0, since_start // step + 1)  # first point strictly after
        fire = self.start_at + self.interval * steps
        if self.end_at is not None and fire > self.end_at:
            return None
        return fire

    def __getstate__(self) -> dict[str, Any]:
        seconds = self.interval.total_seconds()
        return {
            "version": 1,
            "interval": int(seconds) if seconds.is_integer() else seconds,
            "start_at": format_datetime(self.start_at),
            "end_at": format_datetime(self.end_at),
            "timezone": timezone_name(self.timezone),
            "jitter": self.jitter,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = check_state_version("IntervalTrigger", state)
        try:
            IntervalTrigger.__init__(
                self,
                seconds=state["interval"],
                start_at=state["start_at"],
                end_at=state["end_at"],
                timezone=state["timezone"],
                jitter=state["jitter"],
            )
        except KeyError as exc:
            raise ValueError(f"IntervalTrigger state lacks {exc.args[0]!r}") from None

    def __str__(self) -> str:
        return f"interval[{self.interval}]"

    def __repr__(self) -> str:
        parts = [f"interval={self.interval!r}", f"start_at='{self.start_at}'"]
        if self.end_at is not None:
            parts.append(f"end_at='{self.end_at}'")
        parts.append(f"timezone={timezone_name(self.timezone)!r}")
        if self.jitter:
            parts.append(f"jitter={self.jitter}")
        return f"<IntervalTrigger ({', '.join(parts)})>"
