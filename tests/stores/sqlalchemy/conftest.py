"""Fixtures for the SQLAlchemyStore tests: SQLite, PostgreSQL and MariaDB in turn.

Server databases are shared by a test module and tests keep apart by table name (creating
and dropping a database per test would dominate the run time); SQLite gets a file per test
on tmpfs when there is one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from asyncz.stores.sqlalchemy import SQLAlchemyStore

DATABASES = ["sqlite", "postgresql", "mariadb"]


@pytest.fixture(params=DATABASES)
def sql_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        directory = tempfile.mkdtemp(prefix="asyncz-sqlite-test-", dir=shm)
        yield f"sqlite:///{directory}/asyncz.sqlite3"
        shutil.rmtree(directory, ignore_errors=True)
        return
    fixture = {"postgresql": "postgres_module_db_url", "mariadb": "mariadb_module_db_url"}
    yield str(request.getfixturevalue(fixture[request.param]))


@pytest.fixture
def tablename() -> str:
    """This test's own table name."""
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def open_store(sql_url: str, tablename: str) -> Iterator[Callable[..., SQLAlchemyStore]]:
    """Started stores on this test's table (unless ``tablename=`` says otherwise); all shut
    down after the test."""
    started: list[SQLAlchemyStore] = []

    def open_(**options: Any) -> SQLAlchemyStore:
        options.setdefault("tablename", tablename)
        store = SQLAlchemyStore(sql_url, **options)
        store.start(None, "sql")
        started.append(store)
        return store

    yield open_
    for store in started:
        store.shutdown()
