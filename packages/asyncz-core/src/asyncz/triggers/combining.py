"""Triggers made of other triggers: all must agree (AND) or any may fire (OR)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any, ClassVar

from asyncz.triggers._timezones import fixed_offset, parse_timezone, timezone_name, to_utc
from asyncz.triggers.base import BaseTrigger, check_jitter, check_state_version

_MICROSECOND = timedelta(microseconds=1)


class BaseCombinationTrigger(BaseTrigger):
    """Combines ``triggers``. Each sub-trigger keeps its own time zone; ``timezone`` only
    sets the zone fire times are reported in. ``jitter`` applies to the combined time."""

    def __init__(
        self,
        triggers: Iterable[BaseTrigger],
        jitter: float | None = None,
        timezone: str | tzinfo | None = None,
    ) -> None:
        self.triggers = list(triggers)
        for trigger in self.triggers:
            if not isinstance(trigger, BaseTrigger):
                raise ValueError(
                    f"{type(self).__name__} combines triggers, got {trigger!r}; pass trigger "
                    "instances such as CronTrigger(hour=3)"
                )
        if not self.triggers:
            raise ValueError(f"{type(self).__name__} needs at least one trigger")
        self.jitter = check_jitter(jitter)
        self.timezone = parse_timezone(timezone)

    @abstractmethod
    def _next_time(self, previous_time: datetime | None, now: datetime | None) -> datetime | None:
        """The next un-jittered combined fire time."""

    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        if previous_time is not None:
            previous_time = to_utc(previous_time, self.timezone)
        if now is not None:
            now = to_utc(now, self.timezone)
        fire = self._next_time(previous_time, now)
        if fire is None:
            return None
        limit = self._next_time(fire, None) if self.jitter else None
        jittered = self.apply_jitter(fire, limit) or fire
        return fixed_offset(jittered, self.timezone)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "version": 1,
            "triggers": [_trigger_to_state(trigger) for trigger in self.triggers],
            "jitter": self.jitter,
            "timezone": timezone_name(self.timezone),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        name = type(self).__name__
        state = check_state_version(name, state)
        entries = state.get("triggers")
        if not isinstance(entries, list):
            raise ValueError(f"{name} state needs a list of triggers, got {entries!r}")
        triggers = [_trigger_from_state(entry, name) for entry in entries]
        BaseCombinationTrigger.__init__(self, triggers, state.get("jitter"), state.get("timezone"))

    def __str__(self) -> str:
        return f"{self.alias}[{', '.join(str(trigger) for trigger in self.triggers)}]"

    def __repr__(self) -> str:
        jitter = f", jitter={self.jitter}" if self.jitter else ""
        return f"<{type(self).__name__}({self.triggers!r}{jitter})>"


class AndTrigger(BaseCombinationTrigger):
    """Fires at the earliest instant on which every sub-trigger fires.

    Each round moves the laggards to their first fire at or after the latest candidate,
    so agreeing schedules converge in a few rounds. Schedules that never agree (two
    intervals with offset grids, "Feb 30"-style crons) are declared finished after
    ``max_rounds`` rounds instead of searching forever. Sub-triggers must not have jitter
    of their own: jittered times would never coincide.
    """

    alias: ClassVar[str] = "and"
    max_rounds: ClassVar[int] = 10_000

    def __init__(
        self,
        triggers: Iterable[BaseTrigger],
        jitter: float | None = None,
        timezone: str | tzinfo | None = None,
    ) -> None:
        super().__init__(triggers, jitter, timezone)
        jittered = [trigger for trigger in self.triggers if trigger.jitter]
        if jittered:
            raise ValueError(
                f"AndTrigger sub-triggers must not have jitter ({jittered!r}): their jittered "
                "times would never coincide; pass jitter to the AndTrigger instead"
            )

    def _next_time(self, previous_time: datetime | None, now: datetime | None) -> datetime | None:
        times = [_next(trigger, previous_time, now) for trigger in self.triggers]
        for _ in range(self.max_rounds):
            agreed = [time for time in times if time is not None]
            if len(agreed) < len(times):
                return None  # a sub-trigger is finished
            latest = max(agreed)
            if all(time == latest for time in agreed):
                return latest
            times = [
                time if time == latest else _next(trigger, latest - _MICROSECOND, latest)
                for trigger, time in zip(self.triggers, agreed, strict=True)
            ]
        return None


class OrTrigger(BaseCombinationTrigger):
    """Fires whenever any sub-trigger fires (an instant shared by several fires once);
    finished when every sub-trigger is."""

    alias: ClassVar[str] = "or"

    def _next_time(self, previous_time: datetime | None, now: datetime | None) -> datetime | None:
        times = [_next(trigger, previous_time, now) for trigger in self.triggers]
        pending = [time for time in times if time is not None]
        return min(pending) if pending else None


def _next(
    trigger: BaseTrigger, previous_time: datetime | None, now: datetime | None
) -> datetime | None:
    timezone = getattr(trigger, "timezone", None) or parse_timezone(None)
    return trigger.get_next_trigger_time(timezone, previous_time, now)


def _trigger_to_state(trigger: BaseTrigger) -> dict[str, Any]:
    cls = type(trigger)
    kind = cls.alias or f"{cls.__module__}:{cls.__qualname__}"
    return {"type": kind, "state": trigger.__getstate__()}


def _trigger_from_state(entry: object, owner: str) -> BaseTrigger:
    if not (isinstance(entry, dict) and isinstance(entry.get("type"), str) and "state" in entry):
        raise ValueError(f"{owner} state holds a malformed sub-trigger {entry!r}")
    kind: str = entry["type"]
    if ":" in kind:
        from asyncz.tasks.references import resolve_reference

        cls = resolve_reference(kind)
    else:
        from asyncz.plugins.registry import default_registry

        cls = default_registry().trigger_class(kind)
    if not (isinstance(cls, type) and issubclass(cls, BaseTrigger)):
        raise ValueError(f"{owner} sub-trigger type {kind!r} is not a trigger class")
    trigger = cls.__new__(cls)
    trigger.__setstate__(entry["state"])
    return trigger
