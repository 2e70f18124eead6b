"""MongoDBStore and its server: unreachable servers and restarts."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from asyncz.exceptions import StoreUnavailableError
from asyncz.stores.mongo import MongoDBStore
from asyncz.stores.records import TaskRecord
from servers._common import free_port
from servers.mongo import MongoServerProcess

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def test_unreachable_server_fails_start_fast_and_names_it() -> None:
    port = free_port()  # nothing listens there
    store = MongoDBStore(
        host=f"mongodb://admin:hunter2@127.0.0.1:{port}/", serverSelectionTimeoutMS=300
    )
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        store.start(None, "offline")
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "'offline'" in message
    assert "hunter2" not in message
    assert isinstance(caught.value.__cause__, ServerSelectionTimeoutError)


def test_tasks_and_store_survive_a_server_restart(restartable_mongo: MongoServerProcess) -> None:
    store = MongoDBStore(host=restartable_mongo.url, database="asyncz_restart")
    store.start(None, "restart")
    store.insert_record(TaskRecord("before", T0, b"kept"))
    store.insert_record(TaskRecord("paused", None, b"kept too"))

    restartable_mongo.restart()  # killed, then started on the same port and data

    # The same store object carries on (reads are retried across the reconnect).
    assert [r.id for r in store.iter_records()] == ["before", "paused"]
    store.insert_record(TaskRecord("after", T0, b"new"))
    assert [r.id for r in store.due_records(T0)] == ["after", "before"]
    store.shutdown()
