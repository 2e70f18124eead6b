"""Leases on task rows: how several schedulers share one table.

A leased row carries ``lease_owner`` (who holds it), ``lease_until`` (until when, epoch
microseconds of the holder's clock), ``lease_fire_time`` (the fire being run; NULL for a
claim lease: taken, not yet advanced) and ``lease_token`` (the claim that took it). A lease
is live while ``lease_until >= now``. Every statement re-checks the lease in its WHERE
clause, so two schedulers never both take one row, whatever the isolation level.

A claim is one transaction: lease the rows whose runner died (run lease ended), then the
due rows earliest first, stamping a fresh token. PostgreSQL and SQLite (3.35+) do each
lease as one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING *`` (the subquery
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so claimers pass each other instead of queueing;
SQLite takes its write lock with the first statement). MySQL/MariaDB cannot update a table
filtered by a subquery on itself and have no ``UPDATE ... RETURNING``: there the candidates
are selected ``FOR UPDATE SKIP LOCKED`` (MySQL 8.0+, MariaDB 10.6+), updated by id, and the
rows carrying the token read back by id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, delete, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from asyncz.stores.records import TaskRecord, from_micros, to_micros

#: Dialects that cannot UPDATE a table filtered by a subquery on that same table.
_SELECT_THEN_UPDATE = ("mysql", "mariadb")


def _free(tasks: Table, now: int) -> ColumnElement[bool]:
    return or_(tasks.c.lease_owner.is_(None), tasks.c.lease_until < now)


def claim(
    connection: Connection, tasks: Table, now: datetime, limit: int, owner: str, until: datetime
) -> list[Row[Any]]:
    """Lease up to ``limit`` claimable rows to ``owner``; returns the rows it won."""
    at = to_micros(now)
    stamp = {"lease_owner": owner, "lease_until": to_micros(until), "lease_token": uuid.uuid4().hex}
    ended = (
        select(tasks.c.id)
        .where(tasks.c.lease_fire_time.is_not(None), tasks.c.lease_until < at)
        .limit(limit)
    )
    won = _lease(connection, tasks, ended, at, stamp)
    if len(won) < limit:
        due = (
            select(tasks.c.id)
            .where(tasks.c.next_run_time <= at, _free(tasks, at))
            .order_by(tasks.c.next_run_time, tasks.c.id)
            .limit(limit - len(won))
        )
        won += _lease(connection, tasks, due, at, stamp)
    return won


def _lease(
    connection: Connection, tasks: Table, candidates: Select[Any], at: int, stamp: dict[str, Any]
) -> list[Row[Any]]:
    """Stamp the free rows among ``candidates``; the stamped rows. With ``UPDATE ...
    RETURNING`` one statement; elsewhere the candidates' ids, an update, and a read of
    those ids (never a scan for the token: it has no index)."""
    candidates = candidates.with_for_update(skip_locked=True)
    dialect = connection.dialect
    if dialect.name in _SELECT_THEN_UPDATE or not dialect.update_returning:
        ids = list(connection.execute(candidates).scalars())
        if not ids:
            return []
        chosen = tasks.c.id.in_(ids)
        connection.execute(update(tasks).where(chosen, _free(tasks, at)).values(stamp))
        stamped = select(tasks).where(chosen, tasks.c.lease_token == stamp["lease_token"])
        return list(connection.execute(stamped).all())
    statement = (
        update(tasks)
        .where(tasks.c.id.in_(candidates.scalar_subquery()), _free(tasks, at))
        .values(stamp)
        .returning(*tasks.c)
    )
    return list(connection.execute(statement).all())


def commit(
    connection: Connection,
    tasks: Table,
    record: TaskRecord,
    owner: str,
    fire_time: datetime,
    until: datetime,
) -> bool:
    """Replace payload and run time and make the lease a run lease, if ``owner`` holds it."""
    statement = (
        update(tasks)
        .where(tasks.c.id == record.id, tasks.c.lease_owner == owner)
        .values(
            payload=record.payload,
            next_run_time=record.run_at_micros,
            lease_fire_time=to_micros(fire_time),
            lease_until=to_micros(until),
        )
    )
    return bool(connection.execute(statement).rowcount == 1)


def release(connection: Connection, tasks: Table, task_id: str, owner: str, delete_: bool) -> bool:
    held = (tasks.c.id == task_id, tasks.c.lease_owner == owner)
    if delete_:
        return bool(connection.execute(delete(tasks).where(*held)).rowcount == 1)
    cleared = dict.fromkeys(("lease_owner", "lease_until", "lease_fire_time", "lease_token"))
    return bool(connection.execute(update(tasks).where(*held).values(cleared)).rowcount == 1)


def extend(
    connection: Connection, tasks: Table, task_ids: list[str], owner: str, until: datetime
) -> list[str]:
    """Extend the leases ``owner`` holds; returns the ids it does not hold."""
    held = (tasks.c.id.in_(task_ids), tasks.c.lease_owner == owner)
    connection.execute(update(tasks).where(*held).values(lease_until=to_micros(until)))
    still_held = set(connection.execute(select(tasks.c.id).where(*held)).scalars())
    return [task_id for task_id in task_ids if task_id not in still_held]


def record_of(row: Row[Any]) -> TaskRecord:
    run_at = None if row.next_run_time is None else from_micros(row.next_run_time)
    fire = None if row.lease_fire_time is None else from_micros(row.lease_fire_time)
    return TaskRecord(row.id, run_at, bytes(row.payload), lease_fire_time=fire)
