from __future__ import annotations

import json
import time
from datetime import UTC

import pytest

from asyncz.triggers import (
    AndTrigger,
    BaseCombinationTrigger,
    CronTrigger,
    DateTrigger,
    IntervalTrigger,
    OrTrigger,
)
from core.triggers._helpers import fires, utc

NOW = utc(2026, 1, 1)


def test_and_fires_when_all_agree() -> None:
    friday_13th = AndTrigger([CronTrigger(day_of_week="fri"), CronTrigger(day=13)])
    assert [fire.date().isoformat() for fire in fires(friday_13th, NOW, 3)] == [
        "2026-02-13",
        "2026-03-13",
        "2026-11-13",
    ]


def test_and_of_interval_and_cron() -> None:
    trigger = AndTrigger(
        [IntervalTrigger(minutes=20, start_at=utc(2026, 1, 1)), CronTrigger(minute="*/30")]
    )
    assert [fire.strftime("%H:%M") for fire in fires(trigger, NOW, 3)] == [
        "00:00",
        "01:00",
        "02:00",
    ]


def test_and_with_a_date_fires_at_most_once() -> None:
    trigger = AndTrigger([DateTrigger(utc(2026, 1, 1, 3)), CronTrigger(minute=0)])
    assert fires(trigger, NOW, 3) == [utc(2026, 1, 1, 3)]
    missing = AndTrigger([DateTrigger(utc(2026, 1, 1, 3, 30)), CronTrigger(minute=0)])
    assert fires(missing, NOW, 3) == []


@pytest.mark.parametrize(
    "triggers",
    [
        [
            IntervalTrigger(seconds=2, start_at=utc(2026, 1, 1)),
            IntervalTrigger(seconds=2, start_at=utc(2026, 1, 1, 0, 0, 1)),
        ],
        [CronTrigger(day=1), CronTrigger(day=2)],
        [CronTrigger(month=2, day=30), IntervalTrigger(seconds=1)],
        [CronTrigger(minute=0), CronTrigger(minute=30)],
    ],
    ids=["offset-intervals", "disjoint-days", "feb-30", "disjoint-minutes"],
)
def test_and_that_never_agrees_finishes_instead_of_spinning(triggers: list[CronTrigger]) -> None:
    started = time.perf_counter()
    assert AndTrigger(triggers).get_next_trigger_time(UTC, None, NOW) is None
    assert time.perf_counter() - started < 3


def test_and_rejects_jittered_sub_triggers() -> None:
    with pytest.raises(ValueError, match="must not have jitter"):
        AndTrigger([CronTrigger(minute=0, jitter=5), CronTrigger(hour=1)])


def test_or_fires_on_any_and_each_instant_once() -> None:
    trigger = OrTrigger([CronTrigger(minute="0,30"), CronTrigger(minute="*/20")])
    assert [fire.strftime("%H:%M") for fire in fires(trigger, NOW, 5)] == [
        "00:00",
        "00:20",
        "00:30",
        "00:40",
        "01:00",
    ]


def test_or_keeps_a_date_trigger_after_siblings_fire() -> None:
    trigger = OrTrigger([DateTrigger(utc(2026, 1, 1, 1, 30)), CronTrigger(minute=0)])
    assert [fire.strftime("%H:%M") for fire in fires(trigger, NOW, 4)] == [
        "00:00",
        "01:00",
        "01:30",
        "02:00",
    ]


def test_or_finishes_when_all_finish() -> None:
    trigger = OrTrigger([DateTrigger(utc(2026, 1, 1, 1)), DateTrigger(utc(2026, 1, 1, 2))])
    assert fires(trigger, NOW, 5) == [utc(2026, 1, 1, 1), utc(2026, 1, 1, 2)]


def test_sub_triggers_keep_their_own_zones() -> None:
    trigger = OrTrigger(
        [CronTrigger(hour=9, timezone="Asia/Kolkata"), CronTrigger(hour=9, timezone="UTC")],
        timezone="America/New_York",
    )
    assert [str(fire) for fire in fires(trigger, NOW, 2)] == [
        "2025-12-31 22:30:00-05:00",
        "2026-01-01 04:00:00-05:00",
    ]


def test_state_round_trips_through_json_and_the_registry() -> None:
    trigger = OrTrigger(
        [
            AndTrigger([CronTrigger(day_of_week="fri"), CronTrigger(day=13)]),
            IntervalTrigger(hours=6, start_at="2026-01-01 00:00:00+00:00"),
            DateTrigger("2026-06-01 00:00:00+00:00"),
        ],
        jitter=3,
    )
    state = json.loads(json.dumps(trigger.__getstate__()))
    assert [entry["type"] for entry in state["triggers"]] == ["and", "interval", "date"]
    restored = OrTrigger.__new__(OrTrigger)
    restored.__setstate__(state)
    assert restored == trigger
    assert isinstance(restored.triggers[0], AndTrigger)
    assert isinstance(restored, BaseCombinationTrigger)


def test_bad_combinations_and_states() -> None:
    with pytest.raises(ValueError, match="needs at least one trigger"):
        OrTrigger([])
    with pytest.raises(ValueError, match="combines triggers"):
        AndTrigger(["cron"])  # type: ignore[list-item]
    restored = AndTrigger.__new__(AndTrigger)
    with pytest.raises(ValueError, match="version"):
        restored.__setstate__({"version": 2, "triggers": []})
    with pytest.raises(ValueError, match="malformed sub-trigger"):
        restored.__setstate__({"version": 1, "triggers": [{"state": {}}]})
    with pytest.raises(ValueError, match="is not a trigger class"):
        restored.__setstate__({"version": 1, "triggers": [{"type": "json:dumps", "state": {}}]})


def test_str_and_repr() -> None:
    trigger = AndTrigger([CronTrigger(hour=3), IntervalTrigger(seconds=5, start_at=NOW)])
    assert str(trigger) == "and[cron[hour='3'], interval[0:00:05]]"
    assert repr(trigger).startswith("<AndTrigger([<CronTrigger (hour='3', timezone='UTC')>, ")
