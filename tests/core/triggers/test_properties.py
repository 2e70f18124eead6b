"""Property tests: the DST rules of asyncz.triggers.cron and elapsed-time intervals, checked
against a brute-force oracle over real zones and random instants around their transitions
in 2020-2030."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncz.triggers import CronTrigger, IntervalTrigger
from core.triggers._helpers import fires_until

ZONES = [
    "America/New_York",
    "Europe/Lisbon",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
]
FIRST = datetime(2020, 1, 1, tzinfo=UTC)
LAST = datetime(2031, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SETTINGS = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


@cache
def transitions(zone: str) -> tuple[datetime, ...]:
    """Instants (UTC) at which the zone's offset changes, found by scanning days and then
    bisecting seconds: independent of the code under test."""
    tz = ZoneInfo(zone)
    found = []
    moment = FIRST
    while moment < LAST:
        following = moment + timedelta(days=1)
        if moment.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle.astimezone(tz).utcoffset() == following.astimezone(tz).utcoffset():
                    high = middle
                else:
                    low = middle
            found.append(high)
        moment = following
    return tuple(found)


@st.composite
def zone_and_instant(draw: st.DrawFn, zones: list[str] = ZONES) -> tuple[ZoneInfo, datetime]:
    """A zone and an instant: from a day before to two hours after one of its transitions,
    when it has any."""
    zone = draw(st.sampled_from(zones))
    near = transitions(zone)
    if near:
        anchor = draw(st.sampled_from(near))
        before = draw(st.integers(-2 * 3600_000000, 26 * 3600_000000))
        return ZoneInfo(zone), anchor - timedelta(microseconds=before)
    seconds = draw(st.integers(0, int((LAST - FIRST).total_seconds()) - 10 * 86400))
    return ZoneInfo(zone), FIRST + timedelta(
        seconds=seconds, microseconds=draw(st.integers(0, 999999))
    )


def _values(low: int, high: int, special: list[int]) -> st.SearchStrategy[frozenset[int]]:
    return st.one_of(
        st.just(frozenset(range(low, high + 1))),
        st.frozensets(st.sampled_from(special), min_size=1, max_size=3),
        st.frozensets(st.integers(low, high), min_size=1, max_size=4),
        st.integers(2, 7).map(lambda step: frozenset(range(low, high + 1, step))),
    )


CRON_SETS = st.fixed_dictionaries(
    {
        "minute": _values(0, 59, [0, 15, 30, 45]),
        "hour": _values(0, 23, [0, 1, 2, 3, 23]),
        "dom": st.one_of(st.just(frozenset(range(1, 32))), _values(1, 31, [1, 13, 28, 31])),
        "month": st.just(frozenset(range(1, 13))),
        "dow": st.one_of(st.just(frozenset(range(7))), _values(0, 6, [0, 5, 6])),  # 0 = Sunday
    }
)


def crontab(sets: dict[str, frozenset[int]]) -> str:
    return " ".join(
        ",".join(str(value) for value in sorted(sets[name]))
        for name in ("minute", "hour", "dom", "month", "dow")
    )


def wall_matches(sets: dict[str, frozenset[int]], wall: datetime) -> bool:
    """POSIX matching, written independently of the trigger's code."""
    if wall.minute not in sets["minute"] or wall.hour not in sets["hour"]:
        return False
    if wall.month not in sets["month"]:
        return False
    dom_ok = wall.day in sets["dom"]
    dow_ok = (wall.isoweekday() % 7) in sets["dow"]
    dom_restricted = len(sets["dom"]) < 31
    dow_restricted = len(sets["dow"]) < 7
    if dom_restricted and dow_restricted:
        return dom_ok or dow_ok
    return dom_ok and dow_ok


def oracle(
    sets: dict[str, frozenset[int]], tz: ZoneInfo, start: datetime, end: datetime
) -> list[datetime]:
    """Every minute instant in [start, end) checked against the DST rules one by one."""
    hour_unrestricted = len(sets["hour"]) == 24
    expected = []
    moment = (start + MINUTE - timedelta(microseconds=1)).replace(second=0, microsecond=0)
    while moment < end:
        local = moment.astimezone(tz)
        fires = wall_matches(sets, local) and (local.fold == 0 or hour_unrestricted)
        before = (moment - timedelta(microseconds=1)).astimezone(tz).utcoffset()
        after = local.utcoffset()
        if not fires and before is not None and after is not None and after > before:
            # spring-forward instant: fires if any skipped wall time matches
            skipped = (moment + before).replace(tzinfo=None)
            while skipped < (moment + after).replace(tzinfo=None):
                fires = fires or wall_matches(sets, skipped)
                skipped += MINUTE
        if fires:
            expected.append(moment)
        moment += MINUTE
    return expected


@SETTINGS
@given(CRON_SETS, zone_and_instant())
def test_cron_fires_exactly_where_the_rules_say(
    sets: dict[str, frozenset[int]], zone_instant: tuple[ZoneInfo, datetime]
) -> None:
    tz, start = zone_instant
    end = start + timedelta(hours=30)
    trigger = CronTrigger.from_crontab(crontab(sets), tz)
    actual = fires_until(trigger, start, end)
    assert [fire.astimezone(UTC) for fire in actual] == oracle(sets, tz, start, end)
    assert all(earlier < later for earlier, later in zip(actual, actual[1:], strict=False))
    # reported wall times are the zone's wall times
    assert all(
        fire.replace(tzinfo=None) == fire.astimezone(tz).replace(tzinfo=None) for fire in actual
    )


