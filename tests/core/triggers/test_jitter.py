from __future__ import annotations

import random
from datetime import UTC, timedelta

import pytest

from asyncz.triggers import CronTrigger, IntervalTrigger, OrTrigger
from asyncz.triggers.base import BaseTrigger
from core.triggers._helpers import fires, utc


@pytest.fixture(autouse=True)
def _seeded() -> None:
    random.seed(1234)


def test_cron_jitter_delays_within_bounds_and_keeps_the_schedule() -> None:
    trigger = CronTrigger(minute="*/10", jitter=120)
    times = fires(trigger, utc(2026, 1, 1), 200)
    delays = [(fire - utc(2026, 1, 1)) % timedelta(minutes=10) for fire in times]
    assert all(timedelta(0) <= delay <= timedelta(seconds=120) for delay in delays)
    assert len(set(delays)) > 100  # really random
    # every scheduled slot fired exactly once, in order
    slots = [fire.replace(second=0, microsecond=0, minute=fire.minute // 10 * 10) for fire in times]
    assert slots == [utc(2026, 1, 1) + timedelta(minutes=10 * index) for index in range(200)]


def test_interval_jitter_keeps_the_grid() -> None:
    trigger = IntervalTrigger(seconds=30, start_at=utc(2026, 1, 1), jitter=10)
    times = fires(trigger, utc(2026, 1, 1), 100)
    for index, fire in enumerate(times):
        slot = utc(2026, 1, 1) + timedelta(seconds=30 * index)
        assert slot <= fire <= slot + timedelta(seconds=10)


@pytest.mark.parametrize(
    "trigger",
    [
        CronTrigger(second="*", jitter=3600),
        IntervalTrigger(seconds=0.001, start_at=utc(2026, 1, 1), jitter=60),
        OrTrigger([CronTrigger(second="*/2"), CronTrigger(second="1-59/2")], jitter=10),
    ],
    ids=["cron", "interval", "or"],
)
def test_jitter_larger_than_the_period_never_reaches_the_next_fire(trigger: BaseTrigger) -> None:
    times = fires(trigger, utc(2026, 1, 1), 300)
    assert len(times) == 300
    assert all(earlier < later for earlier, later in zip(times, times[1:], strict=False))
    period = (
        timedelta(milliseconds=1) if isinstance(trigger, IntervalTrigger) else timedelta(seconds=1)
    )
    start = utc(2026, 1, 1)
    for index, fire in enumerate(times):
        assert start + period * index <= fire < start + period * (index + 1)


def test_apply_jitter_respects_the_limit_to_the_microsecond() -> None:
    trigger = CronTrigger(jitter=1000)
    fire = utc(2026, 1, 1)
    for room in (0, 1, 2, 10):
        limit = fire + timedelta(microseconds=room)
        jittered = trigger.apply_jitter(fire, limit)
        assert jittered is not None
        assert fire <= jittered < limit or (room == 0 and jittered == fire)


def test_jitter_validation() -> None:
    with pytest.raises(ValueError, match="jitter must be"):
        CronTrigger(jitter=-1)
    with pytest.raises(ValueError, match="jitter must be"):
        IntervalTrigger(seconds=1, jitter="5")  # type: ignore[arg-type]
    assert CronTrigger(jitter=0).jitter is None
    assert CronTrigger().get_next_trigger_time(UTC, None, utc(2026, 1, 1)) == utc(2026, 1, 1)
