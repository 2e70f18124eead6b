"""MongoDBStore's push signal: a change stream on replica sets, polling on standalone."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import MongoClient

from asyncz.stores.mongo import MongoDBStore
from asyncz.stores.records import TaskRecord
from support.wakes import Wakes

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
DATABASE = "asyncz_changes_tests"


def listener_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("asyncz-mongo-changes-")]


@pytest.fixture
def collection_name() -> str:
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def stores(mongo_replica_set_url: str, collection_name: str) -> Iterator[list[MongoDBStore]]:
    opened = []
    for alias in ("watcher", "writer"):
        store = MongoDBStore(
            host=mongo_replica_set_url, database=DATABASE, collection=collection_name
        )
        store.start(None, alias)
        opened.append(store)
    yield opened
    for store in opened:
        store.shutdown()
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_replica_set_url) as client:
        client[DATABASE].drop_collection(collection_name)


def test_standalone_server_offers_no_signal(mongo_url: str, collection_name: str) -> None:
    store = MongoDBStore(host=mongo_url, database=DATABASE, collection=collection_name)
    store.start(None, "standalone")
    before = len(listener_threads())
    started = time.monotonic()
    assert store.subscribe_changes(Wakes()) is None  # the scheduler polls instead
    assert time.monotonic() - started < 1
    assert len(listener_threads()) == before
    store.tasks.drop()
    store.shutdown()


def test_a_write_by_another_store_wakes_a_subscriber(stores: list[MongoDBStore]) -> None:
    watcher, writer = stores
    wakes = Wakes()
    unsubscribe = watcher.subscribe_changes(wakes)
    assert unsubscribe is not None
    try:
        started = time.monotonic()
        writer.insert_record(TaskRecord("new", T0, b"x"))
        assert wakes.event.wait(2), "no wake-up after another store added a task"
        assert wakes.times[0] - started < 0.1
        wakes.reset()
        writer.claim_records(T0, 10, "alpha", T0)  # lease bookkeeping wakes nobody
        writer.extend_leases(["new"], "alpha", T0)
        time.sleep(0.3)
        assert wakes.times == []
        writer.commit_claim(TaskRecord("new", None, b"y"), "alpha", T0, T0)
        assert wakes.event.wait(2), "no wake-up after a claimed fire was committed"
    finally:
        unsubscribe()


def test_unsubscribing_stops_the_thread(stores: list[MongoDBStore]) -> None:
    watcher, writer = stores
    before = len(listener_threads())
    wakes = Wakes()
    unsubscribe = watcher.subscribe_changes(wakes)
    assert unsubscribe is not None
    assert len(listener_threads()) == before + 1
    started = time.monotonic()
    unsubscribe()
    assert time.monotonic() - started < 2
    assert len(listener_threads()) == before
    writer.insert_record(TaskRecord("after", T0, b"x"))
    time.sleep(0.3)
    assert wakes.times == []
