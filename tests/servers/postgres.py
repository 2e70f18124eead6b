"""Real PostgreSQL fixtures.

* ``postgres_server`` (session): the server tests talk to. ASYNCZ_TEST_POSTGRES_URL if set
  (it cannot be restarted), else a throwaway cluster of our own: ``initdb`` + ``pg_ctl``
  run as the ``postgres`` system user when we are root (PostgreSQL refuses to run as
  root), data in /dev/shm, a free loopback port, no fsync.
* ``postgres_url`` (session): its SQLAlchemy URL, e.g.
  ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``.
* ``postgres_db_url`` (function): a fresh database for one test (CREATE DATABASE takes
  ~20 ms), dropped afterwards; ``postgres_module_db_url`` (module): one for a whole module.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from servers._common import env_url, free_port, unavailable


def _bindir() -> str | None:
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    found.sort(key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _run_as_postgres(base: str) -> dict[str, Any]:
    """subprocess options that drop root to the postgres user (initdb refuses root)."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        unavailable("running as root but there is no 'postgres' user to run PostgreSQL as")
        raise
    os.chown(base, account.pw_uid, account.pw_gid)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


class PostgresServer:
    """A PostgreSQL cluster we own, restartable on the same port with the same data."""

    can_restart = True

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.base = tempfile.mkdtemp(prefix="asyncz-pg-", dir=_tmpfs())
        self.data = os.path.join(self.base, "data")
        self.port = free_port()
        self.as_user = _run_as_postgres(self.base)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *args: str) -> None:
        result = subprocess.run(
            [os.path.join(self.bindir, args[0]), *args[1:]],
            capture_output=True,
            text=True,
            check=False,
            **self.as_user,
        )
        if result.returncode != 0:
            log = Path(self.base, "pg.log")
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {result.stderr}{result.stdout}\n{tail}")

    def start(self) -> None:
        if not os.path.exists(self.data):
            self._pg(
                "initdb",
                "-D",
                self.data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._pg(
            "pg_ctl",
            "-D",
            self.data,
            "-l",
            os.path.join(self.base, "pg.log"),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop and start again: every open connection is cut, the data stays."""
        self.stop("fast")
        self.start()

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):  # never started, or already stopped
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class ExternalPostgres:
    """A server named by ASYNCZ_TEST_POSTGRES_URL: shared, so never restarted by tests."""

    can_restart = False

    def __init__(self, url: str) -> None:
        self.url = url

    def restart(self) -> None:
        pytest.skip("the PostgreSQL server comes from ASYNCZ_TEST_POSTGRES_URL: not restarted")


def _with_driver(url: str) -> str:
    """``postgresql://...`` -> ``postgresql+psycopg://...`` when psycopg2 is not installed."""
    parsed = make_url(url)
    if "+" in parsed.drivername or importlib.util.find_spec("psycopg2") is not None:
        return url
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _tmpfs() -> str | None:
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer | ExternalPostgres]:
    given = env_url("POSTGRES")
    if given:
        yield ExternalPostgres(_with_driver(given))
        return
    bindir = _bindir()
    if bindir is None:
        unavailable("PostgreSQL is not installed (apt-get install -y postgresql)")
    assert bindir is not None
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer | ExternalPostgres) -> str:
    return postgres_server.url


@contextlib.contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    name = f"asyncz_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """A URL to a database created for this test alone."""
    with _fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="module")
def postgres_module_db_url(postgres_url: str) -> Iterator[str]:
    """A URL to a database shared by one test module (its tests keep apart by table name):
    for suites where CREATE/DROP DATABASE per test would dominate the run time."""
    with _fresh_database(postgres_url) as url:
        yield url
