"""Batched lease commits and releases: one transaction per batch, same results as the
single-item calls (duplicates, other owners' leases, missing and unstorable ids)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from asyncz.stores.records import TaskRecord
from asyncz.stores.sqlalchemy import SQLAlchemyStore

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
LATER = T0 + timedelta(minutes=5)
OpenStore = Callable[..., SQLAlchemyStore]


@contextmanager
def _counting(store: SQLAlchemyStore) -> Iterator[dict[str, int]]:
    """Counts of the COMMITs and statements the store's engine runs inside the block."""
    counts = {"commits": 0, "statements": 0}

    def on_commit(connection: Any) -> None:
        counts["commits"] += 1

    def on_statement(*args: Any) -> None:
        counts["statements"] += 1

    event.listen(store.engine, "commit", on_commit)
    event.listen(store.engine, "before_cursor_execute", on_statement)
    try:
        yield counts
    finally:
        event.remove(store.engine, "commit", on_commit)
        event.remove(store.engine, "before_cursor_execute", on_statement)


def _claimed(store: SQLAlchemyStore, count: int, owner: str) -> list[TaskRecord]:
    for number in range(count):
        store.insert_record(TaskRecord(f"t{number:02}", T0 + timedelta(seconds=number), b"x"))
    return store.claim_records(T0 + timedelta(hours=1), count, owner, LATER)


def test_fifty_commits_and_releases_take_one_transaction_each(open_store: OpenStore) -> None:
    store = open_store()
    claimed = _claimed(store, 50, "alpha")
    assert len(claimed) == 50
    commits = [(TaskRecord(r.id, None, b"ran " + r.id.encode()), T0) for r in claimed]
    with _counting(store) as counts:
        assert store.commit_claims(commits, "alpha", LATER) == [True] * 50
    assert counts["commits"] == 1
    assert store.fetch_record("t07") == TaskRecord("t07", None, b"ran t07")

    releases = [(r.id, number % 2 == 0) for number, r in enumerate(claimed)]
    with _counting(store) as counts:
        assert store.release_leases(releases, "alpha") == [True] * 50
    assert counts["commits"] == 1
    assert [r.id for r in store.iter_records()] == [r.id for r in claimed[1::2]]


def test_empty_batches_touch_no_database(open_store: OpenStore) -> None:
    store = open_store()
    with _counting(store) as counts:
        assert store.commit_claims([], "alpha", LATER) == []
        assert store.release_leases([], "alpha") == []
    assert counts == {"commits": 0, "statements": 0}


def test_batches_give_the_results_of_single_calls_in_order(open_store: OpenStore) -> None:
    store = open_store()
    mine = _claimed(store, 3, "alpha")
    store.insert_record(TaskRecord("other", T0, b"x"))
    assert [r.id for r in store.claim_records(LATER, 5, "beta", LATER)] == ["other"]
    unstorable = "x" * 500
    commits = [
        (TaskRecord("t00", T0, b"first"), T0),
        (TaskRecord("other", T0, b"stolen"), T0),  # beta's lease: refused
        (TaskRecord(unstorable, T0, b"x"), T0),
        (TaskRecord("ghost", T0, b"x"), T0),
        (TaskRecord("t00", LATER, b"second"), LATER),  # same id again: the last one stays
    ]
    assert store.commit_claims(commits, "alpha", LATER) == [True, False, False, False, True]
    assert store.fetch_record("t00") == TaskRecord("t00", LATER, b"second")
    assert store.fetch_record("other") == TaskRecord("other", T0, b"x")

    releases = [
        ("t01", False),
        ("t01", True),  # the lease already ended above: refused, the task stays
        (unstorable, True),
        ("other", True),
        ("t02", True),
        ("t02", False),
    ]
    assert store.release_leases(releases, "alpha") == [True, False, False, False, True, False]
    assert {r.id for r in store.iter_records()} == {"t00", "t01", "other"}
    assert [r.id for r in mine] == ["t00", "t01", "t02"]
