"""The due query and the earliest run time use the (next_run_time, id) index.

The statements checked are the ones the store really sends (captured from the engine), on
a table large enough that the planner has a choice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.engine import Connection

from asyncz.stores.records import to_micros
from asyncz.stores.sqlalchemy import SQLAlchemyStore

T0 = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
ROWS = 5_000
OpenStore = Callable[..., SQLAlchemyStore]


@contextmanager
def _captured(store: SQLAlchemyStore) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)


def _fill(store: SQLAlchemyStore) -> None:
    rows = [
        {"id": f"t{n:05d}", "next_run_time": to_micros(T0 + timedelta(seconds=n)), "payload": b"x"}
        for n in range(ROWS)
    ]
    rows += [{"id": f"p{n:05d}", "next_run_time": None, "payload": b"x"} for n in range(500)]
    with store.engine.begin() as connection:
        connection.execute(insert(store.tasks), rows)
        if store.engine.dialect.name == "postgresql":
            connection.execute(text(f"ANALYZE {store.tablename}"))
        elif store.engine.dialect.name in ("mysql", "mariadb"):
            connection.execute(text(f"ANALYZE TABLE {store.tablename}"))


def _plan(connection: Connection, statement: str, parameters: Any) -> str:
    dialect = connection.dialect.name
    prefix = {"sqlite": "EXPLAIN QUERY PLAN ", "postgresql": "EXPLAIN "}.get(dialect, "EXPLAIN ")
    rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    if dialect in ("mysql", "mariadb"):
        return "\n".join(f"key={row.key} type={row.type} extra={row.Extra}" for row in rows)
    return "\n".join(str(row[-1]) for row in rows)


def test_due_query_and_earliest_run_time_use_the_index(open_store: OpenStore) -> None:
    store = open_store()
    _fill(store)
    with _captured(store) as seen:
        due = store.due_records(T0 + timedelta(seconds=9), limit=50)
        earliest = store.earliest_run_time()
    assert len(due) == 10 and earliest == T0
    (due_sql, due_params), (min_sql, min_params) = seen
    with store.engine.connect() as connection:
        due_plan = _plan(connection, due_sql, due_params)
        min_plan = _plan(connection, min_sql, min_params)
    index = f"ix_{store.tablename}_next_run_time"
    dialect = store.engine.dialect.name
    if dialect == "postgresql":
        assert index in due_plan and "Seq Scan" not in due_plan and "Sort" not in due_plan
        assert index in min_plan and "Seq Scan" not in min_plan
    elif dialect == "sqlite":
        assert f"USING COVERING INDEX {index}" in due_plan or f"USING INDEX {index}" in due_plan
        assert "TEMP B-TREE" not in due_plan, due_plan
        assert index in min_plan, min_plan
    else:
        assert f"key={index}" in due_plan and "filesort" not in due_plan, due_plan
        # MySQL/MariaDB answer MIN() over an indexed column from the index itself.
        assert "Select tables optimized away" in min_plan or index in min_plan, min_plan
