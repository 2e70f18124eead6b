"""Where a bench keeps its data on each backend, and how to drop it afterwards.

Shared by every adapter (drivers are imported lazily: each venv has its own copies).
"""

from __future__ import annotations

import os
import shutil
from typing import Any
from urllib.parse import urlsplit

from harness import Settings


def postgres_url(url: str) -> str:
    """The runner's PostgreSQL URL with the psycopg 3 driver (installed in every venv)."""
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def sqlite_url(settings: Settings, name: str) -> str:
    return f"sqlite:///{os.path.join(settings.workdir, name)}.sqlite3"


def directory(settings: Settings, name: str) -> str:
    return os.path.join(settings.workdir, name)


def redis_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def analyze(settings: Settings, name: str) -> None:
    """Refresh the SQL planner's statistics of table ``name`` after a bulk load, as
    autovacuum (PostgreSQL) would soon do; without it a fresh table may be planned as empty."""
    if settings.backend not in {"sqlite", "postgres"}:
        return
    import sqlalchemy

    url = sqlite_url(settings, name) if settings.backend == "sqlite" else None
    engine = sqlalchemy.create_engine(url or postgres_url(settings.urls["postgres"]))
    with engine.begin() as connection:
        connection.exec_driver_sql(f'ANALYZE "{name}"')
    engine.dispose()


def drop(settings: Settings, name: str, tables: list[str]) -> None:
    """Remove what the bench ``name`` left: its directory or SQLite file, its PostgreSQL
    ``tables``, its Redis keys (``name.*``) or its Mongo database (``name``)."""
    backend, urls = settings.backend, settings.urls
    if backend in {"file", "sqlite"}:
        path = directory(settings, name)
        shutil.rmtree(path, ignore_errors=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(f"{path}.sqlite3{suffix}"):
                os.remove(f"{path}.sqlite3{suffix}")
    elif backend == "postgres":
        import sqlalchemy

        engine = sqlalchemy.create_engine(postgres_url(urls["postgres"]))
        with engine.begin() as connection:
            for table in tables:
                connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}"')
        engine.dispose()
    elif backend == "redis":
        import redis

        client = redis.Redis.from_url(urls["redis"])
        keys = list(client.scan_iter(f"{name}.*"))
        if keys:
            client.delete(*keys)
        client.close()
    elif backend == "mongo":
        import pymongo

        mongo: Any = pymongo.MongoClient(urls["mongo"])
        mongo.drop_database(name)
        mongo.close()
