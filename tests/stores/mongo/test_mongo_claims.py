"""MongoDBStore leases: document shape, round trips per claim, what writes do to a lease."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.collection import Collection

from asyncz.stores.mongo import MongoDBStore
from asyncz.stores.records import TaskRecord, to_micros

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
DATABASE = "asyncz_store_tests"

Document = dict[str, Any]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class CommandLog(monitoring.CommandListener):
    """The names of the commands a client sends."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def collection_name(mongo_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    client: MongoClient[Document]
    with MongoClient(mongo_url) as client:
        client[DATABASE].drop_collection(name)


@pytest.fixture
def raw(mongo_url: str, collection_name: str) -> Iterator[Collection[Document]]:
    client: MongoClient[Document]
    with MongoClient(mongo_url) as client:
        yield client[DATABASE][collection_name]


@pytest.fixture
def store(mongo_url: str, collection_name: str) -> Iterator[MongoDBStore]:
    opened = MongoDBStore(host=mongo_url, database=DATABASE, collection=collection_name)
    opened.start(None, "mongo-claims")
    yield opened
    opened.shutdown()


@pytest.fixture
def counted(mongo_url: str, collection_name: str) -> Iterator[tuple[MongoDBStore, CommandLog]]:
    """A started store whose client logs the commands it sends."""
    log = CommandLog()
    client: MongoClient[Document] = MongoClient(mongo_url, event_listeners=[log])
    store = MongoDBStore(client=client, database=DATABASE, collection=collection_name)
    store.start(None, "counted")
    yield store, log
    store.shutdown()
    client.close()


def test_a_claim_batch_costs_four_round_trips(counted: tuple[MongoDBStore, CommandLog]) -> None:
    store, log = counted
    for i in range(40):
        store.insert_record(TaskRecord(f"t{i:02d}", at(i), b"x"))
    for size in (3, 30):
        log.names.clear()
        batch = store.claim_records(at(100), size, f"owner-{size}", at(130))
        assert len(batch) == size
        assert log.names == ["find", "find", "update", "find"]


def test_taking_over_dead_fires_costs_one_more_update(
    counted: tuple[MongoDBStore, CommandLog],
) -> None:
    store, log = counted
    for i in range(6):
        store.insert_record(TaskRecord(f"t{i}", at(i), b"x"))
    store.claim_records(at(10), 2, "dead", at(20))
    fires = [(TaskRecord(f"t{i}", at(1000 + i), b"x"), at(i)) for i in range(2)]
    assert store.commit_claims(fires, "dead", at(20)) == [True, True]
    log.names.clear()

    claimed = store.claim_records(at(30), 10, "alive", at(60))

    assert [(r.id, r.lease_fire_time) for r in claimed] == [
        ("t0", at(0)),
        ("t1", at(1)),
        ("t2", None),
        ("t3", None),
        ("t4", None),
        ("t5", None),
    ]
    assert log.names == ["find", "find", "update", "update", "find"]


def test_lease_fields_follow_the_lease(raw: Collection[Document], store: MongoDBStore) -> None:
    store.insert_record(TaskRecord("t", at(0), b"v1"))
    [claimed] = store.claim_records(at(1), 10, "alpha", at(31))
    assert claimed == TaskRecord("t", at(0), b"v1")
    document = raw.find_one({"_id": "t"})
    assert document is not None
    lease = document["lease"]
    assert (lease["owner"], lease["until"]) == ("alpha", to_micros(at(31)))
    assert "fire" not in lease and isinstance(lease["token"], str)

    assert store.commit_claim(TaskRecord("t", at(60), b"v2"), "alpha", at(0), at(32))
    lease = (raw.find_one({"_id": "t"}) or {})["lease"]
    assert (lease["until"], lease["fire"]) == (to_micros(at(32)), to_micros(at(0)))

    store.replace_record(TaskRecord("t", at(90), b"user edit"))  # a user write keeps it
    assert (raw.find_one({"_id": "t"}) or {})["lease"]["owner"] == "alpha"
    assert store.release_lease("t", "alpha", delete=False)
    assert raw.find_one({"_id": "t"}) == {
        "_id": "t",
        "next_run_time": to_micros(at(90)),
        "payload": b"user edit",
    }


