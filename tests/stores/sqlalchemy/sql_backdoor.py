"""Reading a SQLAlchemyStore's tables around the store (reflection, not its Table objects)."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, inspect, select

from asyncz.stores.sqlalchemy import SQLAlchemyStore


def table_bytes(store: SQLAlchemyStore) -> bytes:
    """Every value of every row of the store's task and quarantine tables, as bytes."""
    chunks: list[bytes] = []
    with store.engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
        for name in (store.tablename, f"{store.tablename}_quarantine"):
            assert name in names, f"table {name} is missing"
            table = Table(name, MetaData(), autoload_with=connection)
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        chunks.append(bytes(value))
                    else:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)
