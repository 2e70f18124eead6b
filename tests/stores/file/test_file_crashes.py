"""A crash at any moment leaves every task intact and findable.

Crashes are real where that can be done deterministically enough (a child process killed
with SIGKILL while it rewrites a task in a loop); the exact states a crash can leave
behind (stray temporary file, torn journal line, journal entry written but rename not done,
missing journal) are also built by hand and checked one by one.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asyncz.exceptions import ConflictIdError
from asyncz.stores.file import FileStore
from asyncz.stores.file._format import SET, Entry, journal_line, parse_task_header
from asyncz.stores.file._layout import JOURNAL_NAME
from asyncz.stores.records import TaskRecord, to_micros

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
BIG = 2 * 1024 * 1024


def _open(directory: Path) -> FileStore:
    store = FileStore(directory)
    store.start(None, "crash")
    return store


def _rewrite_forever(directory: str) -> None:
    """Child process: replace one task again and again, alternating two whole payloads."""
    store = _open(Path(directory))
    for turn in range(1_000_000):
        fill = b"A" if turn % 2 else b"B"
        store.replace_record(TaskRecord("victim", T0 + timedelta(seconds=turn), fill * BIG))


def test_a_writer_killed_mid_write_leaves_the_task_whole(task_dir: Path) -> None:
    directory = task_dir
    store = _open(directory)
    store.insert_record(TaskRecord("victim", T0, b"A" * BIG))
    store.insert_record(TaskRecord("bystander", T0, b"untouched"))
    context = multiprocessing.get_context("fork")
    rng = random.Random(7)
    for _ in range(4):
        child = context.Process(target=_rewrite_forever, args=(str(directory),))
        child.start()
        time.sleep(0.05 + rng.random() * 0.15)
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        record = store.fetch_record("victim")
        assert record is not None
        assert len(record.payload) == BIG and record.payload in (b"A" * BIG, b"B" * BIG)
        # The index and the file agree on the run time (corrected if the crash split them).
        due = store.due_records(T0 + timedelta(days=30))
        assert {r.id for r in due} == {"victim", "bystander"}
        assert {r.id: r.next_run_time for r in due}["victim"] == record.next_run_time
    store.shutdown()
    # A fresh start sweeps temporary files left by the killed writers.
    again = _open(directory)
    assert not [p for p in directory.iterdir() if p.name.startswith(".tmp-")]
    assert {r.id for r in again.iter_records()} == {"victim", "bystander"}
    again.shutdown()


def test_stray_temp_files_are_ignored_then_swept(task_dir: Path) -> None:
    directory = task_dir
    store = _open(directory)
    store.insert_record(TaskRecord("kept", T0, b"payload"))
    stray = directory / ".tmp-0123456789abcdef"
    stray.write_bytes(b'asyncz-task 1 0 "kept"\nhalf a wri')  # a write cut short
    assert [r.payload for r in store.iter_records()] == [b"payload"]
    assert [r.payload for r in store.due_records(T0)] == [b"payload"]
    store.shutdown()
    store = _open(directory)
    assert not stray.exists()
    assert [r.payload for r in store.iter_records()] == [b"payload"]
    store.shutdown()


def test_missing_journal_is_rebuilt_from_the_task_files(task_dir: Path) -> None:
    directory = task_dir
    store = _open(directory)
    for number in range(20):
        run_at = None if number % 5 == 0 else T0 + timedelta(seconds=20 - number)
        store.insert_record(TaskRecord(f"t{number}", run_at, b"x"))
    expected_due = [r.id for r in store.due_records(T0 + timedelta(seconds=10))]
    expected_next = store.earliest_run_time()
    (directory / JOURNAL_NAME).unlink()
    # The running instance notices on its next query; a new one rebuilds at start.
    assert [r.id for r in store.due_records(T0 + timedelta(seconds=10))] == expected_due
    other = _open(directory)
    assert other.earliest_run_time() == expected_next
    assert [r.id for r in other.due_records(T0 + timedelta(seconds=10))] == expected_due
    assert len(other.iter_records()) == 20
    store.shutdown()
    other.shutdown()


def test_torn_or_damaged_journal_is_rebuilt(task_dir: Path) -> None:
    directory = task_dir
    store = _open(directory)
    store.insert_record(TaskRecord("a", T0, b"x"))
    journal = directory / JOURNAL_NAME
    with journal.open("ab") as handle:
        handle.write(b'0badc0de S 1 "ghost')  # a writer died in the middle of a line
    other = _open(directory)
    other.insert_record(TaskRecord("b", T0 + timedelta(seconds=1), b"y"))
    assert [r.id for r in store.due_records(T0 + timedelta(seconds=5))] == ["a", "b"]
    # A flipped byte in the middle fails the line's checksum: rebuilt too, nothing lost.
    data = bytearray(journal.read_bytes())
    data[len(data) // 2] ^= 0x01
    journal.write_bytes(bytes(data))
    assert [r.id for r in other.due_records(T0 + timedelta(seconds=5))] == ["a", "b"]
    store.shutdown()
    other.shutdown()


def test_index_entry_without_its_rename_is_corrected(task_dir: Path) -> None:
    """The crash window between 'journal entry flushed' and 'file renamed into place'."""
    directory = task_dir
    store = _open(directory)
    store.insert_record(TaskRecord("moved", T0, b"x"))
    journal = directory / JOURNAL_NAME
    later = T0 + timedelta(hours=1)
    with journal.open("ab") as handle:
        handle.write(journal_line(Entry(SET, "moved", to_micros(later))))  # the rename never came
        handle.write(journal_line(Entry(SET, "never-created", to_micros(T0))))
    other = _open(directory)
    assert other.earliest_run_time() == T0  # "never-created" is still announced
    assert other.due_records(T0) == []  # ... but checked against the files and dropped
    assert other.earliest_run_time() == later
    due = other.due_records(later)
    assert [(r.id, r.next_run_time) for r in due] == [("moved", T0)]  # the file's truth
    assert other.earliest_run_time() == T0
    store.shutdown()
    other.shutdown()


def test_task_files_carry_a_plaintext_header(task_dir: Path) -> None:
    directory = task_dir
    store = _open(directory)
    store.insert_record(TaskRecord("t", T0, b"\x00payload"))
    (path,) = [p for p in directory.iterdir() if p.suffix == ".task"]
    header = parse_task_header(path.read_bytes())
    assert (header.task_id, header.run_at) == ("t", to_micros(T0))
    assert path.read_bytes()[header.payload_offset :] == b"\x00payload"
    store.shutdown()


@pytest.mark.parametrize("damage", [b"", b"not a task file at all", b"asyncz-task 1 12"])
def test_damaged_task_file_is_reported_for_quarantine_not_dropped(
    task_dir: Path, damage: bytes
) -> None:
    directory = task_dir
    store = _open(directory)
    store.insert_record(TaskRecord("broken", T0, b"x"))
    (directory / "broken.task").write_bytes(damage)
    # Still listed and still due, with its raw bytes: the core's decode fails on it and
    # the core quarantines it (see the conformance kit), nothing silently vanishes.
    assert [(r.id, r.payload) for r in store.due_records(T0)] == [("broken", damage)]
    assert [(r.id, r.payload) for r in store.iter_records()] == [("broken", damage)]
    store.quarantine_record("broken", "damaged")
    (entry,) = store.quarantined_records()
    assert (entry.record.id, entry.record.payload, entry.reason) == ("broken", damage, "damaged")
    store.shutdown()


def test_a_writer_ignoring_the_lock_never_gets_its_file_overwritten(
    task_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the name appears between the existence check and the link (a process that does
    not take the lock), the insert fails and the index keeps describing the file on disk."""
    store = _open(task_dir)
    store.insert_record(TaskRecord("taken", T0, b"original"))
    monkeypatch.setattr(os.path, "lexists", lambda path: False)  # the check misses it
    with pytest.raises(ConflictIdError):
        store.insert_record(TaskRecord("taken", T0 + timedelta(hours=1), b"intruder"))
    monkeypatch.undo()
    assert store.fetch_record("taken") == TaskRecord("taken", T0, b"original")
    assert store.earliest_run_time() == T0
    assert [r.payload for r in store.due_records(T0)] == [b"original"]
    # The lock was released properly: another instance can write at once.
    other = _open(task_dir)
    other.insert_record(TaskRecord("next", T0, b"x"))
    assert [r.id for r in store.due_records(T0)] == ["next", "taken"]
    store.shutdown()
    other.shutdown()
