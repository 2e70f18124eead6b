"""``asyncz cron`` and ``asyncz preview``: next fire times, local and UTC, from the trigger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from asyncz.tasks.task import Task
from asyncz.triggers.cron import CronTrigger
from asyncz.triggers.interval import IntervalTrigger
from support.cli import CLI, CRONTAB, StoreCase, populate


def _expected(trigger: CronTrigger, count: int) -> list[datetime]:
    times: list[datetime] = []
    now = datetime.now(UTC)
    moment = trigger.get_next_trigger_time(UTC, None, now)
    while moment is not None and len(times) < count:
        times.append(moment)
        moment = trigger.get_next_trigger_time(UTC, moment, now)
    return times


def test_cron_lists_the_next_fire_times_in_its_zone_and_utc(cli: CLI) -> None:
    trigger = CronTrigger.from_crontab(CRONTAB, "America/New_York")
    before = _expected(trigger, 4)
    result = cli("cron", CRONTAB, "--tz", "America/New_York", "--count", "4")
    assert result.code == 0, result.stderr
    after = _expected(trigger, 4)
    expected = before if before[0].strftime("%H:%M") in result.stdout else after
    assert f"Next 4 fire times of '{CRONTAB}' in America/New_York" in result.stdout
    rows = result.stdout.splitlines()[2:]
    assert len(rows) == 4
    zone = ZoneInfo("America/New_York")
    for row, moment in zip(rows, expected, strict=True):
        local = moment.astimezone(zone)
        assert f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}" in row
        assert f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" in row
        assert 9 <= local.hour <= 17 and local.minute % 5 == 0 and local.weekday() < 5


def test_cron_json(cli: CLI) -> None:
    data = cli("cron", "@daily", "--tz", "Europe/Lisbon", "-n", "3", "--json").json()
    assert data["timezone"] == "Europe/Lisbon"
    expected = _expected(CronTrigger.from_crontab("@daily", "Europe/Lisbon"), 3)
    assert [datetime.fromisoformat(t["utc"]) for t in data["times"]] == expected
    assert all(datetime.fromisoformat(t["local"]).hour == 0 for t in data["times"])


def test_cron_defaults_to_the_machine_zone(cli: CLI) -> None:
    result = cli("cron", "0 12 * * *", "-n", "1")  # the subprocess runs with TZ=Europe/Lisbon
    assert result.code == 0, result.stderr
    assert "in Europe/Lisbon" in result.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["61 * * * *"], "minute field"),
        (["* * * *"], "has 4 fields"),
        (["@sometimes"], "unknown macro"),
        (["* * * * *", "--tz", "Mars/Olympus_Mons"], "unknown timezone"),
        (["* * * * *", "--count", "0"], "at least 1"),
    ],
)
def test_cron_mistakes_are_one_line(cli: CLI, args: list[str], fragment: str) -> None:
    line = cli("cron", *args).assert_one_line_error()
    assert fragment in line


@pytest.mark.parametrize("store_case", ["file"], indirect=True)
def test_preview_starts_at_the_stored_next_run_time(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    store = store_case.open()
    populate(store, tmp_path / "marker")
    first = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=3)
    store.add_task(
        Task(
            "asyncz_cli_jobs:greet",
            id="every-90s",
            args=["x"],
            trigger=IntervalTrigger(seconds=90, start_at=first, timezone="UTC"),
            next_run_time=first,
        )
    )
    data = cli("preview", "every-90s", *store_case.args, "--count", "3", "--json").json()
    assert [datetime.fromisoformat(t["utc"]) for t in data["times"]] == [
        first,
        first + timedelta(seconds=90),
        first + timedelta(seconds=180),
    ]
    text = cli("preview", "report", *store_case.args, "-n", "5", "--tz", "Europe/Lisbon")
    assert text.code == 0, text.stderr
    assert "Next 5 run times of task 'report'" in text.stdout
    assert len(text.stdout.splitlines()) == 7  # title, header, five rows
    paused = cli("preview", "sleeper", *store_case.args, "-n", "2")
    assert "is paused; if it were resumed now it would run at" in paused.stdout
