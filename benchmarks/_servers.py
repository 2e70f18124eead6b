"""Throwaway servers for one benchmark run: Redis, PostgreSQL, a MongoDB-compatible server.

A server named by ``ASYNCZ_BENCH_<NAME>_URL`` is used as it is. Otherwise the runner starts
its own on a free loopback port in a temporary directory, like the test fixtures do
(redis-server without persistence; ``initdb``/``pg_ctl`` as user ``postgres`` under
/dev/shm; ``secantusd-py`` from the SecantusDB package), and stops it at the end. Standard
library only: the runner itself needs no driver.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SERVER_OF_BACKEND = {"redis": "redis", "postgres": "postgres", "mongo": "mongo"}


class ServerUnavailable(RuntimeError):
    """The server cannot be had; the message says why and how to get one."""


@dataclass
class Server:
    url: str
    origin: str  # "environment" or "started"
    stop: Callable[[], None] = field(default=lambda: None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Callable[[], bool], timeout: float, what: str, log: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            tail = ""
            if os.path.exists(log):
                with open(log, errors="replace") as handle:
                    tail = handle.read()[-2000:]
            raise ServerUnavailable(f"{what} did not become ready in {timeout:.0f} s\n{tail}")
        time.sleep(0.02)


def start_redis() -> Server:
    executable = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin")
    if executable is None:
        raise ServerUnavailable("redis-server not found (apt-get install -y redis-server)")
    directory = tempfile.mkdtemp(prefix="asyncz-bench-redis-")
    port, log = free_port(), os.path.join(directory, "redis.log")
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            directory,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            log,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )

    def pong() -> bool:
        with socket.create_connection(("127.0.0.1", port), 0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)

    try:
        _wait(pong, 10, "redis-server", log)
    except ServerUnavailable:
        stop()
        raise
    return Server(f"redis://127.0.0.1:{port}/0", "started", stop)


def _postgres_bindir() -> str | None:
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4])
    )
    return os.path.dirname(found[-1]) if found else None


def start_postgres() -> Server:
    bindir = _postgres_bindir()
    if bindir is None:
        raise ServerUnavailable("PostgreSQL binaries not found (apt-get install -y postgresql)")
    base = tempfile.mkdtemp(prefix="asyncz-bench-pg-", dir="/dev/shm")
    uid = gid = None
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        account = pwd.getpwnam("postgres")
        uid, gid = account.pw_uid, account.pw_gid
        os.chown(base, uid, gid)

    def run(command: list[str], check: bool) -> None:
        subprocess.run(
            command,
            capture_output=True,
            check=check,
            user=uid,
            group=gid,
            extra_groups=None if uid is None else [],
        )

    data, port, log = os.path.join(base, "data"), free_port(), os.path.join(base, "pg.log")
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )

    def stop() -> None:
        run([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(base, ignore_errors=True)

    try:
        run(
            [
                f"{bindir}/initdb",
                "-D",
                data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            check=True,
        )
        run(
            [f"{bindir}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "30", "-o", options, "start"],
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        stop()
        raise ServerUnavailable(f"PostgreSQL did not start: {exc.stderr!r}") from exc
    return Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", "started", stop)


def start_mongo(python: str) -> Server:
    """SecantusDB's ``secantusd-py`` beside ``python`` (our venv) or on PATH; readiness is a
    real ``ping`` through that venv's pymongo."""
    beside = os.path.join(os.path.dirname(python), "secantusd-py")
    executable = beside if os.access(beside, os.X_OK) else shutil.which("secantusd-py")
    if executable is None:
        raise ServerUnavailable("secantusd-py not found (pip install 'SecantusDB==0.7.0b3')")
    directory = tempfile.mkdtemp(prefix="asyncz-bench-mongo-")
    port, log = free_port(), os.path.join(directory, "server.log")
    with open(log, "ab") as output:
        process = subprocess.Popen(
            [
                executable,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--storage-path",
                os.path.join(directory, "db"),
                "--standalone",
                "--log-level",
                "WARNING",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"mongodb://127.0.0.1:{port}/?directConnection=true"

    def stop() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # we throw the data away: no graceful stop
        process.wait()
        shutil.rmtree(directory, ignore_errors=True)

    ping = (
        "import sys, pymongo; pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=30000)"
        ".admin.command('ping')"
    )
    try:
        _wait(lambda: _port_open(port), 30, "secantusd-py", log)
        subprocess.run([python, "-c", ping, url], check=True, capture_output=True, timeout=60)
    except (ServerUnavailable, subprocess.SubprocessError) as exc:
        stop()
        raise ServerUnavailable(f"secantusd-py did not answer a ping: {exc}") from exc
    return Server(url, "started", stop)


def _port_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), 0.2):
        return True


def get_server(name: str, python: str) -> Server:
    """The server for ``name`` ("redis", "postgres", "mongo"): from the environment or ours."""
    given = os.environ.get(f"ASYNCZ_BENCH_{name.upper()}_URL")
    if given:
        return Server(given, "environment")
    if name == "redis":
        return start_redis()
    if name == "postgres":
        return start_postgres()
    return start_mongo(python)
