"""What a project's adapter provides and how its cases run (standard library only).

Each project's adapter module subclasses :class:`Adapter` and :class:`Bench` with that
project's API and calls :func:`main`; the runner starts it in the project's own virtual
environment as ``python <adapter>.py SETTINGS.json OUT.json`` and reads OUT.json. The cases
themselves are in ``cases``.

Rules every case follows, whatever the project:

* everything runs on one asyncio loop (``asyncio.run``); the scheduler is started inside it,
  as an asyncio application does, and the task functions are ``async def`` (``bench_jobs``);
* a ``Bench`` is one scheduler with one store named ``"default"`` on a namespace of its own
  (table, key prefix, database, directory), dropped when the case ends;
* "through the API" means the scheduler's ``add_task``/``add_job``; "populate" means writing
  straight into the started store (bulk where the backend allows), to set up large N fast;
* dispatch and latency cases set the default misfire grace time to ``GRACE_SECONDS`` for
  every project, so that a slow pass shows up as lateness, not as skipped runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

GRACE_SECONDS = 3600  # an int: APScheduler 3 refuses a float grace time
POPULATE_CHUNK = 5_000
ADD_CHUNK = 100
DUE_COUNT = 100
#: Every populated task id has this length (see ``pickles.PickleTemplate``).
ID_LENGTH = 16


@dataclass
class Settings:
    """What the runner asks for (written by the runner as JSON)."""

    backend: str
    cases: list[str]
    urls: dict[str, str]
    workdir: str
    repeats: int
    add_n: int
    due_ns: list[int]
    dispatch_n: int
    latency_n: int
    latency_span: float
    memory_n: int
    min_calls: int
    call_budget: float
    add_budget: float
    #: Skip the next due size when a call there would take longer than this (the slowest
    #: call so far, scaled with N), or populating it would take over 40 times this
    #: (None: never skip).
    due_skip_seconds: float | None
    #: Stop waiting for a dispatch after this many seconds and report the rate over the
    #: tasks that ran (None: wait until all ran).
    dispatch_budget: float | None = None


class Bench(ABC):
    """One scheduler with one store (alias ``"default"``) on an isolated namespace."""

    @abstractmethod
    def start(self, paused: bool = False) -> None:
        """Start the scheduler on the running event loop."""

    @abstractmethod
    def shutdown(self) -> None:
        """Stop the scheduler without waiting for running tasks."""

    @abstractmethod
    def wakeup(self) -> None:
        """Ask the scheduler to look at its store now (the public API for it)."""

    @abstractmethod
    def add_interval(self, task_id: str | None) -> None:
        """Through the scheduler API: ``bench_jobs.tick`` every hour (``None``: default id)."""

    def batch(self) -> AbstractContextManager[None]:
        """A block whose adds the project may write together (see ``Adapter.batches_adds``);
        by default a plain block."""
        return contextlib.nullcontext()

    @abstractmethod
    def add_direct(self) -> None:
        """Build an hourly ``bench_jobs.tick`` task as ``add_task`` would (its own trigger,
        default id and options) and store it with the store's own add method."""

    @abstractmethod
    def add_at(self, task_id: str, run_at: datetime, scheduled: float) -> None:
        """Through the scheduler API: ``bench_jobs.late(scheduled)`` once, at ``run_at``."""

    @abstractmethod
    def populate(self, entries: Sequence[tuple[str, datetime]]) -> None:
        """Straight into the store: hourly ``bench_jobs.tick`` tasks with these ids and
        next run times (bulk writes where the backend has them)."""

    def after_populate(self) -> None:
        """Called once a population is complete (e.g. refresh SQL planner statistics)."""

    @abstractmethod
    def count_due(self, now: datetime) -> int:
        """``len(store.get_due_tasks(now))`` (or ``get_due_jobs``)."""

    @abstractmethod
    def next_run_time(self) -> datetime | None:
        """``store.get_next_run_time()``."""

    @abstractmethod
    def clear(self) -> None:
        """``store.remove_all_tasks()`` (or ``remove_all_jobs``): before shutdown, since a
        peer's shutdown may read every stored task."""

    def cleanup(self) -> None:
        """Drop this bench's data (table, keys, database, directory)."""


class Adapter(ABC):
    project: str
    version: str
    #: True when the project can write a block of adds together (``Bench.batch``); the
    #: add case then also measures adds in such blocks.
    batches_adds: bool = False

    @abstractmethod
    def unsupported(self, backend: str) -> str | None:
        """Why this project has no such backend, or ``None``."""

    @abstractmethod
    def create(self, settings: Settings, name: str, grace: float | None) -> Bench:
        """A new, not yet started bench on ``settings.backend``, namespaced by ``name``;
        ``grace``: default misfire grace time (``None``: the project's own default)."""


@dataclass
class Results:
    project: str
    version: str
    backend: str
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unsupported: str | None = None
    populate_rate: float | None = None
    add_rate: float | None = None
    partial: set[str] = field(default_factory=set)

    def put(self, name: str, runs: Sequence[float], unit: str) -> None:
        self.metrics[name] = {
            "value": statistics.median(runs),
            "unit": unit,
            "runs": list(runs),
            "partial": name in self.partial,
        }


# ---------------------------------------------------------------------------- helpers


async def run_cases(adapter: Adapter, settings: Settings, out: Results) -> None:
    from cases import CASES  # the cases import this module's types

    for name in settings.cases:
        started = time.perf_counter()
        try:
            await CASES[name](adapter, settings, out)
        except Exception as exc:
            traceback.print_exc()
            out.errors.append(f"{name}: {type(exc).__name__}: {exc}")
        print(
            f"[{adapter.project}/{settings.backend}] {name}: {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )


def main(adapter: Adapter) -> None:
    settings_path, out_path = sys.argv[1], sys.argv[2]
    with open(settings_path) as handle:
        settings = Settings(**json.load(handle))
    out = Results(adapter.project, adapter.version, settings.backend)
    out.unsupported = adapter.unsupported(settings.backend)
    if out.unsupported is None:
        asyncio.run(run_cases(adapter, settings, out))
    with open(out_path, "w") as handle:
        json.dump({**asdict(out), "partial": sorted(out.partial)}, handle, indent=1)
