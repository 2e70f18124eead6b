"""Several scheduler processes on one store: every fire runs once, none is lost.

Four real processes share each durable backend. 1,000 one-off tasks fall due over ~2 s
while interval tasks keep firing; each process logs the fires it ran. Then the same with
one process killed (SIGKILL) mid-run: a fire it held is run again by another process once
its lease ends (at-least-once), and nothing is lost.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asyncz.plugins.registry import default_registry
from asyncz.schedulers.config import build_plugin
from asyncz.stores.base import BaseStore
from asyncz.stores.records import RecordStore
from asyncz.tasks import Task
from asyncz.triggers import DateTrigger, IntervalTrigger

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # mp_tasks, the workers' task module, must import here too
WORKER = HERE / "worker.py"
INTERVALS = 4
INTERVAL = 0.5


@dataclass(frozen=True)
class Workload:
    processes: int = 4
    one_offs: int = 1000
    batch: int = 50
    kill_lease: float = 2.0


# SecantusDB (our MongoDB stand-in) serialises concurrent writes slowly: a lighter load.
WORKLOADS = {"mongo": Workload(processes=3, one_offs=150, batch=10, kill_lease=4.0)}

BACKENDS = ["file", "sqlite", "postgres", "mariadb", "redis", "mongo"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def workload(backend: str) -> Workload:
    return WORKLOADS.get(backend, Workload())


@pytest.fixture
def store_config(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    unique = f"mp_{uuid.uuid4().hex[:10]}"
    if backend == "file":
        return {"type": "file", "directory": str(tmp_path / "tasks")}
    if backend == "sqlite":
        # On tmpfs when there is one: four processes fsync-ing SQLite commits on a busy disk
        # are too slow for the test's time window (durability is not what is tested here).
        shm = Path("/dev/shm")
        base = Path(tempfile.mkdtemp(dir=shm)) if shm.is_dir() else tmp_path
        request.addfinalizer(lambda: shutil.rmtree(base, ignore_errors=True))
        return {"type": "sqlalchemy", "database": f"sqlite:///{base / 'tasks.sqlite3'}"}
    if backend in ("postgres", "mariadb"):
        url = request.getfixturevalue(f"{backend}_db_url")
        return {"type": "sqlalchemy", "database": str(url), "tablename": unique}
    if backend == "redis":
        url = request.getfixturevalue("redis_url")
        return {
            "type": "redis",
            "url": url,
            "tasks_key": f"{unique}.tasks",
            "run_times_key": f"{unique}.run_times",
        }
    url = request.getfixturevalue("mongo_url")
    return {"type": "mongodb", "host": url, "database": unique}


def open_store(config: dict[str, Any]) -> BaseStore:
    store: BaseStore = build_plugin("store", "default", dict(config), BaseStore, default_registry())
    store.start(None, "default")
    return store


def schedule(store: BaseStore, start: datetime, workload: Workload) -> set[tuple[str, str]]:
    """Add the workload; return every (task id, fire time) expected to run. Interval tasks
    do not coalesce, so a late fire still runs (and is counted) rather than merging."""
    expected: set[tuple[str, str]] = set()
    for i in range(workload.one_offs):
        run_at = start + timedelta(seconds=2 * i / workload.one_offs)
        store.add_task(
            Task(
                "mp_tasks:work",
                id=f"once-{i:04d}",
                args=[str(i)],
                trigger=DateTrigger(run_at),
                next_run_time=run_at,
            )
        )
        expected.add((f"once-{i:04d}", run_at.isoformat()))
    end = start + timedelta(seconds=3)
    for n in range(INTERVALS):
        trigger = IntervalTrigger(seconds=INTERVAL, start_at=start, end_at=end, timezone=UTC)
        store.add_task(
            Task(
                "mp_tasks:work",
                id=f"every-{n}",
                args=["tick"],
                trigger=trigger,
                next_run_time=start,
                coalesce=False,
                mistrigger_grace_time=None,
            )
        )
        fire: datetime | None = start
        while fire is not None:
            expected.add((f"every-{n}", fire.isoformat()))
            fire = trigger.get_next_trigger_time(UTC, fire, fire)
    return expected


def launch(
    config: dict[str, Any], log: Path, until: float, lease: float, workload: Workload
) -> list[subprocess.Popen[bytes]]:
    worker_config = {
        "store": config,
        "log": str(log),
        "until": until,
        "lease": lease,
        "poll": 0.5,
        "batch": workload.batch,
    }
    env = {**os.environ, "PYTHONPATH": str(HERE)}
    return [
        subprocess.Popen([sys.executable, str(WORKER), json.dumps(worker_config)], env=env)
        for _ in range(workload.processes)
    ]


def read_fires(log: Path) -> list[tuple[str, str, int]]:
    fires = []
    for line in log.read_text().splitlines():
        task_id, when, pid = line.split("\t")
        fires.append((task_id, when, int(pid)))
    return fires


def supports_claims(config: dict[str, Any]) -> None:
    store = open_store(config)
    try:
        assert isinstance(store, RecordStore) and store.supports_claims, (
            f"{config['type']} store does not implement claims"
        )
    finally:
        store.shutdown()


@pytest.mark.slow
def test_every_fire_runs_exactly_once(
    store_config: dict[str, Any], workload: Workload, tmp_path: Path
) -> None:
    supports_claims(store_config)
    store = open_store(store_config)
    start = datetime.now(UTC) + timedelta(seconds=4)
    expected = schedule(store, start, workload)
    store.shutdown()
    log = tmp_path / "fires.log"
    workers = launch(store_config, log, until=start.timestamp() + 6, lease=10, workload=workload)
    for worker in workers:
        assert worker.wait(timeout=60) == 0
    counts = Counter((task_id, when) for task_id, when, _ in read_fires(log))
    duplicated = {fire: n for fire, n in counts.items() if n > 1}
    assert duplicated == {}
    assert set(counts) == expected
    assert len({pid for _, _, pid in read_fires(log)}) > 1, "the work was not shared"
    assert_nothing_left(store_config)


@pytest.mark.slow
def test_a_killed_process_loses_no_fire(
    store_config: dict[str, Any], workload: Workload, tmp_path: Path
) -> None:
    supports_claims(store_config)
    store = open_store(store_config)
    start = datetime.now(UTC) + timedelta(seconds=4)
    expected = schedule(store, start, workload)
    store.shutdown()
    log = tmp_path / "fires.log"
    lease = workload.kill_lease
    workers = launch(
        store_config, log, until=start.timestamp() + 7 + 2 * lease, lease=lease, workload=workload
    )
    time.sleep(max(start.timestamp() + 0.8 - time.time(), 0))
    victim = workers[0]
    victim.send_signal(signal.SIGKILL)
    for worker in workers[1:]:
        assert worker.wait(timeout=60) == 0
    victim.wait()
    fires = read_fires(log)
    seen = {(task_id, when) for task_id, when, _ in fires}
    assert expected - seen == set(), "fires were lost"
    runners: dict[tuple[str, str], list[int]] = {}
    for task_id, when, pid in fires:
        runners.setdefault((task_id, when), []).append(pid)
    for fire, pids in runners.items():
        if len(pids) > 1:  # at-least-once: only a fire the dead process held may repeat
            assert victim.pid in pids and len(pids) == 2, (fire, pids)
    assert_nothing_left(store_config)


def assert_nothing_left(config: dict[str, Any]) -> None:
    """Every one-off ran and every interval ended: finished tasks were removed."""
    store = open_store(config)
    try:
        assert [task.id for task in store.get_all_tasks()] == []
    finally:
        store.shutdown()
