"""Real redis-server fixtures.

* ``redis_url`` (session): ASYNCZ_TEST_REDIS_URL if set, else a redis-server of our own on a
  free loopback port, in a temporary directory, without persistence.
* ``restartable_redis`` (function): a dedicated redis-server with an append-only file that
  the test may restart (same port, same data) to prove that stores survive it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis as _redis

from servers._common import env_url, free_port, unavailable


class RedisServerProcess:
    """One redis-server process we own: started, stopped and restarted on a fixed port."""

    def __init__(self, executable: str, directory: str, *, persistent: bool) -> None:
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
            if self.persistent
            else ["--appendonly", "no", "--save", ""]
        )
        log = os.path.join(self.directory, "redis.log")
        self.process = subprocess.Popen(
            [
                self.executable,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self.directory,
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
                "--logfile",
                log,
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(log)

    def _wait_ready(self, log: str) -> None:
        assert self.process is not None
        client = _redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    if client.ping():
                        return
                except _redis.RedisError:  # refused, or still loading the append-only file
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    with open(log, errors="replace") as handle:
                        raise RuntimeError(f"redis-server did not start:\n{handle.read()}")
                time.sleep(0.01)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # SIGTERM: redis flushes the append-only file, then exits
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _executable() -> str:
    path = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/usr/bin")
    if path is None:
        unavailable("redis-server is not installed (apt-get install -y redis-server)")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis URL ("redis://127.0.0.1:PORT/0"); tests isolate themselves by key prefix."""
    given = env_url("REDIS")
    if given:
        yield given
        return
    directory = tempfile.mkdtemp(prefix="asyncz-redis-")
    server = RedisServerProcess(_executable(), directory, persistent=False)
    try:
        server.start()
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def restartable_redis() -> Iterator[RedisServerProcess]:
    """A persistent redis-server of this test's own, which it may ``restart()``."""
    directory = tempfile.mkdtemp(prefix="asyncz-redis-restart-")
    server = RedisServerProcess(_executable(), directory, persistent=True)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
