"""The trigger contract: when does a task fire next."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from datetime import datetime, timedelta, tzinfo
from typing import Any, ClassVar


class BaseTrigger(ABC):
    """Computes a task's fire times.

    Rules every trigger keeps:

    * ``get_next_trigger_time`` returns an aware datetime strictly later than
      ``previous_time`` (when given), or ``None`` when the trigger will never fire again.
      It always terminates: a trigger that cannot find a time within its search bounds
      returns ``None`` instead of looping.
    * The state returned by ``__getstate__`` holds only JSON-native values (str, int, float,
      bool, None, lists and dicts of those); datetimes are ISO-8601 strings and time zones
      are IANA keys or ``±HH:MM`` offsets. That is what lets stores keep triggers as data.
    * ``alias`` names the trigger in configs and in stored records (entry-point group
      ``asyncz.triggers``).

    The built-in triggers also keep these:

    * ``timezone`` is the zone the trigger reads wall times in (UTC unless given). The
      ``timezone`` argument of ``get_next_trigger_time`` is accepted for compatibility and
      ignored: a trigger's own zone decides.
    * Fire times (and ``run_at``, ``start_at``, ``end_at``) are the trigger's wall time with
      the fixed UTC offset in force at that instant (a ``datetime.timezone``), never with a
      ``ZoneInfo``: Python compares datetimes sharing one ``ZoneInfo`` by wall time, ignoring
      ``fold``, so the two occurrences of a repeated (fall-back) hour would compare equal.
      ``fire.astimezone(trigger.timezone)`` gives the zone-aware view.
    * ``previous_time`` and ``now`` may be in any zone; naive values are wall times in the
      trigger's zone.
    * ``previous_time`` may be a jittered fire time; the next fire is computed from the
      un-jittered schedule (jitter never reaches the following fire, so "the first schedule
      point after ``previous_time``" is the right one).
    """

    # Subclasses may declare __slots__ (the interval trigger does: one exists per task).
    __slots__ = ()

    alias: ClassVar[str] = ""
    #: True when instances never change after construction (or ``__setstate__``): then a
    #: store may hand the same decoded instance to every task whose state is equal.
    shareable: ClassVar[bool] = False
    jitter: float | None = None
    timezone: tzinfo

    @abstractmethod
    def get_next_trigger_time(
        self, timezone: tzinfo, previous_time: datetime | None, now: datetime | None = None
    ) -> datetime | None:
        """The next fire time after ``previous_time`` (or the first one at/after ``now``)."""

    @abstractmethod
    def __getstate__(self) -> dict[str, Any]:
        """JSON-native state from which ``__setstate__`` rebuilds an equal trigger."""

    @abstractmethod
    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore from ``__getstate__``; raise ``ValueError`` on a state it cannot read."""

    def apply_jitter(
        self, fire_time: datetime | None, limit: datetime | None = None
    ) -> datetime | None:
        """Add up to ``jitter`` seconds, never reaching ``limit`` (the following fire time),
        so jitter cannot reorder or merge fires."""
        if fire_time is None or not self.jitter:
            return fire_time
        delay = int(random.uniform(0, self.jitter) * 1_000_000)  # whole microseconds
        if limit is not None:
            room = (limit - fire_time) // timedelta(microseconds=1) - 1
            delay = min(delay, max(room, 0))
        return fire_time + timedelta(microseconds=delay)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.__getstate__().items()))))


def check_jitter(jitter: float | None) -> float | None:
    """``jitter`` as a number of seconds >= 0 (``None`` or 0 means no jitter)."""
    if jitter is None:
        return None
    if isinstance(jitter, bool) or not isinstance(jitter, (int, float)) or not jitter >= 0:
        raise ValueError(f"jitter must be a number of seconds >= 0 or None, got {jitter!r}")
    return jitter or None


def check_state_version(trigger: str, state: object, version: int = 1) -> dict[str, Any]:
    """``state`` as a dict of a version this code reads; ``ValueError`` otherwise."""
    if not isinstance(state, dict):
        raise ValueError(f"{trigger} state must be a dict, got {type(state).__name__}")
    if state.get("version") != version:
        raise ValueError(
            f"{trigger} state version {state.get('version')!r} is not supported (this asyncz "
            f"reads version {version}); upgrade asyncz to read it"
        )
    return state
