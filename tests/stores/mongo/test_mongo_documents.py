"""MongoDBStore specifics: construction forms, document shape, index, quarantine, limits."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson.binary import Binary
from bson.int64 import Int64
from pymongo import MongoClient
from pymongo.collection import Collection

from asyncz.exceptions import (
    ConfigurationError,
    ConflictIdError,
    TaskEncodeError,
    TaskLookupError,
)
from asyncz.plugins.registry import PluginRegistry
from asyncz.stores.mongo import MongoDBStore
from asyncz.stores.records import TaskRecord, to_micros

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
DATABASE = "asyncz_store_tests"

Document = dict[str, Any]


@pytest.fixture
def collection_name(mongo_url: str) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        client[DATABASE].drop_collection(name)


@pytest.fixture
def raw(mongo_url: str, collection_name: str) -> Iterator[Collection[Document]]:
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        yield client[DATABASE][collection_name]


@pytest.fixture
def store(mongo_url: str, collection_name: str) -> Iterator[MongoDBStore]:
    opened = MongoDBStore(host=mongo_url, database=DATABASE, collection=collection_name)
    opened.start(None, "mongo-test")
    yield opened
    opened.shutdown()


# ---------------------------------------------------------------- construction
def test_documented_defaults() -> None:
    store = MongoDBStore()
    assert (store.database, store.collection) == ("asyncz", "tasks")
    assert store.namespace == "asyncz.tasks"
    assert store.server == "localhost:27017"
    assert store.client.options.server_selection_timeout == 5  # fail fast, not pymongo's 30 s


def test_client_keyword_arguments_are_forwarded() -> None:
    store = MongoDBStore(host="127.0.0.1", port=27999, serverSelectionTimeoutMS=1234)
    assert store.server == "127.0.0.1:27999"
    assert store.client.options.server_selection_timeout == 1.234


def test_uri_credentials_stay_out_of_messages() -> None:
    store = MongoDBStore(host="mongodb://admin:hunter2@127.0.0.1:27999/")
    assert store.server == "127.0.0.1:27999"
    assert "hunter2" not in store.describe()


def test_bad_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="client options"):
        MongoDBStore(serverSelectionTimeoutMS="soon")
    with pytest.raises(ConfigurationError, match="databse"):
        MongoDBStore(databse="x")  # a misspelt option, forwarded to MongoClient
    with pytest.raises(ConfigurationError, match="client and client options"):
        MongoDBStore(client=MongoClient(connect=False), port=1)


def test_a_given_client_is_used_and_left_open(mongo_url: str, collection_name: str) -> None:
    client: MongoClient[Document] = MongoClient(mongo_url)
    store = MongoDBStore(client=client, database=DATABASE, collection=collection_name)
    store.start(None, "given")
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.shutdown()
    assert client[DATABASE][collection_name].count_documents({}) == 1  # still open
    client.close()


def test_store_starts_again_after_shutdown(store: MongoDBStore) -> None:
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.shutdown()
    store.start(None, "again")  # an owned client is created anew
    assert store.fetch_record("t") == TaskRecord("t", T0, b"x")


def test_registered_under_both_aliases() -> None:
    registry = PluginRegistry()
    assert registry.store_class("mongodb") is MongoDBStore
    assert registry.store_class("mongo") is MongoDBStore


# ---------------------------------------------------------------- documents and index
def test_run_time_index_is_created_at_start(raw: Collection[Document], store: MongoDBStore) -> None:
    keys = [list(index["key"].items()) for index in raw.list_indexes()]
    assert [("next_run_time", 1), ("_id", 1)] in keys


def test_document_shape(raw: Collection[Document], store: MongoDBStore) -> None:
    store.insert_record(TaskRecord("soon", T0, b"payload-1"))
    store.insert_record(TaskRecord("paused", None, b"payload-2"))
    soon = raw.find_one({"_id": "soon"})
    assert soon == {"_id": "soon", "next_run_time": to_micros(T0), "payload": b"payload-1"}
    assert soon is not None and isinstance(soon["next_run_time"], Int64)
    paused = raw.find_one({"_id": "paused"})
    assert paused is not None and paused["next_run_time"] is None


def test_microsecond_order_and_due_limit(store: MongoDBStore) -> None:
    store.insert_record(TaskRecord("later", T0 + timedelta(microseconds=1), b"x"))
    store.insert_record(TaskRecord("b", T0, b"x"))
    store.insert_record(TaskRecord("a", T0, b"x"))
    store.insert_record(TaskRecord("paused", None, b"x"))
    assert [r.id for r in store.due_records(T0)] == ["a", "b"]
    assert [r.id for r in store.due_records(T0 + timedelta(seconds=1), limit=2)] == ["a", "b"]
    assert store.due_records(T0, limit=0) == []
    assert [r.id for r in store.iter_records()] == ["a", "b", "later", "paused"]
    assert store.earliest_run_time() == T0


def test_collections_do_not_see_each_other(mongo_url: str, store: MongoDBStore) -> None:
    other = MongoDBStore(host=mongo_url, database=DATABASE, collection=f"{store.collection}_x")
    other.start(None, "other")
    try:
        store.insert_record(TaskRecord("shared-id", T0, b"mine"))
        other.insert_record(TaskRecord("shared-id", T0, b"theirs"))
        assert [r.payload for r in store.due_records(T0)] == [b"mine"]
        other.remove_all_records()
        assert store.fetch_record("shared-id") is not None
    finally:
        other.tasks.drop()
        other.shutdown()


# ---------------------------------------------------------------- writes
def test_concurrent_inserts_of_one_id_admit_exactly_one(store: MongoDBStore) -> None:
    barrier = threading.Barrier(4)
    winners: list[bytes] = []
    losers: list[bytes] = []

    def insert(payload: bytes) -> None:
        barrier.wait()
        try:
            store.insert_record(TaskRecord("contended", T0, payload))
            winners.append(payload)
        except ConflictIdError:
            losers.append(payload)

    threads = [threading.Thread(target=insert, args=(f"w{n}".encode(),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(losers) == 3
    assert store.fetch_record("contended") == TaskRecord("contended", T0, winners[0])


def test_missing_ids_are_reported(store: MongoDBStore) -> None:
    with pytest.raises(TaskLookupError):
        store.replace_record(TaskRecord("ghost", T0, b"x"))
    with pytest.raises(TaskLookupError):
        store.remove_record("ghost")
    with pytest.raises(TaskLookupError):
        store.restore_record(TaskRecord("ghost", T0, b"x"))


def test_quarantine_stays_in_the_collection(raw: Collection[Document], store: MongoDBStore) -> None:
    store.insert_record(TaskRecord("bad", T0, b"unreadable"))
    store.quarantine_record("bad", "cannot decode")

    document = raw.find_one({"_id": "bad"})
    assert document is not None
    assert document["quarantine"]["reason"] == "cannot decode"
    assert document["next_run_time"] is None and document["payload"] == b"unreadable"
    assert store.fetch_record("bad") is None and list(store.iter_records()) == []
    assert store.earliest_run_time() is None
    with pytest.raises(ConflictIdError):  # the unique _id refuses it: no race possible
        store.insert_record(TaskRecord("bad", T0, b"newcomer"))
    with pytest.raises(TaskLookupError):
        store.replace_record(TaskRecord("bad", T0, b"newcomer"))

    store.remove_all_records()
    [entry] = store.quarantined_records()
    assert (entry.record.id, entry.record.payload, entry.reason) == (
        "bad",
        b"unreadable",
        "cannot decode",
    )
    store.restore_record(TaskRecord("bad", T0, b"unreadable"))
    assert store.due_records(T0) == [TaskRecord("bad", T0, b"unreadable")]
    assert "quarantine" not in (raw.find_one({"_id": "bad"}) or {})
    store.quarantine_record("gone", "already removed")  # ignored, not an error


def test_five_megabyte_payload(store: MongoDBStore) -> None:
    payload = bytes(range(256)) * (5 * 1024 * 1024 // 256)
    store.insert_record(TaskRecord("big", T0, payload))
    assert store.fetch_record("big") == TaskRecord("big", T0, payload)
    assert store.due_records(T0)[0].payload == payload


def test_payload_over_the_document_limit_is_a_clear_error(store: MongoDBStore) -> None:
    store.insert_record(TaskRecord("t", T0, b"small"))
    huge = b"x" * (17 * 1024 * 1024)
    with pytest.raises(TaskEncodeError, match="16777216 bytes"):
        store.insert_record(TaskRecord("huge", T0, huge))
    with pytest.raises(TaskEncodeError, match="pass a reference"):
        store.replace_record(TaskRecord("t", T0, huge))
    assert store.fetch_record("t") == TaskRecord("t", T0, b"small")
    assert store.fetch_record("huge") is None


def test_binary_payload_survives_any_bytes(store: MongoDBStore) -> None:
    payload = bytes(range(256))
    store.insert_record(TaskRecord("bytes", None, payload))
    record = store.fetch_record("bytes")
    assert record is not None and record.payload == payload
    assert type(record.payload) is bytes and not isinstance(record.payload, Binary)
