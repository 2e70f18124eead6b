"""``asyncz.observability`` with a real scheduler: metrics from events, JSON log lines."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asyncz.observability import Histogram, JsonLogFormatter, MetricsCollector, Sample
from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.memory import MemoryStore
from asyncz.stores.records import TaskRecord
from asyncz.stores.sqlalchemy import SQLAlchemyStore


def _eventually(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the scheduler logs, formatted by JsonLogFormatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("asyncz.schedulers")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_metrics_and_json_logs_from_a_running_scheduler(
    tmp_path: Path, log_lines: io.StringIO
) -> None:
    samples: list[Sample] = []
    collector = MetricsCollector(on_sample=samples.append)
    durable = SQLAlchemyStore(f"sqlite:///{tmp_path / 'metrics.sqlite3'}")
    scheduler = AsyncIOScheduler(
        stores={"default": MemoryStore(), "durable": durable},
        executors={"default": {"type": "threadpool"}},
        timezone="UTC",
    )
    scheduler.add_listener(collector, collector.mask)
    now = datetime.now(UTC)
    scheduler.start()
    try:
        scheduler.add_task("asyncz_cli_jobs:greet", "interval", seconds=0.1, args=["x"], id="ok")
        scheduler.add_task("asyncz_cli_jobs:fail", "interval", seconds=0.1, id="failing")
        scheduler.add_task(
            "asyncz_cli_jobs:greet",
            "interval",
            hours=1,
            args=["late"],
            id="late",
            next_run_time=now - timedelta(seconds=30),
            mistrigger_grace_time=1,
        )
        scheduler.add_task(
            "asyncz_cli_jobs:nap",
            "interval",
            seconds=0.05,
            args=[0.4],
            id="sleepy",
            max_instances=1,
            coalesce=True,
        )
        durable.insert_record(TaskRecord("garbled", now - timedelta(seconds=1), b"not a task"))
        scheduler.wakeup("durable")

        def enough() -> bool:
            counts = collector.snapshot()
            return (
                counts["runs"] >= 4
                and counts["failures"] >= 2
                and counts["misfires"] >= 1
                and counts["max_instances_skips"] >= 1
                and counts["quarantined"] >= 1
            )

        _eventually(enough, "every kind of event")
    finally:
        scheduler.shutdown()

    snapshot = collector.snapshot()
    assert snapshot["runs"] >= snapshot["failures"] >= 2
    lateness = snapshot["lateness_seconds"]
    assert lateness["count"] == snapshot["runs"]  # one observation per run
    assert lateness["buckets"]["+Inf"] == lateness["count"]
    assert list(lateness["buckets"].values()) == sorted(lateness["buckets"].values())
    assert snapshot["duration_seconds"]["sum"] >= 0.4  # at least one 0.4 s nap finished

    failures = [s for s in samples if s.name == "failures"]
    assert {s.labels["task_id"] for s in failures} == {"failing"}
    assert failures[0].labels["store"] == "default"
    quarantined = [s for s in samples if s.name == "quarantined"]
    assert quarantined[0].labels == {"task_id": "garbled", "store": "durable"}
    runs = [s for s in samples if s.name == "runs"]
    assert {s.labels["outcome"] for s in runs} == {"executed", "error"}

    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    ok = next(r for r in records if r.get("task_id") == "ok" and r.get("outcome") == "executed")
    assert ok["logger"] == "asyncz.schedulers" and ok["level"] == "INFO"
    assert ok["store"] == "default" and ok["executor"] == "default"
    assert ok["lateness"] >= 0 and ok["duration"] >= 0
    datetime.fromisoformat(ok["scheduled"])
    error = next(r for r in records if r.get("task_id") == "failing")
    assert error["outcome"] == "error" and error["level"] == "ERROR"
    assert "boom from a task" in error["message"]
    missed = next(r for r in records if r.get("task_id") == "late")
    assert missed["outcome"] == "missed" and missed["level"] == "WARNING"


def test_json_formatter_keeps_exceptions_and_odd_values() -> None:
    formatter = JsonLogFormatter()
    try:
        raise RuntimeError("kaput")
    except RuntimeError:
        record = logging.getLogger("x").makeRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("here",),
            exc_info=sys.exc_info(),
            extra={"when": datetime(2025, 1, 2, tzinfo=UTC), "path": Path("/tmp")},
        )
    data = json.loads(formatter.format(record))
    assert data["message"] == "failed here"
    assert "RuntimeError: kaput" in data["exception"]
    assert data["when"] == "2025-01-02 00:00:00+00:00"
    assert data["path"] == "/tmp"
    assert "\n" not in formatter.format(record)  # one line per record


def test_histogram_buckets_are_cumulative() -> None:
    histogram = Histogram([0.1, 1.0])
    for value in (0.05, 0.1, 0.5, 3.0):
        histogram.observe(value)
    assert histogram.snapshot() == {
        "buckets": {"0.1": 2, "1": 3, "+Inf": 4},
        "sum": pytest.approx(3.65),
        "count": 4,
    }
    with pytest.raises(ValueError, match="increasing"):
        Histogram([1.0, 0.5])