@SETTINGS
@given(st.integers(0, 23), st.integers(0, 59), zone_and_instant())
def test_daily_cron_fires_once_per_local_day(
    hour: int, minute: int, zone_instant: tuple[ZoneInfo, datetime]
) -> None:
    tz, around = zone_instant
    first_day = around.astimezone(tz).date() - timedelta(days=2)
    start = datetime.combine(first_day, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(first_day + timedelta(days=5), datetime.min.time(), tz).astimezone(UTC)
    trigger = CronTrigger(hour=hour, minute=minute, timezone=tz)
    actual = fires_until(trigger, start, end)
    days = [fire.astimezone(tz).date() for fire in actual]
    assert days == [first_day + timedelta(days=offset) for offset in range(5)]
    for fire in actual:
        local = fire.astimezone(tz)
        in_gap = (fire - timedelta(microseconds=1)).astimezone(tz).utcoffset() != local.utcoffset()
        assert (local.hour, local.minute) == (hour, minute) or in_gap
        assert local.fold == 0


@SETTINGS
@given(zone_and_instant())
def test_hourly_cron_fires_once_per_elapsed_hour(zone_instant: tuple[ZoneInfo, datetime]) -> None:
    tz, around = zone_instant
    day = around.astimezone(tz).date()
    start = datetime.combine(day, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).astimezone(UTC)
    actual = fires_until(CronTrigger.from_crontab("0 * * * *", tz), start, end)
    elapsed_hours = (end - start) / timedelta(hours=1)
    if elapsed_hours.is_integer():
        assert len(actual) == elapsed_hours  # 23, 24 or 25
        gaps = {(b - a).total_seconds() for a, b in zip(actual, actual[1:], strict=False)}
        assert gaps == {3600.0}
    else:  # Lord Howe's half-hour shifts: 23.5 or 24.5 elapsed hours, one fire per wall hour
        assert len(actual) == 24
    assert all(fire.astimezone(tz).minute in (0, 30) for fire in actual)


@SETTINGS
@given(
    st.one_of(st.integers(1, 200_000), st.floats(0.5, 100_000, allow_nan=False)),
    zone_and_instant(),
    st.integers(0, 1_000_000),
)
def test_interval_fires_exactly_n_seconds_apart(
    seconds: float, zone_instant: tuple[ZoneInfo, datetime], late_by: int
) -> None:
    tz, start = zone_instant
    trigger = IntervalTrigger(seconds=seconds, start_at=start, timezone=tz)
    now = start + timedelta(seconds=late_by)
    times = []
    previous = None
    for _ in range(30):
        previous = trigger.get_next_trigger_time(tz, previous, now)
        assert previous is not None
        times.append(previous)
    step = timedelta(seconds=seconds)
    assert now <= times[0] < now + step
    assert (times[0] - start) % step == timedelta(0)
    assert all(later - earlier == step for earlier, later in zip(times, times[1:], strict=False))


@SETTINGS
@given(CRON_SETS, zone_and_instant(), st.floats(0.1, 7200))
def test_cron_jitter_stays_between_scheduled_fires(
    sets: dict[str, frozenset[int]], zone_instant: tuple[ZoneInfo, datetime], jitter: float
) -> None:
    tz, start = zone_instant
    plain = CronTrigger.from_crontab(crontab(sets), tz)
    jittered = CronTrigger.from_crontab(crontab(sets), tz, jitter=jitter)
    scheduled = fires_until(plain, start, start + timedelta(hours=30))[:100]
    actual = []
    previous = None
    for _ in scheduled:
        previous = jittered.get_next_trigger_time(tz, previous, start)
        assert previous is not None
        actual.append(previous)
    following = [*scheduled[1:], None][: len(scheduled)]
    for slot, fire, limit in zip(scheduled, actual, following, strict=True):
        assert slot <= fire <= slot + timedelta(seconds=jitter)
        assert limit is None or fire < limit


@settings(deadline=None, max_examples=60)
@given(CRON_SETS, st.sampled_from(ZONES), st.booleans())
def test_random_crons_round_trip_through_json(
    sets: dict[str, frozenset[int]], zone: str, keyword: bool
) -> None:
    if keyword:
        trigger = CronTrigger(
            minute=",".join(map(str, sorted(sets["minute"]))),
            hour=",".join(map(str, sorted(sets["hour"]))),
            day=",".join(map(str, sorted(sets["dom"]))),
            timezone=zone,
            start_at=date(2026, 1, 1),
        )
    else:
        trigger = CronTrigger.from_crontab(crontab(sets), zone, jitter=1.5)
    restored = CronTrigger.__new__(CronTrigger)
    restored.__setstate__(json.loads(json.dumps(trigger.__getstate__())))
    assert restored == trigger
    assert restored.schedule == trigger.schedule
