"""Real MariaDB fixtures.

* ``mariadb_server`` (session): ASYNCZ_TEST_MARIADB_URL if set, else a throwaway server of
  our own: ``mariadb-install-db`` + ``mariadbd`` (``--user=root`` when we are root) with
  data in /dev/shm, on a free loopback port, server defaults untouched (``--no-defaults``:
  latin1 server charset, so stores must ask for utf8mb4 themselves).
* ``mariadb_url`` (session): its SQLAlchemy URL, e.g.
  ``mysql+pymysql://root@127.0.0.1:PORT/asyncz``.
* ``mariadb_db_url`` (function): a fresh database for one test, dropped afterwards;
  ``mariadb_module_db_url`` (module): one for a whole module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from servers._common import env_url, free_port, unavailable, wait_until


def _find(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/bin")


class MariaDBServer:
    """A mariadbd process we own, restartable on the same port with the same data."""

    can_restart = True

    def __init__(self, server: str, install_db: str) -> None:
        self.server = server
        self.install_db = install_db
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self.base = tempfile.mkdtemp(prefix="asyncz-mariadb-", dir=shm)
        self.data = os.path.join(self.base, "data")
        self.socket = os.path.join(self.base, "mysqld.sock")
        self.log = os.path.join(self.base, "error.log")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.as_root = ["--user=root"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/asyncz"

    def start(self) -> None:
        if not os.path.exists(self.data):
            result = subprocess.run(
                [
                    self.install_db,
                    "--no-defaults",
                    f"--datadir={self.data}",
                    *self.as_root,
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(f"mariadb-install-db failed:\n{result.stdout}{result.stderr}")
        self.process = subprocess.Popen(
            [
                self.server,
                "--no-defaults",
                f"--datadir={self.data}",
                f"--socket={self.socket}",
                f"--pid-file={os.path.join(self.base, 'mysqld.pid')}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                *self.as_root,
                "--skip-log-bin",
                "--innodb-flush-log-at-trx-commit=0",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--max-allowed-packet=64M",
                f"--log-error={self.log}",
                f"--tmpdir={self.base}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        engine = create_engine(
            f"mysql+pymysql://root@127.0.0.1:{self.port}/mysql", poolclass=NullPool
        )
        try:
            wait_until(lambda: self._ready(engine), 30, "mariadbd")
        except TimeoutError as exc:
            with open(self.log, errors="replace") as log:
                raise RuntimeError(f"{exc}\n{log.read()[-3000:]}") from None
        finally:
            engine.dispose()

    def _ready(self, engine: Engine) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise TimeoutError("mariadbd exited")
        with engine.connect() as connection:
            connection.execute(text("CREATE DATABASE IF NOT EXISTS asyncz"))
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        if self.process is not None:
            # We own the data directory and delete it: no need for a clean shutdown.
            self.process.kill()
            self.process.wait()
            self.process = None
        shutil.rmtree(self.base, ignore_errors=True)


def _with_driver(url: str) -> str:
    """``mysql://`` or ``mariadb://`` -> ``...+pymysql://`` when mysqlclient is not installed."""
    parsed = make_url(url)
    if "+" in parsed.drivername or importlib.util.find_spec("MySQLdb") is not None:
        return url
    return parsed.set(drivername=f"{parsed.drivername}+pymysql").render_as_string(
        hide_password=False
    )


class ExternalMariaDB:
    can_restart = False

    def __init__(self, url: str) -> None:
        self.url = url

    def restart(self) -> None:
        pytest.skip("the MariaDB server comes from ASYNCZ_TEST_MARIADB_URL: not restarted")


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer | ExternalMariaDB]:
    given = env_url("MARIADB")
    if given:
        yield ExternalMariaDB(_with_driver(given))
        return
    server_binary, install_db = _find("mariadbd"), _find("mariadb-install-db")
    if server_binary is None or install_db is None:
        unavailable("MariaDB is not installed (apt-get install -y mariadb-server)")
    assert server_binary is not None and install_db is not None
    server = MariaDBServer(server_binary, install_db)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def mariadb_url(mariadb_server: MariaDBServer | ExternalMariaDB) -> str:
    return mariadb_server.url


@contextlib.contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    name = f"asyncz_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE `{name}`"))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        admin.dispose()


@pytest.fixture
def mariadb_db_url(mariadb_url: str) -> Iterator[str]:
    """A URL to a database created for this test alone."""
    with _fresh_database(mariadb_url) as url:
        yield url


@pytest.fixture(scope="module")
def mariadb_module_db_url(mariadb_url: str) -> Iterator[str]:
    """A URL to a database shared by one test module (its tests keep apart by table name):
    for suites where CREATE/DROP DATABASE per test would dominate the run time."""
    with _fresh_database(mariadb_url) as url:
        yield url
