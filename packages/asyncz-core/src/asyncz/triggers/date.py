"""Fire once, at a given instant."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
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
from asyncz.triggers.base import BaseTrigger, check_state_version


class DateTrigger(BaseTrigger):
    """Fires once at ``run_at``.

    ``run_at`` is a datetime, a date (its midnight) or an ISO-8601 string; naive values are
    wall times in ``timezone`` (a wall time skipped by a DST gap means the end of the gap).
    ``None`` means the moment the trigger is created.
    """

    alias: ClassVar[str] = "date"
    shareable: ClassVar[bool] = True
    __slots__ = ("run_at", "timezone")

    def __init__(
        self,
        run_at: datetime | date | str | None = None,
        timezone: str | tzinfo | None = None,
    ) -> None:
        self.timezone = parse_timezone(timezone)
        if run_at is None:
            self.run_at = fixed_offset(utc_now(), self.timezone)
        else:
            self.run_at = parse_datetime(run_at, self.timezone, what="run_at")

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        # "The first fire after previous_time", so that a DateTrigger inside an OrTrigger
        # still fires after its siblings have fired.
        if previous_time is not None and to_utc(previous_time, self.timezone) >= self.run_at:
            return None
        return self.run_at

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "run_at": format_datetime(self.run_at),
            "timezone": timezone_name(self.timezone),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = check_state_version("DateTrigger", state)
        try:
            DateTrigger.__init__(self, state["run_at"], state["timezone"])
        except KeyError as exc:
            raise ValueError(f"DateTrigger state lacks {exc.args[0]!r}") from None

    def __str__(self) -> str:
        return f"date[{self.run_at}]"

    def __repr__(self) -> str:
        return f"<DateTrigger (run_at='{self.run_at}', timezone={timezone_name(self.timezone)!r})>"
