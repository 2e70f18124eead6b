"""SQLAlchemyStore passes the shared store contract on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from asyncz.stores.base import BaseStore
from asyncz.stores.sqlalchemy import SQLAlchemyStore
from asyncz.testing import StoreConformance
from stores.sqlalchemy.sql_backdoor import table_bytes


class TestPostgresStore(StoreConformance):
    @pytest.fixture
    def store_factory(self, postgres_db_url: str) -> Callable[..., BaseStore]:
        def make(**options: Any) -> BaseStore:
            return SQLAlchemyStore(postgres_db_url, **options)

        return make

    def raw_contents(self, store: BaseStore) -> bytes:
        assert isinstance(store, SQLAlchemyStore)
        return table_bytes(store)
