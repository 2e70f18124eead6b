"""The benchmark cases (see ``harness`` for the rules they share) and their helpers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench_jobs import RECORDER
from harness import (
    ADD_CHUNK,
    DUE_COUNT,
    GRACE_SECONDS,
    ID_LENGTH,
    POPULATE_CHUNK,
    Adapter,
    Bench,
    Results,
    Settings,
)

_names = itertools.count(1)


def unique_name(project: str) -> str:
    return f"bench_{project}_{int(time.time() * 1000) % 10**9}_{next(_names)}"


async def settle() -> None:
    """Let the loop run what the previous calls queued (peers' wake-ups run on the loop)."""
    for _ in range(2):
        await asyncio.sleep(0)


async def close(bench: Bench) -> None:
    try:
        bench.clear()
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
    """Seconds per call: at least ``min_calls`` calls, more while under ``call_budget``.
    With ``due_skip_seconds`` set (quick mode), calls also stop once they have taken that
    long in all, so that a slow store is measured once or twice, not ``min_calls`` times."""
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
        if settings.due_skip_seconds is not None and spent >= settings.due_skip_seconds:
            break
    return times, result


def populate(bench: Bench, entries: Sequence[tuple[str, datetime]]) -> float:
    """Populate in chunks; returns tasks per second."""
    t0 = time.perf_counter()
    for start in range(0, len(entries), POPULATE_CHUNK):
        bench.populate(entries[start : start + POPULATE_CHUNK])
    bench.after_populate()
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


async def case_add(adapter: Adapter, settings: Settings, out: Results) -> None:
    """Tasks per second through the API, the scheduler running. Adds go in chunks of
    ``ADD_CHUNK`` and the loop runs what they queued after each chunk (the peers process
    a wake-up per add on the loop), as an application that yields now and then would. A
    case that exceeds ``add_budget`` seconds stops there: its rate is over fewer tasks.

    ``add.rate`` adds one by one; ``add.batched_rate`` puts each chunk in the project's
    ``batch()`` block (the same as one by one for a project without one)."""
    rates = await _add_rates(adapter, settings, out, batched=False)
    if not rates:
        return
    out.put("add.rate", rates, "tasks/s")
    out.add_rate = statistics.median(rates)
    if adapter.batches_adds:
        rates = await _add_rates(adapter, settings, out, batched=True)
    elif "add.rate" in out.partial:
        out.partial.add("add.batched_rate")
    if rates:
        out.put("add.batched_rate", rates, "tasks/s")


async def _add_rates(
    adapter: Adapter, settings: Settings, out: Results, batched: bool
) -> list[float]:
    runs: list[float] = []
    key = "add.batched_rate" if batched else "add.rate"
    for _ in range(settings.repeats):
        bench = adapter.create(settings, unique_name(adapter.project), None)
        bench.start()
        await settle()
        added = 0
        try:
            t0 = time.perf_counter()
            while added < settings.add_n:
                count = min(ADD_CHUNK, settings.add_n - added)
                with bench.batch() if batched else contextlib.nullcontext():
                    for _ in range(count):
                        bench.add_interval(None)
                added += count
                await settle()
                if time.perf_counter() - t0 > settings.add_budget:
                    break
            runs.append(added / (time.perf_counter() - t0))
        finally:
            await close(bench)
        if added < settings.add_n:
            out.notes.append(
                f"{key}: stopped after {added:,} of {settings.add_n:,} tasks (time budget "
                f"{settings.add_budget:.0f} s); the rate is over those"
            )
            out.partial.add(key)
            break
    return runs


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
            skip = _skip_reason(settings, n, stored, rates, out)
            if skip:
                out.notes.append(f"due@{n:,} skipped: {skip}")
                break
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
            if earliest is None:
                out.errors.append(f"due@{n}: get_next_run_time returned None")
            elif abs(offset := (earliest - due[0][1]).total_seconds()) > 0.001:
                out.notes.append(
                    f"due@{n}: get_next_run_time is {offset * 1000:+.0f} ms off the "
                    "earliest run time (run times stored rounded?)"
                )
            out.put(f"due.next_run_time@{n}", [t * 1000 for t in times], "ms")
    finally:
        await close(bench)
    out.populate_rate = statistics.median(rates)


def _skip_reason(
    settings: Settings, n: int, stored: int, rates: list[float], out: Results
) -> str | None:
    limit = settings.due_skip_seconds
    if limit is None or not rates:
        return None
    for name in ("get_due_tasks", "next_run_time"):
        slowest = max(out.metrics[f"due.{name}@{stored}"]["runs"]) / 1000
        if slowest * n / stored > limit:
            return (
                f"one {name} call took {slowest:.2f} s at {stored:,}: at {n:,}, if it grows "
                f"with N, over {limit} s"
            )
    predicted = (n - stored) / rates[-1]
    if predicted > 40 * limit:
        return f"populating it would take about {predicted:.0f} s (quick mode)"
    return None


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
            budget = settings.dispatch_budget
            try:
                await asyncio.wait_for(done.wait(), budget or 30 + n / 100)
            except TimeoutError:
                if budget is None or RECORDER.count == 0:
                    out.errors.append(f"dispatch: only {RECORDER.count} of {n} tasks ran in time")
                    continue
                out.notes.append(
                    f"dispatch: {RECORDER.count:,} of {n:,} tasks ran within the case's "
                    f"{budget:.0f} s budget; the rate is over those"
                )
                out.partial.add("dispatch.rate")
            assert RECORDER.first_start is not None and RECORDER.last_start is not None
            firsts.append((RECORDER.first_start - due_at) * 1000)
            rates.append(RECORDER.count / max(RECORDER.last_start - due_at, 1e-6))
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
