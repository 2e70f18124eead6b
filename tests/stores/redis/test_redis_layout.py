"""RedisStore specifics: construction forms, key layout, exact scores, atomic writes."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import redis

from asyncz.exceptions import ConfigurationError, ConflictIdError, TaskLookupError
from asyncz.plugins.registry import PluginRegistry
from asyncz.stores.records import TaskRecord, to_micros
from asyncz.stores.redis import RedisStore

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"asyncz-redis-test.{uuid.uuid4().hex}"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{name}*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as client:
        yield client


def open_store(redis_url: str, prefix: str, name: str = "") -> RedisStore:
    store = RedisStore(
        url=redis_url, tasks_key=f"{prefix}{name}.tasks", run_times_key=f"{prefix}{name}.runs"
    )
    store.start(None, "redis-test")
    return store


# ---------------------------------------------------------------- construction
def test_documented_defaults() -> None:
    store = RedisStore()
    assert store.tasks_key == "asyncz.tasks"
    assert store.run_times_key == "asyncz.run_times"
    assert store.namespace == "asyncz.tasks"
    assert store.server == "localhost:6379/0"
    assert store.client.connection_pool.connection_kwargs["decode_responses"] is False


def test_host_port_database_and_client_options() -> None:
    store = RedisStore(host="127.0.0.1", port=6380, database=3, socket_timeout=7, password="pw")
    kwargs = store.client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6380, 3)
    assert kwargs["socket_timeout"] == 7
    assert store.server == "127.0.0.1:6380/3"
    assert "pw" not in store.describe()


def test_url_overrides_host_port_and_database() -> None:
    store = RedisStore(url="redis://:secret@10.1.2.3:7000/5", host="ignored", port=1)
    assert store.server == "10.1.2.3:7000/5"
    assert "secret" not in store.describe()


def test_rejects_text_responses_and_bad_options() -> None:
    with pytest.raises(ConfigurationError, match="decode_responses"):
        RedisStore(decode_responses=True)
    with pytest.raises(ConfigurationError, match="decode_responses"):
        RedisStore(client=redis.Redis(decode_responses=True))
    with pytest.raises(ConfigurationError, match="url"):
        RedisStore(url="http://example.com")
    with pytest.raises(ConfigurationError, match="databse"):
        RedisStore(databse=1)  # a misspelt option, forwarded to redis.Redis
    with pytest.raises(ConfigurationError, match="client and connection options"):
        RedisStore(client=redis.Redis(), url="redis://localhost/1")
    with pytest.raises(ConfigurationError, match="collide"):
        RedisStore(tasks_key="same", run_times_key="same")


def test_a_given_client_is_used_and_left_open(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client=client, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.rt")
    store.start(None, "given")
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.shutdown()
    assert client.hget(f"{prefix}.tasks", "t") == b"x"  # still usable: not closed
    client.close()


def test_store_starts_again_after_shutdown(redis_url: str, prefix: str) -> None:
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.shutdown()
    store.start(None, "again")
    assert store.fetch_record("t") == TaskRecord("t", T0, b"x")
    store.shutdown()


def test_registered_under_its_alias() -> None:
    assert PluginRegistry().store_class("redis") is RedisStore


# ---------------------------------------------------------------- key layout
def test_key_layout_and_microsecond_scores(redis_url: str, prefix: str, raw: redis.Redis) -> None:
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("soon", T0, b"payload-1"))
    store.insert_record(TaskRecord("later", T0 + timedelta(microseconds=1), b"payload-2"))
    store.insert_record(TaskRecord("paused", None, b"payload-3"))

    assert sorted(raw.scan_iter(match=f"{prefix}*")) == [
        f"{prefix}.runs".encode(),
        f"{prefix}.tasks".encode(),
    ]
    assert raw.hgetall(f"{prefix}.tasks") == {
        b"soon": b"payload-1",
        b"later": b"payload-2",
        b"paused": b"payload-3",
    }
    scores = dict(
        cast(list[tuple[bytes, float]], raw.zrange(f"{prefix}.runs", 0, -1, withscores=True))
    )
    assert scores == {b"soon": to_micros(T0), b"later": to_micros(T0) + 1}  # paused absent
    assert store.due_records(T0) == [TaskRecord("soon", T0, b"payload-1")]
    assert store.earliest_run_time() == T0


def test_scores_stay_exact_far_ahead(redis_url: str, prefix: str) -> None:
    far = datetime(2250, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)  # just below 2**53 µs
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("far", far, b"x"))
    assert store.earliest_run_time() == far
    assert store.due_records(far - timedelta(microseconds=1)) == []
    assert [r.id for r in store.due_records(far)] == ["far"]


def test_pausing_removes_the_score(redis_url: str, prefix: str, raw: redis.Redis) -> None:
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("t", T0, b"v1"))
    store.replace_record(TaskRecord("t", None, b"v2"))
    assert raw.zscore(f"{prefix}.runs", "t") is None
    assert raw.hget(f"{prefix}.tasks", "t") == b"v2"
    assert store.fetch_record("t") == TaskRecord("t", None, b"v2")


def test_due_query_is_limited_and_ordered(redis_url: str, prefix: str) -> None:
    store = open_store(redis_url, prefix)
    for i in range(10):
        store.insert_record(TaskRecord(f"t{i}", T0 + timedelta(seconds=i), b"x"))
    store.insert_record(TaskRecord("tie", T0 + timedelta(seconds=1), b"x"))
    due = store.due_records(T0 + timedelta(seconds=5), limit=3)
    assert [r.id for r in due] == ["t0", "t1", "tie"]
    assert store.due_records(T0, limit=0) == []


def test_stores_with_other_keys_see_nothing_of_each_other(redis_url: str, prefix: str) -> None:
    left, right = open_store(redis_url, prefix, ".left"), open_store(redis_url, prefix, ".right")
    left.insert_record(TaskRecord("shared-id", T0, b"left"))
    right.insert_record(TaskRecord("shared-id", T0, b"right"))
    assert [r.payload for r in left.iter_records()] == [b"left"]
    assert [r.payload for r in right.due_records(T0)] == [b"right"]
    left.remove_all_records()
    assert right.fetch_record("shared-id") is not None


# ---------------------------------------------------------------- atomic writes
def test_concurrent_inserts_of_one_id_admit_exactly_one(redis_url: str, prefix: str) -> None:
    stores = [open_store(redis_url, prefix) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    winners: list[bytes] = []
    losers: list[bytes] = []

    def insert(store: RedisStore, payload: bytes) -> None:
        barrier.wait()
        try:
            store.insert_record(TaskRecord("contended", T0, payload))
            winners.append(payload)
        except ConflictIdError:
            losers.append(payload)

    threads = [
        threading.Thread(target=insert, args=(store, f"writer-{n}".encode()))
        for n, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(losers) == 7
    assert stores[0].fetch_record("contended") == TaskRecord("contended", T0, winners[0])


def test_missing_ids_are_reported(redis_url: str, prefix: str, raw: redis.Redis) -> None:
    store = open_store(redis_url, prefix)
    with pytest.raises(TaskLookupError):
        store.replace_record(TaskRecord("ghost", T0, b"x"))
    with pytest.raises(TaskLookupError):
        store.remove_record("ghost")
    assert list(raw.scan_iter(match=f"{prefix}*")) == []  # a failed replace writes nothing


def test_quarantine_keys(redis_url: str, prefix: str, raw: redis.Redis) -> None:
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("bad", T0, b"unreadable"))
    store.insert_record(TaskRecord("good", T0, b"fine"))
    store.quarantine_record("bad", "cannot decode")

    assert raw.hgetall(f"{prefix}.tasks.quarantine") == {b"bad": b"unreadable"}
    assert raw.hgetall(f"{prefix}.tasks.quarantine_reasons") == {b"bad": b"cannot decode"}
    assert raw.hkeys(f"{prefix}.tasks") == [b"good"]
    assert raw.zscore(f"{prefix}.runs", "bad") is None
    with pytest.raises(ConflictIdError):
        store.insert_record(TaskRecord("bad", T0, b"newcomer"))

    store.remove_all_records()
    assert [q.record.id for q in store.quarantined_records()] == ["bad"]  # kept for the operator
    store.restore_record(TaskRecord("bad", T0, b"unreadable"))
    assert store.due_records(T0) == [TaskRecord("bad", T0, b"unreadable")]
    assert raw.exists(f"{prefix}.tasks.quarantine", f"{prefix}.tasks.quarantine_reasons") == 0
    store.quarantine_record("gone", "already removed")  # ignored, not an error


def test_five_megabyte_payload(redis_url: str, prefix: str) -> None:
    payload = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("big", T0, payload))
    assert store.due_records(T0)[0].payload == payload
