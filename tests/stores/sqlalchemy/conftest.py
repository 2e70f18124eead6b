"""Fixtures for the SQLAlchemyStore tests: one URL per real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from asyncz.stores.sqlalchemy import SQLAlchemyStore

DATABASES = ["sqlite", "postgresql", "mariadb"]


@pytest.fixture(params=DATABASES)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on SQLite (a file), PostgreSQL and MariaDB in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'asyncz.sqlite3'}"
    fixture = {"postgresql": "postgres_db_url", "mariadb": "mariadb_db_url"}[request.param]
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def open_store(sql_url: str) -> Iterator[Callable[..., SQLAlchemyStore]]:
    """Started stores on ``sql_url``; all shut down after the test."""
    started: list[SQLAlchemyStore] = []

    def open_(**options: Any) -> SQLAlchemyStore:
        store = SQLAlchemyStore(sql_url, **options)
        store.start(None, "sql")
        started.append(store)
        return store

    yield open_
    for store in started:
        store.shutdown()
