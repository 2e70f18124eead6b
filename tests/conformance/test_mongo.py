"""MongoDBStore passes the shared store contract against a real wire-protocol server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import bson
import pytest
from pymongo import MongoClient

from asyncz.stores.base import BaseStore
from asyncz.stores.mongo import MongoDBStore
from asyncz.testing import StoreConformance

DATABASE = "asyncz_conformance"


class TestMongoDBStore(StoreConformance):
    claims = True

    @pytest.fixture
    def store_factory(self, mongo_url: str) -> Iterator[Callable[..., BaseStore]]:
        collection = f"t_{uuid.uuid4().hex[:16]}"

        def make(**options: Any) -> BaseStore:
            return MongoDBStore(host=mongo_url, database=DATABASE, collection=collection, **options)

        yield make
        client: MongoClient[dict[str, Any]]
        with MongoClient(mongo_url) as client:
            client[DATABASE].drop_collection(collection)

    def raw_contents(self, store: BaseStore) -> bytes:
        """Every document of the store's collection (live and quarantined), BSON-encoded."""
        assert isinstance(store, MongoDBStore)
        documents = store.tasks.find({}).sort("_id", 1)
        return b"".join(bson.encode(document) for document in documents)
