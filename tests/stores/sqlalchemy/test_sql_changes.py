"""SQLAlchemyStore's push signal on PostgreSQL: writes NOTIFY on commit, a LISTENing thread
wakes subscribers at once, survives server restarts, and stops cleanly."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from asyncz.exceptions import ConflictIdError, StoreUnavailableError, TaskLookupError
from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.records import TaskRecord
from asyncz.stores.sqlalchemy import SQLAlchemyStore
from asyncz.stores.sqlalchemy._changes import COALESCE, announce, channel_name
from asyncz.tasks.task import Task
from asyncz.triggers.date import DateTrigger
from servers._common import wait_until
from support.scheduling import RECORDER, eventually, record_call
from support.wakes import Wakes

T0 = datetime(2031, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
HAS_PSYCOPG2 = importlib.util.find_spec("psycopg2") is not None


# psycopg 3 always; psycopg2 too where it is installed (a variant, not a backend: absent, it
# is simply not collected).
@pytest.fixture(params=["psycopg", "psycopg2"] if HAS_PSYCOPG2 else ["psycopg"])
def pg_url(request: pytest.FixtureRequest, postgres_module_db_url: str) -> str:
    """The module's database, reached through each driver that can LISTEN."""
    url = make_url(postgres_module_db_url).set(drivername=f"postgresql+{request.param}")
    return url.render_as_string(hide_password=False)


@pytest.fixture
def open_store(pg_url: str) -> Iterator[Callable[..., SQLAlchemyStore]]:
    """Started stores on this test's own table (each one a separate engine and pool, as in
    another process); all shut down after the test."""
    table = f"chg_{uuid.uuid4().hex[:12]}"
    started: list[SQLAlchemyStore] = []

    def open_(tablename: str = table) -> SQLAlchemyStore:
        store = SQLAlchemyStore(pg_url, tablename=tablename)
        store.start(None, "changes")
        started.append(store)
        return store

    yield open_
    for store in started:
        store.shutdown()


def subscribe(store: SQLAlchemyStore, wakes: Wakes) -> Callable[[], None]:
    unsubscribe = store.subscribe_changes(wakes)
    assert unsubscribe is not None
    return unsubscribe


def listener_threads(store: SQLAlchemyStore) -> list[threading.Thread]:
    name = f"asyncz-sql-changes-{store.changes_channel}"
    return [thread for thread in threading.enumerate() if thread.name == name]


def listening_sessions(url: str, channel: str) -> int:
    """Server sessions whose last statement was our LISTEN on ``channel``."""
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query = %s",
            [f'LISTEN "{channel}"'],
        ).fetchone()
    assert row is not None
    return int(row[0])


# ----------------------------------------------------------------------- waking
def test_a_write_by_another_store_wakes_a_subscriber_at_once(
    open_store: Callable[..., SQLAlchemyStore],
) -> None:
    watcher, writer = open_store(), open_store()
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    try:
        time.sleep(0.1)
        assert wakes.times == []  # subscribing announces nothing by itself
        started = time.monotonic()
        writer.insert_record(TaskRecord("new", T0, b"x"))
        assert wakes.event.wait(2), "no wake-up after another store added a task"
        assert wakes.times[0] - started < 0.2
    finally:
        unsubscribe()


def test_an_awkward_table_name_gets_a_working_channel(
    open_store: Callable[..., SQLAlchemyStore],
) -> None:
    table = f'Odd "Name" %s {uuid.uuid4().hex[:6]}'
    watcher, writer = open_store(table), open_store(table)
    assert watcher.changes_channel == f"asyncz_{table}"
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    try:
        writer.insert_record(TaskRecord("new", T0, b"x"))
        assert wakes.event.wait(2), "no wake-up on a channel that needs quoting"
    finally:
        unsubscribe()


def test_a_burst_of_writes_is_coalesced(open_store: Callable[..., SQLAlchemyStore]) -> None:
    watcher, writer = open_store(), open_store()
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    try:
        started = time.monotonic()
        for number in range(150):
            writer.insert_record(TaskRecord(f"t{number}", T0, b"x"))
        elapsed = time.monotonic() - started
        time.sleep(COALESCE * 3)
        assert 1 <= len(wakes.times) <= elapsed / COALESCE + 2
        assert wakes.times[0] - started < 0.2  # the first change is not held back
    finally:
        unsubscribe()


