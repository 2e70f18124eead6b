"""AcmeStore: tasks in one SQLite table, unreadable ones set aside in a second table.

Every write is a single ``BEGIN IMMEDIATE`` transaction, so a reader in this or any other
process sees a task as it was before a change or after it, never half of it. Run times are
integer epoch microseconds (exact, sortable) in an indexed column: finding due tasks and the
next wake-up time costs O(log N) plus the due tasks, however many tasks wait.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar

from asyncz.exceptions import ConfigurationError, ConflictIdError
from asyncz.serialization import Serializer, TaskCodec
from asyncz.stores.records import (
    QuarantinedRecord,
    RecordStore,
    TaskRecord,
    from_micros,
    missing,
    to_micros,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,50}$")
_COLUMNS = "id, next_run_time, payload"


class AcmeStore(RecordStore):
    """Tasks kept in the SQLite database at ``path``, in table ``table``.

    Several stores (threads or processes) may share one file; SQLite's locking makes each
    write atomic and ``ConflictIdError`` exact. Quarantined records live in
    ``<table>_quarantine`` with the reason they were set aside, and are never deleted here.
    """

    display_name: ClassVar[str] = "acme sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str] = "asyncz-tasks.sqlite3",
        *,
        table: str = "asyncz_tasks",
        timeout: float = 30.0,
        serializer: str | Serializer | None = None,
        pickle_protocol: int | None = None,
        encryption_key: str | list[str] | None = None,
        codec: TaskCodec | None = None,
    ) -> None:
        if not _IDENTIFIER.match(table):
            raise ConfigurationError(
                f"AcmeStore: table={table!r} is not a plain SQL name; use letters, digits and "
                "underscores (not starting with a digit), at most 51 characters."
            )
        super().__init__(
            serializer=serializer,
            pickle_protocol=pickle_protocol,
            encryption_key=encryption_key,
            codec=codec,
        )
        self.path = os.fspath(path)
        self.namespace = table  # encrypted payloads are bound to the table name
        self.timeout = timeout
        self._live = f'"{table}"'
        self._aside = f'"{table}_quarantine"'
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # one connection per store, used by one thread at a time

    # ----------------------------------------------------------------- connection
    def start(self, scheduler: Any, alias: str) -> None:
        self._db()  # create the tables before the base class reads the quarantine
        super().start(scheduler, alias)

    def shutdown(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def describe(self) -> str:
        return f"{super().describe()} in {self.path}"

    def _db(self) -> sqlite3.Connection:
        with self._lock:
            if self._connection is None:
                connection = sqlite3.connect(
                    self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
                )
                with _transaction(connection):
                    connection.execute(
                        f"CREATE TABLE IF NOT EXISTS {self._live} "
                        "(id TEXT PRIMARY KEY, next_run_time INTEGER, payload BLOB NOT NULL)"
                    )
                    connection.execute(
                        f'CREATE INDEX IF NOT EXISTS "{self.namespace}_next_run_time" '
                        f"ON {self._live} (next_run_time, id)"
                    )
                    connection.execute(
                        f"CREATE TABLE IF NOT EXISTS {self._aside} (id TEXT PRIMARY KEY, "
                        "next_run_time INTEGER, payload BLOB NOT NULL, reason TEXT NOT NULL, "
                        "quarantined_at INTEGER NOT NULL)"
                    )
                self._connection = connection
            return self._connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            connection = self._db()
            with _transaction(connection):
                yield connection

    def _read(self, sql: str, *params: object) -> list[Any]:
        with self._lock:
            return self._db().execute(sql, params).fetchall()

    @staticmethod
    def _record(row: Any) -> TaskRecord:
        task_id, micros, payload = row[:3]
        return TaskRecord(task_id, None if micros is None else from_micros(micros), payload)

    # ----------------------------------------------------------------- record primitives
    def insert_record(self, record: TaskRecord) -> None:
        with self._write() as db:
            if db.execute(f"SELECT 1 FROM {self._aside} WHERE id = ?", (record.id,)).fetchone():
                raise ConflictIdError(record.id, self.alias)
            try:
                db.execute(
                    f"INSERT INTO {self._live} ({_COLUMNS}) VALUES (?, ?, ?)",
                    (record.id, record.run_at_micros, record.payload),
                )
            except sqlite3.IntegrityError:
                raise ConflictIdError(record.id, self.alias) from None

    def replace_record(self, record: TaskRecord) -> None:
        with self._write() as db:
            changed = db.execute(
                f"UPDATE {self._live} SET next_run_time = ?, payload = ? WHERE id = ?",
                (record.run_at_micros, record.payload, record.id),
            ).rowcount
            if changed == 0:
                raise missing(record.id, self)

    def fetch_record(self, task_id: str) -> TaskRecord | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM {self._live} WHERE id = ?", task_id)
        return self._record(rows[0]) if rows else None

    def remove_record(self, task_id: str) -> None:
        with self._write() as db:
            if db.execute(f"DELETE FROM {self._live} WHERE id = ?", (task_id,)).rowcount == 0:
                raise missing(task_id, self)

    def remove_all_records(self) -> None:
        with self._write() as db:
            db.execute(f"DELETE FROM {self._live}")

    def due_records(self, now: datetime, limit: int | None = None) -> list[TaskRecord]:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM {self._live} WHERE next_run_time IS NOT NULL"
            " AND next_run_time <= ? ORDER BY next_run_time, id LIMIT ?",
            to_micros(now),
            -1 if limit is None else limit,
        )
        return [self._record(row) for row in rows]

    def earliest_run_time(self) -> datetime | None:
        rows = self._read(
            f"SELECT next_run_time FROM {self._live} WHERE next_run_time IS NOT NULL"
            " ORDER BY next_run_time LIMIT 1"
        )
        return from_micros(rows[0][0]) if rows else None

    def iter_records(self) -> list[TaskRecord]:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM {self._live} ORDER BY next_run_time IS NULL, next_run_time, id"
        )
        return [self._record(row) for row in rows]

    def quarantine_record(self, task_id: str, reason: str) -> None:
        with self._write() as db:
            db.execute(
                f"INSERT OR REPLACE INTO {self._aside} (id, next_run_time, payload, reason, "
                f"quarantined_at) SELECT id, next_run_time, payload, ?, ? FROM {self._live} "
                "WHERE id = ?",
                (reason, time.time_ns() // 1000, task_id),
            )
            db.execute(f"DELETE FROM {self._live} WHERE id = ?", (task_id,))

    def quarantined_records(self) -> list[QuarantinedRecord]:
        rows = self._read(
            f"SELECT id, next_run_time, payload, reason FROM {self._aside}"
            " ORDER BY quarantined_at, id"
        )
        return [QuarantinedRecord(self._record(row), str(row[3])) for row in rows]

    def restore_record(self, record: TaskRecord) -> None:
        with self._write() as db:
            db.execute(f"DELETE FROM {self._aside} WHERE id = ?", (record.id,))
            db.execute(
                f"INSERT OR REPLACE INTO {self._live} ({_COLUMNS}) VALUES (?, ?, ?)",
                (record.id, record.run_at_micros, record.payload),
            )


@contextmanager
def _transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """One atomic transaction. ``IMMEDIATE`` takes the write lock up front, so two writers
    never both see an id as absent and then both insert it."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
