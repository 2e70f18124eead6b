"""The benchmark cases, shared by every project's adapter (standard library only).

Each project's adapter module subclasses :class:`Adapter` and :class:`Bench` with that
project's API and calls :func:`main`; the runner starts it in the project's own virtual
environment as ``python <adapter>.py SETTINGS.json OUT.json`` and reads OUT.json.

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
import gc
import itertools
import json
import random
import statistics
import sys
import time
import traceback
import tracemalloc
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench_jobs import RECORDER

GRACE_SECONDS = 3600  # an int: APScheduler 3 refuses a float grace time
POPULATE_CHUNK = 5_000
ADD_CHUNK = 100
DUE_COUNT = 100
#: Every populated task id has this length (see ``PickleTemplate``).
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

    @abstractmethod
    def count_due(self, now: datetime) -> int:
        """``len(store.get_due_tasks(now))`` (or ``get_due_jobs``)."""

    @abstractmethod
    def next_run_time(self) -> datetime | None:
        """``store.get_next_run_time()``."""

    def cleanup(self) -> None:
        """Drop this bench's data (table, keys, database, directory)."""


class Adapter(ABC):
    project: str
    version: str

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
        self.metrics[name] = {"value": statistics.median(runs), "unit": unit, "runs": list(runs),
                              "partial": name in self.partial}


# ---------------------------------------------------------------------------- helpers
_names = itertools.count(1)


def unique_name(project: str) -> str:
    return f"bench_{project}_{int(time.time() * 1000) % 10**9}_{next(_names)}"


async def settle() -> None:
    """Let the loop run what the previous calls queued (peers' wake-ups run on the loop)."""
    for _ in range(2):
        await asyncio.sleep(0)


async def close(bench: Bench) -> None:
    try:
        bench.shutdown()
        await asyncio.sleep(0.05)
    finally:
        bench.cleanup()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed_calls(call: Callable[[], Any], settings: Settings) -> tuple[list[float], Any]:
    """Seconds per call: at least ``min_calls`` calls, more while under ``call_budget``
    (a call slower than the budget is not repeated beyond ``min_calls``)."""
    times: list[float] = []
    result: Any = None
    started = time.perf_counter()
    while len(times) < 50:
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
        spent = time.perf_counter() - started
        if len(times) >= settings.min_calls and spent >= settings.call_budget:
            break
    return times, result


def populate(bench: Bench, entries: Sequence[tuple[str, datetime]]) -> float:
    """Populate in chunks; returns tasks per second."""
    t0 = time.perf_counter()
    for start in range(0, len(entries), POPULATE_CHUNK):
        bench.populate(entries[start : start + POPULATE_CHUNK])
    return len(entries) / max(time.perf_counter() - t0, 1e-9)


def task_id(prefix: str, number: int) -> str:
    """``prefix`` then ``number``, zero-padded to ``ID_LENGTH`` characters."""
    return f"{prefix}{number:0{ID_LENGTH - len(prefix)}d}"


def far_future(count: int, prefix: str, rng: random.Random) -> list[tuple[str, datetime]]:
    """Tasks that are not due: next run times spread over 30 days, starting in an hour."""
    now = datetime.now(UTC)
    return [
        (task_id(prefix, i), now + timedelta(seconds=3600 + rng.random() * 30 * 86400))
        for i in range(count)
    ]


