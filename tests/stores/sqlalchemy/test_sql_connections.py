"""Connections: choosing drivers, engine options, unreachable servers, server restarts, and
processes racing on one id."""

from __future__ import annotations

import importlib.util
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from asyncz.exceptions import ConfigurationError, ConflictIdError, StoreUnavailableError
from asyncz.plugins.registry import PluginRegistry
from asyncz.stores.records import TaskRecord
from asyncz.stores.sqlalchemy import SQLAlchemyStore
from asyncz.stores.sqlalchemy._engine import resolve_url
from servers._common import free_port

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)
HAS_PSYCOPG2 = importlib.util.find_spec("psycopg2") is not None
HAS_MYSQLDB = importlib.util.find_spec("MySQLdb") is not None


# ----------------------------------------------------------------------- URLs and options
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql" if HAS_PSYCOPG2 else "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql" if HAS_PSYCOPG2 else "postgresql+psycopg"),
        ("mysql://u@h/db", "mysql" if HAS_MYSQLDB else "mysql+pymysql"),
        ("mariadb://u@h/db", "mariadb" if HAS_MYSQLDB else "mariadb+pymysql"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("mysql+mysqldb://u@h/db", "mysql+mysqldb"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_urls_without_a_driver_pick_an_installed_one(given: str, expected: str) -> None:
    assert resolve_url(given).drivername == expected


def test_extra_keywords_go_to_create_engine(tmp_path: Path) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path}/a.db", pool_size=3, max_overflow=1)
    pool: Any = store.engine.pool
    assert pool.size() == 3 and not pool._pre_ping
    pinged: Any = SQLAlchemyStore(f"sqlite:///{tmp_path}/a.db", pool_pre_ping=True).engine.pool
    assert pinged._pre_ping


def test_bad_options_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="create_engine"):
        SQLAlchemyStore(f"sqlite:///{tmp_path}/a.db", no_such_option=1)
    with pytest.raises(ConfigurationError, match="not a database URL"):
        SQLAlchemyStore("this is not a url")
    with pytest.raises(ConfigurationError, match="tablename"):
        SQLAlchemyStore(f"sqlite:///{tmp_path}/a.db", tablename="t" * 60)


@pytest.mark.skipif(HAS_PSYCOPG2, reason="psycopg2 is installed here")
def test_a_missing_driver_names_the_extra_to_install() -> None:
    with pytest.raises(ConfigurationError, match=r"asyncz-sqlalchemy\[postgresql\]"):
        SQLAlchemyStore("postgresql+psycopg2://u@127.0.0.1/db")


def test_a_given_engine_is_used_but_not_disposed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/shared.db")
    disposed: list[bool] = []
    monkeypatch.setattr(engine, "dispose", lambda *a, **k: disposed.append(True))
    store = SQLAlchemyStore(engine)
    assert store.tablename == store.namespace == "asyncz_store"
    store.start(None, "given")
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.shutdown()
    assert disposed == []
    assert store.engine is engine
    with pytest.raises(ConfigurationError, match="ready Engine"):
        SQLAlchemyStore(engine, pool_size=3)


def test_the_sqlalchemy_alias_resolves_through_the_entry_point() -> None:
    assert PluginRegistry().store_class("sqlalchemy") is SQLAlchemyStore


# ----------------------------------------------------------------------- unreachable
@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_unreachable_server_is_a_clear_store_unavailable_error(scheme: str) -> None:
    port = free_port()
    store = SQLAlchemyStore(f"{scheme}://scheduler:s3cret-pw@127.0.0.1:{port}/tasks")
    with pytest.raises(StoreUnavailableError) as caught:
        store.start(None, "remote")
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "'remote'" in message
    assert "database 'tasks'" in message and "server is running" in message
    assert "s3cret-pw" not in message and "s3cret-pw" not in store.describe()
    assert isinstance(caught.value.__cause__, OperationalError)
    store.shutdown()


def test_sqlite_in_a_missing_directory_says_so(tmp_path: Path) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path}/missing/asyncz.sqlite3")
    with pytest.raises(StoreUnavailableError, match="does not exist"):
        store.start(None, "sqlite")
    assert not (tmp_path / "missing").exists()


# ----------------------------------------------------------------------- server restarts
@pytest.mark.parametrize("pre_ping", [True, False], ids=["pre-ping", "retry"])
def test_store_survives_a_postgres_restart(
    postgres_server: Any, postgres_db_url: str, pre_ping: bool, caplog: pytest.LogCaptureFixture
) -> None:
    if not postgres_server.can_restart:
        pytest.skip("the PostgreSQL server is not ours to restart")
    store = SQLAlchemyStore(postgres_db_url, pool_pre_ping=pre_ping)
    store.start(None, "restart")
    store.insert_record(TaskRecord("before", T0, b"kept"))
    assert store.fetch_record("before") is not None  # a pooled connection now exists
    postgres_server.restart()
    assert store.fetch_record("before") == TaskRecord("before", T0, b"kept")
    store.insert_record(TaskRecord("after", T0 + timedelta(seconds=1), b"new"))
    assert [r.id for r in store.due_records(T0 + timedelta(seconds=1))] == ["before", "after"]
    # Without pre-ping the dead pooled connection fails once and the store retries.
    assert ("retrying once" in caplog.text) is not pre_ping
    store.shutdown()


def test_a_stopped_server_while_running_is_store_unavailable(
    postgres_server: Any, postgres_db_url: str
) -> None:
    if not postgres_server.can_restart:
        pytest.skip("the PostgreSQL server is not ours to stop")
    store = SQLAlchemyStore(postgres_db_url)
    store.start(None, "stopped")
    store.insert_record(TaskRecord("t", T0, b"x"))
    postgres_server.stop()
    try:
        with pytest.raises(StoreUnavailableError, match="while running"):
            store.due_records(T0)
    finally:
        postgres_server.start()
    assert [r.id for r in store.due_records(T0)] == ["t"]
    store.shutdown()


# ----------------------------------------------------------------------- processes
def _insert_contended(url: str, table: str, worker: int, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(timeout=30)
        store = SQLAlchemyStore(url, tablename=table)
        store.start(None, f"worker-{worker}")  # all create the tables at once
        barrier.wait(timeout=30)
        try:
            store.insert_record(TaskRecord("contended", T0, f"worker {worker}".encode()))
            results.put("added")
        except ConflictIdError:
            results.put("conflict")
        finally:
            store.shutdown()
    except BaseException as exc:
        results.put(f"worker {worker} failed: {type(exc).__name__}: {exc}")
        barrier.abort()


def test_processes_starting_then_racing_on_one_id_admit_exactly_one(
    sql_url: str, tablename: str
) -> None:
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(3), context.Queue()
    children = [
        context.Process(target=_insert_contended, args=(sql_url, tablename, n, barrier, results))
        for n in range(3)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    assert sorted(results.get(timeout=5) for _ in children) == ["added", "conflict", "conflict"]
    store = SQLAlchemyStore(sql_url, tablename=tablename)
    store.start(None, "check")
    assert [r.id for r in store.iter_records()] == ["contended"]
    store.shutdown()
