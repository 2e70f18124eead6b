"""MongoDB-compatible server fixture: a real wire-protocol server, never a mock.

``mongo_url`` (session): ASYNCZ_TEST_MONGO_URL if set (e.g. a real mongod), else a
SecantusDB server (``secantusd-py`` from the SecantusDB test dependency) run as a separate
process on a free loopback port with a temporary storage directory. SecantusDB is slow under
write contention: keep Mongo tests small.

``mongo_replica_set_url`` (session): a server with change streams (a replica set):
ASYNCZ_TEST_MONGO_REPLICA_SET_URL if set, else SecantusDB started as a one-node replica set
(without ``--standalone``). ``mongo_url`` stays standalone, the common case of a store
without change streams.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from servers._common import env_url, free_port, unavailable


def _executable() -> str | None:
    beside_python = os.path.join(os.path.dirname(sys.executable), "secantusd-py")
    if os.access(beside_python, os.X_OK):
        return beside_python
    return shutil.which("secantusd-py")


class MongoServerProcess:
    """One secantusd-py process we own, in its own process group, on a fixed port."""

    def __init__(self, executable: str, directory: str, *, replica_set: bool = False) -> None:
        self.executable = executable
        self.directory = directory
        self.replica_set = replica_set
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self) -> None:
        log_path = os.path.join(self.directory, "server.log")
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--storage-path",
                    os.path.join(self.directory, "db"),
                    *([] if self.replica_set else ["--standalone"]),
                    "--log-level",
                    "WARNING",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        client: MongoClient[dict[str, object]] = MongoClient(
            self.url, serverSelectionTimeoutMS=200, connectTimeoutMS=200
        )
        deadline = time.monotonic() + 30
        try:
            while True:
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    with open(log_path, errors="replace") as handle:
                        raise RuntimeError(f"secantusd-py did not start:\n{handle.read()}")
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self, *, graceful: bool = False) -> None:
        """SIGKILL the group by default: we throw the data away, so no 2 s graceful
        shutdown. ``graceful`` (SIGTERM) keeps the data: SecantusDB loses writes on SIGKILL."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM if graceful else signal.SIGKILL)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop gracefully and start again on the same port and data."""
        self.stop(graceful=True)
        self.start()


@contextlib.contextmanager
def _own_server(prefix: str, *, replica_set: bool = False) -> Iterator[MongoServerProcess]:
    """A SecantusDB server started in a temporary directory, stopped and removed after."""
    executable = _executable()
    if executable is None:
        unavailable("secantusd-py not found (pip install 'SecantusDB==0.7.0b3')")
    assert executable is not None
    directory = tempfile.mkdtemp(prefix=prefix)
    server = MongoServerProcess(executable, directory, replica_set=replica_set)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    """A MongoDB URL; tests isolate themselves by database/collection name."""
    given = env_url("MONGO")
    if given:
        yield given
        return
    with _own_server("asyncz-mongo-") as server:
        yield server.url


@pytest.fixture(scope="session")
def mongo_replica_set_url() -> Iterator[str]:
    """A MongoDB URL of a replica set (change streams work there)."""
    given = env_url("MONGO_REPLICA_SET")
    if given:
        yield given
        return
    with _own_server("asyncz-mongo-rs-", replica_set=True) as server:
        yield server.url


@pytest.fixture
def restartable_mongo() -> Iterator[MongoServerProcess]:
    """A SecantusDB server of this test's own, which it may ``restart()`` on the same data."""
    with _own_server("asyncz-mongo-restart-") as server:
        yield server
