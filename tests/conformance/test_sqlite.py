"""SQLAlchemyStore passes the shared store contract on a SQLite file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from asyncz.stores.base import BaseStore
from asyncz.stores.sqlalchemy import SQLAlchemyStore
from asyncz.testing import StoreConformance
from stores.sqlalchemy.sql_backdoor import table_bytes


class TestSQLiteStore(StoreConformance):
    claims = True

    @pytest.fixture
    def store_factory(self) -> Iterator[Callable[..., BaseStore]]:
        # On tmpfs when there is one: SQLite's commit-time fsync is not what is tested here.
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        directory = tempfile.mkdtemp(prefix="asyncz-sqlite-conformance-", dir=shm)
        url = f"sqlite:///{directory}/asyncz.sqlite3"

        def make(**options: Any) -> BaseStore:
            return SQLAlchemyStore(url, **options)

        yield make
        shutil.rmtree(directory, ignore_errors=True)

    def raw_contents(self, store: BaseStore) -> bytes:
        assert isinstance(store, SQLAlchemyStore)
        return table_bytes(store)