def test_lease_index_is_created_at_start(raw: Collection[Document], store: MongoDBStore) -> None:
    indexes = {index["name"]: index for index in raw.list_indexes()}
    assert list(indexes["asyncz_lease_until"]["key"].items()) == [("lease.until", 1)]
    assert indexes["asyncz_lease_until"].get("sparse") is True


def test_quarantine_and_removal_end_the_lease(
    raw: Collection[Document], store: MongoDBStore
) -> None:
    for task_id in ("bad", "deleted", "kept"):
        store.insert_record(TaskRecord(task_id, at(0), b"x"))
    store.claim_records(at(0), 10, "alpha", at(30))
    store.quarantine_record("bad", "unreadable")
    store.remove_record("deleted")
    assert "lease" not in (raw.find_one({"_id": "bad"}) or {})
    assert not store.commit_claim(TaskRecord("bad", at(5), b"x"), "alpha", at(0), at(30))
    assert not store.release_lease("bad", "alpha", delete=True)  # a quarantined record stays
    assert [q.record.id for q in store.quarantined_records()] == ["bad"]
    store.restore_record(TaskRecord("bad", at(0), b"x"))
    assert [r.id for r in store.claim_records(at(1), 10, "beta", at(30))] == ["bad"]
    store.remove_all_records()
    assert raw.count_documents({}) == 0


def test_claims_skip_what_others_hold_and_exact_times(store: MongoDBStore) -> None:
    for i in range(12):
        store.insert_record(TaskRecord(f"t{i:02d}", at(i), b"x"))
    assert len(store.claim_records(at(100), 8, "alpha", at(130))) == 8
    assert [r.id for r in store.claim_records(at(100), 3, "beta", at(130))] == [
        "t08",
        "t09",
        "t10",
    ]
    fire = at(0) + timedelta(microseconds=1)
    assert store.commit_claim(TaskRecord("t00", None, b"x"), "alpha", fire, at(5))
    [recovered] = store.claim_records(at(6), 1, "gamma", at(40))
    assert (recovered.id, recovered.next_run_time, recovered.lease_fire_time) == (
        "t00",
        None,
        fire,
    )
    assert store.extend_leases(["t00", "t01"], "gamma", at(70)) == ["t01"]


def test_batched_commits_and_releases_cost_few_round_trips(
    counted: tuple[MongoDBStore, CommandLog],
) -> None:
    store, log = counted
    for i in range(51):
        store.insert_record(TaskRecord(f"t{i:02d}", at(i), b"x"))
    store.claim_records(at(100), 50, "alpha", at(130))  # t50 stays unleased
    all_held = [(TaskRecord(f"t{i:02d}", at(200 + i), b"y"), at(i)) for i in range(50)]
    log.names.clear()

    assert store.commit_claims(all_held, "alpha", at(140)) == [True] * 50
    assert log.names == ["update"]  # every one matched: the count says it all
    log.names.clear()
    some = [*all_held[1:], (TaskRecord("t50", at(250), b"y"), at(50))]
    assert store.commit_claims(some, "alpha", at(150)) == [True] * 49 + [False]
    assert log.names == ["update", "find"]  # only some matched: the token says which
    log.names.clear()
    releases = [(f"t{i:02d}", i % 2 == 0) for i in range(51)]
    assert store.release_leases(releases, "alpha") == [True] * 50 + [False]
    assert sorted(log.names) == ["delete", "find", "update"]
    log.names.clear()
    assert store.commit_claims([], "alpha", at(140)) == []
    assert store.release_leases([], "alpha") == []
    assert log.names == []

    assert store.fetch_record("t01") == TaskRecord("t01", at(201), b"y")
    assert store.fetch_record("t00") is None and store.fetch_record("t50") is not None
    claimed = store.claim_records(at(300), 60, "beta", at(330))
    assert [r.id for r in claimed] == ["t50"] + [f"t{i:02d}" for i in range(1, 51, 2)]


