"""RedisStore leases: key layout, one script call per claim batch, bounded scans."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
import redis

from asyncz.stores.records import TaskRecord, to_micros
from asyncz.stores.redis import RedisStore

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class CountingRedis(redis.Redis):
    """A client that counts the commands it sends (a script call is one EVALSHA)."""

    commands: list[str] = []

    def execute_command(self, *args: Any, **options: Any) -> Any:
        self.commands.append(str(args[0]))
        return super().execute_command(*args, **options)


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"asyncz-redis-claims.{uuid.uuid4().hex}"
    yield name
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"{name}*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
def raw(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as client:
        yield client


def open_store(redis_url: str, prefix: str) -> RedisStore:
    store = RedisStore(url=redis_url, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.runs")
    store.start(None, "claims-test")
    return store


def lease_of(raw: redis.Redis, prefix: str, task_id: str) -> bytes | None:
    return cast(bytes | None, raw.hget(f"{prefix}.tasks.leases", task_id))


def run_lease_end(raw: redis.Redis, prefix: str, task_id: str) -> float | None:
    return raw.zscore(f"{prefix}.tasks.run_leases", task_id)


def test_a_claim_batch_is_one_script_call(redis_url: str, prefix: str) -> None:
    client = CountingRedis(connection_pool=redis.ConnectionPool.from_url(redis_url))
    client.commands = []
    store = RedisStore(client=client, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.runs")
    store.start(None, "counted")
    for i in range(300):
        store.insert_record(TaskRecord(f"t{i:03d}", at(i), b"x"))
    store.claim_records(at(-1), 1, "warm-up", at(0))  # loads the script once
    client.commands.clear()

    batch = store.claim_records(at(1000), 250, "alpha", at(2000))

    assert client.commands == ["EVALSHA"]
    assert [r.id for r in batch] == [f"t{i:03d}" for i in range(250)]
    assert all(r.payload == b"x" and r.lease_fire_time is None for r in batch)
    assert batch[7].next_run_time == at(7)
    client.close()


def test_lease_keys_follow_the_lease(redis_url: str, prefix: str, raw: redis.Redis) -> None:
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("t", at(0), b"v1"))
    owner = "host|pid 42"  # the owner is packed last, so "|" in it is harmless

    [claimed] = store.claim_records(at(1), 10, owner, at(31))
    assert claimed == TaskRecord("t", at(0), b"v1")
    assert lease_of(raw, prefix, "t") == f"{to_micros(at(31))}||{owner}".encode()
    assert run_lease_end(raw, prefix, "t") is None  # a claim lease: no fire yet

    assert store.commit_claim(TaskRecord("t", at(60), b"v2"), owner, at(0), at(32))
    assert lease_of(raw, prefix, "t") == f"{to_micros(at(32))}|{to_micros(at(0))}|{owner}".encode()
    assert run_lease_end(raw, prefix, "t") == to_micros(at(32))
    assert store.fetch_record("t") == TaskRecord("t", at(60), b"v2")

    store.replace_record(TaskRecord("t", at(90), b"user edit"))  # a user write keeps the lease
    assert store.extend_leases(["t"], owner, at(50)) == []
    assert run_lease_end(raw, prefix, "t") == to_micros(at(50))

    assert store.release_lease("t", owner, delete=False)
    assert lease_of(raw, prefix, "t") is None and run_lease_end(raw, prefix, "t") is None
    assert store.fetch_record("t") == TaskRecord("t", at(90), b"user edit")
    assert not store.release_lease("t", owner, delete=False)  # nothing held any more


def test_run_times_stay_exact_through_a_commit(redis_url: str, prefix: str) -> None:
    store = open_store(redis_url, prefix)
    fire = datetime(2250, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)  # 16 digits of µs
    store.insert_record(TaskRecord("far", fire, b"x"))
    store.claim_records(fire, 1, "alpha", fire + timedelta(seconds=30))
    store.commit_claim(
        TaskRecord("far", fire + timedelta(microseconds=1), b"x"),
        "alpha",
        fire,
        fire + timedelta(microseconds=3),
    )
    [recovered] = store.claim_records(fire + timedelta(microseconds=4), 1, "beta", fire)
    assert recovered.lease_fire_time == fire
    assert recovered.next_run_time == fire + timedelta(microseconds=1)


def test_deleting_or_quarantining_drops_the_lease(
    redis_url: str, prefix: str, raw: redis.Redis
) -> None:
    store = open_store(redis_url, prefix)
    for task_id in ("deleted", "quarantined", "cleared"):
        store.insert_record(TaskRecord(task_id, at(0), b"x"))
    store.claim_records(at(0), 10, "alpha", at(30))
    store.commit_claim(TaskRecord("cleared", at(5), b"x"), "alpha", at(0), at(30))

    store.remove_record("deleted")
    store.quarantine_record("quarantined", "unreadable")
    assert raw.hkeys(f"{prefix}.tasks.leases") == [b"cleared"]
    assert not store.commit_claim(TaskRecord("deleted", at(5), b"x"), "alpha", at(0), at(30))
    assert store.fetch_record("deleted") is None  # a commit never brings a record back

    store.remove_all_records()
    assert raw.exists(f"{prefix}.tasks.leases", f"{prefix}.tasks.run_leases") == 0
    assert [q.record.id for q in store.quarantined_records()] == ["quarantined"]
    store.restore_record(TaskRecord("quarantined", at(0), b"x"))
    assert [r.id for r in store.claim_records(at(0), 10, "beta", at(30))] == ["quarantined"]


def test_leased_records_ahead_do_not_hide_claimable_ones(redis_url: str, prefix: str) -> None:
    store = open_store(redis_url, prefix)
    for i in range(60):
        store.insert_record(TaskRecord(f"t{i:02d}", at(i), b"x"))
    assert len(store.claim_records(at(100), 45, "alpha", at(130))) == 45
    assert [r.id for r in store.claim_records(at(100), 5, "beta", at(130))] == [
        "t45",
        "t46",
        "t47",
        "t48",
        "t49",
    ]


def test_recovered_fires_come_before_due_ones(redis_url: str, prefix: str) -> None:
    store = open_store(redis_url, prefix)
    store.insert_record(TaskRecord("fire", at(0), b"x"))
    store.insert_record(TaskRecord("waiting", at(0), b"x"))
    store.claim_records(at(0), 1, "dies", at(10))
    store.commit_claim(TaskRecord("fire", None, b"x"), "dies", at(0), at(10))  # its last fire
    batch = store.claim_records(at(11), 1, "heir", at(40))
    assert [(r.id, r.next_run_time, r.lease_fire_time) for r in batch] == [("fire", None, at(0))]
    assert [r.id for r in store.claim_records(at(11), 5, "other", at(40))] == ["waiting"]
    assert store.extend_leases([], "heir", at(60)) == []


def test_batched_commits_and_releases_are_one_script_call_each(
    redis_url: str, prefix: str, raw: redis.Redis
) -> None:
    client = CountingRedis(connection_pool=redis.ConnectionPool.from_url(redis_url))
    client.commands = []
    store = RedisStore(client=client, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.runs")
    store.start(None, "counted")
    for i in range(51):
        store.insert_record(TaskRecord(f"t{i:02d}", at(i), b"x"))
    store.claim_records(at(100), 50, "alpha", at(130))  # t50 stays unleased
    commits = [(TaskRecord(f"t{i:02d}", at(200 + i), b"y"), at(i)) for i in range(1, 51)]
    store.commit_claims(commits[:1], "alpha", at(130))  # loads the scripts once
    store.release_leases([("t50", False)], "alpha")
    changes = raw.pubsub(ignore_subscribe_messages=True)
    changes.subscribe(store.changes_channel)
    client.commands.clear()

    committed = store.commit_claims(commits, "alpha", at(140))
    released = store.release_leases([(f"t{i:02d}", i % 2 == 0) for i in range(50)], "alpha")

    assert client.commands == ["EVALSHA", "EVALSHA"]
    assert committed == [True] * 49 + [False]  # t50 was never leased
    assert released == [True] * 50
    assert store.fetch_record("t01") == TaskRecord("t01", at(201), b"y")
    assert store.fetch_record("t02") is None and store.fetch_record("t50") is not None
    assert raw.hlen(f"{prefix}.tasks.leases") == 0
    messages: list[object] = []
    deadline = time.monotonic() + 1  # long enough for a third, stray message
    while time.monotonic() < deadline and len(messages) < 3:
        message = changes.get_message(timeout=0.1)  # None also for the subscription
        if message is not None:
            messages.append(message["data"])
    assert messages == [b"commit", b"remove"]  # once per call
    assert store.commit_claims([], "alpha", at(140)) == []
    assert store.release_leases([], "alpha") == []
    assert client.commands == ["EVALSHA", "EVALSHA"]  # empty batches send nothing
    changes.close()
    client.close()
