"""SQLAlchemyStore passes the shared store contract on a real MariaDB server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from asyncz.stores.base import BaseStore
from asyncz.stores.sqlalchemy import SQLAlchemyStore
from asyncz.testing import StoreConformance
from stores.sqlalchemy.sql_backdoor import table_bytes


class TestMariaDBStore(StoreConformance):
    claims = True

    @pytest.fixture
    def store_factory(self, mariadb_module_db_url: str) -> Callable[..., BaseStore]:
        tablename = f"t_{uuid.uuid4().hex[:16]}"  # this test's own tables

        def make(**options: Any) -> BaseStore:
            return SQLAlchemyStore(mariadb_module_db_url, tablename=tablename, **options)

        return make

    def raw_contents(self, store: BaseStore) -> bytes:
        assert isinstance(store, SQLAlchemyStore)
        return table_bytes(store)
