"""Turning the ``database`` option into an Engine, and connection failures into errors
that say what to check.

URLs without a driver pick one that is installed: ``postgresql://`` (and ``postgres://``)
uses psycopg2 when present, otherwise psycopg 3; ``mysql://`` and ``mariadb://`` use
mysqlclient (MySQLdb) when present, otherwise PyMySQL. An explicit ``dialect+driver://``
is used as given.

SQLite files are opened in WAL mode with a 30 s busy timeout, so several processes can
share one file: readers never block the writer and writers wait for each other instead
of failing at once.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from asyncz.exceptions import ConfigurationError, StoreUnavailableError

_DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}
_DRIVER_CHOICES = {
    # backend: (driver SQLAlchemy picks by default, its module), fallback driver and module
    "postgresql": (("psycopg2", "psycopg2"), ("psycopg", "psycopg")),
    "mysql": (("mysqldb", "MySQLdb"), ("pymysql", "pymysql")),
    "mariadb": (("mysqldb", "MySQLdb"), ("pymysql", "pymysql")),
}
_EXTRAS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}

SQLITE_BUSY_TIMEOUT_SECONDS = 30


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def resolve_url(database: str | URL) -> URL:
    try:
        url = make_url(database)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"SQLAlchemyStore database {database!r} is not a database URL such as "
            "'sqlite:///./asyncz.sqlite3' or 'postgresql://user@host/dbname': "
            f"{exc}"
        ) from exc
    if url.drivername == "postgres":
        url = url.set(drivername="postgresql")
    if "+" in url.drivername or url.drivername not in _DRIVER_CHOICES:
        return url
    (_default, default_module), (fallback, fallback_module) = _DRIVER_CHOICES[url.drivername]
    if not _installed(default_module) and _installed(fallback_module):
        url = url.set(drivername=f"{url.drivername}+{fallback}")
    return url


def build_engine(url: URL, options: dict[str, Any]) -> Engine:
    options = dict(options)
    sqlite_file = sqlite_path(url)
    if url.get_backend_name() == "sqlite":
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_SECONDS)
        options["connect_args"] = connect_args
    try:
        engine = create_engine(url, **options)
    except (ModuleNotFoundError, NoSuchModuleError) as exc:
        backend = url.get_backend_name()
        hint = (
            f"pip install 'asyncz-sqlalchemy[{_EXTRAS[backend]}]'"
            if backend in _EXTRAS
            else ("install the database driver named in the URL")
        )
        raise ConfigurationError(
            f"SQLAlchemyStore cannot load the driver for {url.drivername!r}: {exc}. "
            f"Install it ({hint}) or name an installed driver in the URL."
        ) from exc
    except (ArgumentError, TypeError) as exc:
        raise ConfigurationError(
            f"SQLAlchemyStore could not create its engine for "
            f"{url.render_as_string(hide_password=True)}: {exc}. Extra keyword options are "
            "passed to sqlalchemy.create_engine(); check their names and values."
        ) from exc
    if sqlite_file is not None:
        event.listen(engine, "connect", _sqlite_setup)
    return engine


def _sqlite_setup(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    finally:
        cursor.close()


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory ones."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def check_sqlite_directory(url: URL, store: str) -> None:
    path = sqlite_path(url)
    if path is not None and not path.absolute().parent.is_dir():
        raise StoreUnavailableError(
            f"{store} cannot open the SQLite database {path}: its directory "
            f"{path.absolute().parent} does not exist. Create the directory first or fix the "
            "path in the URL (asyncz does not create directories for SQLite)."
        )


def describe_target(url: URL) -> str:
    """Where the data lives, without the password: for messages."""
    path = sqlite_path(url)
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {path if path is not None else '(in memory)'}"
    backend = url.get_backend_name()
    host = url.host or "localhost"
    port = url.port or _DEFAULT_PORTS.get(backend) or "(default port)"
    return f"{backend} at {host}:{port} (database {url.database!r}, user {url.username!r})"


# Transaction rolled back because of a concurrent one; running it again is the remedy.
_CONFLICT_SQLSTATES = {"40001", "40P01"}  # PostgreSQL: serialization failure, deadlock
_CONFLICT_MYSQL_CODES = {1205, 1213}  # MySQL/MariaDB: lock wait timeout, deadlock


def is_transient_conflict(exc: BaseException) -> bool:
    """True for errors that mean "another transaction got in the way, try again"."""
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlstate", None) in _CONFLICT_SQLSTATES:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _CONFLICT_MYSQL_CODES:
        return True
    return "database is locked" in str(orig or "")


def unavailable(
    url: URL, store: str, exc: BaseException, *, starting: bool
) -> StoreUnavailableError:
    when = "at start" if starting else "while running"
    return StoreUnavailableError(
        f"{store} cannot reach {describe_target(url)} {when}: {error_text(url, exc)}. Check "
        "that the server is running and reachable at that host and port, and that the user, "
        "password and database in the URL are right."
    )


def error_text(url: URL, exc: BaseException) -> str:
    """The first line of the driver's message for ``exc``, never showing the password."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0:1]
    text = reason[0] if reason else type(exc).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    return text
