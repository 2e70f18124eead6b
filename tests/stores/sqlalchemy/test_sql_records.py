"""SQLAlchemyStore records on SQLite, PostgreSQL and MariaDB: exact times, exact ids, big
payloads, errors, quarantine and sharing."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, text

from asyncz.exceptions import ConflictIdError, TaskEncodeError, TaskLookupError
from asyncz.stores.records import TaskRecord, to_micros
from asyncz.stores.sqlalchemy import SQLAlchemyStore

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
OpenStore = Callable[..., SQLAlchemyStore]

EXACT_TIMES = [
    T0,
    T0.replace(microsecond=1),
    T0.replace(microsecond=999_999),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # before the epoch
    datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


def _stored_micros(store: SQLAlchemyStore, task_id: str) -> int:
    with store.engine.connect() as connection:
        row = connection.execute(
            store.tasks.select()
            .with_only_columns(store.tasks.c.next_run_time)
            .where(store.tasks.c.id == task_id)
        ).one()
    return int(row.next_run_time)


def test_run_times_keep_every_microsecond(open_store: OpenStore) -> None:
    store = open_store()
    for number, moment in enumerate(EXACT_TIMES):
        store.insert_record(TaskRecord(f"t{number}", moment, b"x"))
    for number, moment in enumerate(EXACT_TIMES):
        record = store.fetch_record(f"t{number}")
        assert record is not None and record.next_run_time == moment
        assert _stored_micros(store, f"t{number}") == to_micros(moment)
    assert store.earliest_run_time() == EXACT_TIMES[4]
    store.remove_all_records()
    store.insert_record(TaskRecord("edge", T0, b"x"))
    assert store.due_records(T0 - timedelta(microseconds=1)) == []
    assert [r.id for r in store.due_records(T0)] == ["edge"]
    assert store.earliest_run_time() == T0


def test_aware_times_in_any_zone_round_trip_as_the_same_instant(open_store: OpenStore) -> None:
    store = open_store()
    kolkata = (T0 + timedelta(seconds=2)).astimezone(ZoneInfo("Asia/Kolkata"))
    new_york = (T0 + timedelta(seconds=1)).astimezone(ZoneInfo("America/New_York"))
    store.insert_record(TaskRecord("kolkata", kolkata, b"x"))
    store.insert_record(TaskRecord("new-york", new_york, b"x"))
    due = store.due_records(T0 + timedelta(seconds=5))
    assert [r.id for r in due] == ["new-york", "kolkata"]
    assert [r.next_run_time for r in due] == [new_york, kolkata]
    assert all(r.next_run_time and r.next_run_time.utcoffset() == timedelta(0) for r in due)


def test_five_megabyte_payload_round_trips_through_quarantine(open_store: OpenStore) -> None:
    store = open_store()
    payload = os.urandom(5 * 1024 * 1024)
    store.insert_record(TaskRecord("big", T0, payload))
    record = store.fetch_record("big")
    assert record is not None and record.payload == payload
    store.quarantine_record("big", "too big to read?")
    (held,) = store.quarantined_records()
    assert held.record.payload == payload
    store.restore_record(held.record)
    assert [r.payload == payload for r in store.due_records(T0)] == [True]


def test_ids_are_compared_exactly_and_ordered_by_code_point(open_store: OpenStore) -> None:
    store = open_store()
    ids = ["a", "A", "a ", "ä", "b", "Z", "🎉", "x" * 191, "", "a\tb"]
    for task_id in ids:
        store.insert_record(TaskRecord(task_id, T0, task_id.encode()))
    assert [r.id for r in store.due_records(T0)] == sorted(ids)
    for task_id in ids:
        record = store.fetch_record(task_id)
        assert record is not None and record.payload == task_id.encode()
    store.remove_record("a ")
    assert store.fetch_record("a") is not None and store.fetch_record("a ") is None


@pytest.mark.parametrize("bad_id", ["x" * 192, "nul\x00", "\ud800"])
def test_ids_the_store_cannot_keep_are_refused_clearly(open_store: OpenStore, bad_id: str) -> None:
    store = open_store()
    with pytest.raises(TaskEncodeError, match="task id"):
        store.insert_record(TaskRecord(bad_id, T0, b"x"))
    assert store.fetch_record(bad_id) is None
    with pytest.raises(TaskLookupError):
        store.remove_record(bad_id)
    with pytest.raises(TaskLookupError):
        store.replace_record(TaskRecord(bad_id, T0, b"x"))


def test_conflicts_and_missing_ids(open_store: OpenStore) -> None:
    store = open_store()
    store.insert_record(TaskRecord("t", T0, b"first"))
    with pytest.raises(ConflictIdError):
        store.insert_record(TaskRecord("t", T0, b"second"))
    with pytest.raises(TaskLookupError):
        store.replace_record(TaskRecord("ghost", T0, b"x"))
    with pytest.raises(TaskLookupError):
        store.remove_record("ghost")
    record = store.fetch_record("t")
    assert record is not None and record.payload == b"first"
    # Rewriting identical values still finds the row (MySQL counts matched, not changed).
    store.replace_record(record)
    assert store.fetch_record("t") == record


def test_quarantine_keeps_the_row_with_its_reason(open_store: OpenStore) -> None:
    store = open_store()
    store.insert_record(TaskRecord("bad", T0, b"bytes"))
    store.insert_record(TaskRecord("good", T0 + timedelta(seconds=1), b"ok"))
    store.quarantine_record("bad", "cannot decode record: wrong key")
    store.quarantine_record("nobody", "ignored")
    assert [r.id for r in store.iter_records()] == ["good"]
    assert store.earliest_run_time() == T0 + timedelta(seconds=1)
    with store.engine.connect() as connection:
        rows = connection.execute(store.quarantine.select()).all()
    assert [(r.id, r.next_run_time, bytes(r.payload), r.reason) for r in rows] == [
        ("bad", to_micros(T0), b"bytes", "cannot decode record: wrong key")
    ]
    assert rows[0].quarantined_at is not None
    with pytest.raises(ConflictIdError):
        store.insert_record(TaskRecord("bad", T0, b"again"))
    store.remove_all_records()
    assert [q.record.id for q in store.quarantined_records()] == ["bad"]


def test_two_stores_share_one_table(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    first.insert_record(TaskRecord("a", T0, b"1"))
    assert second.fetch_record("a") == TaskRecord("a", T0, b"1")
    second.replace_record(TaskRecord("a", None, b"2"))
    assert first.earliest_run_time() is None
    assert [(r.id, r.next_run_time) for r in first.iter_records()] == [("a", None)]


def test_tables_are_separate_per_tablename(open_store: OpenStore, tablename: str) -> None:
    a, b = f"{tablename}_a", f"{tablename}_b"
    alpha, beta = open_store(tablename=a), open_store(tablename=b)
    alpha.insert_record(TaskRecord("t", T0, b"alpha"))
    assert beta.fetch_record("t") is None
    assert (alpha.namespace, beta.namespace) == (a, b)
    names = set(inspect(alpha.engine).get_table_names())
    assert {a, f"{a}_quarantine", b, f"{b}_quarantine"} <= names


def test_schema_has_the_time_index_and_large_payload_column(open_store: OpenStore) -> None:
    store = open_store()
    inspector = inspect(store.engine)
    table = store.tablename
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes(table)}
    assert indexes[f"ix_{table}_next_run_time"] == ["next_run_time", "id"]
    assert inspector.get_pk_constraint(table)["constrained_columns"] == ["id"]
    payload_type = {c["name"]: str(c["type"]) for c in inspector.get_columns(table)}
    expected = {"sqlite": "BLOB", "postgresql": "BYTEA", "mysql": "LONGBLOB", "mariadb": "LONGBLOB"}
    assert payload_type["payload"] == expected[store.engine.dialect.name]
    assert payload_type["next_run_time"] == "BIGINT"


def test_sqlite_runs_in_wal_mode(tmp_path: os.PathLike[str]) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path}/wal.sqlite3")
    store.start(None, "wal")
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    store.shutdown()


def test_the_longest_table_name_works(open_store: OpenStore, tablename: str) -> None:
    longest = (tablename + "_" + "x" * 64)[:52]
    store = open_store(tablename=longest)
    store.insert_record(TaskRecord("t", T0, b"x"))
    assert [r.id for r in store.due_records(T0)] == ["t"]
    indexes = [i["name"] or "" for i in inspect(store.engine).get_indexes(longest)]
    assert len(indexes) == 2 and all(0 < len(name) <= 63 for name in indexes), indexes


def test_a_user_update_keeps_the_lease_and_claims_skip_locked_rows(open_store: OpenStore) -> None:
    first, second = open_store(), open_store()
    for number in range(6):
        first.insert_record(TaskRecord(f"t{number}", T0 + timedelta(seconds=number), b"x"))
    until = T0 + timedelta(seconds=30)
    mine = first.claim_records(T0 + timedelta(seconds=5), 3, "alpha", until)
    assert [r.id for r in mine] == ["t0", "t1", "t2"]
    first.replace_record(TaskRecord("t0", T0, b"edited by the user"))
    theirs = second.claim_records(T0 + timedelta(seconds=5), 10, "beta", until)
    assert [r.id for r in theirs] == ["t3", "t4", "t5"]
    assert first.commit_claim(TaskRecord("t0", None, b"advanced"), "alpha", T0, until)
    assert second.extend_leases(["t0", "t3"], "beta", until + timedelta(seconds=30)) == ["t0"]
    record = second.fetch_record("t0")
    assert record is not None and record.payload == b"advanced" and record.lease_fire_time is None
