"""Batched lease commits and releases: many tasks, one transaction.

Each function runs inside the caller's transaction and gives, per item, exactly the
result the single-item statement in ``_leases`` would give run one after the other:

* Commits. A commit keeps the lease owner, so every commit of one id in a batch has the
  same outcome, and the last one's values are what stays. On PostgreSQL the batch is one
  ``UPDATE ... FROM (VALUES ...) RETURNING id`` over the last commit of each id; elsewhere
  one owner-guarded UPDATE per item, in order (MySQL/MariaDB have no ``UPDATE ...
  RETURNING``; SQLite has no round trips to save and cannot name a VALUES list's columns).
* Releases. A release clears the lease or deletes the row, so only the first release of an
  id in a batch can succeed; later ones are False. Where the database has ``RETURNING``
  the deletes are one ``DELETE ... WHERE id IN (...) RETURNING id`` and the clears one such
  UPDATE (the two sets of ids are disjoint, so their order does not matter); elsewhere one
  statement per id.

The first statement of each transaction is a write, so SQLite takes its write lock at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Connection, Table, cast, column, delete, update, values
from sqlalchemy.types import LargeBinary

from asyncz.stores.records import TaskRecord, to_micros
from asyncz.stores.sqlalchemy import _leases
from asyncz.stores.sqlalchemy._schema import TaskId

#: Ids per statement: far below every database's bound-parameter limit.
_CHUNK = 500

_LEASE_COLUMNS = ("lease_owner", "lease_until", "lease_fire_time", "lease_token")


def commit_many(
    connection: Connection,
    tasks: Table,
    commits: list[tuple[TaskRecord, datetime]],
    owner: str,
    until: datetime,
) -> list[bool]:
    """``_leases.commit`` for each ``(record, fire_time)``; one result per item, in order."""
    if connection.dialect.name != "postgresql":
        return [
            _leases.commit(connection, tasks, record, owner, fire, until)
            for record, fire in commits
        ]
    last = {record.id: (record, fire) for record, fire in commits}  # the last commit wins
    won: set[str] = set()
    pending = list(last.values())
    for start in range(0, len(pending), _CHUNK):
        won.update(_commit_chunk(connection, tasks, pending[start : start + _CHUNK], owner, until))
    return [record.id in won for record, _ in commits]


def _commit_chunk(
    connection: Connection,
    tasks: Table,
    commits: list[tuple[TaskRecord, datetime]],
    owner: str,
    until: datetime,
) -> set[str]:
    source = values(
        column("id", TaskId()),
        column("payload", LargeBinary()),
        column("next_run_time", BigInteger()),
        column("fire_time", BigInteger()),
        name="batch",
    ).data(
        [
            (record.id, record.payload, record.run_at_micros, to_micros(fire))
            for record, fire in commits
        ]
    )
    statement = (
        update(tasks)
        .where(tasks.c.id == source.c.id, tasks.c.lease_owner == owner)
        .values(
            payload=source.c.payload,
            # A column of NULLs only (every task paused) would otherwise be typed text.
            next_run_time=cast(source.c.next_run_time, BigInteger),
            lease_fire_time=source.c.fire_time,
            lease_until=to_micros(until),
        )
        .returning(tasks.c.id)
    )
    return set(connection.execute(statement).scalars())


def release_many(
    connection: Connection, tasks: Table, releases: list[tuple[str, bool]], owner: str
) -> tuple[list[bool], bool]:
    """``_leases.release`` for each ``(task_id, delete)``; returns one result per item, in
    order, and whether any row was deleted."""
    first: dict[str, bool] = {}
    for task_id, delete_ in releases:
        first.setdefault(task_id, delete_)
    dialect = connection.dialect
    if dialect.delete_returning and dialect.update_returning:
        released = _release_returning(connection, tasks, first, owner)
    else:
        released = {
            task_id
            for task_id, delete_ in first.items()
            if _leases.release(connection, tasks, task_id, owner, delete_)
        }
    results: list[bool] = []
    seen: set[str] = set()
    for task_id, _ in releases:
        results.append(task_id in released and task_id not in seen)
        seen.add(task_id)
    deleted = any(first[task_id] for task_id in released)
    return results, deleted


def _release_returning(
    connection: Connection, tasks: Table, first: dict[str, bool], owner: str
) -> set[str]:
    doomed = [task_id for task_id, delete_ in first.items() if delete_]
    kept = [task_id for task_id, delete_ in first.items() if not delete_]
    released: set[str] = set()
    cleared = dict.fromkeys(_LEASE_COLUMNS)
    for ids, remove in ((doomed, True), (kept, False)):
        for start in range(0, len(ids), _CHUNK):
            held = (tasks.c.id.in_(ids[start : start + _CHUNK]), tasks.c.lease_owner == owner)
            statement = (
                delete(tasks).where(*held) if remove else update(tasks).where(*held).values(cleared)
            )
            released.update(connection.execute(statement.returning(tasks.c.id)).scalars())
    return released
