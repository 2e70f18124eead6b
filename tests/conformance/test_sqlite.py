"""SQLAlchemyStore passes the shared store contract on a SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asyncz.stores.base import BaseStore
from asyncz.stores.sqlalchemy import SQLAlchemyStore
from asyncz.testing import StoreConformance
from stores.sqlalchemy.sql_backdoor import table_bytes


class TestSQLiteStore(StoreConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., BaseStore]:
        url = f"sqlite:///{tmp_path / 'asyncz.sqlite3'}"

        def make(**options: Any) -> BaseStore:
            return SQLAlchemyStore(url, **options)

        return make

    def raw_contents(self, store: BaseStore) -> bytes:
        assert isinstance(store, SQLAlchemyStore)
        return table_bytes(store)