def test_rolled_back_transactions_wake_nobody(open_store: Callable[..., SQLAlchemyStore]) -> None:
    watcher, writer = open_store(), open_store()
    writer.insert_record(TaskRecord("held", T0, b"x"))
    writer.quarantine_record("held", "unreadable")  # a quarantined id cannot be added again
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    try:
        # The insert itself succeeds and announces; the quarantine check then rolls it back.
        with pytest.raises(ConflictIdError):
            writer.insert_record(TaskRecord("held", T0, b"again"))
        with pytest.raises(RuntimeError), writer.engine.begin() as connection:
            connection.execute(insert(writer.tasks).values(id="x", payload=b"x"))
            announce(connection, writer.changes_channel, "insert")
            raise RuntimeError("abandon the transaction")
        time.sleep(0.3)
        assert wakes.times == []
        assert [record.id for record in writer.iter_records()] == []
        writer.insert_record(TaskRecord("committed", T0, b"x"))
        assert wakes.event.wait(2), "the listener stopped hearing committed changes"
    finally:
        unsubscribe()


def test_changes_that_matter_are_announced(
    pg_url: str, open_store: Callable[..., SQLAlchemyStore]
) -> None:
    store = open_store()
    libpq = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as listener:
        listener.execute(f'LISTEN "{store.changes_channel}"')

        store.insert_record(TaskRecord("a", T0, b"x"))
        store.insert_record(TaskRecord("b", T0, b"x"))
        store.replace_record(TaskRecord("a", T0, b"y"))
        with pytest.raises(TaskLookupError):
            store.replace_record(TaskRecord("missing", T0, b"y"))
        with pytest.raises(TaskLookupError):
            store.remove_record("missing")
        store.claim_records(T0, 10, "alpha", T0)  # leases alone announce nothing
        store.extend_leases(["a", "b"], "alpha", T0)
        store.commit_claim(TaskRecord("a", None, b"y"), "alpha", T0, T0)
        store.release_lease("b", "alpha", delete=False)
        store.release_lease("a", "alpha", delete=True)
        store.quarantine_record("b", "unreadable")
        store.restore_record(TaskRecord("b", T0, b"x"))
        store.remove_record("b")
        store.remove_all_records()  # nothing left: nothing to announce
        store.insert_record(TaskRecord("c", T0, b"x"))
        store.remove_all_records()

        changes = [notify.payload for notify in listener.notifies(timeout=0.3)]
    assert changes == [
        "insert",
        "insert",
        "replace",
        "commit",
        "remove",
        "restore",
        "remove",
        "insert",
        "remove_all",
    ]


# ----------------------------------------------------------------------- lifecycle
def test_unsubscribing_stops_the_thread_and_closes_its_connection(
    pg_url: str, open_store: Callable[..., SQLAlchemyStore]
) -> None:
    store = open_store()
    wakes = Wakes()
    unsubscribe = subscribe(store, wakes)
    assert len(listener_threads(store)) == 1
    assert listening_sessions(pg_url, store.changes_channel) == 1
    started = time.monotonic()
    unsubscribe()
    assert time.monotonic() - started < 1
    assert listener_threads(store) == []
    wait_until(lambda: listening_sessions(pg_url, store.changes_channel) == 0, 2, "LISTEN gone")
    store.insert_record(TaskRecord("after", T0, b"x"))
    time.sleep(0.2)
    assert wakes.times == []


def test_shutdown_stops_listeners_left_subscribed(
    pg_url: str, open_store: Callable[..., SQLAlchemyStore]
) -> None:
    store = open_store()
    subscribe(store, Wakes())
    store.shutdown()
    assert listener_threads(store) == []
    wait_until(lambda: listening_sessions(pg_url, store.changes_channel) == 0, 2, "LISTEN gone")


def test_the_listener_reconnects_when_its_connection_is_cut(
    pg_url: str, open_store: Callable[..., SQLAlchemyStore], caplog: pytest.LogCaptureFixture
) -> None:
    watcher, writer = open_store(), open_store()
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    libpq = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = %s",
                [f'LISTEN "{watcher.changes_channel}"'],
            )
        assert wakes.event.wait(5), "no wake-up after listening again"
        assert "lost its change notifications" in caplog.text
        wait_until(lambda: listening_sessions(pg_url, watcher.changes_channel) == 1, 5, "LISTEN")
        wakes.reset()
        writer.insert_record(TaskRecord("after", T0, b"x"))
        assert wakes.event.wait(2), "no wake-up for a write after reconnecting"
    finally:
        unsubscribe()


