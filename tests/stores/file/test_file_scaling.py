"""Due queries and the next run time cost the same with 1k or 100k stored tasks.

The directory is filled by writing task files and the journal directly (in the store's own
format), which takes seconds instead of the minutes 100k durable inserts would. While the
queries are timed, listing the directory fails the test: a wake-up must not look at every
task.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from asyncz.stores.file import FileStore
from asyncz.stores.file._format import JOURNAL_MAGIC, SET, Entry, journal_line, task_header
from asyncz.stores.file._layout import JOURNAL_NAME
from asyncz.stores.file._names import file_stem
from asyncz.stores.records import to_micros
from asyncz.testing.harness import make_task

NOW = datetime(2030, 6, 15, 12, 0, tzinfo=UTC)
DUE = 100


def _fill(directory: Path, total: int) -> FileStore:
    """``total`` tasks of which ``DUE`` are due at NOW.

    The due tasks are real, decodable task files. The others, never read by a wake-up
    query, are hard links to one filler file: the directory, the journal and the index
    really hold ``total`` entries, at a fraction of the cost of writing ``total`` files.
    """
    directory.mkdir(parents=True)
    encoder = FileStore(directory.parent / "encoder")
    filler = directory.parent / f"filler-{total}"
    filler.write_bytes(task_header("filler", None) + b"never read")
    journal = [JOURNAL_MAGIC]
    for number in range(total):
        task_id = f"task-{number:06d}"
        path = os.path.join(directory, f"{file_stem(task_id)}.task")
        if number < DUE:
            run_at = NOW - timedelta(seconds=number)
            record = encoder.encode_task(make_task(task_id, run_at))
            with open(path, "wb") as handle:
                handle.write(task_header(task_id, to_micros(run_at)) + record.payload)
        else:
            run_at = NOW + timedelta(seconds=number)
            os.link(filler, path)
        journal.append(journal_line(Entry(SET, task_id, to_micros(run_at))))
    (directory / JOURNAL_NAME).write_bytes(b"".join(journal))
    store = FileStore(directory)
    store.start(None, "scaling")
    return store


def _best_of(call: Callable[[], Any], rounds: int = 15) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def test_wake_up_queries_stay_flat_from_1k_to_100k(
    task_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    timings: dict[int, tuple[float, float]] = {}
    for total in (1_000, 100_000):
        store = _fill(task_dir / str(total), total)
        due = store.get_due_tasks(NOW)
        assert len(due) == DUE and due[0].id == f"task-{DUE - 1:06d}"
        assert store.get_next_run_time() == NOW - timedelta(seconds=DUE - 1)

        def no_listing(*args: object) -> None:
            raise AssertionError("a wake-up query listed the task directory")

        with monkeypatch.context() as patch:
            patch.setattr(os, "scandir", no_listing)
            patch.setattr(os, "listdir", no_listing)
            timings[total] = (
                _best_of(partial(store.get_due_tasks, NOW)),
                _best_of(store.get_next_run_time),
            )
        store.shutdown()
    (due_1k, next_1k), (due_100k, next_100k) = timings[1_000], timings[100_000]
    # 2x, plus a millisecond of slack for timer noise on a busy machine.
    assert due_100k <= 2 * due_1k + 0.001, timings
    assert next_100k <= 2 * next_1k + 0.001, timings
