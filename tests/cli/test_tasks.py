"""``asyncz tasks ...`` end to end, in subprocesses, on file, SQLite and Redis stores.

Behaviour that does not depend on the store is checked on the file store only.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from asyncz.stores.records import TaskRecord
from asyncz.triggers.cron import CronTrigger
from support.cli import CLI, CRONTAB, StoreCase, populate

file_only = pytest.mark.parametrize("store_case", ["file"], indirect=True)


def test_list_shows_every_task_with_local_and_utc_times(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    tasks = populate(store_case.open(), tmp_path / "marker")
    result = cli("tasks", "list", *store_case.args)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "NAME",
        "TRIGGER",
        "NEXT",
        "RUN",
        "(LOCAL)",
        "NEXT",
        "RUN",
        "(UTC)",
        "STATE",
    ]
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert set(rows) == {"report", "greeter", "sleeper"}
    report_time = tasks["report"].next_run_time
    assert report_time is not None
    lisbon = report_time.astimezone(CronTrigger.from_crontab(CRONTAB, "Europe/Lisbon").timezone)
    assert f"{lisbon:%Y-%m-%d %H:%M:%S} {lisbon.tzname()}" in rows["report"]
    assert f"{report_time.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" in rows["report"]
    assert rows["report"].endswith("scheduled")
    assert rows["sleeper"].endswith("paused")
    assert "3 tasks (2 scheduled, 1 paused)" in result.stdout


def test_list_json_parses_and_holds_the_stored_values(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    tasks = populate(store_case.open(), tmp_path / "marker")
    result = cli("tasks", "list", *store_case.args, "--json")
    assert result.code == 0, result.stderr
    data = result.json()
    by_id = {entry["id"]: entry for entry in data["tasks"]}
    assert [entry["id"] for entry in data["tasks"]][-1] == "sleeper"  # paused last
    greeter = by_id["greeter"]
    assert greeter["function"] == "asyncz_cli_jobs:greet"
    assert greeter["args"] == ["world"]
    assert greeter["trigger_type"] == "interval"
    assert datetime.fromisoformat(greeter["next_run_time"]) == tasks["greeter"].next_run_time
    assert by_id["sleeper"]["state"] == "paused"
    assert by_id["sleeper"]["next_run_time"] is None
    assert data["quarantined"] == 0
    assert data["unreadable"] == []


@file_only
def test_show_prints_one_task_in_detail(cli: CLI, store_case: StoreCase, tmp_path: Path) -> None:
    populate(store_case.open(), tmp_path / "marker")
    result = cli("tasks", "show", "report", *store_case.args)
    assert result.code == 0, result.stderr
    assert "Task report" in result.stdout
    assert "asyncz_cli_jobs:touch" in result.stdout
    assert CRONTAB in result.stdout
    as_json = cli("tasks", "show", "report", *store_case.args, "--json").json()
    assert as_json["name"] == "daily report"
    assert as_json["state"] == "scheduled"


def test_pause_resume_and_remove_change_the_store(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    store = store_case.open()
    populate(store, tmp_path / "marker")

    paused = cli("tasks", "pause", "greeter", *store_case.args)
    assert paused.code == 0, paused.stderr
    assert "paused" in paused.stdout
    greeter = store.lookup_task("greeter")
    assert greeter is not None and greeter.next_run_time is None

    before = datetime.now(UTC)
    resumed = cli("tasks", "resume", "sleeper", *store_case.args)
    assert resumed.code == 0, resumed.stderr
    sleeper = store.lookup_task("sleeper")
    assert sleeper is not None and sleeper.next_run_time is not None
    assert sleeper.next_run_time >= before  # resumed from now: the next fire of its interval
    assert sleeper.args == (str(tmp_path / "marker"), "sleeper")  # the rest is unchanged

    removed = cli("tasks", "remove", "report", *store_case.args)
    assert removed.code == 0, removed.stderr
    assert store.lookup_task("report") is None
    assert {task.id for task in store.get_all_tasks()} == {"greeter", "sleeper"}


def test_run_calls_the_function_once_in_the_cli_process(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    store = store_case.open()
    tasks = populate(store, marker)
    result = cli("tasks", "run", "report", *store_case.args)
    assert result.code == 0, result.stderr
    assert "in this CLI process" in result.stdout
    assert "it returned 'report'" in result.stdout
    text, pid = marker.read_text().split()
    assert text == "report" and int(pid) != os.getpid()
    stored = store.lookup_task("report")
    assert stored is not None
    assert stored.next_run_time == tasks["report"].next_run_time  # schedule unchanged


@file_only
def test_run_reports_a_failing_task(cli: CLI, store_case: StoreCase) -> None:
    from asyncz.tasks.task import Task
    from asyncz.triggers.interval import IntervalTrigger

    store = store_case.open()
    store.add_task(
        Task(
            "asyncz_cli_jobs:fail",
            id="broken-job",
            trigger=IntervalTrigger(hours=1, timezone="UTC"),
            next_run_time=None,
        )
    )
    result = cli("tasks", "run", "broken-job", *store_case.args)
    assert result.code == 1
    assert "ValueError: boom from a task" in result.stderr
    assert "asyncz: task 'broken-job' raised ValueError: boom from a task" in result.stderr


@file_only
def test_unknown_task_id_is_one_line(cli: CLI, store_case: StoreCase, tmp_path: Path) -> None:
    populate(store_case.open(), tmp_path / "marker")
    line = cli("tasks", "show", "nope", *store_case.args).assert_one_line_error()
    assert "'nope'" in line and "report" in line  # names what exists


def test_unreadable_records_are_reported_and_quarantined_ones_listed(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    store = store_case.open()
    populate(store, tmp_path / "marker")
    store.insert_record(TaskRecord("garbled", None, b"not a task record"))

    listed = cli("tasks", "list", *store_case.args)
    assert listed.code == 0, listed.stderr
    assert "cannot read task 'garbled' here" in listed.stdout
    assert store.quarantined_records() == []  # the CLI reports; it never quarantines

    store.get_all_tasks()  # the store API quarantines what it cannot read
    (entry,) = store.quarantined_records()
    quarantine = cli("tasks", "quarantine", *store_case.args, "--json")
    assert quarantine.code == 0, quarantine.stderr
    assert quarantine.json()["quarantined"] == [{"id": "garbled", "reason": entry.reason}]


@file_only
def test_quarantined_records_in_text(cli: CLI, store_case: StoreCase, tmp_path: Path) -> None:
    store = store_case.open()
    populate(store, tmp_path / "marker")
    store.insert_record(TaskRecord("garbled", None, b"not a task record"))
    store.get_all_tasks()
    listed = cli("tasks", "list", *store_case.args)
    assert "3 tasks" in listed.stdout
    assert "1 quarantined record" in listed.stdout
    assert "asyncz tasks quarantine" in listed.stdout
    quarantine = cli("tasks", "quarantine", *store_case.args)
    assert quarantine.code == 0, quarantine.stderr
    row = next(line for line in quarantine.stdout.splitlines() if line.startswith("garbled"))
    assert store.quarantined_records()[0].reason in row
    assert f"1 quarantined record in {store.describe().split(' (')[0]}" in quarantine.stdout


@file_only
def test_encrypted_records_need_the_key(cli: CLI, store_case: StoreCase, tmp_path: Path) -> None:
    store = store_case.open(encryption_key="cli-secret")
    populate(store, tmp_path / "marker")
    without = cli("tasks", "list", *store_case.args)
    assert without.code == 0
    assert "0 tasks" in without.stdout
    assert without.stdout.count("cannot read task") == 3
    assert store.quarantined_records() == []
    with_key = cli(
        "tasks", "list", *store_case.args, env={"ASYNCZ_STORE_ENCRYPTION_KEY": "cli-secret"}
    )
    assert "3 tasks" in with_key.stdout