class ActsAfterFinds(CommandLog):
    """Runs ``actions[n]`` right after the client's n-th find (from 1) succeeds: another
    scheduler's or a user's write landing between two steps of a claim or a release."""

    def __init__(self, actions: dict[int, Callable[[], object]]) -> None:
        super().__init__()
        self.actions, self.finds = actions, 0

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name == "find":
            self.finds += 1
            action = self.actions.get(self.finds)
            if action is not None:
                action()


def test_a_claim_skips_what_changed_since_its_finds(
    mongo_url: str, collection_name: str, raw: Collection[Document]
) -> None:
    def lease_to_another(task_id: str) -> None:
        held = {"lease.owner": "other", "lease.until": to_micros(at(100)), "lease.token": "t"}
        raw.update_one({"_id": task_id}, {"$set": held})

    race = ActsAfterFinds({})
    client: MongoClient[Document] = MongoClient(mongo_url, event_listeners=[race])
    store = MongoDBStore(client=client, database=DATABASE, collection=collection_name)
    store.start(None, "raced")
    for i in range(6):
        store.insert_record(TaskRecord(f"t{i}", at(i), b"x"))
    store.claim_records(at(10), 2, "dead", at(20))
    fires = [(TaskRecord(f"t{i}", at(1000 + i), b"x"), at(i)) for i in range(2)]
    store.commit_claims(fires, "dead", at(20))
    race.finds = 0

    def after_the_due_find() -> None:  # one due task leased by another, one run and advanced
        lease_to_another("t3")
        raw.update_one({"_id": "t4"}, {"$set": {"next_run_time": to_micros(at(500))}})

    race.actions = {
        1: lambda: lease_to_another("t0"),  # a dead fire, taken over by another scheduler
        2: after_the_due_find,
    }

    claimed = store.claim_records(at(30), 10, "alive", at(60))

    assert [(r.id, r.lease_fire_time) for r in claimed] == [
        ("t1", at(1)),
        ("t2", None),
        ("t5", None),
    ]
    assert raw.find_one({"_id": "t0"}, {"lease.owner": 1}) == {
        "_id": "t0",
        "lease": {"owner": "other"},
    }
    assert raw.find_one({"_id": "t3"}, {"lease.owner": 1}) == {
        "_id": "t3",
        "lease": {"owner": "other"},
    }
    assert "lease" not in (raw.find_one({"_id": "t4"}) or {})
    store.shutdown()
    client.close()


def test_a_release_racing_a_delete_is_read_back(
    mongo_url: str, collection_name: str, raw: Collection[Document]
) -> None:
    race = ActsAfterFinds({})
    client: MongoClient[Document] = MongoClient(mongo_url, event_listeners=[race])
    store = MongoDBStore(client=client, database=DATABASE, collection=collection_name)
    store.start(None, "raced")
    for task_id in ("a", "b", "c"):
        store.insert_record(TaskRecord(task_id, at(0), b"x"))
    store.claim_records(at(1), 10, "alpha", at(30))
    race.names, race.finds = [], 0
    race.actions = {1: lambda: raw.delete_one({"_id": "b"})}  # a user's delete, mid-release

    released = store.release_leases([("a", False), ("b", False), ("c", True)], "alpha")

    assert released == [True, False, True]  # b was gone before its release ran
    assert race.names == ["find", "update", "delete", "find"]
    assert raw.find_one({"_id": "a"}) == {
        "_id": "a",
        "next_run_time": to_micros(at(0)),
        "payload": b"x",
    }
    store.shutdown()
    client.close()
