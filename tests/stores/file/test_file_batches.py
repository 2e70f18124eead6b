"""Batched lease commits and releases: one lock and one journal append per batch, same
results as the single-item calls."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asyncz.stores.file import FileStore
from asyncz.stores.file._format import Entry
from asyncz.stores.file._layout import TEMP_PREFIX
from asyncz.stores.records import TaskRecord

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)


def _open(directory: Path) -> FileStore:
    store = FileStore(directory)
    store.start(None, "batches")
    return store


def _claimed(store: FileStore, count: int, owner: str) -> list[TaskRecord]:
    for number in range(count):
        store.insert_record(TaskRecord(f"t{number:02}", T0 + timedelta(seconds=number), b"x"))
    return store.claim_records(T0 + timedelta(hours=1), count, owner, LATER)


def _count_locks_and_appends(store: FileStore, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    counts = {"locks": 0, "appends": 0}
    files, journal = store._files, store._files.journal
    writing, append = files.writing, journal.append

    def counted_writing() -> AbstractContextManager[int]:
        counts["locks"] += 1
        return writing()

    def counted_append(entries: list[Entry]) -> None:
        counts["appends"] += 1
        append(entries)

    monkeypatch.setattr(files, "writing", counted_writing)
    monkeypatch.setattr(journal, "append", counted_append)
    return counts


def test_fifty_commits_and_releases_take_one_lock_and_one_journal_flush(
    task_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _open(task_dir)
    claimed = _claimed(store, 50, "alpha")
    assert len(claimed) == 50
    journal = Path(store._files.journal.path)
    lines_before = journal.read_bytes().count(b"\n")
    counts = _count_locks_and_appends(store, monkeypatch)
    commits = [(TaskRecord(r.id, None, b"ran " + r.id.encode()), T0) for r in claimed]
    assert store.commit_claims(commits, "alpha", LATER) == [True] * 50
    assert counts == {"locks": 1, "appends": 1}
    assert journal.read_bytes().count(b"\n") == lines_before + 100  # a SET and a lease each
    assert store.fetch_record("t07") == TaskRecord("t07", None, b"ran t07")

    releases = [(r.id, number % 2 == 0) for number, r in enumerate(claimed)]
    assert store.release_leases(releases, "alpha") == [True] * 50
    assert counts == {"locks": 2, "appends": 2}
    assert [r.id for r in store.iter_records()] == [r.id for r in claimed[1::2]]
    store.shutdown()


def test_empty_batches_take_no_lock(task_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _open(task_dir)
    counts = _count_locks_and_appends(store, monkeypatch)
    assert store.commit_claims([], "alpha", LATER) == []
    assert store.release_leases([], "alpha") == []
    assert counts == {"locks": 0, "appends": 0}
    store.shutdown()


def test_batches_give_the_results_of_single_calls_in_order(task_dir: Path) -> None:
    store, other = _open(task_dir), _open(task_dir)
    _claimed(store, 3, "alpha")
    store.insert_record(TaskRecord("other", T0, b"x"))
    assert [r.id for r in other.claim_records(LATER, 5, "beta", LATER)] == ["other"]
    commits = [
        (TaskRecord("t00", T0, b"first"), T0),
        (TaskRecord("other", T0, b"stolen"), T0),  # beta's lease: refused
        (TaskRecord("ghost", T0, b"x"), T0),
        (TaskRecord("t00", LATER, b"second"), LATER),  # same id again: the last one stays
    ]
    assert store.commit_claims(commits, "alpha", LATER) == [True, False, False, True]
    assert other.fetch_record("t00") == TaskRecord("t00", LATER, b"second")
    assert other.fetch_record("other") == TaskRecord("other", T0, b"x")

    releases = [
        ("t01", False),
        ("t01", True),  # the lease already ended above: refused, the task stays
        ("other", True),
        ("t02", True),
        ("t02", False),
    ]
    assert store.release_leases(releases, "alpha") == [True, False, False, True, False]
    assert {r.id for r in other.iter_records()} == {"t00", "t01", "other"}
    assert not [p for p in task_dir.iterdir() if p.name.startswith(TEMP_PREFIX)]
    store.shutdown()
    other.shutdown()