class PickleTemplate:
    """Pickled task records made fast from one template.

    Pickling a peer's task state is slow (pydantic models, ~200 us each), and the records
    of populated tasks differ only in their id and next run time. So the adapter pickles
    one template task whose id is ``SENTINEL_ID`` and whose next run time is
    ``SENTINEL_TIME``; ``make`` splices other values of the same encoded length into those
    bytes, which gives exactly the bytes ``pickle.dumps`` gives for that task (ids all have
    ``ID_LENGTH`` characters; an aware datetime pickles as 10 bytes of state). The due case
    reads the records back through the store, so a wrong splice shows up as an error.
    """

    SENTINEL_ID = "Q" * ID_LENGTH
    SENTINEL_TIME = datetime(2199, 12, 30, 23, 58, 57, 123456, tzinfo=UTC)

    def __init__(self, pickled: bytes) -> None:
        id_bytes = self.SENTINEL_ID.encode()
        time_bytes = _datetime_state(self.SENTINEL_TIME)
        for needle in (id_bytes, time_bytes):
            if pickled.count(needle) != 1:
                raise ValueError(f"template pickle holds {needle!r} {pickled.count(needle)} times")
        spots = sorted([(pickled.index(id_bytes), "id"), (pickled.index(time_bytes), "time")])
        self.order = [kind for _, kind in spots]
        (first, _), (second, _) = spots
        first_len = len(id_bytes) if self.order[0] == "id" else len(time_bytes)
        second_len = len(id_bytes) if self.order[1] == "id" else len(time_bytes)
        self.parts = (
            pickled[:first],
            pickled[first + first_len : second],
            pickled[second + second_len :],
        )

    def make(self, task_id: str, when: datetime) -> bytes:
        values = {"id": task_id.encode(), "time": _datetime_state(when.astimezone(UTC))}
        if len(values["id"]) != ID_LENGTH:
            raise ValueError(f"task id {task_id!r} is not {ID_LENGTH} bytes long")
        head, middle, tail = self.parts
        return b"".join((head, values[self.order[0]], middle, values[self.order[1]], tail))


def _datetime_state(moment: datetime) -> bytes:
    state = moment.__reduce__()[1][0]
    assert isinstance(state, bytes)
    return state


# ---------------------------------------------------------------------------- cases
async def case_add(adapter: Adapter, settings: Settings, out: Results) -> None:
    """Tasks per second through the API, the scheduler running. Adds go in chunks of
    ``ADD_CHUNK`` and the loop runs what they queued after each chunk (the peers process
    a wake-up per add on the loop), as an application that yields now and then would. A
    case that exceeds ``add_budget`` seconds stops there: its rate is over fewer tasks."""
    runs = []
    for _ in range(settings.repeats):
        bench = adapter.create(settings, unique_name(adapter.project), None)
        bench.start()
        await settle()
        added = 0
        try:
            t0 = time.perf_counter()
            while added < settings.add_n:
                for _ in range(min(ADD_CHUNK, settings.add_n - added)):
                    bench.add_interval(None)
                added += min(ADD_CHUNK, settings.add_n - added)
                await settle()
                if time.perf_counter() - t0 > settings.add_budget:
                    break
            runs.append(added / (time.perf_counter() - t0))
        finally:
            await close(bench)
        if added < settings.add_n:
            out.notes.append(
                f"add: stopped after {added:,} of {settings.add_n:,} tasks (time budget "
                f"{settings.add_budget:.0f} s); the rate is over those"
            )
            out.partial.add("add.rate")
            break
    out.put("add.rate", runs, "tasks/s")
    out.add_rate = statistics.median(runs)


async def case_due(adapter: Adapter, settings: Settings, out: Results) -> None:
    bench = adapter.create(settings, unique_name(adapter.project), GRACE_SECONDS)
    bench.start(paused=True)
    await settle()
    rng = random.Random(7)
    now = datetime.now(UTC)
    due = [(task_id("due", i), now - timedelta(seconds=3600 - i)) for i in range(DUE_COUNT)]
    stored, rates = 0, list[float]()
    try:
        for n in sorted(settings.due_ns):
            entries = (due if stored == 0 else []) + far_future(
                n - max(stored, DUE_COUNT), f"f{stored}-", rng
            )
            rates.append(populate(bench, entries))
            stored = n
            times, found = timed_calls(partial(bench.count_due, datetime.now(UTC)), settings)
            if found != DUE_COUNT:
                out.errors.append(f"due@{n}: get_due_tasks returned {found}, expected {DUE_COUNT}")
            out.put(f"due.get_due_tasks@{n}", [t * 1000 for t in times], "ms")
            times, earliest = timed_calls(bench.next_run_time, settings)
            if earliest is None or abs((earliest - due[0][1]).total_seconds()) > 0.001:
                out.errors.append(f"due@{n}: get_next_run_time returned {earliest}")
            out.put(f"due.next_run_time@{n}", [t * 1000 for t in times], "ms")
    finally:
        await close(bench)
    out.populate_rate = statistics.median(rates)


