"""The two tables a SQLAlchemyStore keeps.

``<tablename>``: one row per live task.

* ``id``: the task id, compared exactly (code-point order, case and trailing spaces
  significant) on every database: ``VARCHAR(191) COLLATE "C"`` on PostgreSQL, UTF-8 bytes
  in ``VARBINARY(764)`` on MySQL/MariaDB (whose text collations ignore case or trailing
  spaces), ``VARCHAR`` (binary collation) on SQLite. 191 characters is the longest
  utf8mb4 key MySQL/MariaDB index everywhere, so every database gets the same limit.
* ``next_run_time``: epoch microseconds, ``NULL`` when paused; never rounded.
* ``payload``: the bytes the core's codec produced (LONGBLOB on MySQL/MariaDB so tasks
  of several MB fit, BYTEA on PostgreSQL, BLOB on SQLite).

* ``lease_owner``, ``lease_until``, ``lease_fire_time``, ``lease_token``: the lease of a
  scheduler sharing the table with others (see ``_leases``); NULL when nobody holds it.

The index ``(next_run_time, id)`` serves both the due query (``WHERE next_run_time <= :now
ORDER BY next_run_time, id``) and the earliest run time (``MIN(next_run_time)``); the index
on ``lease_fire_time`` finds fires whose runner died without scanning the table.

``<tablename>_quarantine``: records that could not be read, with the reason and when.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

#: Longest task id, in characters.
MAX_ID_LENGTH = 191

_BYTE_KEYED = ("mysql", "mariadb")

QUARANTINE_SUFFIX = "_quarantine"

_MAX_IDENTIFIER = 63

#: PostgreSQL truncates longer identifiers silently, so longer table names are refused.
MAX_TABLENAME_LENGTH = _MAX_IDENTIFIER - len(QUARANTINE_SUFFIX)


class TaskId(TypeDecorator[str]):
    """A task id column that compares ids exactly on every database (see module doc)."""

    impl = String(MAX_ID_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in _BYTE_KEYED:
            return dialect.type_descriptor(mysql.VARBINARY(MAX_ID_LENGTH * 4))
        if dialect.name == "postgresql":
            return dialect.type_descriptor(String(MAX_ID_LENGTH, collation="C"))
        return dialect.type_descriptor(String(MAX_ID_LENGTH))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name in _BYTE_KEYED:
            return value.encode("utf-8")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value).decode("utf-8")
        return value


def _payload_type() -> TypeEngine[bytes]:
    return LargeBinary().with_variant(mysql.LONGBLOB(), *_BYTE_KEYED)


def index_name(tablename: str, column: str = "next_run_time") -> str:
    """``ix_<tablename>_<column>``, shortened with a hash of the table name where that
    would pass the 63-character identifier limit (PostgreSQL truncates, MySQL refuses)."""
    name = f"ix_{tablename}_{column}"
    if len(name) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(tablename.encode()).hexdigest()[:8]
    keep = _MAX_IDENTIFIER - len(f"ix__{digest}_{column}")
    return f"ix_{tablename[:keep]}_{digest}_{column}"


def build_tables(tablename: str) -> tuple[MetaData, Table, Table]:
    metadata = MetaData()
    options: dict[str, Any] = {"mysql_charset": "utf8mb4", "mariadb_charset": "utf8mb4"}
    tasks = Table(
        tablename,
        metadata,
        Column("id", TaskId(), primary_key=True),
        Column("next_run_time", BigInteger, nullable=True),
        Column("payload", _payload_type(), nullable=False),
        # The lease (see _leases): NULL when nobody holds the task.
        Column("lease_owner", String(255), nullable=True),
        Column("lease_until", BigInteger, nullable=True),
        Column("lease_fire_time", BigInteger, nullable=True),
        Column("lease_token", String(32), nullable=True),
        **options,
    )
    Index(index_name(tablename), tasks.c.next_run_time, tasks.c.id)
    Index(index_name(tablename, "lease_fire_time"), tasks.c.lease_fire_time)
    quarantine = Table(
        tablename + QUARANTINE_SUFFIX,
        metadata,
        Column("id", TaskId(), primary_key=True),
        Column("next_run_time", BigInteger, nullable=True),
        Column("payload", _payload_type(), nullable=False),
        Column("reason", Text, nullable=False),
        Column("quarantined_at", DateTime(timezone=True), nullable=False),
        **options,
    )
    return metadata, tasks, quarantine
