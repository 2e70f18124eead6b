"""SQLAlchemyStore: tasks as rows of a SQL table (PostgreSQL, MySQL/MariaDB, SQLite, ...).

Invariants:

* Each write is one transaction whose first statement is the write itself (so SQLite takes
  its write lock at once and never fails a lock upgrade midway).
* Inserting an existing id (live or quarantined) raises ``ConflictIdError`` (the primary
  key decides, so two processes racing on one id get exactly one winner); replacing or
  removing a missing id raises ``TaskLookupError`` (the affected row count decides).
* Run times are epoch microseconds in a BIGINT: exact, never rounded to seconds.
* A statement that fails because its pooled connection died (a server restart, an idle
  timeout) is retried once on a fresh connection: such a statement never reached the
  server, and SQLAlchemy then renews the whole pool. (No ``pool_pre_ping`` by default: it
  would cost a round trip per transaction for the same result.) A server that cannot be
  reached raises ``StoreUnavailableError`` saying where it was looked for, never with the
  password.
* Claims (several schedulers on one table) use leases kept in the task rows: see
  ``_leases``.
* On PostgreSQL, every transaction that changes what exists or what is due announces it
  (NOTIFY) before it commits, and ``subscribe_changes`` listens: see ``_changes``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Connection, Row, delete, func, insert, literal, select, update
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from asyncz.exceptions import ConfigurationError, ConflictIdError, TaskEncodeError
from asyncz.serialization import Serializer, TaskCodec
from asyncz.stores.base import BaseStore
from asyncz.stores.records import (
    QuarantinedRecord,
    RecordStore,
    TaskRecord,
    from_micros,
    missing,
    to_micros,
)
from asyncz.stores.sqlalchemy import _batch, _leases, _writes
from asyncz.stores.sqlalchemy._changes import (
    ChangeListener,
    announce,
    channel_name,
    why_not_supported,
)
from asyncz.stores.sqlalchemy._engine import (
    build_engine,
    check_sqlite_directory,
    describe_target,
    error_text,
    is_transient_conflict,
    resolve_url,
    unavailable,
)
from asyncz.stores.sqlalchemy._schema import MAX_ID_LENGTH, MAX_TABLENAME_LENGTH, build_tables

#: How often a transaction the database rolled back for a concurrent one is run again.
_CONFLICT_RETRIES = 5
#: Ids per ``IN (...)`` list: far below every database's bound-parameter limit.
_IN_CHUNK = 500

T = TypeVar("T")


class SQLAlchemyStore(RecordStore):
    """Tasks in the table ``tablename`` of ``database``.

    Options:

    * ``database``: a URL (``"sqlite:///./asyncz.sqlite3"``, ``"postgresql://user@host/db"``,
      ``"mysql://..."``, ``"mariadb://..."``) or an ``Engine`` (which the store then uses
      but never disposes).
    * ``tablename``: the task table (default ``asyncz_store``); quarantined records go to
      ``<tablename>_quarantine``. Both are created at start when missing.
    * ``serializer``, ``pickle_protocol``, ``encryption_key``, ``codec``: see
      :class:`~asyncz.stores.records.RecordStore`.
    * any other keyword goes to ``sqlalchemy.create_engine()``; refused when ``database``
      is an Engine.
    """

    display_name = "sqlalchemy"
    #: ``dialect+driver://`` URLs match too (``postgresql+psycopg``, ``sqlite+pysqlite``).
    url_schemes: ClassVar[tuple[str, ...]] = (
        "sqlite",
        "postgresql",
        "postgres",
        "mysql",
        "mariadb",
    )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLAlchemyStore:
        """A SQLAlchemy database URL (``sqlite:///./asyncz.sqlite3``,
        ``postgresql://user@host/db``, ...); ``options`` as for the constructor."""
        return cls(url, **options)

    def __init__(
        self,
        database: str | URL | Engine,
        tablename: str = "asyncz_store",
        pickle_protocol: int | None = None,
        *,
        serializer: str | Serializer | None = None,
        encryption_key: str | list[str] | None = None,
        codec: TaskCodec | None = None,
        **engine_options: Any,
    ) -> None:
        super().__init__(
            serializer=serializer,
            pickle_protocol=pickle_protocol,
            encryption_key=encryption_key,
            codec=codec,
        )
        if not isinstance(tablename, str) or not 0 < len(tablename) <= MAX_TABLENAME_LENGTH:
            raise ConfigurationError(
                f"SQLAlchemyStore tablename must be a name of 1 to {MAX_TABLENAME_LENGTH} "
                f"characters, got {tablename!r}"
            )
        if isinstance(database, Engine):
            if engine_options:
                raise ConfigurationError(
                    f"SQLAlchemyStore got a ready Engine and engine options "
                    f"{sorted(engine_options)}: pass the options to create_engine() yourself, "
                    "or give a URL instead of the Engine"
                )
            self.engine = database
            self._owns_engine = False
        else:
            self.engine = build_engine(resolve_url(database), engine_options)
            self._owns_engine = True
        self.url = self.engine.url
        self._autocommit: Engine | None = None
        if self.engine.dialect.name == "postgresql":
            self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.tablename = tablename
        self.namespace = tablename
        self._metadata, self.tasks, self.quarantine = build_tables(tablename)
        #: The PostgreSQL NOTIFY channel of this table's changes (see ``_changes``).
        self.changes_channel = channel_name(tablename)
        self._listeners: set[ChangeListener] = set()

    # ----------------------------------------------------------------- lifecycle
    def start(self, scheduler: Any, alias: str) -> None:
        self.alias = alias
        check_sqlite_directory(self.url, self._who())
        self._create_tables()
        super().start(scheduler, alias)

    def _create_tables(self) -> None:
        """Create the tables and index if missing. Several processes may start at once:
        losing a race on one object ("already exists") just means trying again for the
        rest, and every lost race means another process made progress."""
        for attempt in range(1, 6):
            try:
                with self.engine.begin() as connection:
                    self._metadata.create_all(connection)
                return
            except DBAPIError as exc:
                if _already_exists(exc):
                    if attempt < 5:
                        continue
                    raise
                if isinstance(exc, OperationalError):
                    raise unavailable(self.url, self._who(), exc, starting=True) from exc
                raise

    def shutdown(self) -> None:
        for listener in list(self._listeners):
            listener.stop()
        self._listeners.clear()
        if self._owns_engine:
            self.engine.dispose()
        super().shutdown()

    def describe(self) -> str:
        return f"{BaseStore.describe(self)} [table {self.tablename} in {describe_target(self.url)}]"

    def _who(self) -> str:
        return f"{type(self).__name__} (alias {self.alias!r})"

    # ----------------------------------------------------------------- plumbing
    def _run(self, work: Callable[[Connection], T], single_statement: bool = False) -> T:
        """Run ``work`` in one transaction. Retry once on a connection lost meanwhile, and
        a few times (with a short pause) when the database rolled the transaction back
        because of a concurrent one (deadlock, serialization failure, busy SQLite): both
        leave nothing half-done, so running ``work`` again is safe.

        ``single_statement``: ``work`` runs one statement, which is its own transaction;
        on PostgreSQL it then runs in autocommit mode, saving the BEGIN and COMMIT round
        trips (psycopg switches autocommit on the client side, at no cost)."""
        lost_connection_retried = False
        autocommit = single_statement and self._autocommit is not None
        for conflicts in range(_CONFLICT_RETRIES + 1):
            try:
                if autocommit:
                    assert self._autocommit is not None
                    with self._autocommit.connect() as connection:
                        return work(connection)
                with self.engine.begin() as connection:
                    return work(connection)
            except DBAPIError as exc:
                if exc.connection_invalidated and not lost_connection_retried:
                    lost_connection_retried = True
                    self.logger.warning(
                        "%s lost its connection (%s); retrying once", self._who(), exc.orig
                    )
                    continue
                if is_transient_conflict(exc) and conflicts < _CONFLICT_RETRIES:
                    time.sleep(0.005 * 2**conflicts)
                    continue
                if is_transient_conflict(exc):
                    raise
                if isinstance(exc, OperationalError) or exc.connection_invalidated:
                    raise unavailable(self.url, self._who(), exc, starting=False) from exc
                raise
        raise AssertionError("unreachable")

    def _announce(self, connection: Connection, change: str) -> None:
        """Tell listeners (other schedulers) about ``change`` once this transaction commits."""
        announce(connection, self.changes_channel, change)

    def _write(self, statement: Any, change: str) -> int:
        """Run ``statement`` in its own transaction, announcing ``change`` if it affected
        any row; returns the number of rows it affected."""

        def work(connection: Connection) -> int:
            affected = int(connection.execute(statement).rowcount)
            if affected:
                self._announce(connection, change)
            return affected

        return self._run(work)

    @staticmethod
    def _record(row: Row[Any]) -> TaskRecord:
        run_at = None if row.next_run_time is None else from_micros(row.next_run_time)
        return TaskRecord(row.id, run_at, bytes(row.payload))

    @staticmethod
    def _values(record: TaskRecord) -> dict[str, Any]:
        return {"id": record.id, "next_run_time": record.run_at_micros, "payload": record.payload}

    # ----------------------------------------------------------------- writes
    def insert_record(self, record: TaskRecord) -> None:
        """One statement, one round trip (see ``_writes``)."""
        _check_id(record.id)
        announces = self.engine.dialect.name == "postgresql"
        statement = _writes.insert_one(self.tasks, self.quarantine, announces)
        parameters = _writes.insert_parameters(
            record.id, record.run_at_micros, record.payload, self.changes_channel
        )

        def work(connection: Connection) -> bool:
            result = connection.execute(statement, parameters)
            return len(result.all()) == 1 if announces else result.rowcount == 1

        try:
            inserted = self._run(work, single_statement=True)
        except IntegrityError:
            inserted = False
        if not inserted:
            raise ConflictIdError(record.id, self.alias)

    def insert_records(self, records: Sequence[TaskRecord]) -> None:
        """One transaction (a multi-row INSERT, one quarantine query per 500 ids): all or
        none."""
        ids = [record.id for record in records]
        for task_id in ids:
            _check_id(task_id)
        if not records:
            return
        rows = [self._values(record) for record in records]

        def work(connection: Connection) -> None:
            connection.execute(insert(self.tasks), rows)
            self._announce(connection, "insert")
            held = self._first_of(connection, self.quarantine, ids)
            if held is not None:
                raise ConflictIdError(held, self.alias)

        try:
            self._run(work)
        except IntegrityError:
            taken = self._run(lambda connection: self._first_of(connection, self.tasks, ids))
            raise ConflictIdError(taken or ids[0], self.alias) from None

    @staticmethod
    def _first_of(connection: Connection, table: Any, ids: list[str]) -> str | None:
        """The first of ``ids`` (in their order) that ``table`` holds."""
        found: set[str] = set()
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            found.update(
                connection.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars()
            )
        return next((task_id for task_id in ids if task_id in found), None)

    def replace_record(self, record: TaskRecord) -> None:
        if not _valid_id(record.id):
            raise missing(record.id, self)
        values = self._values(record)
        statement = update(self.tasks).where(self.tasks.c.id == record.id).values(values)
        if self._write(statement, "replace") == 0:
            raise missing(record.id, self)

    def remove_record(self, task_id: str) -> None:
        if _valid_id(task_id):
            statement = delete(self.tasks).where(self.tasks.c.id == task_id)
            if self._write(statement, "remove"):
                return
        raise missing(task_id, self)

    def remove_all_records(self) -> None:
        self._write(delete(self.tasks), "remove_all")

    # ----------------------------------------------------------------- reads
    def fetch_record(self, task_id: str) -> TaskRecord | None:
        if not _valid_id(task_id):
            return None
        statement = select(self.tasks).where(self.tasks.c.id == task_id)
        row = self._run(lambda connection: connection.execute(statement).first())
        return None if row is None else self._record(row)

    def due_records(self, now: datetime, limit: int | None = None) -> list[TaskRecord]:
        column = self.tasks.c.next_run_time
        statement = (
            select(self.tasks)
            .where(column <= to_micros(now))
            .order_by(column, self.tasks.c.id)
            .limit(limit)
        )
        rows = self._run(lambda connection: connection.execute(statement).all())
        return [self._record(row) for row in rows]

    def earliest_run_time(self) -> datetime | None:
        statement = select(func.min(self.tasks.c.next_run_time))
        earliest = self._run(lambda connection: connection.execute(statement).scalar())
        return None if earliest is None else from_micros(int(earliest))

    def iter_records(self) -> list[TaskRecord]:
        column = self.tasks.c.next_run_time
        statement = select(self.tasks).order_by(column.is_(None), column, self.tasks.c.id)
        rows = self._run(lambda connection: connection.execute(statement).all())
        return [self._record(row) for row in rows]

    # ----------------------------------------------------------------- claims
    supports_claims = True

    def claim_records(
        self, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[TaskRecord]:
        rows = self._run(lambda c: _leases.claim(c, self.tasks, now, limit, owner, until))
        records = [_leases.record_of(row) for row in rows]
        records.sort(key=lambda r: (r.next_run_time is None, r.run_at_micros or 0, r.id))
        return records

    def commit_claim(
        self, record: TaskRecord, owner: str, fire_time: datetime, until: datetime
    ) -> bool:
        if not _valid_id(record.id):
            return False

        def work(connection: Connection) -> bool:
            committed = _leases.commit(connection, self.tasks, record, owner, fire_time, until)
            if committed:
                self._announce(connection, "commit")
            return committed

        return self._run(work)

    def release_lease(self, task_id: str, owner: str, delete: bool) -> bool:
        """Announced only when the record goes (``delete``): a release that keeps it lets
        other schedulers claim it no sooner than their own back-off would (see README)."""
        if not _valid_id(task_id):
            return False

        def work(connection: Connection) -> bool:
            released = _leases.release(connection, self.tasks, task_id, owner, delete)
            if released and delete:
                self._announce(connection, "remove")
            return released

        return self._run(work)

    def commit_claims(
        self, commits: list[tuple[TaskRecord, datetime]], owner: str, until: datetime
    ) -> list[bool]:
        """Every commit in one transaction (see ``_batch``); ids the table cannot hold
        are refused as ``commit_claim`` refuses them."""
        valid = [(record, fire) for record, fire in commits if _valid_id(record.id)]
        if not valid:
            return [False] * len(commits)

        def work(connection: Connection) -> list[bool]:
            committed = _batch.commit_many(connection, self.tasks, valid, owner, until)
            if any(committed):
                self._announce(connection, "commit")
            return committed

        results = iter(self._run(work))
        return [_valid_id(record.id) and next(results) for record, _ in commits]

    def release_leases(self, releases: list[tuple[str, bool]], owner: str) -> list[bool]:
        """Every release in one transaction (see ``_batch``); announced as ``release_lease``
        is, when some record goes."""
        valid = [(task_id, delete) for task_id, delete in releases if _valid_id(task_id)]
        if not valid:
            return [False] * len(releases)

        def work(connection: Connection) -> list[bool]:
            released, deleted = _batch.release_many(connection, self.tasks, valid, owner)
            if deleted:
                self._announce(connection, "remove")
            return released

        results = iter(self._run(work))
        return [_valid_id(task_id) and next(results) for task_id, _ in releases]

    def extend_leases(self, task_ids: list[str], owner: str, until: datetime) -> list[str]:
        valid = [task_id for task_id in task_ids if _valid_id(task_id)]
        lost = set(self._run(lambda c: _leases.extend(c, self.tasks, valid, owner, until)))
        return [task_id for task_id in task_ids if task_id in lost or task_id not in valid]

    # ----------------------------------------------------------------- change signal
    def subscribe_changes(self, callback: Callable[[], None]) -> Callable[[], None] | None:
        """On PostgreSQL, call ``callback`` from a daemon thread LISTENing on
        ``changes_channel`` after every change any process commits (see ``_changes``); the
        returned function stops the thread and closes its connection. ``None`` on other
        databases and with drivers that cannot LISTEN: the scheduler then polls."""
        if self.engine.dialect.name != "postgresql":
            return None
        reason = why_not_supported(self.engine)
        if reason is not None:
            self.logger.info(
                "%s offers no change notifications (%s): the scheduler polls the store",
                self._who(),
                reason,
            )
            return None
        listener = ChangeListener(
            self.engine,
            self.changes_channel,
            callback,
            logger=self.logger,
            who=self._who(),
            describe_error=lambda exc: error_text(self.url, exc),
        )
        try:
            listener.start()
        except self.engine.dialect.loaded_dbapi.Error as exc:
            raise unavailable(self.url, self._who(), exc, starting=False) from exc
        self._listeners.add(listener)

        def unsubscribe() -> None:
            self._listeners.discard(listener)
            listener.stop()

        return unsubscribe

    # ----------------------------------------------------------------- quarantine
    def quarantine_record(self, task_id: str, reason: str) -> None:
        if not _valid_id(task_id):
            return
        live, held = self.tasks, self.quarantine
        copy = insert(held).from_select(
            ["id", "next_run_time", "payload", "reason", "quarantined_at"],
            select(
                live.c.id,
                live.c.next_run_time,
                live.c.payload,
                literal(reason, held.c.reason.type),
                literal(datetime.now(UTC), held.c.quarantined_at.type),
            ).where(live.c.id == task_id),
        )

        def work(connection: Connection) -> None:
            # An older quarantined copy of the same id is superseded by this newer one.
            connection.execute(delete(held).where(held.c.id == task_id))
            if connection.execute(copy).rowcount:
                connection.execute(delete(live).where(live.c.id == task_id))

        self._run(work)

    def quarantined_records(self) -> list[QuarantinedRecord]:
        statement = select(self.quarantine).order_by(self.quarantine.c.id)
        rows = self._run(lambda connection: connection.execute(statement).all())
        return [QuarantinedRecord(self._record(row), row.reason) for row in rows]

    def restore_record(self, record: TaskRecord) -> None:
        _check_id(record.id)
        values = self._values(record)
        held = self.quarantine

        def work(connection: Connection) -> None:
            connection.execute(insert(self.tasks).values(values))
            connection.execute(delete(held).where(held.c.id == record.id))
            self._announce(connection, "restore")

        try:
            self._run(work)
        except IntegrityError:
            raise ConflictIdError(record.id, self.alias) from None


def _valid_id(task_id: str) -> bool:
    try:
        _check_id(task_id)
    except TaskEncodeError:
        return False
    return True


def _check_id(task_id: str) -> None:
    problem = None
    if len(task_id) > MAX_ID_LENGTH:
        problem = f"is {len(task_id)} characters long (the limit is {MAX_ID_LENGTH})"
    elif "\x00" in task_id:
        problem = "contains a NUL character"
    else:
        try:
            task_id.encode("utf-8")
        except UnicodeEncodeError:
            problem = "is not valid Unicode text (it holds a lone surrogate)"
    if problem is not None:
        raise TaskEncodeError(
            f"SQLAlchemyStore cannot keep the task id {task_id[:60]!r}: it {problem}. "
            "Choose a shorter, plain-text id."
        )


def _already_exists(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "already exists" in text or "duplicate" in text