async def case_dispatch(adapter: Adapter, settings: Settings, out: Results) -> None:
    n = settings.dispatch_n
    rates: list[float] = []
    firsts: list[float] = []
    margin: float | None = None
    attempts = 0
    while len(rates) < settings.repeats and attempts < settings.repeats + 3:
        attempts += 1
        bench = adapter.create(settings, unique_name(adapter.project), GRACE_SECONDS)
        bench.start()
        await settle()
        try:
            if margin is None:
                rate = out.populate_rate or populate(
                    bench, far_future(500, "cal", random.Random(1))
                )
                margin = 0.3 + 1.5 * n / rate
            due_at = time.time() + margin
            done = RECORDER.arm(n)
            moment = datetime.fromtimestamp(due_at, UTC)
            populate(bench, [(task_id("d", i), moment) for i in range(n)])
            if time.time() > due_at:
                out.notes.append(f"dispatch: setup overran {margin:.1f} s; repeated with more")
                margin *= 2
                continue
            bench.wakeup()
            try:
                await asyncio.wait_for(done.wait(), 30 + n / 100)
            except TimeoutError:
                out.errors.append(f"dispatch: only {RECORDER.count} of {n} tasks ran in time")
                continue
            assert RECORDER.first_start is not None and RECORDER.last_start is not None
            firsts.append((RECORDER.first_start - due_at) * 1000)
            rates.append(n / max(RECORDER.last_start - due_at, 1e-6))
        finally:
            await close(bench)
    if rates:
        out.put("dispatch.rate", rates, "tasks/s")
        out.put("dispatch.first_start", firsts, "ms")


async def case_latency(adapter: Adapter, settings: Settings, out: Results) -> None:
    n, span = settings.latency_n, settings.latency_span
    p50s: list[float] = []
    p99s: list[float] = []
    maxima: list[float] = []
    lead: float | None = None
    attempts = 0
    while len(p50s) < settings.repeats and attempts < settings.repeats + 3:
        attempts += 1
        bench = adapter.create(settings, unique_name(adapter.project), GRACE_SECONDS)
        bench.start()
        await settle()
        try:
            if lead is None:
                lead = 0.3 + 1.5 * n / (out.add_rate or _calibrate_add(bench))
            base = time.time() + lead
            done = RECORDER.arm(n)
            for i in range(n):
                at = base + i * span / n
                bench.add_at(f"l{i:05d}", datetime.fromtimestamp(at, UTC), at)
            if time.time() > base:
                out.notes.append(f"latency: adding overran {lead:.1f} s; repeated with more")
                lead *= 2
                continue
            await settle()
            try:
                await asyncio.wait_for(done.wait(), lead + span + 30)
            except TimeoutError:
                out.errors.append(f"latency: only {RECORDER.count} of {n} tasks ran in time")
                continue
            late_ms = [value * 1000 for value in RECORDER.lateness]
            p50s.append(percentile(late_ms, 0.5))
            p99s.append(percentile(late_ms, 0.99))
            maxima.append(max(late_ms))
        finally:
            await close(bench)
    if p50s:
        out.put("latency.p50", p50s, "ms")
        out.put("latency.p99", p99s, "ms")
        out.put("latency.max", maxima, "ms")


def _calibrate_add(bench: Bench) -> float:
    t0 = time.perf_counter()
    for _ in range(20):
        bench.add_interval(None)
    return 20 / (time.perf_counter() - t0)


async def case_memory(adapter: Adapter, settings: Settings, out: Results) -> None:
    """Bytes a MemoryStore keeps per task: the growth of live Python allocations
    (tracemalloc) while ``memory_n`` tasks, built as the API builds them, are stored.
    Tasks go straight to the store: a scheduler's per-call overhead would only make the
    traced run slow, not change what the store keeps. One task is stored first, untraced,
    so that lazy imports and caches of the first add are not counted."""
    bench = adapter.create(settings, unique_name(adapter.project), None)
    bench.start(paused=True)
    await settle()
    try:
        bench.add_direct()
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(settings.memory_n):
            bench.add_direct()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        await close(bench)
    out.put("memory.bytes_per_task", [(after - before) / settings.memory_n], "bytes")


CASES = {
    "add": case_add,
    "due": case_due,
    "dispatch": case_dispatch,
    "latency": case_latency,
    "memory": case_memory,
}


async def run_cases(adapter: Adapter, settings: Settings, out: Results) -> None:
    for name in settings.cases:
        started = time.perf_counter()
        try:
            await CASES[name](adapter, settings, out)
        except Exception as exc:
            traceback.print_exc()
            out.errors.append(f"{name}: {type(exc).__name__}: {exc}")
        print(f"[{adapter.project}/{settings.backend}] {name}: "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)


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
