"""Quarantine moves a task file aside with its reason; restore moves it back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asyncz.exceptions import ConflictIdError
from asyncz.stores.file import FileStore
from asyncz.stores.file._names import file_stem
from asyncz.stores.records import TaskRecord

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def store(task_dir: Path) -> Iterator[FileStore]:
    store = FileStore(task_dir)
    store.start(None, "quarantine")
    yield store
    store.shutdown()


def test_quarantine_moves_the_file_and_records_why(store: FileStore) -> None:
    store.insert_record(TaskRecord("bad/id", T0, b"unreadable bytes"))
    store.insert_record(TaskRecord("good", T0 + timedelta(seconds=1), b"fine"))
    store.quarantine_record("bad/id", "cannot decode record: wrong key")
    folder = store.directory / "quarantine"
    stem = file_stem("bad/id")
    assert (folder / f"{stem}.task").read_bytes().endswith(b"unreadable bytes")
    assert (folder / f"{stem}.reason").read_text() == "cannot decode record: wrong key"
    assert not (store.directory / f"{stem}.task").exists()
    # Out of every live query.
    assert [r.id for r in store.due_records(T0 + timedelta(days=1))] == ["good"]
    assert [r.id for r in store.iter_records()] == ["good"]
    assert store.earliest_run_time() == T0 + timedelta(seconds=1)
    assert store.fetch_record("bad/id") is None
    (entry,) = store.quarantined_records()
    assert entry.record == TaskRecord("bad/id", T0, b"unreadable bytes")
    assert entry.reason == "cannot decode record: wrong key"


def test_a_quarantined_id_is_still_taken(store: FileStore) -> None:
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.quarantine_record("t", "broken")
    with pytest.raises(ConflictIdError):
        store.insert_record(TaskRecord("t", T0, b"new"))
    assert store.quarantined_records()[0].record.payload == b"x"


def test_restore_moves_it_back_with_the_given_index(store: FileStore) -> None:
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.quarantine_record("t", "broken")
    later = T0 + timedelta(minutes=5)
    store.restore_record(TaskRecord("t", later, b"x"))
    assert store.quarantined_records() == []
    assert list((store.directory / "quarantine").iterdir()) == []
    assert store.fetch_record("t") == TaskRecord("t", later, b"x")
    assert store.earliest_run_time() == later
    assert [r.id for r in store.due_records(later)] == ["t"]


def test_quarantining_a_missing_record_is_ignored(store: FileStore) -> None:
    store.quarantine_record("nobody", "whatever")
    assert store.quarantined_records() == []


def test_remove_all_keeps_quarantined_records(store: FileStore) -> None:
    store.insert_record(TaskRecord("a", T0, b"x"))
    store.insert_record(TaskRecord("b", None, b"y"))
    store.quarantine_record("a", "broken")
    store.remove_all_records()
    assert store.iter_records() == []
    assert [q.record.id for q in store.quarantined_records()] == ["a"]
