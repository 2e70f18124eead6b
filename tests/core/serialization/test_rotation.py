"""Key rotation and plaintext -> encrypted migration over a RecordStore's primitives."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncz.exceptions import ConfigurationError, ConflictIdError, TaskDecodeError
from asyncz.serialization import ENCRYPTION_KEY_ENV, OLD_KEYS_ENV
from asyncz.serialization.encryption import derive_key
from asyncz.serialization.rotation import RotationReport, reencrypt_store
from asyncz.stores.base import BaseStore
from asyncz.stores.records import QuarantinedRecord, RecordStore, TaskRecord, missing
from asyncz.tasks import Task
from asyncz.testing import StoreConformance, sample_tasks

NEW_KEY = "rotation: the new key"
OLD_KEY = "rotation: the old key"
LOST_KEY = "rotation: a key nobody has any more"
T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
SECRET = "rotation-secret-argument"


@dataclass
class DictData:
    """What a backend would hold: live records and quarantined ones."""

    live: dict[str, TaskRecord] = field(default_factory=dict)
    quarantine: dict[str, QuarantinedRecord] = field(default_factory=dict)

    def raw(self) -> bytes:
        records = [*self.live.values(), *(q.record for q in self.quarantine.values())]
        return b"".join(record.payload for record in records)


def _order(record: TaskRecord) -> tuple[bool, datetime, str]:
    return (record.next_run_time is None, record.next_run_time or T0, record.id)


class DictRecordStore(RecordStore):
    """The smallest complete RecordStore: every primitive over two dicts."""

    namespace = "dict-tasks"

    def __init__(self, data: DictData, **options: Any) -> None:
        super().__init__(**options)
        self.data = data

    def insert_record(self, record: TaskRecord) -> None:
        if record.id in self.data.live or record.id in self.data.quarantine:
            raise ConflictIdError(record.id, self.alias)
        self.data.live[record.id] = record

    def replace_record(self, record: TaskRecord) -> None:
        if record.id not in self.data.live:
            raise missing(record.id, self)
        self.data.live[record.id] = record

    def fetch_record(self, task_id: str) -> TaskRecord | None:
        return self.data.live.get(task_id)

    def remove_record(self, task_id: str) -> None:
        if self.data.live.pop(task_id, None) is None:
            raise missing(task_id, self)

    def remove_all_records(self) -> None:
        self.data.live.clear()

    def due_records(self, now: datetime, limit: int | None = None) -> list[TaskRecord]:
        due = [r for r in self.iter_records() if r.next_run_time and r.next_run_time <= now]
        return due if limit is None else due[:limit]

    def earliest_run_time(self) -> datetime | None:
        return next((r.next_run_time for r in self.iter_records()), None)

    def iter_records(self) -> Iterable[TaskRecord]:
        return sorted(self.data.live.values(), key=_order)

    def quarantine_record(self, task_id: str, reason: str) -> None:
        record = self.data.live.pop(task_id, None)
        if record is not None:
            self.data.quarantine[task_id] = QuarantinedRecord(record, reason)

    def quarantined_records(self) -> list[QuarantinedRecord]:
        return list(self.data.quarantine.values())

    def restore_record(self, record: TaskRecord) -> None:
        del self.data.quarantine[record.id]
        self.data.live[record.id] = record


@dataclass
class FakeScheduler:
    quarantined: list[tuple[str | None, str, str]] = field(default_factory=list)

    def notify_quarantined(self, alias: str | None, task_id: str, reason: str) -> None:
        self.quarantined.append((alias, task_id, reason))


@pytest.fixture(autouse=True)
def _no_keys_in_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)
    monkeypatch.delenv(OLD_KEYS_ENV, raising=False)
    yield


def open_store(data: DictData, **options: Any) -> DictRecordStore:
    store = DictRecordStore(data, **options)
    store.start(FakeScheduler(), "rotation")
    return store


def task(task_id: str, seconds: float | None) -> Task:
    run_at = None if seconds is None else T0 + timedelta(seconds=seconds)
    return Task(sample_tasks.echo, id=task_id, args=(SECRET, task_id), next_run_time=run_at)


def key_id_of(record: TaskRecord) -> str | None:
    payload = record.payload
    return payload[6:14].hex() if payload[5:6] == b"E" else None


def ids_and_times(store: RecordStore) -> list[tuple[str, datetime | None]]:
    return [(t.id, t.next_run_time) for t in store.get_all_tasks()]


def test_rotation_needs_a_current_key() -> None:
    store = open_store(DictData())
    with pytest.raises(ConfigurationError, match=ENCRYPTION_KEY_ENV):
        reencrypt_store(store)


def test_enabling_encryption_migrates_plaintext_records() -> None:
    data = DictData()
    plain = open_store(data)
    for task_id, seconds in (("a", 1), ("b", 2), ("paused", None), ("c", 3)):
        plain.add_task(task(task_id, seconds))
    expected = ids_and_times(plain)
    assert SECRET.encode() in data.raw()

    # Started with a key, the store refuses plaintext: "c" is read and quarantined, kept.
    keyed = open_store(data, encryption_key=NEW_KEY)
    with pytest.raises(TaskDecodeError, match="asyncz keys rotate"):
        keyed.lookup_task("c")
    assert list(data.quarantine) == ["c"]

    calls: list[tuple[int, int]] = []
    report = reencrypt_store(keyed, progress=lambda done, total: calls.append((done, total)))

    assert (report.reencrypted, report.already_current, report.restored) == (3, 0, 1)
    assert report.ok and report.failed == []
    assert report.key_id == derive_key(NEW_KEY).key_id_hex
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert "3 re-encrypted" in report.summary()
    assert not data.quarantine
    assert {key_id_of(r) for r in data.live.values()} == {report.key_id}
    assert SECRET.encode() not in data.raw() and b"sample_tasks" not in data.raw()
    assert ids_and_times(keyed) == expected
    # Index fields were kept exactly (run times in microseconds, paused last).
    assert [r.next_run_time for r in keyed.iter_records()] == [t for _, t in expected]


def test_rotating_to_a_new_key() -> None:
    data = DictData()
    old = open_store(data, encryption_key=OLD_KEY)
    for task_id, seconds in (("a", 1), ("b", 2), ("c", None)):
        old.add_task(task(task_id, seconds))
    rotating = open_store(data, encryption_key=[NEW_KEY, OLD_KEY])
    rotating.add_task(task("fresh", 4))  # written by a scheduler already on the new key

    report = reencrypt_store(rotating)

    assert (report.reencrypted, report.already_current, report.restored) == (3, 1, 0)
    assert {key_id_of(r) for r in data.live.values()} == {derive_key(NEW_KEY).key_id_hex}
    # The old key can now be dropped: everything reads with the new key alone.
    assert [t.id for t in open_store(data, encryption_key=NEW_KEY).get_all_tasks()] == [
        "a",
        "b",
        "fresh",
        "c",
    ]
    # Running it again finds nothing to do.
    again = reencrypt_store(open_store(data, encryption_key=NEW_KEY))
    assert (again.reencrypted, again.already_current, again.restored) == (0, 4, 0)


def test_rotation_through_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    data = DictData()
    open_store(data, encryption_key=OLD_KEY).add_task(task("a", 1))
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, NEW_KEY)
    monkeypatch.setenv(OLD_KEYS_ENV, f'["{OLD_KEY}"]')
    report = reencrypt_store(open_store(data))
    assert report.reencrypted == 1 and key_id_of(data.live["a"]) == derive_key(NEW_KEY).key_id_hex


def test_unreadable_records_are_left_untouched_and_reported() -> None:
    data = DictData()
    open_store(data, encryption_key=LOST_KEY).add_task(task("lost", 1))
    open_store(data, encryption_key=OLD_KEY).add_task(task("ok", 2))
    data.live["garbage"] = TaskRecord("garbage", T0, b"\x00not a record")
    open_store(data, encryption_key=LOST_KEY).add_task(task("lost-quarantined", 3))
    rotating = open_store(data, encryption_key=[NEW_KEY, OLD_KEY])
    with pytest.raises(TaskDecodeError):
        rotating.lookup_task("lost-quarantined")
    before = {record.id: record for record in data.live.values()}
    quarantined_before = dict(data.quarantine)

    report = reencrypt_store(rotating)

    assert (report.reencrypted, report.already_current, report.restored) == (1, 0, 0)
    failures = {f.task_id: f for f in report.failed}
    assert set(failures) == {"lost", "garbage", "lost-quarantined"}
    assert derive_key(LOST_KEY).key_id_hex in failures["lost"].reason
    assert "not an asyncz record" in failures["garbage"].reason
    assert failures["lost-quarantined"].quarantined and not failures["lost"].quarantined
    assert not report.ok
    for task_id in ("lost", "garbage"):
        assert data.live[task_id] == before[task_id]
    assert data.quarantine == quarantined_before


def test_plain_pickle_is_not_blessed_by_a_json_store_rotation() -> None:
    data = DictData()
    open_store(data, serializer="pickle").add_task(task("pickled", 1))
    report = reencrypt_store(open_store(data, serializer="json", encryption_key=NEW_KEY))
    assert [f.task_id for f in report.failed] == ["pickled"]
    assert "arbitrary code" in report.failed[0].reason
    assert key_id_of(data.live["pickled"]) is None


def test_pickle_store_migrates_its_own_plain_pickles() -> None:
    data = DictData()
    open_store(data, serializer="pickle").add_task(task("pickled", 1))
    keyed = open_store(data, serializer="pickle", encryption_key=NEW_KEY)
    report = reencrypt_store(keyed)
    assert report.reencrypted == 1
    assert [t.id for t in keyed.get_all_tasks()] == ["pickled"]


def test_a_record_changed_during_rotation_is_read_again() -> None:
    data = DictData()
    old = open_store(data, encryption_key=OLD_KEY)
    old.add_task(task("a", 1))
    rotating = open_store(data, encryption_key=[NEW_KEY, OLD_KEY])

    def scheduler_writes_meanwhile(done: int, total: int) -> None:
        if done == 0:  # after the rotation listed the records, before it processes them
            old.update_task(task("a", 60))

    report = reencrypt_store(rotating, progress=scheduler_writes_meanwhile)
    assert report.reencrypted == 1
    found = rotating.lookup_task("a")
    assert found is not None and found.next_run_time == T0 + timedelta(seconds=60)
    assert key_id_of(data.live["a"]) == derive_key(NEW_KEY).key_id_hex


def test_a_record_deleted_during_rotation_is_skipped() -> None:
    data = DictData()
    old = open_store(data, encryption_key=OLD_KEY)
    old.add_task(task("a", 1))
    rotating = open_store(data, encryption_key=[NEW_KEY, OLD_KEY])

    def scheduler_deletes_meanwhile(done: int, total: int) -> None:
        if done == 0:
            old.delete_task("a")

    report = reencrypt_store(rotating, progress=scheduler_deletes_meanwhile)
    assert report == RotationReport(key_id=report.key_id)
    assert data.live == {}


def test_the_store_restores_quarantined_records_on_its_own_when_the_key_returns() -> None:
    """Rotation is not needed for a key that was merely missing: start() readmits."""
    data = DictData()
    open_store(data, encryption_key=NEW_KEY).add_task(task("a", 1))
    without_key = open_store(data)
    assert without_key.get_all_tasks() == []
    assert "no encryption key is configured" in data.quarantine["a"].reason
    assert [t.id for t in open_store(data, encryption_key=NEW_KEY).get_all_tasks()] == ["a"]


class TestDictRecordStoreConformance(StoreConformance):
    """The in-test store keeps the store contract, so rotation is tested on a real store
    (and the codec variants pass through the same kit as every backend)."""

    @pytest.fixture
    def store_factory(self) -> Callable[..., DictRecordStore]:
        data = DictData()
        return lambda **options: DictRecordStore(data, **options)

    def raw_contents(self, store: BaseStore) -> bytes:
        assert isinstance(store, DictRecordStore)
        return store.data.raw()
