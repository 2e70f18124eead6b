"""Single-statement writes: a user's add is one round trip.

Adding a task must fail when its id is live (the primary key refuses it) or quarantined
(a row of the other table). Both checks, the insert and, on PostgreSQL, the change
announcement are one statement::

    INSERT INTO tasks (id, next_run_time, payload)
        SELECT :id, :run, :payload
        WHERE NOT EXISTS (SELECT 1 FROM quarantine WHERE quarantine.id = :id)

No row inserted means the id is quarantined; an integrity error means it is live. On
PostgreSQL the insert is wrapped as ``WITH inserted AS (... RETURNING id) SELECT
pg_notify(:channel, 'insert') FROM inserted``: a notification exactly when a row went in,
and one returned row says so. The statement's text never changes, so SQLAlchemy compiles
it once per table.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    BigInteger,
    Executable,
    LargeBinary,
    Table,
    Text,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
)


@functools.cache
def insert_one(tasks: Table, quarantine: Table, announce: bool) -> Executable:
    """The insert of one record (parameters ``insert_id``, ``insert_run``,
    ``insert_payload`` and, with ``announce``, ``insert_channel``)."""
    task_id = bindparam("insert_id", type_=Text)
    row = select(
        task_id,
        bindparam("insert_run", type_=BigInteger),
        bindparam("insert_payload", type_=LargeBinary),
    ).where(~exists().where(quarantine.c.id == task_id))
    statement = insert(tasks).from_select(["id", "next_run_time", "payload"], row)
    if not announce:
        return statement
    inserted = statement.returning(tasks.c.id).cte("inserted")
    notify = func.pg_notify(bindparam("insert_channel", type_=Text), literal("insert"))
    return select(notify).select_from(inserted)


def insert_parameters(
    task_id: str, run: int | None, payload: bytes, channel: str
) -> dict[str, Any]:
    return {
        "insert_id": task_id,
        "insert_run": run,
        "insert_payload": payload,
        "insert_channel": channel,
    }
