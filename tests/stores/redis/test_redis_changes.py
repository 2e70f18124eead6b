"""RedisStore's push signal: writes PUBLISH, subscribers wake at once, across restarts."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import cast

import pytest
import redis

from asyncz.stores.records import TaskRecord
from asyncz.stores.redis import RedisStore
from servers._common import wait_until
from servers.redis import RedisServerProcess
from support.wakes import Wakes

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"asyncz-redis-changes.{uuid.uuid4().hex}"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{name}*"))
        if keys:
            client.delete(*keys)


def open_store(url: str, prefix: str) -> RedisStore:
    store = RedisStore(url=url, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.runs")
    store.start(None, "changes-test")
    return store


def subscribe(store: RedisStore, wakes: Wakes) -> Callable[[], None]:
    unsubscribe = store.subscribe_changes(wakes)
    assert unsubscribe is not None
    return unsubscribe


def listener_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("asyncz-redis-changes-")]


def test_a_write_by_another_store_wakes_a_subscriber_at_once(redis_url: str, prefix: str) -> None:
    watcher, writer = open_store(redis_url, prefix), open_store(redis_url, prefix)
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    try:
        wakes.settle()
        started = time.monotonic()
        writer.insert_record(TaskRecord("new", T0, b"x"))
        assert wakes.event.wait(2), "no wake-up after another store added a task"
        assert wakes.times[0] - started < 0.1
    finally:
        unsubscribe()
        watcher.shutdown()
        writer.shutdown()


def test_changes_that_matter_are_published(redis_url: str, prefix: str) -> None:
    store = open_store(redis_url, prefix)
    with redis.Redis.from_url(redis_url) as client, client.pubsub() as pubsub:
        pubsub.subscribe(store.changes_channel)
        assert store.changes_channel == f"{prefix}.tasks.changes"
        wait_until(lambda: pubsub.get_message(timeout=0.1) is not None, 5, "subscription")

        store.insert_record(TaskRecord("a", T0, b"x"))
        store.insert_record(TaskRecord("b", T0, b"x"))
        store.replace_record(TaskRecord("a", T0, b"y"))
        store.claim_records(T0, 10, "alpha", T0)  # leases alone announce nothing
        store.extend_leases(["a", "b"], "alpha", T0)
        store.commit_claim(TaskRecord("a", None, b"y"), "alpha", T0, T0)
        store.release_lease("b", "alpha", delete=False)
        store.release_lease("a", "alpha", delete=True)
        store.quarantine_record("b", "unreadable")
        store.restore_record(TaskRecord("b", T0, b"x"))
        store.remove_record("b")
        store.remove_all_records()

        changes: list[bytes] = []
        while (message := pubsub.get_message(timeout=0.2)) is not None:
            changes.append(cast(bytes, message["data"]))
    assert changes == [
        b"insert",
        b"insert",
        b"replace",
        b"commit",
        b"remove",
        b"restore",
        b"remove",
        b"remove_all",
    ]
    store.shutdown()


def test_unsubscribing_stops_the_thread_and_its_connection(redis_url: str, prefix: str) -> None:
    store = open_store(redis_url, prefix)
    before = len(listener_threads())
    wakes = Wakes()
    unsubscribe = subscribe(store, wakes)
    wakes.settle()
    assert len(listener_threads()) == before + 1
    with redis.Redis.from_url(redis_url) as client:
        assert client.pubsub_numsub(store.changes_channel) == [(store.changes_channel.encode(), 1)]
        started = time.monotonic()
        unsubscribe()
        assert time.monotonic() - started < 1
        assert len(listener_threads()) == before
        wait_until(
            lambda: client.pubsub_numsub(store.changes_channel)[0][1] == 0, 2, "unsubscribed"
        )
    store.insert_record(TaskRecord("after", T0, b"x"))
    time.sleep(0.1)
    assert wakes.times == []
    store.shutdown()


def test_the_subscription_survives_a_server_restart(
    restartable_redis: RedisServerProcess,
) -> None:
    watcher = open_store(restartable_redis.url, "restart")
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    try:
        wakes.settle()
        restartable_redis.restart()
        # Messages sent while it was away are lost: the re-subscription itself wakes it.
        assert wakes.event.wait(10), "no wake-up after the server came back"
        wakes.event.clear()
        writer = open_store(restartable_redis.url, "restart")
        writer.insert_record(TaskRecord("after-restart", T0, b"x"))
        assert wakes.event.wait(5), "no wake-up for a write after the restart"
        writer.shutdown()
    finally:
        unsubscribe()
        watcher.shutdown()
