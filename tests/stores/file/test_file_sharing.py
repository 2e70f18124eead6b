"""Several store instances and processes on one directory see one consistent set of tasks."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asyncz.exceptions import ConflictIdError
from asyncz.stores.file import FileStore, _index
from asyncz.stores.file._layout import JOURNAL_NAME
from asyncz.stores.records import TaskRecord

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)


def _open(directory: Path | str) -> FileStore:
    store = FileStore(directory)
    store.start(None, "sharing")
    return store


def test_two_instances_see_each_others_writes(task_dir: Path) -> None:
    first, second = _open(task_dir), _open(task_dir)
    first.insert_record(TaskRecord("a", T0, b"1"))
    assert second.fetch_record("a") == TaskRecord("a", T0, b"1")
    assert second.earliest_run_time() == T0
    second.replace_record(TaskRecord("a", T0 + timedelta(seconds=9), b"2"))
    assert first.due_records(T0) == []
    assert first.earliest_run_time() == T0 + timedelta(seconds=9)
    second.insert_record(TaskRecord("b", T0, b"3"))
    assert [r.id for r in first.due_records(T0 + timedelta(seconds=9))] == ["b", "a"]
    first.remove_record("b")
    assert [r.id for r in second.iter_records()] == ["a"]
    first.shutdown()
    second.shutdown()


def test_compaction_by_one_instance_is_followed_by_the_other(
    task_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_index, "COMPACT_MIN_ENTRIES", 100)
    writer, reader = _open(task_dir), _open(task_dir)
    writer.insert_record(TaskRecord("steady", T0, b"s"))
    writer.insert_record(TaskRecord("busy", None, b"b"))
    assert reader.earliest_run_time() == T0
    journal = task_dir / JOURNAL_NAME
    inode = journal.stat().st_ino
    for turn in range(250):  # rewrites of one task: entries pile up
        run_at = T0 + timedelta(seconds=turn % 7 - 3)
        writer.replace_record(TaskRecord("busy", run_at, str(turn).encode()))
    assert journal.stat().st_ino != inode, "the journal was never compacted"
    assert journal.stat().st_size < 10_000
    last = T0 + timedelta(seconds=249 % 7 - 3)
    assert {r.id for r in reader.iter_records()} == {"steady", "busy"}
    assert reader.earliest_run_time() == min(T0, last)
    expected = sorted([(T0, "steady"), (last, "busy")])
    assert [(r.next_run_time, r.id) for r in reader.due_records(last)] == expected
    reader.remove_record("busy")
    assert [r.id for r in writer.due_records(T0)] == ["steady"]
    writer.shutdown()
    reader.shutdown()


def _insert_contended(directory: str, worker: int, barrier: Any, results: Any) -> None:
    try:
        store = _open(directory)
        barrier.wait(timeout=30)
        try:
            store.insert_record(TaskRecord("contended", T0, f"worker {worker}".encode()))
            outcome = "added"
        except ConflictIdError:
            outcome = "conflict"
        for number in range(40):
            run_at = T0 + timedelta(seconds=number)
            store.insert_record(TaskRecord(f"w{worker}-{number:02d}", run_at, b""))
        results.put(outcome)
        store.shutdown()
    except BaseException as exc:
        results.put(f"worker {worker} failed: {type(exc).__name__}: {exc}")
        barrier.abort()


def test_processes_racing_on_one_id_admit_exactly_one(task_dir: Path) -> None:
    directory = task_dir
    _open(directory).shutdown()
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(3), context.Queue()
    children = [
        context.Process(target=_insert_contended, args=(str(directory), n, barrier, results))
        for n in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    outcomes = sorted(results.get(timeout=5) for _ in children)
    assert outcomes == ["added", "conflict", "conflict"]
    store = _open(directory)
    assert len(store.iter_records()) == 1 + 3 * 40
    due = store.due_records(T0 + timedelta(seconds=1))
    assert [r.id for r in due] == [
        "contended",
        "w0-00",
        "w1-00",
        "w2-00",
        "w0-01",
        "w1-01",
        "w2-01",
    ]
    store.shutdown()
