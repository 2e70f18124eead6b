"""CLI test helpers: run ``python -m asyncz.cli`` in a subprocess against real stores
(the fixtures are re-exported by conftest.py).

``store_case`` is parametrized over the file store, SQLite (SQLAlchemyStore) and Redis.
Each case knows the CLI options naming its store and how to open the same data through
the store API in the test process (to populate it and to check what the CLI did).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asyncz.stores.records import RecordStore
from asyncz.tasks.task import Task
from asyncz.triggers.cron import CronTrigger
from asyncz.triggers.interval import IntervalTrigger

HERE = Path(__file__).resolve().parent.parent / "cli"  # where asyncz_cli_jobs lives
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # asyncz_cli_jobs, as the subprocesses import it

#: Environment variables the CLI reads; tests start from none of them.
_CLI_VARIABLES = ("ASYNCZ_STORE", "ASYNCZ_STORE_ENCRYPTION_KEY", "ASYNCZ_STORE_ENCRYPTION_OLD_KEYS")


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _CLI_VARIABLES}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    env["TZ"] = "Europe/Lisbon"  # "local time" differs from UTC for half of the year
    env.update(extra or {})
    return env


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def assert_one_line_error(self, code: int = 2) -> str:
        """The user-error contract: exit code, one line on stderr, no traceback."""
        assert self.code == code, (self.code, self.stdout, self.stderr)
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("asyncz: error: "), self.stderr
        assert "Traceback" not in self.stderr + self.stdout
        return lines[0]


CLI = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    """``cli("tasks", "list", ..., env={...})``: the CLI in a subprocess, in ``tmp_path``."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "asyncz.cli", *args],
            cwd=tmp_path,
            env=cli_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@dataclass
class StoreCase:
    """One store: CLI options naming it, and the same data through the store API."""

    name: str
    args: list[str]
    url: str
    url_options: list[str]
    factory: Callable[..., RecordStore]
    cleanup: Callable[[], None] = lambda: None
    opened: list[RecordStore] = field(default_factory=list)

    def open(self, **options: Any) -> RecordStore:
        store = self.factory(**options)
        store.start(None, "default")
        self.opened.append(store)
        return store

    def url_args(self) -> list[str]:
        return ["--store", self.url, *self.url_options]


@pytest.fixture(params=["file", "sqlite", "redis"])
def store_case(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StoreCase]:
    for variable in _CLI_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    case = _make_case(request, tmp_path)
    yield case
    for store in case.opened:
        store.shutdown()
    case.cleanup()


def _make_case(request: pytest.FixtureRequest, tmp_path: Path) -> StoreCase:
    if request.param == "file":
        from asyncz.stores.file import FileStore

        directory = tmp_path / "tasks"
        return StoreCase(
            "file",
            ["--store-type", "file", "--store-option", f"directory={directory}"],
            f"file://{directory}",
            [],
            lambda **o: FileStore(directory=directory, **o),
        )
    if request.param == "sqlite":
        from asyncz.stores.sqlalchemy import SQLAlchemyStore

        url = f"sqlite:///{tmp_path / 'asyncz.sqlite3'}"
        return StoreCase(
            "sqlite",
            ["--store-type", "sqlalchemy", "--store-option", f"database={url}"],
            url,
            [],
            lambda **o: SQLAlchemyStore(url, **o),
        )
    from asyncz.stores.redis import RedisStore

    redis_url = request.getfixturevalue("redis_url")
    prefix = f"cli-test-{uuid.uuid4().hex[:12]}"
    keys = [f"tasks_key={prefix}.tasks", f"run_times_key={prefix}.run_times"]
    return StoreCase(
        "redis",
        [
            "--store-type",
            "redis",
            "--store-option",
            f"url={redis_url}",
            *(arg for key in keys for arg in ("--store-option", key)),
        ],
        redis_url,
        [arg for key in keys for arg in ("--store-option", key)],
        lambda **o: RedisStore(
            url=redis_url, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.run_times", **o
        ),
        cleanup=lambda: _drop_redis_keys(redis_url, prefix),
    )


def _drop_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}.*"))
    if keys:
        client.delete(*keys)
    client.close()


CRONTAB = "*/5 9-17 * * 1-5"


def populate(store: RecordStore, marker: Path) -> dict[str, Task]:
    """Three tasks through the store API: a cron one, an interval one, a paused one."""
    now = datetime.now(UTC)
    cron = CronTrigger.from_crontab(CRONTAB, timezone="Europe/Lisbon")
    tasks = {
        "report": Task(
            "asyncz_cli_jobs:touch",
            id="report",
            name="daily report",
            args=[str(marker), "report"],
            trigger=cron,
            next_run_time=cron.get_next_trigger_time(UTC, None, now),
        ),
        "greeter": Task(
            "asyncz_cli_jobs:greet",
            id="greeter",
            args=["world"],
            trigger=IntervalTrigger(minutes=10, timezone="UTC"),
            next_run_time=now + timedelta(minutes=10),
        ),
        "sleeper": Task(
            "asyncz_cli_jobs:touch",
            id="sleeper",
            args=[str(marker), "sleeper"],
            trigger=IntervalTrigger(hours=1, timezone="UTC"),
            next_run_time=None,
        ),
    }
    for task in tasks.values():
        store.add_task(task)
    return tasks
