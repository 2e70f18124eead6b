"""Leases in the journal: shared by instances, kept by compaction and torn-tail repair,
dropped (and said so) when the journal must be rebuilt from the task files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asyncz.stores.file import FileStore, _index
from asyncz.stores.file._layout import JOURNAL_NAME
from asyncz.stores.records import TaskRecord

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
LATER = T0 + timedelta(seconds=30)


def _open(directory: Path) -> FileStore:
    store = FileStore(directory)
    store.start(None, "claims")
    return store


def _fill(store: FileStore, count: int) -> None:
    for number in range(count):
        store.insert_record(TaskRecord(f"t{number}", T0 + timedelta(seconds=number), b"x"))


def test_leases_are_seen_by_other_instances_and_survive_compaction(
    task_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_index, "COMPACT_MIN_ENTRIES", 20)
    first, second = _open(task_dir), _open(task_dir)
    _fill(first, 4)
    assert [r.id for r in first.claim_records(T0 + timedelta(seconds=9), 2, "alpha", LATER)] == [
        "t0",
        "t1",
    ]
    assert first.commit_claim(TaskRecord("t0", None, b"ran"), "alpha", T0, LATER)
    inode = (task_dir / JOURNAL_NAME).stat().st_ino
    for turn in range(30):  # user edits elsewhere force a compaction
        second.replace_record(TaskRecord("t3", T0 + timedelta(seconds=3), str(turn).encode()))
    assert (task_dir / JOURNAL_NAME).stat().st_ino != inode
    assert [r.id for r in second.claim_records(T0 + timedelta(seconds=9), 9, "beta", LATER)] == [
        "t2",
        "t3",
    ]
    # After the leases end, the run lease of t0 comes back with its fire time.
    recovered = second.claim_records(
        LATER + timedelta(seconds=1), 9, "beta", LATER + timedelta(minutes=1)
    )
    fires = {r.id: r.lease_fire_time for r in recovered}
    assert fires == {"t0": T0, "t1": None, "t2": None, "t3": None}
    first.shutdown()
    second.shutdown()


def test_a_torn_journal_tail_is_cut_and_other_leases_kept(task_dir: Path) -> None:
    store = _open(task_dir)
    _fill(store, 2)
    assert [r.id for r in store.claim_records(T0, 5, "alpha", LATER)] == ["t0"]
    with (task_dir / JOURNAL_NAME).open("ab") as handle:
        handle.write(b'0badc0de L ["t1", "beta", 9')  # a claim cut short by a crash
    other = _open(task_dir)
    assert [r.id for r in other.claim_records(T0 + timedelta(seconds=1), 5, "beta", LATER)] == [
        "t1"
    ]
    assert other.extend_leases(["t0", "t1"], "alpha", LATER) == ["t1"]
    store.shutdown()
    other.shutdown()


def test_a_rebuilt_journal_drops_leases_and_says_so(
    task_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = _open(task_dir)
    _fill(store, 1)
    assert [r.id for r in store.claim_records(T0, 5, "alpha", LATER)] == ["t0"]
    (task_dir / JOURNAL_NAME).unlink()
    assert [r.id for r in store.claim_records(T0, 5, "beta", LATER)] == ["t0"]
    assert "leases held by schedulers sharing it are dropped" in caplog.text
    assert not store.release_lease("t0", "alpha", delete=False)
    store.shutdown()
