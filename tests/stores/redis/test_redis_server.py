"""RedisStore and its server: unreachable servers, restarts, lost connections."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
import redis

from asyncz.exceptions import StoreUnavailableError
from asyncz.stores.records import TaskRecord
from asyncz.stores.redis import RedisStore
from servers._common import free_port
from servers.redis import RedisServerProcess

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def test_unreachable_server_fails_start_fast_and_names_it() -> None:
    port = free_port()  # nothing listens there
    store = RedisStore(url=f"redis://:hunter2@127.0.0.1:{port}/0")
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        store.start(None, "offline")
    assert time.monotonic() - started < 10  # the retries give up within ~2.5 s
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "'offline'" in message
    assert "redis-server is running" in message
    assert "hunter2" not in message
    assert isinstance(caught.value.__cause__, redis.ConnectionError)


def test_tasks_and_store_survive_a_server_restart(restartable_redis: RedisServerProcess) -> None:
    store = RedisStore(url=restartable_redis.url)
    store.start(None, "restart")
    store.insert_record(TaskRecord("before", T0, b"kept"))
    store.insert_record(TaskRecord("paused", None, b"kept too"))

    restartable_redis.restart()  # same port, data reloaded from the append-only file

    # The same store object, its pooled connections now dead, carries on.
    assert [r.id for r in store.iter_records()] == ["before", "paused"]
    store.insert_record(TaskRecord("after", T0, b"new"))
    assert [r.id for r in store.due_records(T0)] == ["after", "before"]
    store.shutdown()


def test_a_write_during_a_short_outage_is_retried(restartable_redis: RedisServerProcess) -> None:
    store = RedisStore(url=restartable_redis.url)
    store.start(None, "outage")
    store.insert_record(TaskRecord("first", T0, b"x"))
    restartable_redis.stop()
    comeback = threading.Timer(0.3, restartable_redis.start)
    comeback.start()
    try:
        store.insert_record(TaskRecord("during", T0, b"y"))  # waits for the server
    finally:
        comeback.join()
    assert [r.id for r in store.due_records(T0)] == ["during", "first"]
    store.shutdown()


def test_a_lasting_outage_becomes_store_unavailable(
    restartable_redis: RedisServerProcess,
) -> None:
    store = RedisStore(url=restartable_redis.url)
    store.start(None, "down")
    restartable_redis.stop()
    with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{restartable_redis.port}"):
        store.fetch_record("anything")
    restartable_redis.start()
    assert store.fetch_record("anything") is None  # usable again once the server is back
    store.shutdown()