def test_an_unreachable_server_is_store_unavailable_without_the_password() -> None:
    store = SQLAlchemyStore(
        "postgresql+psycopg://someone:s3cret-pw@127.0.0.1:1/nowhere", tablename="t"
    )
    threads_before = set(threading.enumerate())
    with pytest.raises(StoreUnavailableError, match="127.0.0.1:1") as raised:
        store.subscribe_changes(Wakes())
    assert "s3cret-pw" not in str(raised.value)
    assert set(threading.enumerate()) <= threads_before
    store.shutdown()


def test_the_listener_survives_a_server_restart(
    postgres_server: Any,
    open_store: Callable[..., SQLAlchemyStore],
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not postgres_server.can_restart:
        pytest.skip(
            "the PostgreSQL server comes from ASYNCZ_TEST_POSTGRES_URL: a shared server is "
            "not restarted by tests"
        )
    watcher = open_store()
    wakes = Wakes()
    unsubscribe = subscribe(watcher, wakes)
    try:
        with caplog.at_level(logging.INFO, logger="asyncz.stores"):
            postgres_server.restart()
            # Changes made while it was away went unheard: hearing again wakes it once.
            assert wakes.event.wait(15), "no wake-up after the server came back"
        lost = [r for r in caplog.records if "lost its change notifications" in r.message]
        assert len(lost) == 1, "one warning per outage"
        assert lost[0].levelno == logging.WARNING
        assert "hears change notifications again" in caplog.text
        wakes.reset()
        writer = open_store()
        writer.insert_record(TaskRecord("after-restart", T0, b"x"))
        assert wakes.event.wait(5), "no wake-up for a write after the restart"
        assert len(listener_threads(watcher)) == 1
    finally:
        unsubscribe()


# ----------------------------------------------------------------------- other databases
def test_sqlite_offers_no_signal(tmp_path: Path) -> None:
    store = SQLAlchemyStore(f"sqlite:///{tmp_path}/asyncz.sqlite3")
    store.start(None, "sqlite")
    try:
        assert store.subscribe_changes(Wakes()) is None  # the scheduler polls instead
        store.insert_record(TaskRecord("a", T0, b"x"))  # writes announce nothing, and work
        assert store.fetch_record("a") is not None
    finally:
        store.shutdown()


def test_mariadb_offers_no_signal(mariadb_module_db_url: str) -> None:
    store = SQLAlchemyStore(mariadb_module_db_url, tablename=f"chg_{uuid.uuid4().hex[:12]}")
    store.start(None, "mariadb")
    try:
        assert store.subscribe_changes(Wakes()) is None
        store.insert_record(TaskRecord("a", T0, b"x"))
        store.remove_all_records()
    finally:
        with store.engine.begin() as connection:
            store.tasks.drop(connection)
            store.quarantine.drop(connection)
        store.shutdown()


# ----------------------------------------------------------------------- channel names
def test_channel_names_fit_postgresql_identifiers() -> None:
    assert channel_name("asyncz_store") == "asyncz_asyncz_store"
    assert channel_name("t" * 52) == "asyncz_" + "t" * 52  # the longest ASCII table name fits
    long_names = ["é" * 52, "é" * 51 + "è", "表" * 52]
    channels = [channel_name(name) for name in long_names]
    assert all(len(channel.encode()) <= 63 for channel in channels)
    assert len(set(channels)) == len(channels)
    assert channels == [channel_name(name) for name in long_names]  # stable across processes


# ----------------------------------------------------------------------- end to end
def test_a_scheduler_runs_a_task_another_process_adds_without_waiting_for_its_poll(
    postgres_module_db_url: str,
) -> None:
    """store_poll_interval=30: only the notification can make the run start within 1 s."""
    table, token = f"chg_{uuid.uuid4().hex[:12]}", uuid.uuid4().hex

    def ran() -> bool:
        with RECORDER.lock:
            return (token,) in RECORDER.calls

    async def main() -> float:
        scheduler = AsyncIOScheduler(
            stores={"default": SQLAlchemyStore(postgres_module_db_url, tablename=table)},
            timezone="UTC",
            store_poll_interval=30,
        )
        scheduler.start()
        other = SQLAlchemyStore(postgres_module_db_url, tablename=table)
        other.start(None, "other-process")
        try:
            await asyncio.sleep(0.3)  # the scheduler's first pass found nothing: it waits
            now = datetime.now(UTC)
            task = Task(
                record_call,
                id="from-elsewhere",
                args=[token],
                trigger=DateTrigger(now),
                next_run_time=now,
            )
            added = time.monotonic()
            await asyncio.to_thread(other.add_task, task)
            await eventually(ran, timeout=5)
            return time.monotonic() - added
        finally:
            other.shutdown()
            await scheduler.shutdown_async()

    assert asyncio.run(main()) < 1.0
