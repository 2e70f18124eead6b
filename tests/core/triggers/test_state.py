"""Trigger state: JSON-native, versioned, and rebuilding an equal trigger."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asyncz.plugins.registry import default_registry
from asyncz.tasks.state import trigger_from_state, trigger_to_state
from asyncz.triggers import (
    AndTrigger,
    BaseTrigger,
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
)
from core.triggers._helpers import fires, utc

TRIGGERS = [
    DateTrigger("2026-03-08 02:30", timezone="America/New_York"),
    DateTrigger("2026-11-01 01:30:00-05:00", timezone="America/New_York"),
    IntervalTrigger(hours=1, seconds=0.5, start_at="2026-01-01", timezone="+05:30", jitter=2.5),
    IntervalTrigger(days=2, start_at="2026-01-01", end_at="2026-02-01", timezone="Europe/Lisbon"),
    CronTrigger(hour=3, minute=0, timezone="Europe/Lisbon"),
    CronTrigger(day="1st mon,last fri", month="jan-jun", week="*/2", jitter=1),
    CronTrigger(year="2027-2030", second=5, start_at="2026-01-01", end_at="2031-01-01"),
    CronTrigger.from_crontab("0 0 13 * 5", "Australia/Lord_Howe"),
    CronTrigger.from_crontab("@hourly", start_at="2026-01-01", jitter=30),
    AndTrigger([CronTrigger(day_of_week="fri"), CronTrigger(day=13)], jitter=4),
    OrTrigger([DateTrigger("2026-01-01"), IntervalTrigger(seconds=9, start_at="2026-01-01")]),
]


def _json_native(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_native(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_json_native(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_state_is_json_native_and_round_trips(trigger: BaseTrigger) -> None:
    state = trigger.__getstate__()
    assert state["version"] == 1
    assert _json_native(state)
    restored = type(trigger).__new__(type(trigger))
    restored.__setstate__(json.loads(json.dumps(state)))
    assert restored == trigger
    assert hash(restored) == hash(trigger)
    assert repr(restored) == repr(trigger)
    if not trigger.jitter:
        assert fires(restored, utc(2026, 1, 1), 5) == fires(trigger, utc(2026, 1, 1), 5)


@pytest.mark.parametrize("trigger", TRIGGERS, ids=repr)
def test_task_state_helpers_find_triggers_through_the_registry(trigger: BaseTrigger) -> None:
    data = json.loads(json.dumps(trigger_to_state(trigger)))
    assert data["type"] == trigger.alias
    assert trigger_from_state(data, default_registry().trigger_class) == trigger


@pytest.mark.parametrize("cls", [DateTrigger, IntervalTrigger, CronTrigger, AndTrigger, OrTrigger])
@pytest.mark.parametrize("state", [{"version": 2}, {}, "v1"])
def test_unknown_versions_are_rejected(cls: type[BaseTrigger], state: Any) -> None:
    trigger = cls.__new__(cls)
    with pytest.raises(ValueError, match=f"{cls.__name__} state"):
        trigger.__setstate__(state)


@pytest.mark.parametrize(
    ("cls", "state", "message"),
    [
        (DateTrigger, {"version": 1, "timezone": "UTC"}, "lacks 'run_at'"),
        (
            IntervalTrigger,
            {
                "version": 1,
                "interval": 0,
                "start_at": "2026-01-01",
                "end_at": None,
                "timezone": "UTC",
                "jitter": None,
            },
            "positive",
        ),
        (
            CronTrigger,
            {
                "version": 1,
                "fields": {"hour": "25"},
                "crontab": None,
                "timezone": "UTC",
                "start_at": None,
                "end_at": None,
                "jitter": None,
            },
            "hour='25'",
        ),
        (
            CronTrigger,
            {
                "version": 1,
                "fields": {"hours": "1"},
                "crontab": None,
                "timezone": "UTC",
                "start_at": None,
                "end_at": None,
                "jitter": None,
            },
            "invalid fields",
        ),
        (
            CronTrigger,
            {
                "version": 1,
                "fields": {},
                "crontab": None,
                "timezone": "Mars/Base",
                "start_at": None,
                "end_at": None,
                "jitter": None,
            },
            "unknown timezone",
        ),
    ],
)
def test_invalid_states_are_rejected(
    cls: type[BaseTrigger], state: dict[str, Any], message: str
) -> None:
    trigger = cls.__new__(cls)
    with pytest.raises(ValueError, match=message):
        trigger.__setstate__(state)


def test_equality_is_by_state() -> None:
    assert CronTrigger(hour=3) == CronTrigger(hour="3")
    assert CronTrigger(hour=3) != CronTrigger(hour=4)
    assert CronTrigger(hour=3) != CronTrigger(hour=3, timezone="Europe/Lisbon")
    assert CronTrigger(day="1st mon") == CronTrigger(day="1ST  Mon")
    assert CronTrigger.from_crontab("0 3 * * *") != CronTrigger(hour=3)
    assert DateTrigger("2026-01-01") != CronTrigger(hour=3)


def test_cron_state_holds_the_given_expressions() -> None:
    assert CronTrigger(hour=3, day_of_week="MON-fri").__getstate__() == {
        "version": 1,
        "fields": {"day_of_week": "mon-fri", "hour": "3"},
        "crontab": None,
        "timezone": "UTC",
        "start_at": None,
        "end_at": None,
        "jitter": None,
    }


def test_equal_states_of_a_shareable_trigger_decode_to_one_instance() -> None:
    lookup = default_registry().trigger_class
    state = json.loads(
        json.dumps(trigger_to_state(IntervalTrigger(hours=1, start_at=utc(2026, 1, 1))))
    )
    first = trigger_from_state(state, lookup)
    again = trigger_from_state(json.loads(json.dumps(state)), lookup)
    assert first is again
    assert IntervalTrigger.shareable and not AndTrigger.shareable


def test_a_shared_state_never_stands_in_for_an_invalid_lookalike() -> None:
    """True == 1, yet jitter=True is malformed: the cache must not hand out jitter=1's
    trigger for it."""
    lookup = default_registry().trigger_class
    state = trigger_to_state(IntervalTrigger(hours=1, start_at=utc(2026, 1, 1), jitter=1))
    assert state is not None
    trigger_from_state(state, lookup)
    malformed = {"type": state["type"], "state": {**state["state"], "jitter": True}}
    with pytest.raises(ValueError, match="jitter"):
        trigger_from_state(malformed, lookup)
