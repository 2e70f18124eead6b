"""Batched lease commits and releases: many tasks, one transaction.

Each function runs inside the caller's transaction and gives, per item, exactly the
result the single-item statement in ``_leases`` would give run one after the other:

* Commits. A commit keeps the lease owner, so every commit of one id in a batch has the
  same outcome, and the last one's values are what stays. On PostgreSQL the batch is one
  ``UPDATE ... FROM unnest(<five arrays>) ... RETURNING id`` over the last commit of each
  id. Elsewhere (MySQL/MariaDB have no ``UPDATE ... RETURNING``) an owner-guarded UPDATE
  of the whole batch locks what is still held, a SELECT names it, and one executemany
  writes it. Every statement's text is fixed, so each is compiled once per table.
* Releases. A release clears the lease or deletes the row, so only the first release of an
  id in a batch can succeed; later ones are False. Where the database has ``RETURNING``
  the deletes are one ``DELETE ... WHERE id IN (...) RETURNING id`` and the clears one such
  UPDATE (the two sets of ids are disjoint, so their order does not matter); elsewhere one
  statement per id.

The first statement of each transaction is a write, so SQLite takes its write lock at once.
"""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Connection,
    LargeBinary,
    Table,
    Text,
    Update,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from asyncz.stores.records import TaskRecord, to_micros
from asyncz.stores.sqlalchemy import _leases

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
    last = {record.id: (record, fire) for record, fire in commits}  # the last commit wins
    pending = list(last.values())
    won: set[str] = set()
    commit_chunk = (
        _commit_chunk_unnest if connection.dialect.name == "postgresql" else _commit_chunk_each
    )
    for start in range(0, len(pending), _CHUNK):
        chunk = pending[start : start + _CHUNK]
        won.update(commit_chunk(connection, tasks, chunk, owner, to_micros(until)))
    return [record.id in won for record, _ in commits]


def _commit_chunk_unnest(
    connection: Connection,
    tasks: Table,
    commits: list[tuple[TaskRecord, datetime]],
    owner: str,
    until: int,
) -> set[str]:
    """One statement whose text never changes (five array parameters), so SQLAlchemy
    compiles it once per table instead of rendering a VALUES list per batch."""
    parameters = {
        "batch_ids": [record.id for record, _ in commits],
        "batch_payloads": [record.payload for record, _ in commits],
        "batch_runs": [record.run_at_micros for record, _ in commits],
        "batch_fires": [to_micros(fire) for _, fire in commits],
        "batch_owners": [owner] * len(commits),
        "batch_until": until,
    }
    return set(connection.execute(_unnest_commit(tasks), parameters).scalars())


@functools.cache
def _unnest_commit(tasks: Table) -> Update:
    batch = (
        func.unnest(
            bindparam("batch_ids", type_=ARRAY(Text)),
            bindparam("batch_payloads", type_=ARRAY(LargeBinary)),
            bindparam("batch_runs", type_=ARRAY(BigInteger)),
            bindparam("batch_fires", type_=ARRAY(BigInteger)),
            bindparam("batch_owners", type_=ARRAY(Text)),
        )
        .table_valued("id", "payload", "next_run_time", "fire_time", "owner")
        .render_derived(name="batch")
    )
    return (
        update(tasks)
        .where(
            tasks.c.id == batch.c.id.collate("C"),  # the id column's collation
            # The owner comes in the batch, so that its test is part of the join: as a
            # filter on the table, the planner estimates it from statistics taken when
            # few rows were leased (one row), and joins the batch once per leased row.
            tasks.c.lease_owner == batch.c.owner,
        )
        .values(
            payload=batch.c.payload,
            next_run_time=batch.c.next_run_time,
            lease_fire_time=batch.c.fire_time,
            lease_until=bindparam("batch_until", type_=BigInteger()),
        )
        .returning(tasks.c.id)
    )


def _commit_chunk_each(
    connection: Connection,
    tasks: Table,
    commits: list[tuple[TaskRecord, datetime]],
    owner: str,
    until: int,
) -> set[str]:
    """Without ``UPDATE ... FROM``: extend the leases still held (a write, so SQLite takes
    its write lock and MariaDB locks the rows), read which those are, then one executemany
    of a fixed statement over them."""
    ids = [record.id for record, _ in commits]
    mine = (tasks.c.id.in_(ids), tasks.c.lease_owner == owner)
    connection.execute(update(tasks).where(*mine).values(lease_until=until))
    held = set(connection.execute(select(tasks.c.id).where(*mine)).scalars())
    rows = [
        {
            "batch_id": record.id,
            "batch_payload": record.payload,
            "batch_run": record.run_at_micros,
            "batch_fire": to_micros(fire),
        }
        for record, fire in commits
        if record.id in held
    ]
    if rows:
        connection.execute(_each_commit(tasks), rows)
    return held


@functools.cache
def _each_commit(tasks: Table) -> Update:
    return (
        update(tasks)
        .where(tasks.c.id == bindparam("batch_id"))
        .values(
            payload=bindparam("batch_payload"),
            next_run_time=bindparam("batch_run"),
            lease_fire_time=bindparam("batch_fire"),
        )
    )


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
