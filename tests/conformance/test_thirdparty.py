"""A third-party store (examples/thirdparty-store) passes the same kit as the built-in ones,
and the registry finds it by the alias its distribution declares."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from acme_asyncz_store import AcmeStore  # pip install -e examples/thirdparty-store (./dev does)

from asyncz.exceptions import ConfigurationError
from asyncz.plugins.registry import PluginRegistry
from asyncz.stores.base import BaseStore
from asyncz.testing import StoreConformance


class TestAcmeStore(StoreConformance):
    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., BaseStore]:
        path, table = tmp_path / "tasks.sqlite3", f"t_{uuid.uuid4().hex[:12]}"

        def make(**options: Any) -> BaseStore:
            return AcmeStore(path, table=table, **options)

        return make

    def raw_contents(self, store: BaseStore) -> bytes:
        # Read the file itself, around the store: everything SQLite keeps for it.
        assert isinstance(store, AcmeStore)
        return Path(store.path).read_bytes()


def test_registry_resolves_the_alias_from_the_installed_distribution() -> None:
    registry = PluginRegistry()
    assert registry.store_class("acme") is AcmeStore
    assert "acme" in registry.installed_aliases("store")
    assert registry.distribution_of("store", "acme") == ("acme-asyncz-sqlite", "0.1.0")


def test_rejects_a_table_name_that_is_not_a_plain_identifier(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="table="):
        AcmeStore(tmp_path / "x.sqlite3", table='tasks"; DROP TABLE x; --')


def test_due_query_uses_the_run_time_index(tmp_path: Path) -> None:
    store = AcmeStore(tmp_path / "tasks.sqlite3", table="indexed")
    store.start(None, "acme")
    try:
        with sqlite3.connect(store.path) as db:
            plan = db.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM indexed WHERE next_run_time IS NOT NULL"
                " AND next_run_time <= 1 ORDER BY next_run_time, id"
            ).fetchall()
        assert any("indexed_next_run_time" in str(row[-1]) for row in plan), plan
    finally:
        store.shutdown()


def test_scheduler_keeps_tasks_in_the_third_party_store_across_restarts(tmp_path: Path) -> None:
    from asyncz.schedulers import AsyncIOScheduler
    from asyncz.testing.sample_tasks import noop

    stores = {"default": {"type": "acme", "path": str(tmp_path / "tasks.sqlite3")}}

    async def first_run() -> None:
        scheduler = AsyncIOScheduler(stores=stores)
        scheduler.start()
        scheduler.add_task(noop, "interval", hours=1, id="hourly")
        scheduler.shutdown()

    async def second_run() -> list[str]:
        scheduler = AsyncIOScheduler(stores=stores)
        scheduler.start()
        try:
            return [task.id for task in scheduler.get_tasks()]
        finally:
            scheduler.shutdown()

    asyncio.run(first_run())
    assert asyncio.run(second_run()) == ["hourly"]
